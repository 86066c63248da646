// SPDX-License-Identifier: GPL-2.0
/*
 * PKRU (Intel SDM Vol 3, 4.6.2): a guest that sets CR4.PKE has its own
 * PKRU. It starts at 0 (the reset value) whatever the host thread's is,
 * its WRPKRU does not change the host thread's PKRU, and it reads back
 * its own value after the host changed its PKRU between two entries.
 */
#include "vsnix_util.h"

#define X86_CR4_PKE	(1ul << 22)
/* Key 0 (bits 1:0) stays open in every value: all memory uses key 0. */
#define GUEST_PKRU	0x0000fff0u
#define HOST_PKRU_1	0x55555544u
#define HOST_PKRU_2	0x55555504u

static inline uint32_t rdpkru(void)
{
	uint32_t eax, edx;

	asm volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

static inline void wrpkru(uint32_t v)
{
	asm volatile(".byte 0x0f, 0x01, 0xef" : : "a"(v), "c"(0), "d"(0) : "memory");
}

static void guest_pkru(void)
{
	uint64_t cr4;

	asm volatile("mov %%cr4, %0" : "=r"(cr4));
	asm volatile("mov %0, %%cr4" : : "r"(cr4 | X86_CR4_PKE) : "memory");
	GUEST_SYNC2(1, rdpkru());
	wrpkru(GUEST_PKRU);
	GUEST_SYNC2(2, rdpkru());
	GUEST_SYNC2(3, rdpkru());
}

static bool host_has_ospke(void)
{
	uint32_t a = 7, b, c = 0, d;

	asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return c & (1u << 4);	/* CPUID.(7,0):ECX.OSPKE */
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	uint32_t saved, host;
	struct ucall uc;
	bool ok;

	vsnix_dev_fd();
	if (!host_has_ospke())
		tap_skip_all("no OSPKE: this CPU (or its emulator) has no protection keys");
	tap_plan(6);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_pkru);
	saved = rdpkru();

	wrpkru(HOST_PKRU_1);
	ok = vcpu_run_sync_is(vcpu, &uc, 1);
	tap_ok(ok && uc.args[1] == 0, "guest PKRU starts at 0, not the host's (0x%lx)",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 2);
	tap_ok(ok && uc.args[1] == GUEST_PKRU, "guest WRPKRU 0x%x reads back 0x%lx",
	       GUEST_PKRU, (unsigned long)uc.args[1]);
	host = rdpkru();
	tap_ok(host == HOST_PKRU_1, "host PKRU kept after the guest's WRPKRU (0x%x)", host);

	wrpkru(HOST_PKRU_2);
	ok = vcpu_run_sync_is(vcpu, &uc, 3);
	host = rdpkru();
	tap_ok(ok && uc.args[1] == GUEST_PKRU,
	       "guest keeps its PKRU across entries (0x%lx)", (unsigned long)uc.args[1]);
	tap_ok(host == HOST_PKRU_2, "host PKRU kept across entries (0x%x)", host);
	wrpkru(saved);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE && kernel_healthy(),
	       "guest finished, kernel healthy");
	vm_destroy(vm);
	tap_finish();
}
