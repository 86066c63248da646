// SPDX-License-Identifier: GPL-2.0
/*
 * VMX backend: the event hooks of the x86 event layer (arch/x86/events.c).
 * VM-entry event injection loads one event (Intel SDM Vol 3, 26.6), the
 * interrupt- and NMI-window controls give the windows (26.7.5, 26.7.6),
 * the IDT-vectoring information is the event an exit cut short (27.2.4).
 * With virtual NMIs the CPU tracks NMI blocking in the interruptibility
 * state (24.4.2, table 24-3).
 */
#include <linux/kernel.h>
#include <asm/trapnr.h>
#include "vmx.h"
#include "vmcs.h"
#include "../events.h"

#define VMX_SHADOW	(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)

/*
 * Before the layer picks this entry's event, VMCS loaded, IRQs off: no
 * event loaded, no window, and an interruptibility state that is true
 * for the RIP and RFLAGS the entry will load.
 */
void vmx_clear_events(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u32 intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	u32 fixed = intr;

	/* An emulated instruction ends the STI/MOV SS shadow (SDM 6.8.3). */
	if (vmx->regs_dirty || vcpu->rip != vmx->exit_rip)
		fixed &= ~VMX_SHADOW;
	/* SDM 26.3.1.5: STI blocking needs IF=1. */
	if (!(vcpu->rflags & X86_EFLAGS_IF))
		fixed &= ~GUEST_INTR_STATE_STI;
	if (fixed != intr)
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO, fixed);
	vmx->intr_state = fixed;
	if (vmx->entry_info_set) {
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
		vmx->entry_info_set = false;
	}
	vmx->want_proc = vmx->base_proc;
	/* After the guest's first MOV DR its DRs are live: no more exits. */
	if (vmx->dr_active)
		vmx->want_proc &= ~CPU_BASED_MOV_DR_EXITING;
}

/* After the layer: the window controls it asked for. */
void vmx_commit_windows(struct vmx_vcpu *vmx)
{
	if (vmx->want_proc != vmx->proc_ctls) {
		vmcs_write(CPU_BASED_VM_EXEC_CONTROL, vmx->want_proc);
		vmx->proc_ctls = vmx->want_proc;
	}
}

static void vmx_load_event(struct vmx_vcpu *vmx, u32 info, u32 err, u32 len)
{
	if (info & INTR_INFO_DELIVER_CODE_MASK)
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, err);
	if (len)
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, len);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info);
	vmx->entry_info_set = true;
}

void vmx_inject_irq(struct vsnix_vcpu *vcpu, const struct vsnix_x86_event *e)
{
	vmx_load_event(to_vmx(vcpu), e->vector | INTR_TYPE_EXT_INTR |
		       INTR_INFO_VALID_MASK, 0, 0);
}

void vmx_inject_nmi(struct vsnix_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	/* Injecting an NMI needs blocking by NMI clear (SDM 26.3.1.5). */
	if (vmx->intr_state & GUEST_INTR_STATE_NMI) {
		vmx->intr_state &= ~GUEST_INTR_STATE_NMI;
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO, vmx->intr_state);
	}
	vmx_load_event(vmx, X86_TRAP_NMI | INTR_TYPE_NMI_INTR |
		       INTR_INFO_VALID_MASK, 0, 0);
}

void vmx_inject_exception(struct vsnix_vcpu *vcpu,
			  const struct vsnix_x86_event *e)
{
	u32 info = e->vector | INTR_INFO_VALID_MASK;
	u32 len = 0;

	switch (e->type) {
	case VSNIX_X86_EV_SOFT_INT:
		info |= INTR_TYPE_SOFT_INTR;
		len = e->insn_len;
		break;
	case VSNIX_X86_EV_SOFT_EXC:
		info |= INTR_TYPE_SOFT_EXCEPTION;
		len = e->insn_len;
		break;
	case VSNIX_X86_EV_PRIV_SOFT_EXC:
		info |= INTR_TYPE_PRIV_SW_EXCEPTION;
		len = e->insn_len;
		break;
	default:
		info |= INTR_TYPE_HARD_EXCEPTION;
		/* No error code in real mode (SDM 26.2.1.3). */
		if (e->has_error_code &&
		    (vmx_guest_cr0_locked() & X86_CR0_PE))
			info |= INTR_INFO_DELIVER_CODE_MASK;
		break;
	}
	vmx_load_event(to_vmx(vcpu), info, e->error_code, len);
}

void vmx_enable_irq_window(struct vsnix_vcpu *vcpu)
{
	to_vmx(vcpu)->want_proc |= CPU_BASED_INTR_WINDOW_EXITING;
}

void vmx_enable_nmi_window(struct vsnix_vcpu *vcpu)
{
	to_vmx(vcpu)->want_proc |= CPU_BASED_NMI_WINDOW_EXITING;
}

bool vmx_interrupt_allowed(struct vsnix_vcpu *vcpu)
{
	return (vcpu->rflags & X86_EFLAGS_IF) &&
	       !(to_vmx(vcpu)->intr_state & VMX_SHADOW);
}

bool vmx_nmi_allowed(struct vsnix_vcpu *vcpu)
{
	return !(to_vmx(vcpu)->intr_state &
		 (VMX_SHADOW | GUEST_INTR_STATE_NMI));
}

/* The interruptibility state outside vcpu_run; 0 when VMX is off. */
static u32 vmx_read_intr_state(struct vsnix_vcpu *vcpu)
{
	u32 intr = 0;

	if (!vmx_vmcs_get(vcpu)) {
		intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
		vmx_vmcs_put(vcpu);
	}
	return intr;
}

static void vmx_update_intr_state(struct vsnix_vcpu *vcpu, u32 clear, u32 set)
{
	if (!vmx_vmcs_get(vcpu)) {
		u32 intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);

		vmcs_write(GUEST_INTERRUPTIBILITY_INFO, (intr & ~clear) | set);
		vmx_vmcs_put(vcpu);
	}
}

u8 vmx_get_interrupt_shadow(struct vsnix_vcpu *vcpu)
{
	u32 intr = vmx_read_intr_state(vcpu);

	return ((intr & GUEST_INTR_STATE_STI) ? VSNIX_X86_SHADOW_STI : 0) |
	       ((intr & GUEST_INTR_STATE_MOV_SS) ? VSNIX_X86_SHADOW_MOV_SS : 0);
}

void vmx_set_interrupt_shadow(struct vsnix_vcpu *vcpu, u8 shadow)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 set = ((shadow & VSNIX_X86_SHADOW_STI) ? GUEST_INTR_STATE_STI : 0) |
		  ((shadow & VSNIX_X86_SHADOW_MOV_SS) ? GUEST_INTR_STATE_MOV_SS : 0);

	vmx_update_intr_state(vcpu, VMX_SHADOW, set);
	/* This shadow holds for the RIP userspace set (vmx_clear_events). */
	vmx->exit_rip = vcpu->rip;
	vmx->regs_dirty = false;
}

bool vmx_get_nmi_mask(struct vsnix_vcpu *vcpu)
{
	return vmx_read_intr_state(vcpu) & GUEST_INTR_STATE_NMI;
}

void vmx_set_nmi_mask(struct vsnix_vcpu *vcpu, bool masked)
{
	vmx_update_intr_state(vcpu, GUEST_INTR_STATE_NMI,
			      masked ? GUEST_INTR_STATE_NMI : 0);
}

void vmx_get_exit_event(struct vsnix_vcpu *vcpu, struct vsnix_x86_event *e)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 info = vmx->idt_vectoring_info;

	e->type = VSNIX_X86_EV_NONE;
	if (!(info & VECTORING_INFO_VALID_MASK))
		return;
	e->vector = info & VECTORING_INFO_VECTOR_MASK;
	e->has_error_code = info & VECTORING_INFO_DELIVER_CODE_MASK;
	e->error_code = e->has_error_code ? vmx->idt_vectoring_error : 0;
	e->insn_len = 0;
	switch (info & VECTORING_INFO_TYPE_MASK) {
	case INTR_TYPE_EXT_INTR:
		e->type = VSNIX_X86_EV_IRQ;
		break;
	case INTR_TYPE_NMI_INTR:
		e->type = VSNIX_X86_EV_NMI;
		break;
	case INTR_TYPE_HARD_EXCEPTION:
		e->type = VSNIX_X86_EV_EXCEPTION;
		break;
	case INTR_TYPE_SOFT_INTR:
		e->type = VSNIX_X86_EV_SOFT_INT;
		e->insn_len = vmx->exit_insn_len;
		break;
	case INTR_TYPE_SOFT_EXCEPTION:
		e->type = VSNIX_X86_EV_SOFT_EXC;
		e->insn_len = vmx->exit_insn_len;
		break;
	case INTR_TYPE_PRIV_SW_EXCEPTION:
		e->type = VSNIX_X86_EV_PRIV_SOFT_EXC;
		e->insn_len = vmx->exit_insn_len;
		break;
	}
}

/* MOV DR is emulated (vmx_exit_dr): the values live here. */
/*
 * DR0-3 and DR6 live in vmx->dr/dr6 (loaded around each entry once
 * dr_active, saved back at exit: vmx_run.c); DR7 lives in the VMCS
 * (the debug controls, SDM Vol 3, 26.3.2.1 and 27.3.1).
 */
void vmx_get_debugregs(struct vsnix_vcpu *vcpu, struct vsnix_debugregs *dr)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	memcpy(dr->db, vmx->dr, sizeof(dr->db));
	dr->dr6 = vmx->dr6;
	dr->dr7 = vmx->dr7;
	if (!vmx_vmcs_get(vcpu)) {
		dr->dr7 = vmcs_read(GUEST_DR7);
		vmx_vmcs_put(vcpu);
	}
}

int vmx_set_debugregs(struct vsnix_vcpu *vcpu,
		      const struct vsnix_debugregs *dr)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int r = vmx_vmcs_get(vcpu);

	if (r)
		return r;
	memcpy(vmx->dr, dr->db, sizeof(vmx->dr));
	/* DR6 bits that read as 1, DR7 bit 10 (SDM Vol 3, 18.2.3-4). */
	vmx->dr6 = dr->dr6 | 0xffff0ff0;
	vmx->dr7 = dr->dr7 | 0x400;
	vmcs_write(GUEST_DR7, vmx->dr7);
	vmx_vmcs_put(vcpu);
	/* Breakpoints set: the guest's DR0-3 must be live from now on. */
	if (memchr_inv(vmx->dr, 0, sizeof(vmx->dr)) || (dr->dr7 & 0xff))
		vmx->dr_active = true;
	return 0;
}

/*
 * INIT, after vsnix_x86_vcpu_init_state set the registers and DRs: the
 * activity and interruptibility state (SDM Vol 3, 9.1.1, 24.4.2).
 */
void vmx_vcpu_reset(struct vsnix_vcpu *vcpu)
{
	if (vmx_vmcs_get(vcpu))
		return;
	vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmx_vmcs_put(vcpu);
}
