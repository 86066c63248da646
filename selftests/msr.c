// SPDX-License-Identifier: GPL-2.0
/*
 * MSRs: GET/SET_MSRS round trips, their count semantics (stop at the first
 * unsupported MSR), the guest reading what the host set and the host
 * reading what the guest wrote, and #GP (vector 13) in the guest for an
 * unknown MSR or a non-canonical LSTAR (Intel SDM Vol 4, 2.1; Vol 3, 6.15).
 */
#include "vsnix_util.h"

#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_UNKNOWN		0x12345678
#define MSR_AMD_SYSCFG		0xc0010010
#define MSR_AMD_NB_CFG		0xc001001f
#define LSTAR_VALUE		0xffffffff81234560ul
#define STAR_FROM_GUEST		0x0023001000000000ul

static const struct {
	uint32_t index;
	const char *name;
	uint64_t value;
} round_trip[] = {
	{ 0x174, "SYSENTER_CS", 0x10 },
	{ 0x175, "SYSENTER_ESP", 0xffffc90000001000ul },
	{ 0x176, "SYSENTER_EIP", 0xffffffff81000000ul },
	{ 0x277, "PAT", 0x0007040600070406ul },
	{ MSR_STAR, "STAR", 0x0013000800000000ul },
	{ MSR_LSTAR, "LSTAR", LSTAR_VALUE },
	{ 0xc0000083, "CSTAR", 0xffffffff81000040ul },
	{ 0xc0000084, "SFMASK", 0x47700 },
	{ 0xc0000100, "FS_BASE", 0x7f0000001000ul },
	{ 0xc0000101, "GS_BASE", 0xffff888000000000ul },
	{ 0xc0000102, "KERNEL_GS_BASE", 0x7f0000002000ul },
};

#define NR_ROUND_TRIP	(sizeof(round_trip) / sizeof(round_trip[0]))

static void guest_msr(void)
{
	uint64_t v;

	GUEST_ASSERT_EQ(guest_rdmsr_safe(MSR_LSTAR, &v), GUEST_NO_EXCEPTION);
	GUEST_SYNC2(1, v);
	GUEST_ASSERT_EQ(guest_rdmsr_safe(MSR_EFER, &v), GUEST_NO_EXCEPTION);
	GUEST_SYNC2(2, v);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(MSR_STAR, STAR_FROM_GUEST), GUEST_NO_EXCEPTION);
	GUEST_SYNC(3);
	GUEST_SYNC3(4, guest_rdmsr_safe(MSR_UNKNOWN, &v), guest_exception_error_code);
	GUEST_SYNC2(5, guest_wrmsr_safe(MSR_UNKNOWN, 1));
	GUEST_SYNC2(6, guest_wrmsr_safe(MSR_LSTAR, 0x8000000000000000ul));
	GUEST_ASSERT_EQ(guest_rdmsr_safe(MSR_LSTAR, &v), GUEST_NO_EXCEPTION);
	GUEST_SYNC2(7, v);
}

static bool host_is_amd(void)
{
	uint32_t a, b, c, d;

	asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
	return b == 0x68747541;		/* "Auth" of AuthenticAMD */
}

int main(void)
{
	struct {
		struct vsnix_msrs hdr;
		struct vsnix_msr_entry e[3];
	} msrs;
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	unsigned int i, bad = 0;
	struct ucall uc;
	uint64_t v;
	bool ok;

	vsnix_dev_fd();
	tap_plan(14);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_msr);

	for (i = 0; i < NR_ROUND_TRIP; i++) {
		int set = vcpu_set_msr(vcpu, round_trip[i].index, round_trip[i].value);
		int get = vcpu_get_msr(vcpu, round_trip[i].index, &v);

		if (set != 1 || get != 1 || v != round_trip[i].value) {
			tap_diag("%s: set %d get %d value 0x%lx", round_trip[i].name, set, get,
				 (unsigned long)v);
			bad++;
		}
	}
	tap_ok(!bad, "SET_MSRS/GET_MSRS round trip of %zu MSRs", NR_ROUND_TRIP);

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = 3;
	msrs.e[0].index = 0x174;
	msrs.e[1].index = MSR_UNKNOWN;
	msrs.e[2].index = 0x175;
	tap_ok(ioctl(vcpu->fd, VSNIX_GET_MSRS, &msrs) == 1 && msrs.e[0].data == 0x10,
	       "GET_MSRS stops at the first unsupported MSR (returns 1)");
	tap_ok(vcpu_set_msr(vcpu, MSR_UNKNOWN, 0) == 0, "SET_MSRS of an unknown MSR writes 0");
	/* Linux's MTRR set-up reads SYSCFG on AMD (APM Vol 2, 7.9.1). */
	if (host_is_amd())
		tap_ok(vcpu_get_msr(vcpu, MSR_AMD_SYSCFG, &v) == 1 && v == 0,
		       "AMD: SYSCFG reads 0 (Linux's MTRR set-up reads it)");
	else
		tap_ok(vcpu_get_msr(vcpu, MSR_AMD_SYSCFG, &v) == 0,
		       "Intel: no AMD SYSCFG MSR");
	/* Linux's amd_bus.c sets NB_CFG.EnableCf8ExtCfg (bit 46) unchecked. */
	if (host_is_amd())
		tap_ok(vcpu_get_msr(vcpu, MSR_AMD_NB_CFG, &v) == 1 && v == 0 &&
		       vcpu_set_msr(vcpu, MSR_AMD_NB_CFG, 1ull << 46) == 1 &&
		       vcpu_set_msr(vcpu, MSR_AMD_NB_CFG, 1) == 0,
		       "AMD: NB_CFG reads 0, takes EnableCf8ExtCfg, refuses other bits");
	else
		tap_ok(vcpu_get_msr(vcpu, MSR_AMD_NB_CFG, &v) == 0, "Intel: no AMD NB_CFG MSR");

	ok = vcpu_run_sync_is(vcpu, &uc, 1);
	tap_ok(ok && uc.args[1] == LSTAR_VALUE, "guest RDMSR sees the LSTAR the host set (0x%lx)",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 2);
	tap_ok(ok && (uc.args[1] & 0x500) == 0x500, "guest EFER has LME and LMA (0x%lx)",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 3) && vcpu_get_msr(vcpu, MSR_STAR, &v) == 1;
	tap_ok(ok && v == STAR_FROM_GUEST, "host reads the STAR the guest wrote (0x%lx)",
	       (unsigned long)v);
	ok = vcpu_run_sync_is(vcpu, &uc, 4);
	tap_ok(ok && uc.args[1] == 13 && uc.args[2] == 0,
	       "guest RDMSR of an unknown MSR takes #GP(0) (vector %lu)",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 5);
	tap_ok(ok && uc.args[1] == 13, "guest WRMSR of an unknown MSR takes #GP (vector %lu)",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 6);
	tap_ok(ok && uc.args[1] == 13, "guest WRMSR of a non-canonical LSTAR takes #GP");
	ok = vcpu_run_sync_is(vcpu, &uc, 7);
	tap_ok(ok && uc.args[1] == LSTAR_VALUE, "the refused write left LSTAR unchanged");
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE, "guest finished");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
