// SPDX-License-Identifier: GPL-2.0
/*
 * IPIs between two vCPUs in logical destination mode, as Linux's flat and
 * cluster APIC drivers send them (Intel SDM Vol 3, 10.6.2.2): the flat
 * model (DFR 0xffffffff, LDR[31:24] a bit mask), the cluster model (DFR
 * 0x0fffffff, LDR[31:28] cluster, [27:24] members), and lowest-priority
 * delivery (10.6.2.4), which goes to the matching LAPIC with the lowest
 * priority (PPR, here set through TPR). Each handler counts per vCPU.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include "vsnix_util.h"

#define XAPIC		0xfee00000ul
#define NR_V		7
#define V_BASE		0x90	/* vectors 0x90..0x96, one per check */
#define V_SPURIOUS	0xff
#define LOGICAL		(1u << 11)
#define LOWEST		(1u << 8)
#define FLAT		0xffffffffu
#define CLUSTER		0x0fffffffu

/* cnt[v - V_BASE][APIC ID]: interrupts taken. */
volatile uint64_t cnt[NR_V][2];
volatile uint64_t ap_cmd, ap_ack;

/* Count under the receiving LAPIC's ID, then EOI. */
#define STUB(n)								\
	"irq_stub_" #n ":\n"						\
	"  pushq %rax\n"						\
	"  pushq %rcx\n"						\
	"  movabsq $0xfee00020, %rax\n"					\
	"  movl (%rax), %eax\n"						\
	"  shrl $24, %eax\n"						\
	"  andl $1, %eax\n"						\
	"  leaq cnt+16*" #n "(%rip), %rcx\n"				\
	"  lock incq (%rcx,%rax,8)\n"					\
	"  movabsq $0xfee000b0, %rax\n"					\
	"  movl $0, (%rax)\n"						\
	"  popq %rcx\n"							\
	"  popq %rax\n"							\
	"  iretq\n"

extern char irq_stub_0[], irq_stub_1[], irq_stub_2[], irq_stub_3[],
	    irq_stub_4[], irq_stub_5[], irq_stub_6[], irq_stub_spurious[];

asm(".pushsection .text\n"
	STUB(0) STUB(1) STUB(2) STUB(3) STUB(4) STUB(5) STUB(6)
	"irq_stub_spurious:\n"
	"  iretq\n"
	".popsection\n");

static inline void apic_wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(XAPIC + off) = v;
}

static void apic_setup(uint32_t dfr, uint32_t ldr, uint32_t tpr)
{
	apic_wr(0xf0, 0x100 | V_SPURIOUS);	/* software enable */
	apic_wr(0xe0, dfr);
	apic_wr(0xd0, ldr);
	apic_wr(0x80, tpr);
}

/* Phase n of the AP's LAPIC (it alone may write its own registers). */
static void ap_command(uint64_t n)
{
	ap_cmd = n;
	while (ap_ack != n)
		asm volatile("pause");
}

/* IPI from vCPU 0, then wait until each vCPU's count is reached. */
static void ipi(uint32_t dest, uint32_t mode, int n, uint64_t want0, uint64_t want1)
{
	uint64_t end;

	apic_wr(0x310, dest << 24);
	apic_wr(0x300, mode | (V_BASE + n));
	end = guest_rdtsc() + 4000000000ull;
	while ((cnt[n][0] < want0 || cnt[n][1] < want1) && guest_rdtsc() < end)
		asm volatile("pause");
	guest_spin_cycles(20000000);		/* and nothing more arrives */
	GUEST_SYNC3(n + 1, cnt[n][0], cnt[n][1]);
}

static void guest_bsp(void)
{
	asm volatile("sti");
	apic_setup(FLAT, 0x01u << 24, 0);
	ap_command(1);					/* AP: flat, bit 1 */
	ipi(0x02, LOGICAL, 0, 0, 1);
	ipi(0x03, LOGICAL, 1, 1, 1);
	apic_wr(0x80, 0x80);				/* BSP busier */
	ipi(0x03, LOGICAL | LOWEST, 2, 0, 1);
	apic_wr(0x80, 0);
	ap_command(2);					/* AP TPR 0x80 */
	ipi(0x03, LOGICAL | LOWEST, 3, 1, 0);
	ap_command(3);					/* AP: cluster 1, bit 1 */
	apic_setup(CLUSTER, 0x11u << 24, 0);
	ipi(0x12, LOGICAL, 4, 0, 1);
	ipi(0x13, LOGICAL, 5, 1, 1);
	ipi(0x21, LOGICAL, 6, 0, 0);			/* cluster 2: nobody */
	ap_command(4);
}

static void guest_ap(void)
{
	uint64_t n = 0;

	asm volatile("sti");
	for (;;) {
		while (ap_cmd == n)
			asm volatile("pause");
		n = ap_cmd;
		if (n == 1)
			apic_setup(FLAT, 0x02u << 24, 0);
		else if (n == 2)
			apic_wr(0x80, 0x80);
		else if (n == 3)
			apic_setup(CLUSTER, 0x12u << 24, 0);
		ap_ack = n;
		if (n == 4)
			GUEST_DONE();
	}
}

static void on_signal(int sig)
{
}

static void *ap_thread(void *arg)
{
	struct vsnix_test_vcpu *vcpu = arg;
	struct ucall uc;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return (void *)(long)(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE);
}

static void setup_idt(struct vsnix_test_vm *vm, struct vsnix_test_vcpu **v)
{
	static char *const stubs[NR_V] = {
		irq_stub_0, irq_stub_1, irq_stub_2, irq_stub_3, irq_stub_4,
		irq_stub_5, irq_stub_6,
	};
	struct vsnix_sregs sregs;
	int i;

	for (i = 0; i < NR_V; i++)
		vm_set_idt_gate(vm, V_BASE + i, (uintptr_t)stubs[i]);
	vm_set_idt_gate(vm, V_SPURIOUS, (uintptr_t)irq_stub_spurious);
	for (i = 0; i < 2; i++) {
		vcpu_get_sregs(v[i], &sregs);
		sregs.idt.limit = 256 * 16 - 1;
		vcpu_set_sregs(v[i], &sregs);
	}
}

int main(void)
{
	static const struct {
		const char *what;
		uint64_t want0, want1;
	} checks[NR_V] = {
		{ "flat: fixed to logical 0x02 reaches vCPU 1 only", 0, 1 },
		{ "flat: fixed to logical 0x03 reaches both", 1, 1 },
		{ "flat: lowest priority to 0x03 goes to vCPU 1 (vCPU 0 TPR 0x80)", 0, 1 },
		{ "flat: lowest priority to 0x03 goes to vCPU 0 (vCPU 1 TPR 0x80)", 1, 0 },
		{ "cluster: fixed to 0x12 (cluster 1, bit 1) reaches vCPU 1 only", 0, 1 },
		{ "cluster: fixed to 0x13 reaches both", 1, 1 },
		{ "cluster: fixed to 0x21 (cluster 2) reaches nobody", 0, 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct vsnix_test_vcpu *v[2];
	struct vsnix_test_vm *vm;
	struct ucall uc;
	pthread_t t;
	void *res;
	int i;
	bool ok;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_LAPIC) != 1)
		tap_skip_all("no VSNIX_CAP_LAPIC");
	tap_plan(NR_V + 2);
	sigaction(SIGALRM, &sa, NULL);

	vm = vm_create_long(0);
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_LAPIC, 0), "CREATE_LAPIC: %s",
		    strerror(errno));
	v[0] = vcpu_create_long(vm, 0, guest_bsp);
	v[1] = vcpu_create_long(vm, 1, guest_ap);
	setup_idt(vm, v);
	TEST_ASSERT(!pthread_create(&t, NULL, ap_thread, v[1]), "pthread_create");

	for (i = 0; i < NR_V; i++) {
		alarm(60);
		ok = vcpu_run_ucall_soft(v[0], &uc) == UCALL_SYNC && uc.args[0] == (uint64_t)i + 1;
		alarm(0);
		tap_ok(ok && uc.args[1] == checks[i].want0 && uc.args[2] == checks[i].want1,
		       "%s (vCPU 0: %lu, vCPU 1: %lu)", checks[i].what,
		       ok ? (unsigned long)uc.args[1] : 0ul, ok ? (unsigned long)uc.args[2] : 0ul);
	}
	alarm(60);
	ok = vcpu_run_ucall_soft(v[0], &uc) == UCALL_DONE;
	alarm(0);
	ok = !pthread_join(t, &res) && res && ok;
	tap_ok(ok, "both vCPUs finished");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
