// SPDX-License-Identifier: GPL-2.0
/*
 * The module's own guest FPU switch, for kernels that export the
 * guest-fpstate API to KVM only (EXPORT_SYMBOL_FOR_KVM) and wherever it is
 * forced (fpu_own=1, or VSNIX_FPU_OWN=1 at build time). See fpu.c.
 *
 * The guest's registers live in a module-owned image in the standard XSAVE
 * layout (Intel SDM Vol 1, 13.4), the layout of the GET/SET_XSAVE ABI. They
 * are in the CPU only from vsnix_fpu_own_enter to vsnix_fpu_own_exit: one
 * kernel_fpu_begin/end section with IRQs off around the hardware entry, so
 * no context switch, softirq or kernel FPU user ever sees them.
 * kernel_fpu_begin saves the task's whole state once per RUN (user and
 * supervisor components, AMX under XFD included) and sets TIF_NEED_FPU_LOAD:
 * the kernel itself puts it back on the way to userspace.
 *
 * The image holds the components vsnix offers guests (x87, SSE, AVX,
 * AVX-512): PKRU is switched by the vendor code around entry, AMX is not
 * offered (so XFD never applies to the image), supervisor components are
 * not guest state here and stay the host's.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/asm.h>
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include "x86.h"
#include "fpu_own.h"

#define OWN_SIZE	sizeof(struct vsnix_xsave)
#define MXCSR_RESET	0x1f80		/* SDM Vol 1, 10.2.3.1 */
#define FCW_RESET	0x037f		/* SDM Vol 1, 8.1.5 */
#define X87_LEGACY	offsetof(struct fxregs_state, xmm_space)
#define MXCSR_OFF	offsetof(struct fxregs_state, mxcsr)

static struct {
	bool ready;
	bool xsave;		/* else FXSAVE/FXRSTOR (CR4.OSXSAVE off) */
	bool xsaveopt;
	u64 xfeatures;		/* components in the image */
	u32 mxcsr_mask;
	u16 offset[XFEATURE_MAX];
	u16 size[XFEATURE_MAX];
} own;
static DEFINE_MUTEX(own_setup_lock);

/* SDM Vol 1, 11.6.6: MXCSR_MASK from FXSAVE; 0 means the default 0xffbf. */
static int own_read_mxcsr_mask(void)
{
	struct fxregs_state *fx = kzalloc(sizeof(*fx), GFP_KERNEL);

	if (!fx)
		return -ENOMEM;
	kernel_fpu_begin();
	asm volatile("fxsaveq %0" : "=m"(*fx));
	kernel_fpu_end();
	own.mxcsr_mask = fx->mxcsr_mask ?: 0xffbf;
	kfree(fx);
	return 0;
}

int vsnix_fpu_own_setup(void)
{
	u32 eax, ebx, ecx, edx;
	u64 mask = XFEATURE_MASK_FPSSE;
	int i, ret = 0;

	mutex_lock(&own_setup_lock);
	if (own.ready)
		goto out;
	own.xsave = boot_cpu_has(X86_FEATURE_XSAVE) &&
		    boot_cpu_has(X86_FEATURE_OSXSAVE);
	/*
	 * XSAVEOPT's modified optimization keys on the last XRSTOR and, per
	 * Intel SDM Vol 1 13.6, on VMX non-root operation; the AMD APM says
	 * nothing about guest mode: take it on Intel only.
	 */
	own.xsaveopt = own.xsave && boot_cpu_has(X86_FEATURE_XSAVEOPT) &&
		       boot_cpu_data.x86_vendor == X86_VENDOR_INTEL;
	if (own.xsave)
		mask |= vsnix_x86_supported_xcr0();
	/* SDM Vol 1, 13.4.3: standard-format offset and size per component. */
	for (i = FIRST_EXTENDED_XFEATURE; i < XFEATURE_MAX; i++) {
		if (!(mask & BIT_ULL(i)))
			continue;
		cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx);
		if (!eax || ebx < sizeof(struct xregs_state) || ebx + eax > OWN_SIZE) {
			mask &= ~BIT_ULL(i);
			continue;
		}
		own.offset[i] = ebx;
		own.size[i] = eax;
	}
	own.xfeatures = mask;
	ret = own_read_mxcsr_mask();
	if (!ret) {
		own.ready = true;
		pr_info("vsnix: guest FPU: the module's own %s switch (XCR0 0x%llx)\n",
			own.xsave ? "XSAVE" : "FXSAVE", own.xfeatures);
	}
out:
	mutex_unlock(&own_setup_lock);
	return ret;
}

u64 vsnix_fpu_own_xfeatures(void)
{
	return own.xfeatures;
}

/* The reset state (SDM Vol 3, 10.1, Table 10-1): XSTATE_BV 0 is "init". */
static void own_reset_image(struct xregs_state *img)
{
	memset(img, 0, OWN_SIZE);
	img->i387.cwd = FCW_RESET;
	img->i387.mxcsr = MXCSR_RESET;
}

int vsnix_fpu_own_init(struct vsnix_vcpu *vcpu)
{
	/* kmalloc's power-of-two sizes are naturally aligned: XSAVE wants 64. */
	vcpu->fpu_own = kmalloc(OWN_SIZE, GFP_KERNEL_ACCOUNT);
	if (!vcpu->fpu_own)
		return -ENOMEM;
	own_reset_image(vcpu->fpu_own);
	return 0;
}

void vsnix_fpu_own_free(struct vsnix_vcpu *vcpu)
{
	kfree(vcpu->fpu_own);
	vcpu->fpu_own = NULL;
}

/* XRSTOR or FXRSTOR of the image; false if the CPU refused it (#GP). */
static bool own_restore(struct xregs_state *img)
{
	u32 lo = lower_32_bits(own.xfeatures), hi = upper_32_bits(own.xfeatures);

	if (own.xsave)
		asm goto("1: xrstor64 %[img]\n\t"
			 _ASM_EXTABLE(1b, %l[fault])
			 : : [img] "m"(*(u8 (*)[OWN_SIZE])img), "a"(lo), "d"(hi)
			 : "memory" : fault);
	else
		asm goto("1: fxrstor64 %[img]\n\t"
			 _ASM_EXTABLE(1b, %l[fault])
			 : : [img] "m"(img->i387) : "memory" : fault);
	return true;
fault:
	return false;
}

static void own_save(struct xregs_state *img)
{
	u32 lo = lower_32_bits(own.xfeatures), hi = upper_32_bits(own.xfeatures);

	if (own.xsaveopt)
		asm volatile("xsaveopt64 %[img]"
			     : [img] "+m"(*(u8 (*)[OWN_SIZE])img)
			     : "a"(lo), "d"(hi) : "memory");
	else if (own.xsave)
		asm volatile("xsave64 %[img]"
			     : [img] "+m"(*(u8 (*)[OWN_SIZE])img)
			     : "a"(lo), "d"(hi) : "memory");
	else
		asm volatile("fxsaveq %[img]" : [img] "=m"(img->i387));
}

/*
 * AMD CPUs without XSAVEERPTR save and restore FOP/FIP/FDP only when an
 * x87 exception is pending (AMD APM Vol 5, FXSAVE/FXRSTOR): give them a
 * fixed value first, or the guest would see where the host last used x87.
 */
static void own_clear_x87_pointers(void)
{
	static const u32 zero;

	asm volatile("fnclex\n\temms\n\tfildl %[z]" : : [z] "m"(zero));
}

void vsnix_fpu_own_enter(struct vsnix_vcpu *vcpu)
{
	lockdep_assert_irqs_disabled();
	/* Saves the task's registers once per RUN; no kernel-use setup (0). */
	kernel_fpu_begin_mask(0);
	if (boot_cpu_has_bug(X86_BUG_FXSAVE_LEAK))
		own_clear_x87_pointers();
	if (unlikely(!own_restore(vcpu->fpu_own))) {
		/* SET_XSAVE validated the image: this is a vsnix bug. */
		pr_err_ratelimited("vsnix: vcpu %d: XRSTOR refused the guest FPU image, reset it\n",
				   vcpu->id);
		own_reset_image(vcpu->fpu_own);
		own_restore(vcpu->fpu_own);
	}
}

void vsnix_fpu_own_exit(struct vsnix_vcpu *vcpu)
{
	lockdep_assert_irqs_disabled();
	own_save(vcpu->fpu_own);
	kernel_fpu_end();
}

/* SDM Vol 1, 13.6: a component whose XSTATE_BV bit is 0 is in its init state. */
static void own_put_init(struct xregs_state *out, u64 bv)
{
	if (!(bv & XFEATURE_MASK_FP)) {
		memset(&out->i387, 0, MXCSR_OFF);
		out->i387.cwd = FCW_RESET;
		memset(out->i387.st_space, 0, sizeof(out->i387.st_space));
	}
	if (!(bv & XFEATURE_MASK_SSE))
		memset(out->i387.xmm_space, 0, sizeof(out->i387.xmm_space));
}

void vsnix_fpu_own_get(struct vsnix_vcpu *vcpu, struct vsnix_xsave *xs)
{
	const struct xregs_state *img = vcpu->fpu_own;
	struct xregs_state *out = (struct xregs_state *)xs->region;
	u64 bv = img->header.xfeatures & own.xfeatures;
	int i;

	memset(xs, 0, sizeof(*xs));
	memcpy(&out->i387, &img->i387, sizeof(out->i387));
	out->i387.mxcsr_mask = own.mxcsr_mask;
	if (!own.xsave) {
		out->header.xfeatures = XFEATURE_MASK_FPSSE;
		return;
	}
	/* XSAVE leaves an init component's area as it was: show init values. */
	own_put_init(out, bv);
	for (i = FIRST_EXTENDED_XFEATURE; i < XFEATURE_MAX; i++)
		if (bv & BIT_ULL(i))
			memcpy((u8 *)out + own.offset[i],
			       (const u8 *)img + own.offset[i], own.size[i]);
	out->header.xfeatures = bv;
}

/*
 * The checks XRSTOR makes (SDM Vol 1, 13.8.1), so that it never faults:
 * XSTATE_BV within the offered components, XCOMP_BV and the reserved header
 * bytes zero, and no reserved MXCSR bit (when MXCSR is loaded at all).
 */
static int own_check(const struct xregs_state *in, u64 *bvp)
{
	u64 bv = in->header.xfeatures;

	if (!own.xsave) {
		if (bv & ~XFEATURE_MASK_FPSSE)
			return -EINVAL;
		bv = XFEATURE_MASK_FPSSE;
	} else if ((bv & ~own.xfeatures) || in->header.xcomp_bv ||
		 memchr_inv(in->header.reserved, 0, sizeof(in->header.reserved)))
		return -EINVAL;
	if ((bv & (XFEATURE_MASK_FPSSE | XFEATURE_MASK_YMM)) &&
	    (in->i387.mxcsr & ~own.mxcsr_mask))
		return -EINVAL;
	*bvp = bv;
	return 0;
}

int vsnix_fpu_own_set(struct vsnix_vcpu *vcpu, const struct vsnix_xsave *xs)
{
	const struct xregs_state *in = (const struct xregs_state *)xs->region;
	struct xregs_state *img = vcpu->fpu_own;
	u64 bv;
	int i, ret;

	ret = own_check(in, &bv);
	if (ret)
		return ret;
	if (!own.xsave) {
		memcpy(&img->i387, &in->i387, sizeof(img->i387));
		return 0;
	}
	/* Components absent from XSTATE_BV are initialized by XRSTOR. */
	if (bv & XFEATURE_MASK_FP)
		memcpy(&img->i387, &in->i387, X87_LEGACY);
	else if (bv & (XFEATURE_MASK_SSE | XFEATURE_MASK_YMM))
		img->i387.mxcsr = in->i387.mxcsr;
	if (bv & XFEATURE_MASK_SSE)
		memcpy(img->i387.xmm_space, in->i387.xmm_space,
		       sizeof(img->i387.xmm_space));
	for (i = FIRST_EXTENDED_XFEATURE; i < XFEATURE_MAX; i++)
		if (bv & BIT_ULL(i))
			memcpy((u8 *)img + own.offset[i],
			       (const u8 *)in + own.offset[i], own.size[i]);
	img->header.xfeatures = bv;
	img->header.xcomp_bv = 0;
	return 0;
}
