// SPDX-License-Identifier: GPL-2.0
/*
 * Guest FPU/XSAVE state over the kernel's guest-fpstate API, the one KVM
 * uses (arch/x86/kernel/fpu/core.c). For the whole RUN ioctl the guest's
 * fpstate is the task's current one: a context switch or a kernel FPU user
 * saves the guest registers into it, and TIF_NEED_FPU_LOAD tells us to put
 * them back before the next entry. XCR0 is switched only around the entry
 * itself, with IRQs off, so host code never runs with the guest's XCR0.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/thread_info.h>
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>
#include "x86.h"

/* Host XCR0: the same on every CPU (the kernel sets it once at boot). */
static u64 vsnix_host_xcr0;

int vsnix_x86_fpu_init(struct vsnix_vcpu *vcpu)
{
	if (!fpu_alloc_guest_fpstate(&vcpu->guest_fpu)) {
		pr_err("vsnix: cannot allocate guest FPU state\n");
		return -ENOMEM;
	}
	if (boot_cpu_has(X86_FEATURE_OSXSAVE))
		WRITE_ONCE(vsnix_host_xcr0, xgetbv(XCR_XFEATURE_ENABLED_MASK));
	/* SDM Vol 1, 13.3: XCR0 is 1 (x87 only) after reset. */
	vcpu->xcr0 = XFEATURE_MASK_FP;
	return 0;
}

void vsnix_x86_fpu_free(struct vsnix_vcpu *vcpu)
{
	if (vcpu->guest_fpu.fpstate)
		fpu_free_guest_fpstate(&vcpu->guest_fpu);
}

void vsnix_x86_fpu_load(struct vsnix_vcpu *vcpu)
{
	fpu_swap_kvm_fpstate(&vcpu->guest_fpu, true);
}

void vsnix_x86_fpu_put(struct vsnix_vcpu *vcpu)
{
	fpu_swap_kvm_fpstate(&vcpu->guest_fpu, false);
}

static bool xcr0_differs(struct vsnix_vcpu *vcpu)
{
	u64 host = READ_ONCE(vsnix_host_xcr0);

	return host && vcpu->xcr0 != host;
}

void vsnix_x86_fpu_enter(struct vsnix_vcpu *vcpu)
{
	lockdep_assert_irqs_disabled();
	/* Preempted or a kernel FPU user since fpu_load: reload the guest's. */
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
	if (xcr0_differs(vcpu))
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->xcr0);
}

void vsnix_x86_fpu_exit(struct vsnix_vcpu *vcpu)
{
	lockdep_assert_irqs_disabled();
	if (xcr0_differs(vcpu))
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vsnix_host_xcr0);
}

/* What the guest may have in XCR0: host-supported, fpstate, CPUID policy. */
static u64 guest_supported_xcr0(struct vsnix_vcpu *vcpu)
{
	u32 eax, ebx, ecx, edx;

	vsnix_cpuid_lookup(vcpu, 0xd, 0, &eax, &ebx, &ecx, &edx);
	return vsnix_x86_supported_xcr0() & vcpu->guest_fpu.xfeatures &
	       (((u64)edx << 32) | eax | XFEATURE_MASK_FP);
}

int vsnix_x86_get_xsave(struct vsnix_vcpu *vcpu, struct vsnix_xsave *xs)
{
	memset(xs, 0, sizeof(*xs));
	if (fpstate_is_confidential(&vcpu->guest_fpu))
		return -EINVAL;
	fpu_copy_guest_fpstate_to_uabi(&vcpu->guest_fpu, xs->region,
				       sizeof(xs->region),
				       vsnix_x86_supported_xcr0() |
				       XFEATURE_MASK_FPSSE, 0);
	return 0;
}

int vsnix_x86_set_xsave(struct vsnix_vcpu *vcpu,
			const struct vsnix_xsave *xs)
{
	u32 pkru = 0;
	int ret;

	if (fpstate_is_confidential(&vcpu->guest_fpu))
		return -EINVAL;
	/*
	 * The kernel checks the XSAVE header, MXCSR and that every component
	 * in XSTATE_BV is in the mask; PKRU is not offered to guests.
	 */
	ret = fpu_copy_uabi_to_guest_fpstate(&vcpu->guest_fpu, xs->region,
					     vsnix_x86_supported_xcr0() |
					     XFEATURE_MASK_FPSSE, &pkru);
	if (ret)
		pr_debug("vsnix: SET_XSAVE: invalid XSAVE image (%d)\n", ret);
	return ret;
}

bool vsnix_x86_set_xcr(struct vsnix_vcpu *vcpu, u32 index, u64 value)
{
	/* SDM Vol 2, XSETBV: only XCR0 exists here; other indexes #GP. */
	if (index != XCR_XFEATURE_ENABLED_MASK)
		return false;
	if (!vsnix_xcr0_valid(value, guest_supported_xcr0(vcpu)))
		return false;
	vcpu->xcr0 = value;
	return true;
}
