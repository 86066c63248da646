// SPDX-License-Identifier: GPL-2.0
/*
 * VMX backend: CR8 with the in-kernel LAPIC through the TPR shadow (Intel
 * SDM Vol 3, 29.1.1-29.1.2 and 29.3: "virtualizing CR8-based TPR
 * accesses"). With "use TPR shadow" and CR8-load/store exiting clear, MOV
 * from CR8 reads VTPR[7:4] and MOV to CR8 writes it (VTPR[3:0] and bytes
 * 0x81-0x83 cleared) without a VM exit; a write that takes VTPR[7:4]
 * below the TPR threshold ends in a trap-like "TPR below threshold" exit
 * (reason 43, RIP already past the MOV). VTPR is byte 0x80 of the
 * virtual-APIC page. The LAPIC keeps the architectural TPR: VTPR is
 * loaded from it before each entry and copied back after each exit.
 * Without a LAPIC, or on a CPU without the control, CR8 accesses exit.
 */
#include <linux/kernel.h>
#include "vmx.h"
#include "vmcs.h"
#include "../lapic.h"

#define VMX_VTPR_OFFSET	0x80	/* SDM Vol 3, 29.1.1 */
#define VMX_CR8_EXITING	(CPU_BASED_CR8_LOAD_EXITING | \
			 CPU_BASED_CR8_STORE_EXITING)

/*
 * Usable when "use TPR shadow" may be 1 and both CR8 exiting controls may
 * be 0 (SDM Vol 3, Appendix A.3.2: bits clear in the low half may be 0).
 */
void vmx_probe_tpr_shadow(bool true_ctls)
{
	u64 cap;

	vmx_cfg.tpr_shadow = false;
	if (rdmsrl_safe(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
			MSR_IA32_VMX_PROCBASED_CTLS, &cap))
		return;
	vmx_cfg.tpr_shadow = (upper_32_bits(cap) & CPU_BASED_TPR_SHADOW) &&
			     !(lower_32_bits(cap) & VMX_CR8_EXITING);
}

/* At vCPU creation: the virtual-APIC page where CR8 is the LAPIC's TPR. */
int vmx_tpr_create(struct vmx_vcpu *vmx)
{
	vmx->base_proc = vmx_cfg.proc_ctls;
	if (!vmx_cfg.tpr_shadow || !vmx->vcpu->vm->lapic)
		return 0;
	vmx->vapic_page = vsnix_zalloc_page(GFP_KERNEL_ACCOUNT);
	if (!vmx->vapic_page)
		return -ENOMEM;
	vmx->base_proc = (vmx_cfg.proc_ctls & ~VMX_CR8_EXITING) |
			 CPU_BASED_TPR_SHADOW;
	return 0;
}

void vmx_tpr_free(struct vmx_vcpu *vmx)
{
	vsnix_free_page(vmx->vapic_page);
	vmx->vapic_page = NULL;
}

/* VMCS loaded: the page's address, with no threshold yet. */
void vmx_tpr_setup_vmcs(struct vmx_vcpu *vmx)
{
	if (!vmx->vapic_page)
		return;
	vmcs_write(VIRTUAL_APIC_PAGE_ADDR, __pa(vmx->vapic_page));
	vmcs_write(TPR_THRESHOLD, 0);
}

static u8 *vmx_vtpr(struct vmx_vcpu *vmx)
{
	return (u8 *)vmx->vapic_page + VMX_VTPR_OFFSET;
}

/*
 * Before an entry, VMCS loaded, IRQs off, after the event layer chose
 * what to inject. VTPR = TPR; the threshold is the class of an IRR vector
 * TPR holds back, so lowering CR8 below it exits and the vector can be
 * delivered. It is never above VTPR[7:4], as the entry checks require
 * without "virtualize APIC accesses" (SDM Vol 3, 26.2.1.1).
 */
void vmx_tpr_enter(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u8 threshold;

	if (!vmx->vapic_page)
		return;
	vmx->vtpr_entry = vsnix_lapic_get_tpr(vcpu);
	WRITE_ONCE(*(u32 *)vmx_vtpr(vmx), vmx->vtpr_entry);
	threshold = vsnix_lapic_tpr_threshold(vcpu);
	if (threshold != vmx->tpr_threshold) {
		vmcs_write(TPR_THRESHOLD, threshold);
		vmx->tpr_threshold = threshold;
	}
}

/*
 * After an exit: a MOV to CR8 the guest did goes to the LAPIC. Only a
 * VTPR the guest changed, so that a TPR userspace set since (SET_LAPIC)
 * is not overwritten by a stale one.
 */
void vmx_tpr_exit(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	u8 vtpr;

	if (!vmx->vapic_page)
		return;
	vtpr = READ_ONCE(*vmx_vtpr(vmx));
	if (vtpr == vmx->vtpr_entry)
		return;
	vmx->vtpr_entry = vtpr;
	vsnix_lapic_set_cr8(vcpu, vtpr >> 4);
}
