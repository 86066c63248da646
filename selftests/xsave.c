// SPDX-License-Identifier: GPL-2.0
/*
 * Guest FPU state through GET/SET_XSAVE (standard layout, Intel SDM Vol 1,
 * 13.4.1: MXCSR at byte 24, XMM0-15 from byte 160): the host sees the
 * guest's XMM7 and MXCSR, the guest sees the XMM6 the host set, and a
 * reserved MXCSR bit is refused.
 */
#include "vsnix_util.h"

#define XSAVE_MXCSR_OFFSET	24
#define XSAVE_XMM_OFFSET(n)	(160 + 16 * (n))
#define GUEST_MXCSR		0x3f80	/* default 0x1f80 with RC = round down */

struct xmm {
	uint64_t lo, hi;
};

static const struct xmm guest_pattern = { 0x0123456789abcdeful, 0xfedcba9876543210ul };
static const struct xmm host_pattern = { 0x1111222233334444ul, 0x5555666677778888ul };

static void guest_xsave(void)
{
	uint32_t mxcsr = GUEST_MXCSR;
	struct xmm out;

	/* XMM6/7: registers the compiler's own code here does not use. */
	asm volatile("movdqu %0, %%xmm7\n\tldmxcsr %1"
		     : : "m"(guest_pattern), "m"(mxcsr) : "xmm7");
	GUEST_SYNC(1);
	asm volatile("movdqu %%xmm6, %0" : "=m"(out));
	GUEST_SYNC3(2, out.lo, out.hi);
	asm volatile("stmxcsr %0" : "=m"(mxcsr));
	GUEST_SYNC2(3, mxcsr);
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_xsave xs, back;
	uint8_t *bytes = (uint8_t *)xs.region;
	uint32_t mxcsr;
	struct ucall uc;
	bool ok;

	vsnix_dev_fd();
	if (!vsnix_cap(VSNIX_CAP_XSAVE))
		tap_skip_all("VSNIX_CAP_XSAVE is 0");
	tap_plan(7);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_xsave);

	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 1 &&
	     !ioctl(vcpu->fd, VSNIX_GET_XSAVE, &xs);
	tap_ok(ok && !memcmp(bytes + XSAVE_XMM_OFFSET(7), &guest_pattern, 16),
	       "GET_XSAVE shows the guest's XMM7");
	memcpy(&mxcsr, bytes + XSAVE_MXCSR_OFFSET, 4);
	tap_ok(ok && mxcsr == GUEST_MXCSR, "GET_XSAVE shows the guest's MXCSR (0x%x)", mxcsr);

	memcpy(&back, &xs, sizeof(xs));
	memset((uint8_t *)back.region + XSAVE_MXCSR_OFFSET, 0xff, 4);
	tap_ok(expect_errno(ioctl(vcpu->fd, VSNIX_SET_XSAVE, &back), EINVAL, "MXCSR ~0"),
	       "SET_XSAVE with reserved MXCSR bits gives EINVAL");

	memcpy(bytes + XSAVE_XMM_OFFSET(6), &host_pattern, 16);
	tap_ok(!ioctl(vcpu->fd, VSNIX_SET_XSAVE, &xs) &&
	       !ioctl(vcpu->fd, VSNIX_GET_XSAVE, &back) &&
	       !memcmp((uint8_t *)back.region + XSAVE_XMM_OFFSET(6), &host_pattern, 16),
	       "SET_XSAVE then GET_XSAVE round trip of XMM6");
	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 2;
	tap_ok(ok && uc.args[1] == host_pattern.lo && uc.args[2] == host_pattern.hi,
	       "guest reads the XMM6 the host set (0x%lx%016lx)", (unsigned long)uc.args[2],
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 3;
	tap_ok(ok && uc.args[1] == GUEST_MXCSR, "guest MXCSR survived the exits (0x%lx)",
	       (unsigned long)uc.args[1]);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE, "guest finished");
	vm_destroy(vm);
	tap_finish();
}
