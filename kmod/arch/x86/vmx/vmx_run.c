// SPDX-License-Identifier: GPL-2.0
/*
 * vSnix VMX: one guest entry (vcpu_run). Events: arch/x86/events.c and
 * vmx_events.c.
 */
#include <linux/kernel.h>
#include <linux/hw_breakpoint.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/mce.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/trapnr.h>
#include "vmx.h"
#include "vmcs.h"
#include "../events.h"

/* Value of fail_entry.hardware_entry_failure_reason when VMX was off. */
#define VMX_ENTRY_FAIL_NO_VMX	0xffffffffull

/*
 * A machine check that hit the guest: the kernel's handler, as if from
 * user mode so that recovery may kill the current task.
 */
static void vmx_machine_check(void)
{
#ifdef CONFIG_X86_MCE
	struct pt_regs regs = { .cs = 3, .flags = X86_EFLAGS_IF };

	do_machine_check(&regs);
#endif
}

/* See vmx_probe_preempt_timer: a backstop for entries with IF=0. */
static void vmx_arm_preempt_timer(struct vsnix_vcpu *vcpu,
				  struct vmx_vcpu *vmx)
{
	u32 pin = vmx_cfg.pin_ctls;

	if (vmx_cfg.preempt_timer && !(vcpu->rflags & X86_EFLAGS_IF)) {
		pin |= PIN_BASED_VMX_PREEMPTION_TIMER;
		vmcs_write(VMX_PREEMPTION_TIMER_VALUE,
			   vmx_cfg.preempt_timer_value);
	}
	if (pin != vmx->pin_ctls) {
		vmcs_write(PIN_BASED_VM_EXEC_CONTROL, pin);
		vmx->pin_ctls = pin;
	}
}

/* ------------------------------------------------------------ exits */

/* With IRQs off, right after the exit: what handle_exit needs later. */
static void vmx_read_exit_info(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u32 reason = vmx->exit_reason & 0xffff;
	bool nmi_unblocked;

	vmx->exit_qual = vmcs_read(EXIT_QUALIFICATION);
	vmx->exit_insn_len = vmcs_read(VM_EXIT_INSTRUCTION_LEN);
	vmx->exit_intr_info = vmcs_read(VM_EXIT_INTR_INFO);
	vmx->idt_vectoring_info = vmcs_read(IDT_VECTORING_INFO_FIELD);
	vmx->idt_vectoring_error = 0;
	if (vmx->idt_vectoring_info & VECTORING_INFO_DELIVER_CODE_MASK)
		vmx->idt_vectoring_error = vmcs_read(IDT_VECTORING_ERROR_CODE);
	vmx->exit_gpa = 0;
	if (reason == EXIT_REASON_EPT_VIOLATION ||
	    reason == EXIT_REASON_EPT_MISCONFIG)
		vmx->exit_gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);

	vcpu->rip = vmcs_read(GUEST_RIP);
	vcpu->gpr[VSNIX_RSP] = vmcs_read(GUEST_RSP);
	vcpu->rflags = vmcs_read(GUEST_RFLAGS);
	vmx->exit_rip = vcpu->rip;
	/* The exit cleared the valid bit of the entry's event (SDM 27.2.5?). */
	vmx->entry_info_set = false;

	/*
	 * A guest IRET that faulted unblocked NMIs; the exit undoes that
	 * unless we set it again (SDM 27.2.3, virtual NMIs).
	 */
	if (reason == EXIT_REASON_EXCEPTION_NMI)
		nmi_unblocked = vmx->exit_intr_info & INTR_INFO_UNBLOCK_NMI;
	else if (reason == EXIT_REASON_EPT_VIOLATION)
		nmi_unblocked = vmx->exit_qual & INTR_INFO_UNBLOCK_NMI;
	else
		nmi_unblocked = false;
	if (nmi_unblocked &&
	    !(vmx->idt_vectoring_info & VECTORING_INFO_VALID_MASK))
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
			   vmcs_read(GUEST_INTERRUPTIBILITY_INFO) |
			   GUEST_INTR_STATE_NMI);

	/* Host NMIs and machine checks that hit the guest are ours. */
	if (reason == EXIT_REASON_EXCEPTION_NMI &&
	    (vmx->exit_intr_info & INTR_INFO_VALID_MASK)) {
		u32 type = vmx->exit_intr_info & INTR_INFO_INTR_TYPE_MASK;
		u8 vector = vmx->exit_intr_info & INTR_INFO_VECTOR_MASK;

		if (type == INTR_TYPE_NMI_INTR)
			__vsnix_vmx_do_nmi();
		else if (type == INTR_TYPE_HARD_EXCEPTION &&
			 vector == X86_TRAP_MC)
			vmx_machine_check();
	}
}

static void vmx_fail_entry(struct vsnix_vcpu *vcpu, u64 reason)
{
	vcpu->run->exit_reason = VSNIX_EXIT_FAIL_ENTRY;
	vcpu->run->fail_entry.hardware_entry_failure_reason = reason;
	vcpu->run->fail_entry.cpu = smp_processor_id();
}

/*
 * After a failed entry the VMCS launch state is not to be trusted
 * (SDM 26.7, 26.8): clear it and start over with VMLAUNCH.
 */
static void vmx_relaunch(struct vmx_vcpu *vmx)
{
	vmx_vmclear(vmx->vmcs_pa);
	vmx_vmptrld(vmx->vmcs_pa);
	vmx->launched = false;
}

/*
 * A machine check during VM entry (exit reason 41, SDM 26.8) is the host's
 * machine check, not bad guest state: the guest did not run. Handle it as
 * for an #MC exit and enter again with VMLAUNCH (the launch state is not
 * to be trusted); the event layer still holds the event to deliver.
 */
static void vmx_mce_during_entry(struct vsnix_vcpu *vcpu,
				 struct vmx_vcpu *vmx)
{
	vmx_machine_check();
	vmx_relaunch(vmx);
	vsnix_vcpu_exit_done(vcpu);
	local_irq_enable();
}

/* ------------------------------------------------------------ entry */

struct vmx_host_state {
	u64 msrs[VMX_NR_SWAPPED_MSRS];
	u64 tsc_aux, debugctl, fs_base;
	unsigned long dr[4], dr6, dr7;
	u16 ds, es, fs, gs, ldt;
};

static void vmx_update_host_state(struct vmx_vcpu *vmx)
{
	u64 cr3 = __read_cr3(), cr4 = __read_cr4();

	/* CR3 is per process; CR4 bits such as TSD change per task. */
	if (cr3 != vmx->host_cr3) {
		vmcs_write(HOST_CR3, cr3);
		vmx->host_cr3 = cr3;
	}
	if (cr4 != vmx->host_cr4) {
		vmcs_write(HOST_CR4, cr4);
		vmx->host_cr4 = cr4;
	}
}

/*
 * The guest's DR0-3 and DR6 (VM entry loads only DR7, SDM 26.3.2.1). The
 * host's DR7 is cleared first, so that no host breakpoint fires on a
 * guest address while DR0-3 are the guest's; the exit loads DR7 = 0x400.
 */
static void vmx_load_guest_dr(struct vmx_vcpu *vmx, struct vmx_host_state *h)
{
	int i;

	get_debugreg(h->dr7, 7);
	if (h->dr7 & (DR_LOCAL_ENABLE_MASK | DR_GLOBAL_ENABLE_MASK))
		set_debugreg(0, 7);
	get_debugreg(h->dr6, 6);
	for (i = 0; i < 4; i++) {
		get_debugreg(h->dr[i], i);
		set_debugreg(vmx->dr[i], i);
	}
	set_debugreg(vmx->dr6, 6);
}

/* Back to the host's DR0-3 and DR6 before its DR7 arms them again. */
static void vmx_put_guest_dr(struct vmx_vcpu *vmx, struct vmx_host_state *h)
{
	int i;

	for (i = 0; i < 4; i++) {
		get_debugreg(vmx->dr[i], i);
		set_debugreg(h->dr[i], i);
	}
	get_debugreg(vmx->dr6, 6);
	set_debugreg(h->dr6, 6);
	if (h->dr7 & (DR_LOCAL_ENABLE_MASK | DR_GLOBAL_ENABLE_MASK))
		set_debugreg(h->dr7, 7);
}

/* MSRs and segment state a VM exit does not restore (SDM 27.5). */
static void vmx_switch_to_guest(struct vmx_vcpu *vmx, struct vmx_host_state *h)
{
	int i;

	savesegment(ds, h->ds);
	savesegment(es, h->es);
	savesegment(fs, h->fs);
	savesegment(gs, h->gs);
	asm volatile("sldt %0" : "=r"(h->ldt));
	rdmsrl(MSR_FS_BASE, h->fs_base);
	if (h->fs_base != vmx->host_fs_base) {
		vmcs_write(HOST_FS_BASE, h->fs_base);
		vmx->host_fs_base = h->fs_base;
	}

	for (i = 0; i < VMX_NR_SWAPPED_MSRS; i++) {
		rdmsrl(vmx_swapped_msr_index[i], h->msrs[i]);
		wrmsrl(vmx_swapped_msr_index[i], vmx->msrs[i]);
	}
	if (vmx_cfg.rdtscp) {
		rdmsrl(MSR_TSC_AUX, h->tsc_aux);
		if (h->tsc_aux != vmx->tsc_aux)
			wrmsrl(MSR_TSC_AUX, vmx->tsc_aux);
	}
	h->debugctl = vmx_cfg.debugctl ? get_debugctlmsr() : 0;
	if (native_read_cr2() != vmx->cr2)
		native_write_cr2(vmx->cr2);
	if (vmx->dr_active)
		vmx_load_guest_dr(vmx, h);
}

static void vmx_switch_to_host(struct vmx_vcpu *vmx, struct vmx_host_state *h)
{
	int i;

	vmx->cr2 = native_read_cr2();
	if (vmx->dr_active)
		vmx_put_guest_dr(vmx, h);
	/* SDM 27.5.1: the exit left DR7 = 0x400 and DEBUGCTL = 0. */
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	if (h->debugctl)
		update_debugctlmsr(h->debugctl);

	/* The exit loaded null selectors and an unusable LDTR (SDM 27.5.2). */
	if (h->ldt)
		asm volatile("lldt %0" : : "r"(h->ldt));
	if (h->ds)
		loadsegment(ds, h->ds);
	if (h->es)
		loadsegment(es, h->es);
	if (h->fs) {
		loadsegment(fs, h->fs);
		wrmsrl(MSR_FS_BASE, h->fs_base);
	}
	if (h->gs)
		load_gs_index(h->gs);

	for (i = 0; i < VMX_NR_SWAPPED_MSRS; i++) {
		rdmsrl(vmx_swapped_msr_index[i], vmx->msrs[i]);
		wrmsrl(vmx_swapped_msr_index[i], h->msrs[i]);
	}
	if (vmx_cfg.rdtscp && h->tsc_aux != vmx->tsc_aux)
		wrmsrl(MSR_TSC_AUX, h->tsc_aux);

	/* The exit set the GDT limit to 0xffff and the TR limit to 0x67. */
	load_fixmap_gdt(smp_processor_id());
	invalidate_tss_limit();
}

/*
 * CR4.PKE is not intercepted, so a guest can set it and WRPKRU whatever
 * CPUID says (SDM Vol 3, 4.6.2); the kernel's FPU swap leaves PKRU alone.
 * Keep the guest's value apart, so that the host's accesses to user
 * memory are checked with the host's keys and the guest never sees them.
 */
static u32 vmx_pkru_enter(struct vmx_vcpu *vmx)
{
	u32 host;

	if (!boot_cpu_has(X86_FEATURE_OSPKE))
		return 0;
	host = rdpkru();
	if ((vmcs_read(GUEST_CR4) & X86_CR4_PKE) && vmx->pkru != host)
		wrpkru(vmx->pkru);
	return host;
}

static void vmx_pkru_exit(struct vmx_vcpu *vmx, u32 host)
{
	u32 now;

	if (!boot_cpu_has(X86_FEATURE_OSPKE))
		return;
	now = rdpkru();
	if (vmcs_read(GUEST_CR4) & X86_CR4_PKE)
		vmx->pkru = now;
	if (now != host)
		wrpkru(host);
}

/*
 * L1TF: a guest PTE that is not present can make the CPU read L1D by the
 * host-physical address it names, so no host data may be left in L1D at
 * entry. IA32_FLUSH_CMD bit 0 writes L1D back and invalidates it (SDM Vol
 * 4, table 2-2, MSR 10BH); without it, reading a buffer twice the size of
 * L1D evicts what was there.
 */
static noinline void vmx_l1d_flush(void)
{
	const u8 *buf = vmx_cfg.l1d_flush_buf;
	unsigned int i;

	if (!buf) {
		native_wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		return;
	}
	/* Pull in the TLB entries first, so the walks load nothing later. */
	for (i = 0; i < VMX_L1D_FLUSH_SIZE; i += PAGE_SIZE)
		(void)READ_ONCE(buf[i]);
	for (i = 0; i < VMX_L1D_FLUSH_SIZE; i += L1_CACHE_BYTES)
		(void)READ_ONCE(buf[i]);
}

int vmx_vcpu_run(struct vsnix_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct vmx_enter_args args = { };
	struct vmx_host_state host;
	u32 host_pkru;
	int r;

	if (vmx->shutdown) {
		/* No entry until userspace resets the vCPU. */
		vmx->exit_reason = EXIT_REASON_TRIPLE_FAULT;
		vmx->idt_vectoring_info = 0;
		return VSNIX_RAN;
	}

	r = vmx_vmcs_load(vmx);
	if (r) {
		vmx_fail_entry(vcpu, VMX_ENTRY_FAIL_NO_VMX);
		return r;
	}
	vcpu->cpu = smp_processor_id();
	vmx_update_host_state(vmx);
	vmx_update_secondary_locked(vcpu);

	local_irq_disable();
	if (vsnix_vcpu_check_request(vcpu, VSNIX_REQ_TLB_FLUSH))
		vmx->need_flush = true;
	/* Before the mode is published: see vsnix_x86_inject_events(). */
	vmx_clear_events(vcpu, vmx);
	vsnix_x86_inject_events(vcpu);
	vmx_commit_windows(vmx);
	vmx_tpr_enter(vcpu, vmx);
	if (!vsnix_vcpu_enter_prepare(vcpu)) {
		local_irq_enable();
		return VSNIX_SKIPPED;
	}
	if (vmx->need_flush) {
		vmx_flush_guest_tlb(vcpu);
		vmx->need_flush = false;
	}
	vmcs_write(GUEST_RIP, vcpu->rip);
	vmcs_write(GUEST_RSP, vcpu->gpr[VSNIX_RSP]);
	vmcs_write(GUEST_RFLAGS, vcpu->rflags);
	vmx_arm_preempt_timer(vcpu, vmx);
	vmx->regs_dirty = false;

	if (vmx->launched)
		args.flags |= BIT(VMX_ENTER_RESUME_BIT);
	if (vmx_cfg.spec_ctrl) {
		args.flags |= BIT(VMX_ENTER_SPEC_CTRL_BIT);
		args.guest_spec_ctrl = vmx->spec_ctrl;
		args.host_spec_ctrl = this_cpu_read(x86_spec_ctrl_current);
	}

	vsnix_x86_fpu_enter(vcpu);
	host_pkru = vmx_pkru_enter(vmx);
	vmx_switch_to_guest(vmx, &host);

	/* Last of the C code: the asm only loads the guest's registers. */
	if (vmx_cfg.l1d_flush)
		vmx_l1d_flush();
	r = __vsnix_vmx_enter(vcpu->gpr, &args);

	vmx_switch_to_host(vmx, &host);
	vmx_pkru_exit(vmx, host_pkru);
	vsnix_x86_fpu_exit(vcpu);

	if (r) {
		u64 err = r == 1 ? vmcs_read(VM_INSTRUCTION_ERROR) :
			  VMX_ENTRY_FAIL_NO_VMX;

		vsnix_vcpu_exit_done(vcpu);
		if (r != 3)
			vmx_relaunch(vmx);
		local_irq_enable();
		pr_err_ratelimited("vsnix: VM entry of vCPU %u failed: %s, VM-instruction error %llu\n",
				   vcpu->id, r == 1 ? "VMfailValid" :
				   r == 2 ? "VMfailInvalid" : "VMX off", err);
		vmx_fail_entry(vcpu, err);
		return -EIO;
	}

	vmx->exit_reason = vmcs_read(VM_EXIT_REASON);
	if ((vmx->exit_reason & 0xffff) == EXIT_REASON_MCE_DURING_VMENTRY) {
		vmx_mce_during_entry(vcpu, vmx);
		return VSNIX_SKIPPED;
	}
	if (vmx->exit_reason & VMX_EXIT_REASONS_FAILED_VMENTRY) {
		/* Guest state the checks refused: nothing of it ran. */
		vsnix_x86_set_injected(vcpu, NULL);
		vmx_relaunch(vmx);
		vsnix_vcpu_exit_done(vcpu);
		local_irq_enable();
		vmx_fail_entry(vcpu, vmx->exit_reason);
		return -EIO;
	}
	vmx->launched = true;
	vmx_read_exit_info(vcpu, vmx);
	vsnix_x86_events_exited(vcpu);
	vsnix_vcpu_exit_done(vcpu);
	local_irq_enable();
	return VSNIX_RAN;
}
