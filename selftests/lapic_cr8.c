// SPDX-License-Identifier: GPL-2.0
/*
 * CR8 as the in-kernel local APIC's TPR (Intel SDM Vol 3, 10.8.6.1):
 * MOV to and from CR8 with each of the 16 GPRs (RSP included: on VMX it
 * lives in the VMCS, not with the others), the same TPR through the xAPIC
 * page (TPR, PPR) and the x2APIC MSRs 0x808/0x80a, #GP on reserved bits,
 * and an interrupt held by CR8 then delivered as soon as CR8 drops below
 * its priority class (10.8.3.1). Without an in-kernel LAPIC, CR8 is a
 * plain register that holds 0-15.
 *
 * SVM takes CR8 writes into V_TPR without an exit unless the TPR holds
 * back an interrupt. QEMU's TCG then skips the reserved-bit #GP (and keeps
 * CR8[3:0]): that check runs on VMX and on real AMD CPUs only.
 */
#include <signal.h>
#include <unistd.h>
#include "vsnix_util.h"

#define XAPIC		0xfee00000ul
#define APIC_BASE_MSR	0x1b
#define V_LOW		0x50		/* class 5 */
#define V_HIGH		0x61		/* class 6 */
#define V_SPURIOUS	0xff

volatile uint64_t cr8_w[16], cr8_r[16], cr8_saved_rsp;
volatile uint64_t irq_count[256];

/* The CR8 value each GPR carries: all differ from their neighbours. */
static const uint8_t gpr_val[16] = {
	3, 10, 1, 8, 15, 6, 13, 4, 11, 2, 9, 0, 7, 14, 5, 12,
};
static const char *const gpr_name[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/*
 * CR8_ONE reg, idx, val, tmp: MOV CR8 from reg, read it back into tmp
 * (cr8_w[idx]) and into reg itself (cr8_r[idx]). Values as gpr_val.
 */
asm(".pushsection .text\n"
	".macro CR8_ONE reg, idx, val, tmp\n"
	"  movq $\\val, %\\reg\n"
	"  movq %\\reg, %cr8\n"
	"  movq %cr8, %\\tmp\n"
	"  movq %\\tmp, cr8_w+8*\\idx(%rip)\n"
	"  movq $-1, %\\reg\n"
	"  movq %cr8, %\\reg\n"
	"  movq %\\reg, cr8_r+8*\\idx(%rip)\n"
	".endm\n"
	".globl cr8_sweep\n"
	"cr8_sweep:\n"
	"  pushq %rbx\n"
	"  pushq %rbp\n"
	"  pushq %r12\n"
	"  pushq %r13\n"
	"  pushq %r14\n"
	"  pushq %r15\n"
	"  pushfq\n"
	"  cli\n"
	"  movq %rsp, cr8_saved_rsp(%rip)\n"
	"  CR8_ONE rax, 0, 3, rcx\n"
	"  CR8_ONE rcx, 1, 10, rax\n"
	"  CR8_ONE rdx, 2, 1, rax\n"
	"  CR8_ONE rbx, 3, 8, rax\n"
	"  CR8_ONE rsp, 4, 15, rax\n"
	"  movq cr8_saved_rsp(%rip), %rsp\n"
	"  CR8_ONE rbp, 5, 6, rax\n"
	"  CR8_ONE rsi, 6, 13, rax\n"
	"  CR8_ONE rdi, 7, 4, rax\n"
	"  CR8_ONE r8, 8, 11, rax\n"
	"  CR8_ONE r9, 9, 2, rax\n"
	"  CR8_ONE r10, 10, 9, rax\n"
	"  CR8_ONE r11, 11, 0, rax\n"
	"  CR8_ONE r12, 12, 7, rax\n"
	"  CR8_ONE r13, 13, 14, rax\n"
	"  CR8_ONE r14, 14, 5, rax\n"
	"  CR8_ONE r15, 15, 12, rax\n"
	"  popfq\n"
	"  popq %r15\n"
	"  popq %r14\n"
	"  popq %r13\n"
	"  popq %r12\n"
	"  popq %rbp\n"
	"  popq %rbx\n"
	"  ret\n"
	".purgem CR8_ONE\n"
	"irq_stub_low:\n"
	"  lock incq irq_count+8*0x50(%rip)\n"
	"  jmp irq_eoi\n"
	"irq_stub_high:\n"
	"  lock incq irq_count+8*0x61(%rip)\n"
	"irq_eoi:\n"
	"  pushq %rax\n"
	"  movabsq $0xfee000b0, %rax\n"
	"  movl $0, (%rax)\n"
	"  popq %rax\n"
	"  iretq\n"
	"irq_stub_spurious:\n"
	"  iretq\n"
	".popsection\n");

void cr8_sweep(void);
extern char irq_stub_low[], irq_stub_high[], irq_stub_spurious[];

static inline uint32_t apic_rd(uint32_t off)
{
	return *(volatile uint32_t *)(XAPIC + off);
}

static inline void apic_wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(XAPIC + off) = v;
}

static inline uint64_t read_cr8(void)
{
	uint64_t v;

	asm volatile("mov %%cr8, %0" : "=r"(v));
	return v;
}

static inline void write_cr8(uint64_t v)
{
	asm volatile("mov %0, %%cr8" : : "r"(v) : "memory");
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

static uint64_t rdmsr(uint32_t index)
{
	uint64_t v;

	GUEST_ASSERT_EQ(guest_rdmsr_safe(index, &v), GUEST_NO_EXCEPTION);
	return v;
}

/* Stage 1: a bit per GPR whose write or read-back went wrong, and TPR. */
static void guest_sweep(void)
{
	uint64_t bad = 0;
	int i;

	cr8_sweep();
	for (i = 0; i < 16; i++)
		if (cr8_w[i] != gpr_val[i] || cr8_r[i] != gpr_val[i])
			bad |= 1ull << i;
	GUEST_SYNC3(1, bad, apic_rd(0x80));
}

/*
 * Without a LAPIC: the same sweep (VMX: CR8 exits, vmx_exit_cr; SVM:
 * V_TPR, not intercepted). The #GP for CR8 > 15 only where CR8 exits:
 * QEMU's TCG takes MOV CR8 = 16 with V_INTR_MASKING without #GP.
 */
static void guest_nolapic(uint64_t check_gp)
{
	uint64_t bad = 0;
	int i;

	cr8_sweep();
	for (i = 0; i < 16; i++)
		if (cr8_w[i] != gpr_val[i] || cr8_r[i] != gpr_val[i])
			bad |= 1ull << i;
	if (check_gp) {
		GUEST_ASSERT_EQ(write_cr8_safe(16), 13);
		GUEST_ASSERT_EQ(read_cr8(), 12);
	}
	GUEST_SYNC3(1, bad, 12);
}

/* Stage 2: CR8, TPR and PPR agree both ways; reserved bits take #GP. */
static void guest_mmio(uint64_t check_gp)
{
	uint64_t v;

	for (v = 0; v < 16; v++) {
		write_cr8(v);
		GUEST_ASSERT_EQ(apic_rd(0x80), v << 4);
		GUEST_ASSERT_EQ(apic_rd(0xa0), v << 4);		/* ISR empty */
		apic_wr(0x80, ((15 - v) << 4) | 0x7);
		GUEST_ASSERT_EQ(read_cr8(), 15 - v);
	}
	write_cr8(6);
	if (check_gp) {
		GUEST_ASSERT_EQ(write_cr8_safe(16), 13);
		GUEST_ASSERT_EQ(write_cr8_safe(1ull << 63), 13);
	}
	GUEST_ASSERT_EQ(read_cr8(), 6);
	GUEST_ASSERT_EQ(apic_rd(0x80), 0x60);
	GUEST_SYNC(2);
}

/*
 * Stage 3: held while class <= CR8, taken right after MOV CR8 lowers it;
 * and held when CR8 rises over a vector that was deliverable while IF=0
 * (SVM: already in V_IRQ, with V_IGN_TPR).
 */
static void guest_irq(void)
{
	uint64_t held, now, raised, after, base, i;

	apic_wr(0xf0, 0x100 | V_SPURIOUS);
	write_cr8(5);
	asm volatile("sti");
	apic_wr(0x300, 0x40000 | V_LOW);		/* self-IPI, class 5 */
	for (i = 0; i < 100000; i++)
		asm volatile("pause");
	held = irq_count[V_LOW];
	GUEST_ASSERT(apic_rd(0x200 + 0x10 * (V_LOW >> 5)) &
		     (1u << (V_LOW & 31)));			/* in IRR */
	write_cr8(4);
	now = irq_count[V_LOW];				/* the next instruction */
	write_cr8(15);
	apic_wr(0x300, 0x40000 | V_HIGH);		/* class 6, held */
	write_cr8(6);
	GUEST_ASSERT_EQ(irq_count[V_HIGH], 0);
	write_cr8(5);
	asm volatile("cli");

	base = irq_count[V_LOW];
	write_cr8(0);
	apic_wr(0x300, 0x40000 | V_LOW);		/* deliverable, IF=0 */
	write_cr8(6);
	asm volatile("sti");
	for (i = 0; i < 100000; i++)
		asm volatile("pause");
	raised = irq_count[V_LOW] - base;
	write_cr8(4);
	after = irq_count[V_LOW] - base;		/* the next instruction */
	asm volatile("cli");
	write_cr8(5);
	GUEST_SYNC3(3, held | now << 8 | raised << 16 | after << 24,
		    irq_count[V_HIGH]);
}

/* Stage 4: in x2APIC mode CR8 is TPR MSR 0x808's bits 7:4. */
static void guest_x2apic(uint64_t check_gp)
{
	GUEST_ASSERT_EQ(guest_wrmsr_safe(APIC_BASE_MSR, XAPIC | (3ul << 10)),
			GUEST_NO_EXCEPTION);
	write_cr8(7);
	GUEST_ASSERT_EQ(rdmsr(0x808), 0x70);
	GUEST_ASSERT_EQ(rdmsr(0x80a), 0x70);			/* PPR */
	GUEST_ASSERT_EQ(guest_wrmsr_safe(0x808, 0x3a), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(read_cr8(), 3);
	if (check_gp)
		GUEST_ASSERT_EQ(write_cr8_safe(0x1f), 13);
	GUEST_ASSERT_EQ(rdmsr(0x808), 0x3a);
	GUEST_SYNC(4);
}

static void guest_main(uint64_t check_gp)
{
	guest_sweep();
	guest_mmio(check_gp);
	guest_irq();
	guest_x2apic(check_gp);
}

static void on_alarm(int sig)
{
}

static bool stage(struct vsnix_test_vcpu *vcpu, uint64_t n, struct ucall *uc)
{
	uint64_t cmd;

	alarm(30);
	cmd = vcpu_run_ucall_soft(vcpu, uc);
	alarm(0);
	return cmd == UCALL_SYNC && uc->args[0] == n;
}

static void report_sweep(bool ok, const struct ucall *uc, const char *what)
{
	int i;

	if (ok)
		for (i = 0; i < 16; i++)
			if (uc->args[1] & (1ull << i))
				tap_diag("MOV CR8 via %s: %u did not come back",
					 gpr_name[i], gpr_val[i]);
	tap_ok(ok && !uc->args[1] && uc->args[2] == (what ? 12 : 0xc0),
	       "%sMOV to/from CR8 with each of the 16 GPRs, RSP included (bad mask %#lx, %s %#lx)",
	       what ? what : "", ok ? (unsigned long)uc->args[1] : 0ul,
	       what ? "CR8" : "TPR", ok ? (unsigned long)uc->args[2] : 0ul);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_sregs sregs;
	struct vsnix_test_vm *vm;
	bool check_gp, mmio_ok, x2apic_ok;
	struct ucall uc;
	bool ok;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_LAPIC) != 1)
		tap_skip_all("no VSNIX_CAP_LAPIC");
	tap_plan(9);
	sigaction(SIGALRM, &sa, NULL);

	vm = vm_create_long(0);
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_LAPIC, 0), "CREATE_LAPIC: %s",
		    strerror(errno));
	vcpu = vcpu_create_long(vm, 0, guest_main);
	check_gp = !(vsnix_is_svm() && host_is_qemu_tcg());
	vcpu_set_args(vcpu, 1, (uint64_t)check_gp);
	vm_set_idt_gate(vm, V_LOW, (uintptr_t)irq_stub_low);
	vm_set_idt_gate(vm, V_HIGH, (uintptr_t)irq_stub_high);
	vm_set_idt_gate(vm, V_SPURIOUS, (uintptr_t)irq_stub_spurious);
	vcpu_get_sregs(vcpu, &sregs);
	sregs.idt.limit = 256 * 16 - 1;
	vcpu_set_sregs(vcpu, &sregs);

	report_sweep(stage(vcpu, 1, &uc), &uc, NULL);
	mmio_ok = stage(vcpu, 2, &uc);
	tap_ok(mmio_ok, "CR8 = TPR[7:4] = PPR[7:4] through the xAPIC page");
	ok = stage(vcpu, 3, &uc);
	tap_ok(ok && (uc.args[1] & 0xff) == 0 && ((uc.args[1] >> 8) & 0xff) == 1,
	       "CR8 = 5 holds vector 0x50 in IRR; CR8 = 4 delivers it before the next instruction (held %lu, after %lu)",
	       ok ? (unsigned long)(uc.args[1] & 0xff) : 0ul,
	       ok ? (unsigned long)((uc.args[1] >> 8) & 0xff) : 0ul);
	tap_ok(ok && uc.args[2] == 1,
	       "CR8 = 6 holds class 6 vector 0x61; CR8 = 5 delivers it (%lu)",
	       ok ? (unsigned long)uc.args[2] : 0ul);
	tap_ok(ok && ((uc.args[1] >> 16) & 0xff) == 0 && (uc.args[1] >> 24) == 1,
	       "CR8 = 6 set while 0x50 waits for STI holds it; CR8 = 4 delivers it (held %lu, after %lu)",
	       ok ? (unsigned long)((uc.args[1] >> 16) & 0xff) : 0ul,
	       ok ? (unsigned long)(uc.args[1] >> 24) : 0ul);
	x2apic_ok = stage(vcpu, 4, &uc) &&
		    vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE;
	tap_ok(x2apic_ok, "x2APIC: CR8 is TPR MSR 0x808[7:4], PPR MSR 0x80a follows");
	if (check_gp)
		tap_ok(mmio_ok && x2apic_ok,
		       "MOV to CR8 with reserved bits takes a general-protection fault, CR8 unchanged (xAPIC, x2APIC)");
	else
		tap_skip("QEMU's TCG writes V_TPR without the reserved-bit #GP",
			 "MOV to CR8 with reserved bits takes a general-protection fault, CR8 unchanged (xAPIC, x2APIC)");
	vm_destroy(vm);

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_nolapic);
	vcpu_set_args(vcpu, 1, (uint64_t)vsnix_is_vmx());
	report_sweep(stage(vcpu, 1, &uc), &uc, "no LAPIC: ");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
