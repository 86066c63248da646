// SPDX-License-Identifier: GPL-2.0
/*
 * SVM backend: #VMEXIT handlers (AMD APM Vol 2, 15.6 and appendix C).
 * Events are the x86 layer's (arch/x86/events.c, svm_events.c).
 *
 * Handlers return 1 to resume the guest, 0 when vcpu->run is filled for
 * userspace, or -errno.
 */
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <asm/mce.h>
#include <asm/processor-flags.h>
#include <asm/traps.h>
#include "svm.h"
#include "../events.h"
#include "../lapic.h"

/* NPF error code: bit 1 set for a write, 4 for a fetch (APM 15.25.6). */
#define SVM_NPF_WRITE		BIT_ULL(1)
#define SVM_NPF_FETCH		BIT_ULL(4)

typedef int (*svm_exit_fn)(struct vsnix_vcpu *vcpu);

static struct vmcb *vmcb_of(struct vsnix_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb;
}

#define SVM_MAX_INSN	15

/* Instruction bytes at CS:RIP; fewer when the next page is not mapped. */
static unsigned int svm_fetch_insn(struct vsnix_vcpu *vcpu, u8 *buf,
				   enum vsnix_cpu_mode *mode)
{
	struct vsnix_paging pg;
	u64 linear;
	unsigned int to_page_end;

	vsnix_x86_get_paging(vcpu, &pg);
	*mode = pg.mode;
	linear = pg.cs_base + vcpu->rip;
	if (pg.mode != VSNIX_MODE_LONG64)
		linear = (u32)linear;
	if (!vsnix_read_gva(vcpu->vm, &pg, linear, buf, SVM_MAX_INSN))
		return SVM_MAX_INSN;
	to_page_end = PAGE_SIZE - (linear & ~PAGE_MASK);
	if (to_page_end < SVM_MAX_INSN &&
	    !vsnix_read_gva(vcpu->vm, &pg, linear, buf, to_page_end))
		return to_page_end;
	return 0;
}

static bool svm_is_prefix(u8 b, enum vsnix_cpu_mode mode)
{
	switch (b) {
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
		return true;
	}
	return mode == VSNIX_MODE_LONG64 && (b & 0xf0) == 0x40;	/* REX */
}

/*
 * Length of the intercepted instruction whose opcode is op[0..oplen):
 * NRIP - RIP when the CPU saves NRIP (APM 15.7.1), else read from guest
 * memory (QEMU TCG has no NRIP save). -EINVAL when the bytes there are not
 * that instruction.
 */
static int svm_insn_len(struct vsnix_vcpu *vcpu, const u8 *op,
			unsigned int oplen)
{
	enum vsnix_cpu_mode mode;
	u8 buf[SVM_MAX_INSN];
	unsigned int n, i;

	if (svm_has_nrips)
		return vmcb_of(vcpu)->control.next_rip - vcpu->rip;
	n = svm_fetch_insn(vcpu, buf, &mode);
	for (i = 0; i < n && svm_is_prefix(buf[i], mode); i++)
		;
	if (i + oplen > n || memcmp(buf + i, op, oplen))
		return -EINVAL;
	return i + oplen;
}

/*
 * The instruction op is done: step over it and drop any STI/MOV SS
 * shadow. false (run filled with an emulation error) when its bytes are
 * not what the exit says.
 */
static bool svm_skip_insn(struct vsnix_vcpu *vcpu, const u8 *op,
			  unsigned int oplen)
{
	int len = svm_insn_len(vcpu, op, oplen);

	if (len <= 0 || len > SVM_MAX_INSN) {
		u64 data[3] = { to_svm(vcpu)->exit_code, vcpu->rip, len };

		vsnix_exit_internal(vcpu, VSNIX_INTERNAL_EMULATION,
				    ARRAY_SIZE(data), data);
		return false;
	}
	vcpu->rip += len;
	vmcb_of(vcpu)->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	return true;
}

static const u8 op_hlt[] = { 0xf4 };
static const u8 op_cpuid[] = { 0x0f, 0xa2 };
static const u8 op_rdmsr[] = { 0x0f, 0x32 };
static const u8 op_wrmsr[] = { 0x0f, 0x30 };
static const u8 op_invd[] = { 0x0f, 0x08 };
static const u8 op_wbinvd[] = { 0x0f, 0x09 };
static const u8 op_xsetbv[] = { 0x0f, 0x01, 0xd1 };
static const u8 op_vmmcall[] = { 0x0f, 0x01, 0xd9 };

static int svm_unhandled(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb *vmcb = sv->vmcb;
	u64 data[4] = {
		sv->exit_code, vmcb->control.exit_info_1,
		vmcb->control.exit_info_2, vmcb->control.exit_int_info,
	};

	vsnix_exit_internal(vcpu, VSNIX_INTERNAL_UNHANDLED_EXIT,
			    ARRAY_SIZE(data), data);
	return 0;
}

/* ------------------------------------------------------------ events */

static int svm_exit_vintr(struct vsnix_vcpu *vcpu)
{
	/* The window is open: the next entry injects (svm_clear_events). */
	return 1;
}

/*
 * The intercept comes before the IRET runs (APM 15.9): NMIs open once
 * RIP has moved past it (svm_events_exited). Also the end of an interrupt
 * handler (svm_enable_irq_window): the next entry looks at the queue.
 */
static int svm_exit_iret(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);

	if (sv->nmi_masked && !sv->nmi_iret_pending) {
		sv->nmi_iret_pending = true;
		sv->nmi_iret_rip = vcpu->rip;
	}
	svm_clr_intercept(sv->vmcb, INTERCEPT_IRET);
	return 1;
}

/* ------------------------------------------------------------ exits */

/* INTR, NMI, SMI, INIT: the host takes it after stgi / local_irq_enable. */
static int svm_exit_resume(struct vsnix_vcpu *vcpu)
{
	return 1;
}

static int svm_exit_ud(struct vsnix_vcpu *vcpu)
{
	vsnix_x86_queue_exception(vcpu, UD_VECTOR, false, 0);
	return 1;
}

static int svm_exit_gp(struct vsnix_vcpu *vcpu)
{
	vsnix_x86_queue_exception(vcpu, GP_VECTOR, true, 0);
	return 1;
}

/*
 * INVD and WBINVD: no cache of ours to write back; a no-op. Either exit
 * accepts either opcode: both are skipped the same way, and QEMU's TCG
 * reports INVD with the WBINVD exit code.
 */
static int svm_exit_invd(struct vsnix_vcpu *vcpu)
{
	if (svm_insn_len(vcpu, op_wbinvd, sizeof(op_wbinvd)) > 0)
		return svm_skip_insn(vcpu, op_wbinvd, sizeof(op_wbinvd));
	return svm_skip_insn(vcpu, op_invd, sizeof(op_invd));
}

static int svm_exit_cpuid(struct vsnix_vcpu *vcpu)
{
	int len = svm_insn_len(vcpu, op_cpuid, sizeof(op_cpuid));

	if (len <= 0 || len > SVM_MAX_INSN)
		return svm_skip_insn(vcpu, op_cpuid, sizeof(op_cpuid));
	vsnix_x86_emulate_cpuid(vcpu, len);
	vmcb_of(vcpu)->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	return 1;
}

static int svm_exit_hlt(struct vsnix_vcpu *vcpu)
{
	if (!svm_skip_insn(vcpu, op_hlt, sizeof(op_hlt)))
		return 0;
	return vsnix_x86_halt(vcpu);
}

/*
 * MOV to CR8 (intercepted with the in-kernel LAPIC): REX.R 0F 22 /r with
 * ModRM.reg 0; the CPU takes the r/m field as a register whatever mod
 * says (SDM Vol 2, MOV--Move to/from Control Registers).
 */
static int svm_exit_cr8_write(struct vsnix_vcpu *vcpu)
{
	enum vsnix_cpu_mode mode;
	u8 buf[SVM_MAX_INSN], rex = 0;
	unsigned int n, i;

	n = svm_fetch_insn(vcpu, buf, &mode);
	for (i = 0; i < n && svm_is_prefix(buf[i], mode); i++)
		rex = (buf[i] & 0xf0) == 0x40 ? buf[i] : 0;
	if (!vcpu->lapic || mode != VSNIX_MODE_LONG64 || i + 3 > n ||
	    buf[i] != 0x0f || buf[i + 1] != 0x22 || !(rex & 4) ||
	    (buf[i + 2] & 0x38)) {
		u64 data[3] = { to_svm(vcpu)->exit_code, vcpu->rip, n };

		vsnix_exit_internal(vcpu, VSNIX_INTERNAL_EMULATION,
				    ARRAY_SIZE(data), data);
		return 0;
	}
	if (vsnix_lapic_set_cr8(vcpu, vcpu->gpr[(buf[i + 2] & 7) |
						 ((rex & 1) << 3)])) {
		vsnix_x86_queue_exception(vcpu, GP_VECTOR, true, 0);
		return 1;
	}
	vcpu->rip += i + 3;
	vmcb_of(vcpu)->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	return 1;
}

/* EXITINFO1 of an IOIO intercept: APM 15.10.2, figure 15-2. */
static int svm_exit_ioio(struct vsnix_vcpu *vcpu)
{
	struct vmcb *vmcb = vmcb_of(vcpu);
	u64 info = vmcb->control.exit_info_1;
	u16 port = info >> 16;
	u8 size = (info & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT;
	bool in = info & SVM_IOIO_TYPE_MASK;
	bool string = info & SVM_IOIO_STR_MASK;
	bool rep = info & SVM_IOIO_REP_MASK;

	if (size != 1 && size != 2 && size != 4)
		return svm_unhandled(vcpu);
	vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	return vsnix_x86_handle_pio(vcpu, port, size, in, string, rep,
				    vmcb->control.exit_info_2);
}

/* EXITINFO1: 0 RDMSR, 1 WRMSR (APM 15.11). */
static int svm_exit_msr(struct vsnix_vcpu *vcpu)
{
	bool write = vmcb_of(vcpu)->control.exit_info_1;
	u32 index = vcpu->gpr[VSNIX_RCX];
	u64 data;

	/* Check the bytes first: a failed decode must not write the MSR. */
	if (svm_insn_len(vcpu, write ? op_wrmsr : op_rdmsr, 2) <= 0)
		return svm_skip_insn(vcpu, write ? op_wrmsr : op_rdmsr, 2);
	if (write) {
		data = (vcpu->gpr[VSNIX_RDX] << 32) | (u32)vcpu->gpr[VSNIX_RAX];
		if (vsnix_x86_guest_wrmsr(vcpu, index, data))
			return svm_exit_gp(vcpu);
	} else {
		if (vsnix_x86_guest_rdmsr(vcpu, index, &data))
			return svm_exit_gp(vcpu);
		vcpu->gpr[VSNIX_RAX] = (u32)data;
		vcpu->gpr[VSNIX_RDX] = data >> 32;
	}
	return svm_skip_insn(vcpu, write ? op_wrmsr : op_rdmsr, 2);
}

/* VMMCALL: a hypercall at CPL 0 (vsnix_x86_hypercall), #UD above. */
static int svm_exit_vmmcall(struct vsnix_vcpu *vcpu)
{
	struct vmcb_save_area *save = &vmcb_of(vcpu)->save;

	if (save->cpl)
		return svm_exit_ud(vcpu);
	vsnix_x86_hypercall(vcpu, (save->efer & EFER_LMA) &&
			    (save->cs.attrib & SVM_SELECTOR_L_MASK));
	return svm_skip_insn(vcpu, op_vmmcall, sizeof(op_vmmcall)) ? 1 : 0;
}

static int svm_exit_xsetbv(struct vsnix_vcpu *vcpu)
{
	u64 value = (vcpu->gpr[VSNIX_RDX] << 32) | (u32)vcpu->gpr[VSNIX_RAX];

	if (svm_insn_len(vcpu, op_xsetbv, sizeof(op_xsetbv)) <= 0)
		return svm_skip_insn(vcpu, op_xsetbv, sizeof(op_xsetbv));
	/* #UD without CR4.OSXSAVE, #GP outside CPL 0 (SDM Vol 2, XSETBV). */
	if (!(vmcb_of(vcpu)->save.cr4 & X86_CR4_OSXSAVE))
		return svm_exit_ud(vcpu);
	if (vmcb_of(vcpu)->save.cpl != 0 ||
	    !vsnix_x86_set_xcr(vcpu, vcpu->gpr[VSNIX_RCX], value))
		return svm_exit_gp(vcpu);
	return svm_skip_insn(vcpu, op_xsetbv, sizeof(op_xsetbv));
}

/*
 * First touch of DR0-3, or a write that could arm them (DR7, DR4/DR5):
 * load the guest's DR0-3 at each entry from now on and stop intercepting;
 * the instruction runs again, natively.
 */
static int svm_exit_dr(struct vsnix_vcpu *vcpu)
{
	svm_dr_activate(to_svm(vcpu));
	return 1;
}

/*
 * The GPR of a MOV to CR4 (0F 22 /r, reg = 4): from the decode assists
 * (EXITINFO1 bit 63 valid, GPR in bits 3:0; APM Vol 2, 15.8.1), else from
 * the bytes at RIP. Returns the instruction length, or -EINVAL.
 */
static int svm_decode_mov_cr4(struct vsnix_vcpu *vcpu, unsigned int *gpr)
{
	u64 info = vmcb_of(vcpu)->control.exit_info_1;
	enum vsnix_cpu_mode mode;
	u8 buf[SVM_MAX_INSN], rex = 0;
	unsigned int n, i;

	n = svm_fetch_insn(vcpu, buf, &mode);
	for (i = 0; i < n && svm_is_prefix(buf[i], mode); i++)
		if (mode == VSNIX_MODE_LONG64 && (buf[i] & 0xf0) == 0x40)
			rex = buf[i];
	if (i + 3 > n || buf[i] != 0x0f || buf[i + 1] != 0x22 ||
	    (((buf[i + 2] >> 3) & 7) | ((rex & 4) << 1)) != 4)
		return -EINVAL;
	*gpr = (buf[i + 2] & 7) | ((rex & 1) << 3);
	if (svm_has_decode_assists && (info & BIT_ULL(63)))
		*gpr = info & 15;
	return i + 3;
}

/*
 * MOV to CR4 is intercepted so that bits the guest's CPUID hides raise
 * #GP (SDM Vol 3, 2.5; APM Vol 2, 15.9); the rest of the checks are those
 * of the instruction (SDM Vol 2, MOV to CR).
 */
static int svm_exit_write_cr4(struct vsnix_vcpu *vcpu)
{
	struct vmcb_save_area *save = &vmcb_of(vcpu)->save;
	bool lma = save->efer & EFER_LMA;
	u64 old = save->cr4, val;
	unsigned int gpr;
	int len = svm_decode_mov_cr4(vcpu, &gpr);

	if (len <= 0) {
		u64 data[3] = { to_svm(vcpu)->exit_code, vcpu->rip, len };

		vsnix_exit_internal(vcpu, VSNIX_INTERNAL_EMULATION,
				    ARRAY_SIZE(data), data);
		return 0;
	}
	val = vcpu->gpr[gpr];
	if (!(lma && (save->cs.attrib & SVM_SELECTOR_L_MASK)))
		val = (u32)val;
	if (save->cpl || !vsnix_x86_cr4_valid(vcpu, val) ||
	    (lma && !(val & X86_CR4_PAE)) ||
	    ((val & ~old & X86_CR4_PCIDE) &&
	     (!lma || (save->cr3 & 0xfff))))
		return svm_exit_gp(vcpu);
	save->cr4 = val;
	svm_sync_lme(to_svm(vcpu), svm_guest_efer(to_svm(vcpu)) & EFER_LME);
	/* SDM Vol 3, 4.10.4.1: these changes flush the TLB (our ASID). */
	if ((old ^ val) & (X86_CR4_PGE | X86_CR4_PAE | X86_CR4_PSE |
			   X86_CR4_PCIDE | X86_CR4_SMEP | X86_CR4_SMAP))
		vsnix_vcpu_request(vcpu, VSNIX_REQ_TLB_FLUSH);
	vcpu->rip += len;
	vmcb_of(vcpu)->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	return 1;
}

/*
 * The CR0 a MOV to CR0 (0F 22 /r, reg = 0), CLTS (0F 06) or LMSW with a
 * register (0F 01 /6, mod = 3) writes; never in 64-bit mode (paging is
 * off). Returns the instruction length, or -EINVAL.
 */
static int svm_decode_cr0_write(struct vsnix_vcpu *vcpu, u64 *val)
{
	u64 cr0 = vmcb_of(vcpu)->save.cr0;
	enum vsnix_cpu_mode mode;
	u8 buf[SVM_MAX_INSN], modrm;
	unsigned int n, i;

	n = svm_fetch_insn(vcpu, buf, &mode);
	for (i = 0; i < n && svm_is_prefix(buf[i], mode); i++)
		if (buf[i] == 0xf0)	/* LOCK MOV CR0 is CR8 (APM Vol 3) */
			return -EINVAL;
	if (mode == VSNIX_MODE_LONG64 || i + 2 > n || buf[i] != 0x0f)
		return -EINVAL;
	if (buf[i + 1] == 0x06) {
		*val = cr0 & ~X86_CR0_TS;
		return i + 2;
	}
	if (i + 3 > n)
		return -EINVAL;
	modrm = buf[i + 2];
	if (buf[i + 1] == 0x22 && ((modrm >> 3) & 7) == 0) {
		*val = (u32)vcpu->gpr[modrm & 7];
		return i + 3;
	}
	/* LMSW: PE, MP, EM, TS; it sets PE but never clears it. */
	if (buf[i + 1] == 0x01 && ((modrm >> 3) & 7) == 6 && (modrm >> 6) == 3) {
		*val = (cr0 & ~0xeull) | (vcpu->gpr[modrm & 7] & 0xf);
		return i + 3;
	}
	return -EINVAL;
}

/*
 * A CR0 write while EFER.LME is kept out of the VMCB (svm_sync_lme): done
 * here, with the checks of the instruction (SDM Vol 2, MOV to CR; APM
 * Vol 2, 14.6.1: PG with LME and no PAE is #GP, and LME with no PAE is
 * the only case that hides it, so PG is always #GP here).
 */
static int svm_exit_write_cr0(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb_save_area *save = &sv->vmcb->save;
	int len;
	u64 val;

	if (!sv->lme_hidden) {
		/* Not ours (any more): the instruction runs again, natively. */
		svm_clr_intercept(sv->vmcb, INTERCEPT_CR0_WRITE);
		return 1;
	}
	len = svm_decode_cr0_write(vcpu, &val);
	if (len <= 0) {
		u64 data[3] = { sv->exit_code, vcpu->rip, len };

		vsnix_exit_internal(vcpu, VSNIX_INTERNAL_EMULATION,
				    ARRAY_SIZE(data), data);
		return 0;
	}
	if (save->cpl || (val & X86_CR0_PG) ||
	    ((val & X86_CR0_NW) && !(val & X86_CR0_CD)))
		return svm_exit_gp(vcpu);
	save->cr0 = val | X86_CR0_ET;
	vcpu->rip += len;
	sv->vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	return 1;
}

static int svm_exit_shutdown(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vsnix_run *run = vcpu->run;

	/* APM 15.12: the VMCB is undefined now; RUN needs SET_(S)REGS first. */
	sv->shutdown = true;
	sv->reset_seen = 0;
	run->exit_reason = VSNIX_EXIT_SHUTDOWN;
	memset(run->shutdown.data, 0, sizeof(run->shutdown.data));
	run->shutdown.data[0] = SVM_EXIT_SHUTDOWN;
	return 0;
}

static int svm_exit_npf(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb *vmcb = sv->vmcb;
	struct svm_vm *svm_vm = vcpu->vm->arch;
	u64 gpa = vmcb->control.exit_info_2;
	u64 err = vmcb->control.exit_info_1;
	u32 access;
	u8 len = 0;
	int r;

	if ((err & SVM_NPF_FETCH) && vsnix_x86_fetch_fault(vcpu, gpa))
		return 0;
	/* Error code bits 1 and 4: a write, a fetch (APM Vol 2, 15.25.6). */
	access = err & SVM_NPF_WRITE ? VSNIX_MEMORY_FAULT_WRITE :
				       VSNIX_MEMORY_FAULT_READ;
	if (err & SVM_NPF_FETCH)
		access |= VSNIX_MEMORY_FAULT_EXEC;
	r = vsnix_x86_tdp_fault(vcpu, &svm_vm->tdp, gpa, access);
	if (r != -ENOENT)
		return r;

	/* Decode assists: the bytes fetched at the fault (APM 15.33.1). */
	if (svm_has_decode_assists)
		len = min_t(u8, vmcb->control.insn_len,
			    sizeof(vmcb->control.insn_bytes));
	return vsnix_x86_handle_mmio(vcpu, gpa, vmcb->control.insn_bytes, len);
}

/* #DB, #AC go back to the guest; #MC to the host's handler. */
static int svm_exit_exception(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb *vmcb = sv->vmcb;
	u8 vector = sv->exit_code - SVM_EXIT_EXCP_BASE;

	if (vector == MC_VECTOR) {
		struct pt_regs regs = { .cs = 3, .flags = X86_EFLAGS_IF };

		/* As if taken in user mode: the host's handler may recover. */
		if (IS_ENABLED(CONFIG_X86_MCE))
			do_machine_check(&regs);
		return 1;
	}
	if (vector != DB_VECTOR && vector != AC_VECTOR)
		return svm_unhandled(vcpu);
	if (vector == DB_VECTOR && svm_singlestep_done(vcpu))
		return 1;
	/*
	 * Both are benign (SDM Vol 3, table 6-5): an event whose delivery
	 * they interrupted comes after them (vsnix_x86_queue_exception).
	 */
	vsnix_x86_queue_exception(vcpu, vector, vector == AC_VECTOR,
				  vector == AC_VECTOR ?
				  vmcb->control.exit_info_1 : 0);
	return 1;
}

static int svm_exit_invalid(struct vsnix_vcpu *vcpu)
{
	struct vsnix_run *run = vcpu->run;

	/* VMEXIT_INVALID: the VMCB failed a consistency check (15.5.1). */
	run->exit_reason = VSNIX_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = to_svm(vcpu)->exit_code;
	run->fail_entry.cpu = vcpu->cpu;
	return 0;
}

static const svm_exit_fn svm_exit_handlers[] = {
	[SVM_EXIT_READ_DR0 ... SVM_EXIT_READ_DR3] = svm_exit_dr,
	[SVM_EXIT_WRITE_DR0 ... SVM_EXIT_WRITE_DR5] = svm_exit_dr,
	[SVM_EXIT_WRITE_DR7] = svm_exit_dr,
	[SVM_EXIT_WRITE_CR0] = svm_exit_write_cr0,
	[SVM_EXIT_WRITE_CR4] = svm_exit_write_cr4,
	[SVM_EXIT_EXCP_BASE + DB_VECTOR] = svm_exit_exception,
	[SVM_EXIT_EXCP_BASE + AC_VECTOR] = svm_exit_exception,
	[SVM_EXIT_EXCP_BASE + MC_VECTOR] = svm_exit_exception,
	[SVM_EXIT_INTR] = svm_exit_resume,
	[SVM_EXIT_NMI] = svm_exit_resume,
	[SVM_EXIT_SMI] = svm_exit_resume,
	[SVM_EXIT_INIT] = svm_exit_resume,
	[SVM_EXIT_VINTR] = svm_exit_vintr,
	[SVM_EXIT_RDPMC] = svm_exit_gp,
	[SVM_EXIT_CPUID] = svm_exit_cpuid,
	[SVM_EXIT_IRET] = svm_exit_iret,
	[SVM_EXIT_INVD] = svm_exit_invd,
	[SVM_EXIT_HLT] = svm_exit_hlt,
	[SVM_EXIT_WRITE_CR8] = svm_exit_cr8_write,
	[SVM_EXIT_INVLPGA] = svm_exit_ud,
	[SVM_EXIT_IOIO] = svm_exit_ioio,
	[SVM_EXIT_MSR] = svm_exit_msr,
	[SVM_EXIT_SHUTDOWN] = svm_exit_shutdown,
	[SVM_EXIT_VMRUN] = svm_exit_ud,
	[SVM_EXIT_VMMCALL] = svm_exit_vmmcall,
	[SVM_EXIT_VMLOAD] = svm_exit_ud,
	[SVM_EXIT_VMSAVE] = svm_exit_ud,
	[SVM_EXIT_STGI] = svm_exit_ud,
	[SVM_EXIT_CLGI] = svm_exit_ud,
	[SVM_EXIT_SKINIT] = svm_exit_ud,
	[SVM_EXIT_RDTSCP] = svm_exit_ud,
	[SVM_EXIT_INVPCID] = svm_exit_ud,
	[SVM_EXIT_WBINVD] = svm_exit_invd,
	[SVM_EXIT_MONITOR] = svm_exit_ud,
	[SVM_EXIT_MWAIT] = svm_exit_ud,
	[SVM_EXIT_MWAIT_COND] = svm_exit_ud,
	[SVM_EXIT_XSETBV] = svm_exit_xsetbv,
	[SVM_EXIT_RDPRU] = svm_exit_ud,
	[SVM_EXIT_NPF] = svm_exit_npf,
};

/*
 * Exits that saved the host's state, counted since insmod:
 * /sys/module/vsnix/parameters/lost_states. The rig runs a test that
 * failed again when this grew meanwhile (scripts/rig/guest-init.sh); the
 * warning below is ratelimited and the kernel's log ring forgets.
 */
static atomic_long_t svm_lost_states = ATOMIC_LONG_INIT(0);
module_param_cb(lost_states, &vsnix_counter_param_ops, &svm_lost_states, 0444);
MODULE_PARM_DESC(lost_states, "SVM exits that saved the host's state as the guest's (an emulator fault; read-only)");

/*
 * The exit saved the host's state, not the guest's (svm.c,
 * svm_exit_saved_host_state): end the run; the vCPU needs SET_SREGS and
 * SET_REGS, as after a shutdown, before it runs again.
 */
static int svm_exit_lost_state(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	u64 data[3] = { sv->exit_code, vmcb_of(vcpu)->save.rip,
			vmcb_of(vcpu)->save.cr3 };

	atomic_long_inc(&svm_lost_states);
	pr_warn_ratelimited("vsnix: svm: VM %u vCPU %u: exit %#llx saved the host's state in place of the guest's (an emulator fault: APM 15.6 saves the guest's); the guest's state is lost\n",
			    vcpu->vm->id, vcpu->id, sv->exit_code);
	sv->lost_state = false;
	sv->shutdown = true;
	sv->reset_seen = 0;
	vsnix_exit_internal(vcpu, VSNIX_INTERNAL_LOST_STATE, ARRAY_SIZE(data),
			    data);
	return 0;
}

int svm_handle_exit(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	u64 code = sv->exit_code;

	vsnix_vcpu_exited(vcpu, vsnix_svm_exit_class(code), code);
	if (unlikely(sv->lost_state))
		return svm_exit_lost_state(vcpu);
	if (code == (u64)SVM_EXIT_ERR)
		return svm_exit_invalid(vcpu);
	if (code < ARRAY_SIZE(svm_exit_handlers) && svm_exit_handlers[code])
		return svm_exit_handlers[code](vcpu);
	return svm_unhandled(vcpu);
}
