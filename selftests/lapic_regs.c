// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel local APIC's registers as a guest sees them (Intel SDM
 * Vol 3, chapter 10): the xAPIC page, CR8 as TPR[7:4], the timer's
 * current count, IA32_TSC_DEADLINE, x2APIC MSRs and the IA32_APIC_BASE
 * mode transitions, relocation of the page; then VSNIX_CREATE_LAPIC's
 * rules and GET/SET_LAPIC. Interrupt delivery is in lapic_irq.c.
 */
#include "vsnix_util.h"

#define APIC_BASE_MSR	0x1b
#define TSC_DEADLINE	0x6e0
#define XAPIC		0xfee00000ul
#define NEW_BASE	0xfed00000ul
#define EN		(1ul << 11)
#define EXTD		(1ul << 10)
#define BSP		(1ul << 8)
#define OLD_PAGE_VALUE	0xabcd1234u

static inline uint32_t apic_rd(uint64_t base, uint32_t off)
{
	return *(volatile uint32_t *)(base + off);
}

static inline void apic_wr(uint64_t base, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(base + off) = v;
}

static inline uint64_t rdmsr(uint32_t index)
{
	uint64_t v;

	GUEST_ASSERT_EQ(guest_rdmsr_safe(index, &v), GUEST_NO_EXCEPTION);
	return v;
}

static inline uint64_t read_cr8(void)
{
	uint64_t v;

	asm volatile("mov %%cr8, %0" : "=r"(v));
	return v;
}

/* MOV to CR8 with #GP recovery: the vector, or GUEST_NO_EXCEPTION. */
static uint8_t write_cr8_safe(uint64_t v)
{
	guest_exception_vector = GUEST_NO_EXCEPTION;
	asm volatile("leaq 1f(%%rip), %%r11\n\t"
		     "movq %%r11, guest_fixup_rip(%%rip)\n\t"
		     "mov %0, %%cr8\n\t"
		     "1:\n\t"
		     "movq $0, guest_fixup_rip(%%rip)"
		     : : "r"(v) : "r11", "memory");
	return (uint8_t)guest_exception_vector;
}

static void guest_xapic(void)
{
	uint32_t a, b, c, d;

	GUEST_ASSERT_EQ(rdmsr(APIC_BASE_MSR), XAPIC | EN | BSP);
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0x20), 0);		/* ID of vCPU 0 */
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0x30) & 0xff00ff, 0x050014);
	apic_wr(XAPIC, 0x80, 0x35);
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0x80), 0x35);
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0xa0), 0x35);		/* PPR = TPR */
	apic_wr(XAPIC, 0xd0, 0x12345678);
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0xd0), 0x12000000);	/* LDR[31:24] */
	apic_wr(XAPIC, 0xe0, 0);
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0xe0), 0x0fffffff);	/* DFR model */
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0xf0), 0xff);		/* SVR reset */
	apic_wr(XAPIC, 0x320, 0x20030);			/* LVT masked: SVR.EN=0 */
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0x320), 0x30030);
	apic_wr(XAPIC, 0xf0, 0x1ff);
	apic_wr(XAPIC, 0x320, 0x20030);
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0x320), 0x20030);
	apic_wr(XAPIC, 0x3e0, 0xff);
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0x3e0), 0xb);
	guest_cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT(c & (1u << 21));				/* x2APIC */
	GUEST_ASSERT(c & (1u << 24));				/* TSC deadline */
	GUEST_ASSERT(d & (1u << 9));				/* APIC */
	GUEST_SYNC(1);
}

static void guest_cr8(void)
{
	GUEST_ASSERT_EQ(write_cr8_safe(5), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0x80), 0x50);
	apic_wr(XAPIC, 0x80, 0x9c);
	GUEST_ASSERT_EQ(read_cr8(), 9);
	GUEST_ASSERT_EQ(write_cr8_safe(16), 13);		/* reserved bits */
	GUEST_ASSERT_EQ(read_cr8(), 9);
	GUEST_ASSERT_EQ(write_cr8_safe(0), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0xa0), 0);
	GUEST_SYNC(2);
}

static void guest_timer_count(void)
{
	uint32_t c1, c2;
	int i;

	apic_wr(XAPIC, 0x3e0, 0xb);				/* divide by 1 */
	apic_wr(XAPIC, 0x320, 0x10040);				/* one-shot, masked */
	apic_wr(XAPIC, 0x380, 1000000000);			/* 1 s */
	c1 = apic_rd(XAPIC, 0x390);
	for (i = 0; i < 100000; i++)
		asm volatile("pause");
	c2 = apic_rd(XAPIC, 0x390);
	GUEST_ASSERT(c1 > 0 && c1 <= 1000000000);
	GUEST_ASSERT(c2 < c1);
	apic_wr(XAPIC, 0x380, 0);
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0x390), 0);
	GUEST_SYNC(3);
}

static void guest_deadline(void)
{
	uint64_t far = guest_rdtsc() + (1ull << 40);

	apic_wr(XAPIC, 0x320, 0x50041);				/* TSC deadline, masked */
	GUEST_ASSERT_EQ(guest_wrmsr_safe(TSC_DEADLINE, far), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(rdmsr(TSC_DEADLINE), far);
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0x390), 0);		/* CCR reads 0 */
	GUEST_ASSERT_EQ(guest_wrmsr_safe(TSC_DEADLINE, 0), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(rdmsr(TSC_DEADLINE), 0);
	/* Outside TSC-deadline mode the MSR ignores writes (10.5.4.1). */
	apic_wr(XAPIC, 0x320, 0x10041);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(TSC_DEADLINE, far), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(rdmsr(TSC_DEADLINE), 0);
	GUEST_SYNC(4);
}

static void guest_x2apic(void)
{
	uint64_t v;

	GUEST_ASSERT_EQ(guest_rdmsr_safe(0x802, &v), 13);	/* xAPIC mode */
	GUEST_ASSERT_EQ(guest_wrmsr_safe(APIC_BASE_MSR, XAPIC | EN | EXTD),
			GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(rdmsr(APIC_BASE_MSR), XAPIC | EN | EXTD | BSP);
	GUEST_ASSERT_EQ(rdmsr(0x802), 0);			/* x2APIC ID */
	GUEST_ASSERT_EQ(rdmsr(0x80d), 1);			/* LDR: cluster 0, bit 0 */
	GUEST_ASSERT_EQ(rdmsr(0x803) & 0xff, 0x14);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(0x808, 0x20), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(rdmsr(0x808), 0x20);
	GUEST_ASSERT_EQ(read_cr8(), 2);
	GUEST_ASSERT_EQ(guest_rdmsr_safe(0x80b, &v), 13);	/* EOI: write-only */
	GUEST_ASSERT_EQ(guest_wrmsr_safe(0x80b, 1), 13);	/* EOI: non-zero */
	GUEST_ASSERT_EQ(guest_wrmsr_safe(0x802, 5), 13);	/* ID: read-only */
	GUEST_ASSERT_EQ(guest_rdmsr_safe(0x80e, &v), 13);	/* no DFR */
	GUEST_ASSERT_EQ(guest_wrmsr_safe(0x808, 1ull << 32), 13);
	/* SDM Vol 3, 10.12.5: x2APIC -> xAPIC and disabled -> x2APIC #GP. */
	GUEST_ASSERT_EQ(guest_wrmsr_safe(APIC_BASE_MSR, XAPIC | EN), 13);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(APIC_BASE_MSR, XAPIC | EXTD), 13);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(APIC_BASE_MSR, XAPIC), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(APIC_BASE_MSR, XAPIC | EN | EXTD), 13);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(APIC_BASE_MSR, XAPIC | EN), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0xf0), 0xff);		/* reset by disable */
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0x80), 0);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(APIC_BASE_MSR, XAPIC | EN | (1ul << 9)), 13);
	GUEST_SYNC(5);
}

static void guest_relocate(void)
{
	GUEST_ASSERT_EQ(guest_wrmsr_safe(APIC_BASE_MSR, NEW_BASE | EN),
			GUEST_NO_EXCEPTION);
	apic_wr(NEW_BASE, 0x80, 0x40);
	GUEST_ASSERT_EQ(apic_rd(NEW_BASE, 0x80), 0x40);
	GUEST_ASSERT_EQ(apic_rd(NEW_BASE, 0x30) & 0xff, 0x14);
	/* The old page is no longer the APIC: userspace answers it. */
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0x80), OLD_PAGE_VALUE);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(APIC_BASE_MSR, XAPIC | EN),
			GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0x80), 0x40);
	GUEST_SYNC(6);
}

static void guest_save_restore(void)
{
	apic_wr(XAPIC, 0xf0, 0x1ff);
	apic_wr(XAPIC, 0x80, 0x70);
	apic_wr(XAPIC, 0x3e0, 0xb);
	apic_wr(XAPIC, 0x320, 0x10050);				/* one-shot, masked */
	apic_wr(XAPIC, 0x380, 2000000000);			/* 2 s */
	GUEST_SYNC(7);
	/* The host restored TPR 0x40 and the timer. */
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0x80), 0x40);
	GUEST_ASSERT_EQ(read_cr8(), 4);
	GUEST_ASSERT_EQ(apic_rd(XAPIC, 0x380), 2000000000);
	GUEST_ASSERT(apic_rd(XAPIC, 0x390) > 0);
	GUEST_SYNC(8);
}

static void guest_main(void)
{
	guest_xapic();
	guest_cr8();
	guest_timer_count();
	guest_deadline();
	guest_x2apic();
	guest_relocate();
	guest_save_restore();
}

/* RUN to the next ucall, answering MMIO reads of the old APIC page. */
static uint64_t run_to_ucall(struct vsnix_test_vcpu *vcpu, struct ucall *uc)
{
	for (;;) {
		if (vcpu_run_raw(vcpu)) {
			tap_diag("RUN: %s", strerror(errno));
			return UCALL_NONE;
		}
		if (vcpu->run->exit_reason == VSNIX_EXIT_MMIO &&
		    vcpu->run->mmio.phys_addr == XAPIC + 0x80 &&
		    !vcpu->run->mmio.is_write) {
			uint32_t v = OLD_PAGE_VALUE;

			memcpy(vcpu->run->mmio.data, &v, sizeof(v));
			continue;
		}
		break;
	}
	if (vcpu_get_ucall(vcpu, uc) == UCALL_NONE) {
		tap_diag("expected a ucall, got %s", vcpu_exit_str(vcpu));
		return UCALL_NONE;
	}
	if (uc->cmd == UCALL_ABORT) {
		char msg[512];

		ucall_abort_str(vcpu, uc, msg, sizeof(msg));
		tap_diag("%s", msg);
		return UCALL_NONE;
	}
	return uc->cmd;
}

static bool stage(struct vsnix_test_vcpu *vcpu, uint64_t n)
{
	struct ucall uc;

	return run_to_ucall(vcpu, &uc) == UCALL_SYNC && uc.args[0] == n;
}

static void test_save_restore(struct vsnix_test_vcpu *vcpu)
{
	/* Zeroed: when stage 7 fails, GET_LAPIC is not called and st is printed. */
	struct vsnix_lapic_state st = { 0 }, bad;
	bool ok;

	ok = stage(vcpu, 7) && !ioctl(vcpu->fd, VSNIX_GET_LAPIC, &st);
	tap_ok(ok && st.regs[0x8] == 0x70 && st.regs[0x38] == 2000000000 &&
	       st.regs[0x39] > 0 && st.regs[0x39] <= 2000000000 &&
	       st.apic_base == (XAPIC | EN | BSP),
	       "GET_LAPIC: TPR 0x%x, initial count %u, current count %u",
	       st.regs[0x8], st.regs[0x38], st.regs[0x39]);
	bad = st;
	bad.flags = 1;
	tap_ok(expect_errno(ioctl(vcpu->fd, VSNIX_SET_LAPIC, &bad), EINVAL,
			    "SET_LAPIC flags"), "SET_LAPIC with flags set: EINVAL");
	bad = st;
	bad.apic_base = XAPIC | EXTD;
	tap_ok(expect_errno(ioctl(vcpu->fd, VSNIX_SET_LAPIC, &bad), EINVAL,
			    "SET_LAPIC EXTD without EN"),
	       "SET_LAPIC with EN=0 EXTD=1: EINVAL");
	st.regs[0x8] = 0x40;
	tap_ok(!ioctl(vcpu->fd, VSNIX_SET_LAPIC, &st) && stage(vcpu, 8),
	       "SET_LAPIC: the guest sees the restored TPR and a running timer");
}

static void test_create_rules(void)
{
	struct vsnix_test_vm *vm = vm_create(1 << 20);
	struct vsnix_lapic_state st;
	struct vsnix_test_vcpu *vcpu;

	tap_ok(expect_errno(ioctl(vm->fd, VSNIX_CREATE_LAPIC, 1), EINVAL, "flags"),
	       "CREATE_LAPIC with flags: EINVAL");
	vcpu = vcpu_create(vm, 0);
	tap_ok(expect_errno(ioctl(vcpu->fd, VSNIX_GET_LAPIC, &st), ENXIO, "no LAPIC"),
	       "GET_LAPIC without an in-kernel LAPIC: ENXIO");
	tap_ok(expect_errno(ioctl(vm->fd, VSNIX_CREATE_LAPIC, 0), EBUSY, "after vCPU"),
	       "CREATE_LAPIC after a vCPU exists: EBUSY");
	vm_destroy(vm);

	vm = vm_create(1 << 20);
	tap_ok(!ioctl(vm->fd, VSNIX_CREATE_LAPIC, 0) &&
	       expect_errno(ioctl(vm->fd, VSNIX_CREATE_LAPIC, 0), EEXIST, "twice"),
	       "CREATE_LAPIC twice: EEXIST");
	vm_destroy(vm);
}

int main(void)
{
	static const char *const names[] = {
		"xAPIC page: ID, version, TPR/PPR, LDR, DFR, SVR, LVT, TDCR, CPUID bits",
		"CR8 is TPR[7:4] both ways; CR8 > 15 takes #GP",
		"timer current count runs down; initial count 0 stops it",
		"IA32_TSC_DEADLINE in and out of TSC-deadline mode",
		"x2APIC MSRs and the APIC_BASE mode transitions (#GP where invalid)",
		"APIC base relocation: new page served, old page to userspace",
	};
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	unsigned int i;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_LAPIC) != 1)
		tap_skip_all("no VSNIX_CAP_LAPIC");
	tap_plan(6 + 4 + 4 + 2);

	vm = vm_create_long(0);
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_LAPIC, 0), "CREATE_LAPIC: %s",
		    strerror(errno));
	vcpu = vcpu_create_long(vm, 0, guest_main);
	for (i = 0; i < 6; i++)
		tap_ok(stage(vcpu, i + 1), "%s", names[i]);
	test_save_restore(vcpu);
	tap_ok(run_to_ucall(vcpu, &uc) == UCALL_DONE, "guest finished");
	vm_destroy(vm);

	test_create_rules();
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
