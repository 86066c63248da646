// SPDX-License-Identifier: GPL-2.0
/*
 * vSnix VMX: VM-exit handlers, one per basic exit reason (Intel SDM Vol 3,
 * Appendix C). They run preemptible, maybe on another CPU than the exit:
 * they use the exit information vmx_run.c saved, and take the VMCS
 * (vmx_vmcs_get) for anything else. Contract: 1 resumes the guest, 0 goes
 * to userspace with vcpu->run filled, -errno fails RUN.
 */
#include <linux/kernel.h>
#include <asm/trapnr.h>
#include "vmx.h"
#include "../lapic.h"
#include "vmcs.h"
#include "../events.h"

typedef int (*vmx_exit_handler)(struct vsnix_vcpu *vcpu,
				struct vmx_vcpu *vmx);

static int vmx_exit_unhandled(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u64 data[3] = { vmx->exit_reason, vmx->exit_qual, vcpu->rip };

	vsnix_exit_internal(vcpu, VSNIX_INTERNAL_UNHANDLED_EXIT,
			    ARRAY_SIZE(data), data);
	return 0;
}

static void vmx_skip_insn(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	vcpu->rip += vmx->exit_insn_len;
}

static int vmx_exit_resume(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	return 1;
}

static int vmx_exit_skip(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	vmx_skip_insn(vcpu, vmx);
	return 1;
}

static int vmx_inject_ud(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	vsnix_x86_queue_exception(vcpu, X86_TRAP_UD, false, 0);
	return 1;
}

static int vmx_inject_gp(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	vsnix_x86_queue_exception(vcpu, X86_TRAP_GP, true, 0);
	return 1;
}

/* 64-bit mode decides how much of a GPR a MOV to/from CR/DR uses. */
static bool vmx_in_64bit_mode(struct vsnix_vcpu *vcpu)
{
	bool lm = false;

	if (!vmx_vmcs_get(vcpu)) {
		lm = (vmcs_read(GUEST_IA32_EFER) & EFER_LMA) &&
		     (vmcs_read(GUEST_CS_AR_BYTES) & VMX_AR_L_MASK);
		vmx_vmcs_put(vcpu);
	}
	return lm;
}

static u64 vmx_gpr_read(struct vsnix_vcpu *vcpu, unsigned int reg)
{
	u64 v = vcpu->gpr[reg & 15];

	return vmx_in_64bit_mode(vcpu) ? v : (u32)v;
}

static int vmx_exit_exception_nmi(struct vsnix_vcpu *vcpu,
				  struct vmx_vcpu *vmx)
{
	u32 info = vmx->exit_intr_info;
	u32 type = info & INTR_INFO_INTR_TYPE_MASK;
	u8 vector = info & INTR_INFO_VECTOR_MASK;

	if (!(info & INTR_INFO_VALID_MASK))
		return vmx_exit_unhandled(vcpu, vmx);
	/* NMI and #MC were handed to the host right after the exit. */
	if (type == INTR_TYPE_NMI_INTR)
		return 1;
	/* INT1 (ICEBP) hits the #DB intercept: deliver it as it was. */
	if (type == INTR_TYPE_PRIV_SW_EXCEPTION && vector == X86_TRAP_DB) {
		struct vsnix_x86_event e = {
			.type = VSNIX_X86_EV_PRIV_SOFT_EXC,
			.vector = X86_TRAP_DB,
			.insn_len = vmx->exit_insn_len,
		};

		vsnix_x86_set_injected(vcpu, &e);
		return 1;
	}
	if (type != INTR_TYPE_HARD_EXCEPTION)
		return vmx_exit_unhandled(vcpu, vmx);
	switch (vector) {
	case X86_TRAP_MC:
		return 1;
	case X86_TRAP_DB:
		/* The qualification holds the DR6 bits (SDM 27.2.1). */
		vmx->dr6 = 0xffff0ff0 | (vmx->exit_qual & 0x600f);
		vsnix_x86_queue_exception(vcpu, X86_TRAP_DB, false, 0);
		return 1;
	case X86_TRAP_AC:
		vsnix_x86_queue_exception(vcpu, X86_TRAP_AC, true, 0);
		return 1;
	default:
		return vmx_exit_unhandled(vcpu, vmx);
	}
}

static int vmx_exit_triple_fault(struct vsnix_vcpu *vcpu,
				 struct vmx_vcpu *vmx)
{
	vmx->shutdown = true;
	vcpu->run->exit_reason = VSNIX_EXIT_SHUTDOWN;
	memset(&vcpu->run->shutdown, 0, sizeof(vcpu->run->shutdown));
	vcpu->run->shutdown.data[0] = EXIT_REASON_TRIPLE_FAULT;
	return 0;
}

static int vmx_exit_cpuid(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	vsnix_x86_emulate_cpuid(vcpu, vmx->exit_insn_len);
	return 1;
}

static int vmx_exit_hlt(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	vmx_skip_insn(vcpu, vmx);
	return vsnix_x86_halt(vcpu);
}

static int vmx_exit_invlpg(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	/* Only when the CPU forces INVLPG exiting; flush all of it. */
	vmx->need_flush = true;
	return vmx_exit_skip(vcpu, vmx);
}

/*
 * SDM 27.2.1, table 27-3: control-register access qualification. The CR
 * number is bits 3:0 (CR8 is 1000b); the kernel's CONTROL_REG_ACCESS_NUM
 * masks only bits 2:0 and would make CR8 CR0.
 */
#define VMX_CR_QUAL_NUM		0xfull

static int vmx_exit_cr(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u64 q = vmx->exit_qual;
	unsigned int cr = q & VMX_CR_QUAL_NUM;
	unsigned int type = (q & CONTROL_REG_ACCESS_TYPE) >> 4;
	unsigned int reg = (q >> 8) & 15;
	u64 val, cr0;
	int r;

	switch (type) {
	case 0:		/* MOV to CR */
		val = vmx_gpr_read(vcpu, reg);
		if (cr == 0)
			r = vmx_set_cr0_locked(vcpu, val);
		else if (cr == 3)
			r = vmx_set_cr3_locked(vcpu, val);
		else if (cr == 4)
			r = vmx_set_cr4_locked(vcpu, val);
		else if (cr == 8 && vsnix_lapic_in_kernel(vcpu))
			r = vsnix_lapic_set_cr8(vcpu, val);
		else if (cr == 8)
			r = val > 15 ? -EINVAL : (vmx->cr8 = val, 0);
		else
			return vmx_exit_unhandled(vcpu, vmx);
		break;
	case 1:		/* MOV from CR */
		if (cr == 8) {
			/* CR8 is the LAPIC's TPR[7:4] (SDM Vol 3, 10.8.6.1). */
			vcpu->gpr[reg] = vsnix_lapic_in_kernel(vcpu) ?
					 vsnix_lapic_get_cr8(vcpu) : vmx->cr8;
		} else if (cr == 3) {
			r = vmx_vmcs_get(vcpu);
			if (r)
				return r;
			vcpu->gpr[reg] = vmcs_read(GUEST_CR3);
			vmx_vmcs_put(vcpu);
		} else {
			return vmx_exit_unhandled(vcpu, vmx);
		}
		r = 0;
		break;
	default:	/* CLTS, LMSW */
		r = vmx_vmcs_get(vcpu);
		if (r)
			return r;
		cr0 = vmx_guest_cr0_locked();
		vmx_vmcs_put(vcpu);
		if (type == 2)
			cr0 &= ~(u64)X86_CR0_TS;
		else	/* LMSW sets PE but never clears it (SDM Vol 2) */
			cr0 = (cr0 & ~0xeull) | ((q >> LMSW_SOURCE_DATA_SHIFT) & 0xf);
		r = vmx_set_cr0_locked(vcpu, cr0);
		break;
	}
	if (r == -EINVAL)
		return vmx_inject_gp(vcpu, vmx);
	if (r)
		return r;
	return vmx_exit_skip(vcpu, vmx);
}

/*
 * The guest's first MOV DR: from now on its DR0-3 and DR6 are loaded
 * around each entry (vmx_run.c) and DR7 comes from the VMCS ("load debug
 * controls", SDM Vol 3, 26.3.2.1), so MOV DR stops exiting and runs again
 * natively, and the guest's hardware breakpoints fire in the guest. Until
 * then the host's DR0-3 are live, so every access exits first.
 */
static int vmx_exit_dr(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	int r = vmx_vmcs_get(vcpu);

	if (r)
		return r;
	vmcs_write(GUEST_DR7, vmx->dr7);
	vmx_vmcs_put(vcpu);
	vmx->dr_active = true;
	return 1;
}

/* SDM 27.2.1, table 27-5: I/O instruction qualification. */
static int vmx_exit_io(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u64 q = vmx->exit_qual;
	u8 size = (q & 7) + 1;

	if (size != 1 && size != 2 && size != 4)
		return vmx_exit_unhandled(vcpu, vmx);
	return vsnix_x86_handle_pio(vcpu, q >> 16, size, q & BIT(3),
				    q & BIT(4), q & BIT(5),
				    vcpu->rip + vmx->exit_insn_len);
}

static int vmx_exit_rdmsr(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u64 data;
	int r;

	r = vsnix_x86_guest_rdmsr(vcpu, (u32)vcpu->gpr[VSNIX_RCX], &data);
	if (r)
		return vmx_inject_gp(vcpu, vmx);
	vcpu->gpr[VSNIX_RAX] = (u32)data;
	vcpu->gpr[VSNIX_RDX] = data >> 32;
	return vmx_exit_skip(vcpu, vmx);
}

static int vmx_exit_wrmsr(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u64 data = (u32)vcpu->gpr[VSNIX_RAX] |
		   ((u64)(u32)vcpu->gpr[VSNIX_RDX] << 32);
	int r;

	r = vsnix_x86_guest_wrmsr(vcpu, (u32)vcpu->gpr[VSNIX_RCX], data);
	if (r)
		return vmx_inject_gp(vcpu, vmx);
	return vmx_exit_skip(vcpu, vmx);
}

static int vmx_exit_ept_violation(struct vsnix_vcpu *vcpu,
				  struct vmx_vcpu *vmx)
{
	/* Qualification bits 1, 2: a write, a fetch (SDM Vol 3, 28.2.1). */
	u32 access = vmx->exit_qual & BIT_ULL(1) ? VSNIX_MEMORY_FAULT_WRITE :
						   VSNIX_MEMORY_FAULT_READ;
	int r;

	if (vmx->exit_qual & BIT_ULL(2))
		access |= VSNIX_MEMORY_FAULT_EXEC;
	/*
	 * RAM not mapped yet. Also during event delivery: the event was
	 * saved for reinjection and is delivered again at the next entry.
	 */
	r = vsnix_x86_tdp_fault(vcpu, vmx_tdp(vcpu->vm), vmx->exit_gpa, access);
	if (r != -ENOENT)
		return r;
	/*
	 * During event delivery (IDT, stack in MMIO) RIP is not the access
	 * that faulted, so there is no instruction to emulate.
	 */
	if (vmx->idt_vectoring_info & VECTORING_INFO_VALID_MASK) {
		u64 data[4] = { vmx->exit_reason, vmx->exit_qual,
				vmx->exit_gpa, vmx->idt_vectoring_info };

		vsnix_x86_set_injected(vcpu, NULL);
		vsnix_exit_internal(vcpu, VSNIX_INTERNAL_UNHANDLED_EXIT,
				    ARRAY_SIZE(data), data);
		return 0;
	}
	/* Qualification bit 2: an instruction fetch (SDM Vol 3, 28.2.1). */
	if ((vmx->exit_qual & BIT_ULL(2)) &&
	    vsnix_x86_fetch_fault(vcpu, vmx->exit_gpa))
		return 0;
	return vsnix_x86_handle_mmio(vcpu, vmx->exit_gpa, NULL, 0);
}

static int vmx_exit_ept_misconfig(struct vsnix_vcpu *vcpu,
				  struct vmx_vcpu *vmx)
{
	u64 data[2] = { vmx->exit_reason, vmx->exit_gpa };

	pr_err_ratelimited("vsnix: EPT misconfiguration at GPA %#llx\n",
			   vmx->exit_gpa);
	vsnix_exit_internal(vcpu, VSNIX_INTERNAL_UNHANDLED_EXIT,
			    ARRAY_SIZE(data), data);
	return 0;
}

static int vmx_exit_xsetbv(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u64 value = (u32)vcpu->gpr[VSNIX_RAX] |
		    ((u64)(u32)vcpu->gpr[VSNIX_RDX] << 32);
	struct vsnix_sregs sregs;

	/* XSETBV is privileged: #GP(0) outside CPL 0 (SDM Vol 2, XSETBV). */
	vmx_get_sregs(vcpu, &sregs);
	if (((sregs.cr0 & X86_CR0_PE) && sregs.ss.dpl) ||
	    !vsnix_x86_set_xcr(vcpu, (u32)vcpu->gpr[VSNIX_RCX], value))
		return vmx_inject_gp(vcpu, vmx);
	return vmx_exit_skip(vcpu, vmx);
}

/* VMCALL: a hypercall at CPL 0 (vsnix_x86_hypercall), #UD above. */
static int vmx_exit_vmcall(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	bool lm = vmx_in_64bit_mode(vcpu);
	u32 ss_ar;
	int r;

	r = vmx_vmcs_get(vcpu);
	if (r)
		return r;
	ss_ar = vmcs_read(GUEST_SS_AR_BYTES);
	vmx_vmcs_put(vcpu);
	/* CPL is SS.DPL (SDM Vol 3, 26.3.1.2); real mode is CPL 0. */
	if ((ss_ar >> 5) & 3)
		return vmx_inject_ud(vcpu, vmx);
	vsnix_x86_hypercall(vcpu, lm);
	return vmx_exit_skip(vcpu, vmx);
}

static const vmx_exit_handler vmx_exit_handlers[] = {
	[EXIT_REASON_EXCEPTION_NMI]	= vmx_exit_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = vmx_exit_resume,
	[EXIT_REASON_TRIPLE_FAULT]	= vmx_exit_triple_fault,
	[EXIT_REASON_INTERRUPT_WINDOW]	= vmx_exit_resume,
	[EXIT_REASON_NMI_WINDOW]	= vmx_exit_resume,
	[EXIT_REASON_CPUID]		= vmx_exit_cpuid,
	[EXIT_REASON_HLT]		= vmx_exit_hlt,
	/* No assigned devices: nothing a guest's cache flush must reach. */
	[EXIT_REASON_INVD]		= vmx_exit_skip,
	[EXIT_REASON_WBINVD]		= vmx_exit_skip,
	[EXIT_REASON_INVLPG]		= vmx_exit_invlpg,
	[EXIT_REASON_RDPMC]		= vmx_inject_gp,
	[EXIT_REASON_VMCALL]		= vmx_exit_vmcall,
	[EXIT_REASON_VMCLEAR]		= vmx_inject_ud,
	[EXIT_REASON_VMLAUNCH]		= vmx_inject_ud,
	[EXIT_REASON_VMPTRLD]		= vmx_inject_ud,
	[EXIT_REASON_VMPTRST]		= vmx_inject_ud,
	[EXIT_REASON_VMREAD]		= vmx_inject_ud,
	[EXIT_REASON_VMRESUME]		= vmx_inject_ud,
	[EXIT_REASON_VMWRITE]		= vmx_inject_ud,
	[EXIT_REASON_VMOFF]		= vmx_inject_ud,
	[EXIT_REASON_VMON]		= vmx_inject_ud,
	[EXIT_REASON_CR_ACCESS]		= vmx_exit_cr,
	[EXIT_REASON_DR_ACCESS]		= vmx_exit_dr,
	[EXIT_REASON_IO_INSTRUCTION]	= vmx_exit_io,
	[EXIT_REASON_MSR_READ]		= vmx_exit_rdmsr,
	[EXIT_REASON_MSR_WRITE]		= vmx_exit_wrmsr,
	[EXIT_REASON_MWAIT_INSTRUCTION]	= vmx_inject_ud,
	[EXIT_REASON_MONITOR_INSTRUCTION] = vmx_inject_ud,
	[EXIT_REASON_EPT_VIOLATION]	= vmx_exit_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG]	= vmx_exit_ept_misconfig,
	[EXIT_REASON_INVEPT]		= vmx_inject_ud,
	[EXIT_REASON_INVVPID]		= vmx_inject_ud,
	[EXIT_REASON_XSETBV]		= vmx_exit_xsetbv,
	[EXIT_REASON_VMFUNC]		= vmx_inject_ud,
	[EXIT_REASON_PREEMPTION_TIMER]	= vmx_exit_resume,
	/* Trap-like, RIP past the MOV CR8; vmx_tpr_exit took the TPR. */
	[EXIT_REASON_TPR_BELOW_THRESHOLD] = vmx_exit_resume,
};

int vmx_handle_exit(struct vsnix_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 reason = vmx->exit_reason & 0xffff;

	vsnix_vcpu_exited(vcpu, vsnix_vmx_exit_class(reason), vmx->exit_reason);
	vmx_tpr_exit(vcpu, vmx);
	if (reason < ARRAY_SIZE(vmx_exit_handlers) && vmx_exit_handlers[reason])
		return vmx_exit_handlers[reason](vcpu, vmx);
	return vmx_exit_unhandled(vcpu, vmx);
}
