// SPDX-License-Identifier: GPL-2.0
/*
 * Guest FPU/XSAVE state, over one of two paths, chosen at module load:
 *
 * - The kernel's guest-fpstate API, the one KVM uses
 *   (arch/x86/kernel/fpu/core.c), where the kernel exports it to any module
 *   (Kbuild defines VSNIX_HAVE_KVM_FPU). For the whole RUN ioctl the
 *   guest's fpstate is the task's current one: a context switch or a kernel
 *   FPU user saves the guest registers into it, and TIF_NEED_FPU_LOAD tells
 *   us to put them back before the next entry.
 * - The module's own switch (fpu_own.c): the guest's registers are loaded
 *   and saved around each entry inside kernel_fpu_begin/end. Built always;
 *   the only one where the kernel exports the API to KVM alone, and taken
 *   with the module parameter fpu_own=1.
 *
 * XCR0 is switched only around the entry itself, with IRQs off, so host
 * code never runs with the guest's XCR0.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/thread_info.h>
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>
#include "x86.h"
#include "fpu_own.h"

#ifdef VSNIX_HAVE_KVM_FPU
#define HAVE_KVM_FPU	true
#else
#define HAVE_KVM_FPU	false
#endif
/* Read-only once loaded: a vCPU keeps the path it was created with. */
static bool fpu_own = !HAVE_KVM_FPU;

static int fpu_own_param_set(const char *val, const struct kernel_param *kp)
{
	bool want;
	int ret = kstrtobool(val, &want);

	if (ret)
		return ret;
	if (!want && !HAVE_KVM_FPU) {
		pr_err("vsnix: fpu_own=0: this kernel exports its guest FPU API to KVM only\n");
		return -EINVAL;
	}
	fpu_own = want;
	return 0;
}

static const struct kernel_param_ops fpu_own_param_ops = {
	.set = fpu_own_param_set,
	.get = param_get_bool,
};
module_param_cb(fpu_own, &fpu_own_param_ops, &fpu_own, 0444);
MODULE_PARM_DESC(fpu_own,
		 "Switch guest FPU state with the module's own XSAVE code, not the kernel's guest fpstate API (forced where the kernel exports that to KVM only)");

/* Host XCR0: the same on every CPU (the kernel sets it once at boot). */
static u64 vsnix_host_xcr0;

#ifdef VSNIX_HAVE_KVM_FPU
static int kvm_fpu_init(struct vsnix_vcpu *vcpu)
{
	if (!fpu_alloc_guest_fpstate(&vcpu->guest_fpu))
		return -ENOMEM;
	return 0;
}

static void kvm_fpu_free(struct vsnix_vcpu *vcpu)
{
	if (vcpu->guest_fpu.fpstate)
		fpu_free_guest_fpstate(&vcpu->guest_fpu);
}
#else
/* Never called: fpu_own is always set in this build. */
static int kvm_fpu_init(struct vsnix_vcpu *vcpu) { return -EOPNOTSUPP; }
static void kvm_fpu_free(struct vsnix_vcpu *vcpu) { }
#endif

int vsnix_x86_fpu_init(struct vsnix_vcpu *vcpu)
{
	int ret;

	if (fpu_own) {
		ret = vsnix_fpu_own_setup();
		if (!ret)
			ret = vsnix_fpu_own_init(vcpu);
	} else {
		ret = kvm_fpu_init(vcpu);
	}
	if (ret) {
		pr_err("vsnix: cannot allocate guest FPU state\n");
		return ret;
	}
	if (boot_cpu_has(X86_FEATURE_OSXSAVE))
		WRITE_ONCE(vsnix_host_xcr0, xgetbv(XCR_XFEATURE_ENABLED_MASK));
	/* SDM Vol 1, 13.3: XCR0 is 1 (x87 only) after reset. */
	vcpu->xcr0 = XFEATURE_MASK_FP;
	return 0;
}

void vsnix_x86_fpu_free(struct vsnix_vcpu *vcpu)
{
	if (fpu_own)
		vsnix_fpu_own_free(vcpu);
	else
		kvm_fpu_free(vcpu);
}

/* RUN begins: the kernel path makes the guest's fpstate the task's. */
void vsnix_x86_fpu_load(struct vsnix_vcpu *vcpu)
{
#ifdef VSNIX_HAVE_KVM_FPU
	if (!fpu_own)
		fpu_swap_kvm_fpstate(&vcpu->guest_fpu, true);
#endif
}

void vsnix_x86_fpu_put(struct vsnix_vcpu *vcpu)
{
#ifdef VSNIX_HAVE_KVM_FPU
	if (!fpu_own)
		fpu_swap_kvm_fpstate(&vcpu->guest_fpu, false);
#endif
}

static bool xcr0_differs(struct vsnix_vcpu *vcpu)
{
	u64 host = READ_ONCE(vsnix_host_xcr0);

	return host && vcpu->xcr0 != host;
}

void vsnix_x86_fpu_enter(struct vsnix_vcpu *vcpu)
{
	lockdep_assert_irqs_disabled();
	/* Under the host's XCR0, which holds every guest component. */
	if (fpu_own)
		vsnix_fpu_own_enter(vcpu);
#ifdef VSNIX_HAVE_KVM_FPU
	/* Preempted or a kernel FPU user since fpu_load: reload the guest's. */
	else if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
#endif
	if (xcr0_differs(vcpu))
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->xcr0);
}

void vsnix_x86_fpu_exit(struct vsnix_vcpu *vcpu)
{
	lockdep_assert_irqs_disabled();
	if (xcr0_differs(vcpu))
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vsnix_host_xcr0);
	if (fpu_own)
		vsnix_fpu_own_exit(vcpu);
}

/* What the guest may have in XCR0: host-supported, fpstate, CPUID policy. */
static u64 guest_supported_xcr0(struct vsnix_vcpu *vcpu)
{
	u32 eax, ebx, ecx, edx;

	u64 held = fpu_own ? vsnix_fpu_own_xfeatures() :
		   vcpu->guest_fpu.xfeatures;

	vsnix_cpuid_lookup(vcpu, 0xd, 0, &eax, &ebx, &ecx, &edx);
	return vsnix_x86_supported_xcr0() & held &
	       (((u64)edx << 32) | eax | XFEATURE_MASK_FP);
}

#ifdef VSNIX_HAVE_KVM_FPU
static int kvm_fpu_get_xsave(struct vsnix_vcpu *vcpu, struct vsnix_xsave *xs)
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

static int kvm_fpu_set_xsave(struct vsnix_vcpu *vcpu,
			     const struct vsnix_xsave *xs)
{
	u32 pkru = 0;

	if (fpstate_is_confidential(&vcpu->guest_fpu))
		return -EINVAL;
	/*
	 * The kernel checks the XSAVE header, MXCSR and that every component
	 * in XSTATE_BV is in the mask; PKRU is not offered to guests.
	 */
	return fpu_copy_uabi_to_guest_fpstate(&vcpu->guest_fpu, xs->region,
					      vsnix_x86_supported_xcr0() |
					      XFEATURE_MASK_FPSSE, &pkru);
}
#else
static int kvm_fpu_get_xsave(struct vsnix_vcpu *vcpu, struct vsnix_xsave *xs)
{
	return -EOPNOTSUPP;
}

static int kvm_fpu_set_xsave(struct vsnix_vcpu *vcpu,
			     const struct vsnix_xsave *xs)
{
	return -EOPNOTSUPP;
}
#endif

int vsnix_x86_get_xsave(struct vsnix_vcpu *vcpu, struct vsnix_xsave *xs)
{
	if (!fpu_own)
		return kvm_fpu_get_xsave(vcpu, xs);
	vsnix_fpu_own_get(vcpu, xs);
	return 0;
}

int vsnix_x86_set_xsave(struct vsnix_vcpu *vcpu,
			const struct vsnix_xsave *xs)
{
	int ret;

	if (fpu_own)
		ret = vsnix_fpu_own_set(vcpu, xs);
	else
		ret = kvm_fpu_set_xsave(vcpu, xs);
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
