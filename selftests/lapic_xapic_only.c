// SPDX-License-Identifier: GPL-2.0
/*
 * An xAPIC-only CPU: with the in-kernel LAPIC, CPUID.1:ECX x2APIC (bit 21)
 * and TSC-deadline (bit 24) follow the VM's CPUID policy instead of being
 * forced on. Without x2APIC, setting IA32_APIC_BASE.EXTD is #GP (Intel SDM
 * Vol 3, 10.12.1); without TSC deadline, IA32_TSC_DEADLINE does not exist
 * (#GP, 10.5.4.1). The xAPIC page keeps working, the x2APIC MSRs stay #GP.
 * GET_SUPPORTED_CPUID offers both bits (the in-kernel LAPIC has them).
 */
#include "vsnix_util.h"

#define APIC_BASE_MSR	0x1b
#define TSC_DEADLINE	0x6e0
#define XAPIC		0xfee00000ul
#define EN		(1ul << 11)
#define EXTD		(1ul << 10)
#define BSP		(1ul << 8)
#define X2APIC_BIT	(1u << 21)
#define DEADLINE_BIT	(1u << 24)

static void guest_main(void)
{
	uint32_t a, b, c, d;
	uint64_t v;

	guest_cpuid(1, 0, &a, &b, &c, &d);
	GUEST_SYNC2(1, c & (X2APIC_BIT | DEADLINE_BIT));
	GUEST_SYNC2(2, guest_wrmsr_safe(APIC_BASE_MSR, XAPIC | EN | EXTD | BSP));
	GUEST_SYNC2(3, guest_rdmsr_safe(TSC_DEADLINE, &v));
	GUEST_SYNC2(4, guest_wrmsr_safe(TSC_DEADLINE, 1));
	GUEST_SYNC2(5, guest_rdmsr_safe(0x802, &v));		/* x2APIC ID */
	/* Still an xAPIC: its ID register reads through MMIO. */
	GUEST_SYNC3(6, *(volatile uint32_t *)(XAPIC + 0x20),
		    guest_rdmsr_safe(APIC_BASE_MSR, &v) == GUEST_NO_EXCEPTION ? v : 0);
}

static struct vsnix_cpuid *supported(void)
{
	struct vsnix_cpuid *c = calloc(1, sizeof(*c) + VSNIX_MAX_CPUID_ENTRIES *
				       sizeof(c->entries[0]));

	TEST_ASSERT(c, "calloc");
	c->nent = VSNIX_MAX_CPUID_ENTRIES;
	TEST_ASSERT(!ioctl(vsnix_dev_fd(), VSNIX_GET_SUPPORTED_CPUID, c),
		    "GET_SUPPORTED_CPUID: %s", strerror(errno));
	return c;
}

static struct vsnix_cpuid_entry *leaf1(struct vsnix_cpuid *c)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == 1)
			return &c->entries[i];
	return NULL;
}

static uint64_t stage(struct vsnix_test_vcpu *vcpu, uint64_t n, uint64_t *arg2)
{
	struct ucall uc;

	if (vcpu_run_ucall_soft(vcpu, &uc) != UCALL_SYNC || uc.args[0] != n)
		return ~0ull;
	if (arg2)
		*arg2 = uc.args[2];
	return uc.args[1];
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_cpuid_entry *l1;
	struct vsnix_test_vm *vm;
	struct vsnix_cpuid *c;
	uint64_t v, base = 0;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_LAPIC) != 1)
		tap_skip_all("no VSNIX_CAP_LAPIC");
	tap_plan(7);

	c = supported();
	l1 = leaf1(c);
	TEST_ASSERT(l1, "no leaf 1 in GET_SUPPORTED_CPUID");
	tap_ok((l1->ecx & (X2APIC_BIT | DEADLINE_BIT)) == (X2APIC_BIT | DEADLINE_BIT),
	       "GET_SUPPORTED_CPUID offers x2APIC and TSC deadline (leaf 1 ECX 0x%x)", l1->ecx);
	l1->ecx &= ~(X2APIC_BIT | DEADLINE_BIT);

	vm = vm_create_long(0);
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_LAPIC, 0), "CREATE_LAPIC: %s", strerror(errno));
	vcpu = vcpu_create_long(vm, 0, guest_main);
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_SET_CPUID, c), "SET_CPUID: %s", strerror(errno));

	v = stage(vcpu, 1, NULL);
	tap_ok(v == 0, "CPUID follows the policy: no x2APIC, no TSC deadline (0x%lx)",
	       (unsigned long)v);
	tap_ok(stage(vcpu, 2, NULL) == 13, "IA32_APIC_BASE.EXTD without CPUID x2APIC: #GP");
	tap_ok(stage(vcpu, 3, NULL) == 13, "RDMSR IA32_TSC_DEADLINE without CPUID bit: #GP");
	tap_ok(stage(vcpu, 4, NULL) == 13, "WRMSR IA32_TSC_DEADLINE without CPUID bit: #GP");
	tap_ok(stage(vcpu, 5, NULL) == 13, "x2APIC MSR in xAPIC mode: #GP");
	v = stage(vcpu, 6, &base);
	tap_ok(v == 0 && base == (XAPIC | EN | BSP),
	       "still an xAPIC: ID 0x%lx through MMIO, APIC_BASE 0x%lx",
	       (unsigned long)v, (unsigned long)base);
	vm_destroy(vm);
	free(c);
	tap_finish();
}
