// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID as the guest sees it: the hypervisor bit (leaf 1 ECX[31]), no VMX
 * (leaf 1 ECX[5]) or SVM (leaf 0x80000001 ECX[2]), the vendor leaf
 * 0x40000000 "vSnixvSnixvS", the APIC id (leaf 1 EBX[31:24]) equal to the
 * vCPU id, and a SET_CPUID policy applied from the next CPUID.
 */
#include "vsnix_util.h"

#define VCPU_ID		5

static void guest_cpuid_main(void)
{
	uint32_t a, b, c, d;

	guest_cpuid(0x40000000, 0, &a, &b, &c, &d);
	GUEST_SYNC3(1, b | (uint64_t)c << 32, d);
	guest_cpuid(1, 0, &a, &b, &c, &d);
	GUEST_SYNC3(2, c, b);
	guest_cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a >= 0x80000001)
		guest_cpuid(0x80000001, 0, &a, &b, &c, &d);
	else
		c = 0;
	GUEST_SYNC2(3, c);
	/* The host changes the policy here. */
	guest_cpuid(1, 0, &a, &b, &c, &d);
	GUEST_SYNC2(4, a);
	guest_cpuid(6, 0, &a, &b, &c, &d);
	GUEST_SYNC2(5, a | b | c | d);
}

static struct vsnix_cpuid *cpuid_get(struct vsnix_test_vm *vm)
{
	struct vsnix_cpuid *c = calloc(1, sizeof(*c) + VSNIX_MAX_CPUID_ENTRIES *
				       sizeof(c->entries[0]));

	TEST_ASSERT(c, "calloc");
	c->nent = VSNIX_MAX_CPUID_ENTRIES;
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_GET_CPUID, c), "GET_CPUID");
	return c;
}

static struct vsnix_cpuid_entry *cpuid_find(struct vsnix_cpuid *c, uint32_t function)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == function)
			return &c->entries[i];
	return NULL;
}

int main(void)
{
	struct vsnix_cpuid_entry *leaf1;
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_cpuid *c, *back;
	uint32_t want_eax, i, j;
	struct ucall uc;
	char sig[13] = "";
	bool ok;

	vsnix_dev_fd();
	tap_plan(8);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, VCPU_ID, guest_cpuid_main);

	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 1;
	if (ok) {
		memcpy(sig, &uc.args[1], 8);
		memcpy(sig + 8, &uc.args[2], 4);
	}
	tap_ok(ok && !strcmp(sig, "vSnixvSnixvS"), "leaf 0x40000000 is \"%s\"", sig);
	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 2;
	tap_ok(ok && (uc.args[1] & (1u << 31)) && !(uc.args[1] & (1u << 5)),
	       "leaf 1: hypervisor bit set, VMX clear (ecx 0x%lx)", (unsigned long)uc.args[1]);
	tap_ok(ok && (uc.args[2] >> 24) == VCPU_ID, "leaf 1: APIC id is the vCPU id (%lu)",
	       (unsigned long)(uc.args[2] >> 24));
	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 3;
	tap_ok(ok && !(uc.args[1] & (1u << 2)), "leaf 0x80000001: SVM clear (ecx 0x%lx)",
	       (unsigned long)uc.args[1]);

	/* A new policy: another stepping in leaf 1 and no leaf 6. */
	c = cpuid_get(vm);
	leaf1 = cpuid_find(c, 1);
	TEST_ASSERT(leaf1, "the VM's policy has leaf 1");
	want_eax = (leaf1->eax & ~0xfu) | ((leaf1->eax + 1) & 0xf);
	leaf1->eax = want_eax;
	for (i = 0, j = 0; i < c->nent; i++)
		if (c->entries[i].function != 6)
			c->entries[j++] = c->entries[i];
	c->nent = j;
	tap_ok(!ioctl(vm->fd, VSNIX_SET_CPUID, c), "SET_CPUID accepts a modified policy");
	back = cpuid_get(vm);
	leaf1 = cpuid_find(back, 1);
	tap_ok(back->nent == c->nent && leaf1 && leaf1->eax == want_eax && !cpuid_find(back, 6),
	       "GET_CPUID returns the policy that was set");

	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 4;
	tap_ok(ok && uc.args[1] == want_eax, "guest sees the new leaf 1 EAX (0x%lx, want 0x%x)",
	       (unsigned long)uc.args[1], want_eax);
	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 5;
	tap_ok(ok && uc.args[1] == 0, "a leaf missing from the policy reads as zeros");
	free(c);
	free(back);
	vm_destroy(vm);
	tap_finish();
}
