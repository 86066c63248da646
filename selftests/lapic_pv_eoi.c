// SPDX-License-Identifier: GPL-2.0
/*
 * Linux's KVM paravirtual interface as vsnix offers it: the signature
 * "KVMKVMKVM\0\0\0" at CPUID 0x40000100 with NOP_IO_DELAY and PV_EOI in
 * 0x40000101 (Linux's Documentation/virt/kvm/x86/cpuid.rst), and the PV
 * EOI flag of MSR_KVM_PV_EOI_EN (msr.rst). A guest handler that finds the
 * flag set clears it instead of writing the EOI register; the host must
 * then have done that EOI (ISR clear, the same vector deliverable again,
 * the vCPU's pv_eoi counter). The flag is never set when another vector
 * waits in IRR, and the MSR is #GP without the CPUID bit, for a word not
 * 4-byte aligned, or outside RAM.
 */
#include "vsnix_util.h"
#include "vsnix/stats.h"

#define PV_EOI_MSR	0x4b564d04
#define APIC_BASE_MSR	0x1b
#define X2APIC_SVR	0x80f
#define X2APIC_EOI	0x80b
#define X2APIC_ISR	0x810
#define X2APIC_SELF_IPI	0x83f
#define V_ONE		0x50
#define V_HIGH		0x70
#define V_LOW		0x40
#define ROUNDS		20

volatile uint64_t pv_flag __attribute__((aligned(8)));
volatile uint64_t irq_count[256], flag_seen[256], pv_eoi_done;

/* The handler's EOI, as Linux's kvm_guest_apic_eoi_write() makes it. */
void pv_handler(uint64_t vector);
void pv_handler(uint64_t vector)
{
	if (pv_flag & 1) {
		flag_seen[vector]++;
		pv_flag &= ~1ull;
		pv_eoi_done++;
	} else {
		guest_wrmsr_safe(X2APIC_EOI, 0);
	}
	irq_count[vector]++;
}

#define PV_STUB(v)							\
	"pv_stub_" #v ":\n"						\
	"  pushq %rax; pushq %rcx; pushq %rdx; pushq %rsi; pushq %rdi\n"\
	"  pushq %r8; pushq %r9; pushq %r10; pushq %r11\n"		\
	"  movq $" #v ", %rdi\n"					\
	"  call pv_handler\n"						\
	"  popq %r11; popq %r10; popq %r9; popq %r8\n"			\
	"  popq %rdi; popq %rsi; popq %rdx; popq %rcx; popq %rax\n"	\
	"  iretq\n"

extern char pv_stub_0x40[], pv_stub_0x50[], pv_stub_0x70[];
asm(".pushsection .text\n" PV_STUB(0x40) PV_STUB(0x50) PV_STUB(0x70)
    ".popsection\n");

static bool isr_has(uint8_t vector)
{
	uint64_t v = 0;

	GUEST_ASSERT_EQ(guest_rdmsr_safe(X2APIC_ISR + vector / 32, &v),
			GUEST_NO_EXCEPTION);
	return v & (1u << (vector % 32));
}

static void self_ipi(uint8_t vector)
{
	GUEST_ASSERT_EQ(guest_wrmsr_safe(X2APIC_SELF_IPI, vector),
			GUEST_NO_EXCEPTION);
}

static void guest_msr_checks(void)
{
	uint32_t a, b, c, d;
	uint64_t v = 1;

	guest_cpuid(0x40000100, 0, &a, &b, &c, &d);
	GUEST_SYNC3(1, b == 0x4b4d564b && c == 0x564b4d56 && d == 0x4d, a);
	guest_cpuid(0x40000101, 0, &a, &b, &c, &d);
	GUEST_SYNC2(2, a);
	GUEST_ASSERT_EQ(guest_rdmsr_safe(PV_EOI_MSR, &v), GUEST_NO_EXCEPTION);
	GUEST_SYNC3(3, v, guest_wrmsr_safe(PV_EOI_MSR, (uint64_t)&pv_flag | 3));
	GUEST_SYNC2(4, guest_wrmsr_safe(PV_EOI_MSR, (1ull << 40) | 1));
}

static void guest_main(void)
{
	uint64_t base, i;

	guest_msr_checks();
	GUEST_ASSERT_EQ(guest_rdmsr_safe(APIC_BASE_MSR, &base), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(APIC_BASE_MSR, base | (1 << 10)),
			GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(X2APIC_SVR, 0x1ff), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(PV_EOI_MSR, (uint64_t)&pv_flag | 1),
			GUEST_NO_EXCEPTION);

	/* One vector at a time: each EOI through the flag, none stays in ISR. */
	for (i = 0; i < ROUNDS; i++) {
		self_ipi(V_ONE);
		asm volatile("sti; nop; cli" ::: "memory");
		GUEST_ASSERT(!isr_has(V_ONE));
	}
	GUEST_SYNC3(5, irq_count[V_ONE], flag_seen[V_ONE]);

	/* V_LOW waits in IRR while V_HIGH is taken: V_HIGH's EOI must exit. */
	self_ipi(V_HIGH);
	self_ipi(V_LOW);
	asm volatile("sti; nop; nop; cli" ::: "memory");
	GUEST_ASSERT(!isr_has(V_HIGH) && !isr_has(V_LOW));
	GUEST_SYNC3(6, flag_seen[V_HIGH] * 10 + irq_count[V_HIGH],
		    flag_seen[V_LOW] * 10 + irq_count[V_LOW]);

	/* Off again: the flag stays clear. */
	GUEST_ASSERT_EQ(guest_wrmsr_safe(PV_EOI_MSR, 0), GUEST_NO_EXCEPTION);
	self_ipi(V_ONE);
	asm volatile("sti; nop; cli" ::: "memory");
	GUEST_SYNC3(7, irq_count[V_ONE] - ROUNDS, flag_seen[V_ONE] - ROUNDS);
	GUEST_SYNC2(8, pv_eoi_done);
}

/* A guest without the KVM leaves: the MSR does not exist. */
static void guest_no_kvm(void)
{
	uint64_t v;

	GUEST_SYNC2(20, guest_rdmsr_safe(PV_EOI_MSR, &v));
	GUEST_SYNC2(21, guest_wrmsr_safe(PV_EOI_MSR, 0));
}

static uint64_t stage(struct vsnix_test_vcpu *vcpu, uint64_t n, uint64_t *arg2)
{
	struct ucall uc;

	if (vcpu_run_ucall_soft(vcpu, &uc) != UCALL_SYNC || uc.args[0] != n) {
		tap_diag("stage %lu: %s", (unsigned long)n, vcpu_exit_str(vcpu));
		return ~0ull;
	}
	if (arg2)
		*arg2 = uc.args[2];
	return uc.args[1];
}

static uint64_t vcpu_stat(struct vsnix_test_vcpu *vcpu, const char *name)
{
	struct vx_stats *s;
	uint64_t v;

	TEST_ASSERT(!vx_stats_parse(ioctl(vcpu->fd, VSNIX_GET_VCPU_STATS_FD, 0), &s),
		    "stats fd");
	TEST_ASSERT(!vx_stats_read(s), "stats read");
	v = vx_stats_get(s, name);
	vx_stats_free(s);
	return v;
}

static struct vsnix_test_vm *lapic_vm(void (*entry)(void),
				      struct vsnix_test_vcpu **vcpu)
{
	struct vsnix_test_vm *vm = vm_create_long(0);

	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_LAPIC, 0), "CREATE_LAPIC: %s",
		    strerror(errno));
	*vcpu = vcpu_create_long(vm, 0, entry);
	return vm;
}

static void test_pv_eoi(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_sregs sregs;
	uint64_t v, w = 0;

	vm = lapic_vm(guest_main, &vcpu);
	vm_set_idt_gate(vm, V_ONE, (uintptr_t)pv_stub_0x50);
	vm_set_idt_gate(vm, V_HIGH, (uintptr_t)pv_stub_0x70);
	vm_set_idt_gate(vm, V_LOW, (uintptr_t)pv_stub_0x40);
	vcpu_get_sregs(vcpu, &sregs);
	sregs.idt.limit = 256 * 16 - 1;
	vcpu_set_sregs(vcpu, &sregs);

	v = stage(vcpu, 1, &w);
	tap_ok(v == 1 && w == 0x40000101,
	       "CPUID 0x40000100: \"KVMKVMKVM\\0\\0\\0\", max leaf 0x%lx", (unsigned long)w);
	v = stage(vcpu, 2, NULL);
	tap_ok(v == ((1u << 1) | (1u << 6)),
	       "0x40000101 EAX 0x%lx: NOP_IO_DELAY and PV_EOI only", (unsigned long)v);
	v = stage(vcpu, 3, &w);
	tap_ok(v == 0 && w == 13, "PV EOI MSR reads 0 at reset; bit 1 set (not 4-byte aligned): #GP");
	tap_ok(stage(vcpu, 4, NULL) == 13, "PV EOI word outside guest RAM: #GP");
	v = stage(vcpu, 5, &w);
	tap_ok(v == ROUNDS && w == ROUNDS,
	       "%d self-IPIs: %lu taken, the flag set for %lu, ISR clear after each",
	       ROUNDS, (unsigned long)v, (unsigned long)w);
	v = stage(vcpu, 6, &w);
	tap_ok(v == 1 && w == 11,
	       "with 0x40 waiting in IRR, 0x70 EOIs through the register (flag %lu), then 0x40 through the flag (%lu)",
	       (unsigned long)v / 10, (unsigned long)w / 10);
	v = stage(vcpu, 7, &w);
	tap_ok(v == 1 && w == 0, "PV EOI disabled: the flag stays clear (%lu)", (unsigned long)w);
	v = stage(vcpu, 8, NULL);
	tap_ok(v == ROUNDS + 1 && vcpu_stat(vcpu, "pv_eoi") == v,
	       "vCPU stat pv_eoi %lu = the guest's EOIs through the flag (%lu)",
	       (unsigned long)vcpu_stat(vcpu, "pv_eoi"), (unsigned long)v);
	vm_destroy(vm);
}

/* SET_CPUID without 0x40000100/0x40000101. */
static void test_without_cpuid(void)
{
	size_t len = sizeof(struct vsnix_cpuid) +
		     VSNIX_MAX_CPUID_ENTRIES * sizeof(struct vsnix_cpuid_entry);
	struct vsnix_cpuid *c = calloc(1, len);
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	uint32_t i, n = 0;

	TEST_ASSERT(c, "calloc");
	c->nent = VSNIX_MAX_CPUID_ENTRIES;
	TEST_ASSERT(!ioctl(vsnix_dev_fd(), VSNIX_GET_SUPPORTED_CPUID, c),
		    "GET_SUPPORTED_CPUID: %s", strerror(errno));
	for (i = 0; i < c->nent; i++)
		if ((c->entries[i].function & ~1u) != 0x40000100)
			c->entries[n++] = c->entries[i];
	c->nent = n;
	vm = lapic_vm(guest_no_kvm, &vcpu);
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_SET_CPUID, c), "SET_CPUID: %s", strerror(errno));
	tap_ok(stage(vcpu, 20, NULL) == 13 && stage(vcpu, 21, NULL) == 13,
	       "without the KVM leaves, RDMSR and WRMSR of the PV EOI MSR: #GP");
	vm_destroy(vm);
	free(c);
}

int main(void)
{
	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_LAPIC) != 1)
		tap_skip_all("no VSNIX_CAP_LAPIC");
	tap_plan(9);
	test_pv_eoi();
	test_without_cpuid();
	tap_finish();
}
