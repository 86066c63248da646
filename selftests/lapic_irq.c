// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts from the in-kernel local APIC into the guest's IDT (Intel
 * SDM Vol 3, chapter 10), with HLT sleeping in the kernel in between:
 * the timer in one-shot, periodic and TSC-deadline modes, a self-IPI,
 * TPR (CR8) masking, a fixed IPI to a second vCPU, INIT/SIPI start of
 * that vCPU, and the x2APIC SELF_IPI MSR. Needs the event layer.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include "vsnix_util.h"

#define XAPIC		0xfee00000ul
#define TSC_DEADLINE	0x6e0
#define V_TIMER		0x40
#define V_PERIODIC	0x41
#define V_DEADLINE	0x42
#define V_SELF		0x50
#define V_IPI		0x60
#define V_X2SELF	0x51
#define V_SPURIOUS	0xff
#define SIPI_VECTOR	0x08		/* the AP starts at 0x8000 */
#define AP_MARKER_GPA	0x7000
#define AP_PORT		0x80

volatile uint64_t irq_count[256];
volatile uint64_t use_x2apic;
volatile uint64_t ap_ready, ap_saw_ipi;

/* Each handler counts its vector and signals EOI in the APIC's mode. */
#define IRQ_STUB(v)							\
	"irq_stub_" #v ":\n"						\
	"  pushq %rax\n"						\
	"  lock incq irq_count+8*" #v "(%rip)\n"			\
	"  call irq_eoi\n"						\
	"  popq %rax\n"							\
	"  iretq\n"

extern char irq_stub_0x40[], irq_stub_0x41[], irq_stub_0x42[],
	    irq_stub_0x50[], irq_stub_0x51[], irq_stub_0x60[],
	    irq_stub_0xff[];

asm(".pushsection .text\n"
	IRQ_STUB(0x40) IRQ_STUB(0x41) IRQ_STUB(0x42) IRQ_STUB(0x50)
	IRQ_STUB(0x51) IRQ_STUB(0x60) IRQ_STUB(0xff)
	"irq_eoi:\n"
	"  cmpq $0, use_x2apic(%rip)\n"
	"  jne 1f\n"
	"  movabsq $0xfee000b0, %rax\n"
	"  movl $0, (%rax)\n"
	"  ret\n"
	"1:\n"
	"  pushq %rcx\n"
	"  pushq %rdx\n"
	"  movl $0x80b, %ecx\n"
	"  xorl %eax, %eax\n"
	"  xorl %edx, %edx\n"
	"  wrmsr\n"
	"  popq %rdx\n"
	"  popq %rcx\n"
	"  ret\n"
	".popsection\n");

static inline uint32_t apic_rd(uint32_t off)
{
	return *(volatile uint32_t *)(XAPIC + off);
}

static inline void apic_wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(XAPIC + off) = v;
}

/* HLT with interrupts on until irq_count[v] reaches n (the host bounds it). */
static void wait_irqs(int v, uint64_t n)
{
	asm volatile("cli");
	while (irq_count[v] < n)
		asm volatile("sti; hlt; cli" ::: "memory");
	asm volatile("sti");
}

static void send_ipi(uint32_t dest, uint32_t icr)
{
	apic_wr(0x310, dest << 24);
	apic_wr(0x300, icr);
}

static void guest_timers(void)
{
	uint64_t deadline, n, t0;

	apic_wr(0xf0, 0x100 | V_SPURIOUS);		/* software enable */
	apic_wr(0x3e0, 0xb);				/* divide by 1 */
	apic_wr(0x320, V_TIMER);			/* one-shot */
	t0 = guest_rdtsc();
	apic_wr(0x380, 1000000);			/* 1 ms at 1 GHz */
	wait_irqs(V_TIMER, 1);
	n = guest_rdtsc() - t0;
	GUEST_ASSERT_EQ(apic_rd(0x390), 0);
	GUEST_SYNC3(1, irq_count[V_TIMER], n);

	apic_wr(0x320, 0x20000 | V_PERIODIC);		/* periodic */
	apic_wr(0x380, 300000);				/* 300 us */
	wait_irqs(V_PERIODIC, 5);
	apic_wr(0x380, 0);
	n = irq_count[V_PERIODIC];
	guest_spin_cycles(50000000);
	GUEST_SYNC3(2, n, irq_count[V_PERIODIC] - n);

	apic_wr(0x320, 0x40000 | V_DEADLINE);		/* TSC deadline */
	deadline = guest_rdtsc() + 2000000;
	GUEST_ASSERT_EQ(guest_wrmsr_safe(TSC_DEADLINE, deadline), GUEST_NO_EXCEPTION);
	wait_irqs(V_DEADLINE, 1);
	GUEST_ASSERT(guest_rdtsc() >= deadline);
	GUEST_ASSERT_EQ(guest_rdmsr_safe(TSC_DEADLINE, &n), GUEST_NO_EXCEPTION);
	/* A deadline already passed: taken as the WRMSR completes. */
	GUEST_ASSERT_EQ(guest_wrmsr_safe(TSC_DEADLINE, 1), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(irq_count[V_DEADLINE], 2);
	GUEST_SYNC3(3, irq_count[V_DEADLINE] - 1, n);
	apic_wr(0x320, 0x10000);
}

static void guest_ipis(void)
{
	uint64_t end;

	send_ipi(0, 0x40000 | V_SELF);			/* shorthand self */
	wait_irqs(V_SELF, 1);
	GUEST_SYNC2(4, irq_count[V_SELF]);

	asm volatile("mov %0, %%cr8" : : "r"(6ul));	/* TPR class 6 */
	send_ipi(0, 0x40000 | V_SELF);
	guest_spin_cycles(20000000);
	GUEST_ASSERT_EQ(irq_count[V_SELF], 1);		/* held: class 5 <= 6 */
	GUEST_ASSERT(apic_rd(0x220) & (1u << (V_SELF - 64)));	/* in IRR */
	asm volatile("mov %0, %%cr8" : : "r"(0ul));
	wait_irqs(V_SELF, 2);
	GUEST_SYNC2(5, irq_count[V_SELF]);

	end = guest_rdtsc() + 20000000000ull;
	while (!ap_ready && guest_rdtsc() < end)
		asm volatile("pause");
	GUEST_ASSERT(ap_ready);
	send_ipi(1, V_IPI);				/* fixed, physical ID 1 */
	end = guest_rdtsc() + 20000000000ull;
	while (!ap_saw_ipi && guest_rdtsc() < end)
		asm volatile("pause");
	GUEST_SYNC2(6, ap_saw_ipi);
}

static void guest_init_sipi(void)
{
	volatile uint16_t *marker = (volatile uint16_t *)AP_MARKER_GPA;
	uint64_t end;

	send_ipi(1, 0x4500);				/* INIT, level assert */
	send_ipi(1, 0x8500);				/* INIT de-assert */
	guest_spin_cycles(1000000);
	send_ipi(1, 0x600 | SIPI_VECTOR);		/* SIPI */
	end = guest_rdtsc() + 20000000000ull;
	while (*marker != 0xbeef && guest_rdtsc() < end)
		asm volatile("pause");
	GUEST_SYNC2(7, *marker);
}

static void guest_x2apic(void)
{
	uint64_t base;

	GUEST_ASSERT_EQ(guest_rdmsr_safe(0x1b, &base), GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(0x1b, base | (1 << 10)), GUEST_NO_EXCEPTION);
	use_x2apic = 1;
	GUEST_ASSERT_EQ(guest_wrmsr_safe(0x83f, V_X2SELF), GUEST_NO_EXCEPTION);
	wait_irqs(V_X2SELF, 1);
	GUEST_SYNC2(8, irq_count[V_X2SELF]);
}

static void guest_bsp(void)
{
	guest_timers();
	guest_ipis();
	guest_init_sipi();
	guest_x2apic();
}

static void guest_ap(void)
{
	apic_wr(0xf0, 0x100 | V_SPURIOUS);
	ap_ready = 1;
	wait_irqs(V_IPI, 1);
	ap_saw_ipi = irq_count[V_IPI];
	GUEST_SYNC2(100, ap_saw_ipi);
	for (;;)
		asm volatile("cli; hlt");		/* until INIT */
}

/* Real mode at 0x8000: store the marker, OUT to AP_PORT, halt. */
static const uint8_t trampoline[] = {
	0xb8, 0xef, 0xbe,		/* mov ax, 0xbeef */
	0xa3, 0x00, 0x70,		/* mov [0x7000], ax */
	0xb0, 0x2a,			/* mov al, 0x2a */
	0xe6, AP_PORT,			/* out 0x80, al */
	0xf4,				/* hlt */
	0xeb, 0xfd,			/* jmp hlt */
};

struct ap_result {
	struct vsnix_test_vcpu *vcpu;
	bool synced, ipi, started;
	bool reported;		/* synced and ipi are final (atomic) */
	uint16_t cs;
};

static void on_signal(int sig)
{
}

static void *ap_thread(void *arg)
{
	struct ap_result *r = arg;
	struct vsnix_sregs sregs;
	struct ucall uc;
	sigset_t set;

	/* SIGALRM bounds the BSP's stages: it is for the main thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	r->synced = vcpu_run_ucall_soft(r->vcpu, &uc) == UCALL_SYNC &&
		    uc.args[0] == 100;
	r->ipi = r->synced && uc.args[1] == 1;
	__atomic_store_n(&r->reported, true, __ATOMIC_RELEASE);
	/* Halts until INIT, waits for the SIPI, then runs the trampoline. */
	if (vcpu_run_raw(r->vcpu) == 0 &&
	    vcpu_is_io(r->vcpu, AP_PORT, VSNIX_EXIT_IO_OUT, 1) &&
	    *(uint8_t *)vcpu_io_data(r->vcpu) == 0x2a) {
		vcpu_get_sregs(r->vcpu, &sregs);
		r->cs = sregs.cs.selector;
		r->started = true;
	} else {
		tap_diag("AP: %s", vcpu_exit_str(r->vcpu));
	}
	return NULL;
}

static bool bsp_stage(struct vsnix_test_vcpu *vcpu, uint64_t n, struct ucall *uc)
{
	bool ok;

	alarm(30);
	ok = vcpu_run_ucall_soft(vcpu, uc) == UCALL_SYNC && uc->args[0] == n;
	alarm(0);
	return ok;
}

static void setup_idt(struct vsnix_test_vm *vm, struct vsnix_test_vcpu **v)
{
	struct vsnix_sregs sregs;
	int i;

	vm_set_idt_gate(vm, V_TIMER, (uintptr_t)irq_stub_0x40);
	vm_set_idt_gate(vm, V_PERIODIC, (uintptr_t)irq_stub_0x41);
	vm_set_idt_gate(vm, V_DEADLINE, (uintptr_t)irq_stub_0x42);
	vm_set_idt_gate(vm, V_SELF, (uintptr_t)irq_stub_0x50);
	vm_set_idt_gate(vm, V_X2SELF, (uintptr_t)irq_stub_0x51);
	vm_set_idt_gate(vm, V_IPI, (uintptr_t)irq_stub_0x60);
	vm_set_idt_gate(vm, V_SPURIOUS, (uintptr_t)irq_stub_0xff);
	for (i = 0; i < 2; i++) {
		vcpu_get_sregs(v[i], &sregs);
		sregs.idt.limit = 256 * 16 - 1;
		vcpu_set_sregs(v[i], &sregs);
	}
	vm_write(vm, SIPI_VECTOR << 12, trampoline, sizeof(trampoline));
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct vsnix_test_vcpu *v[2];
	struct ap_result ap = { };
	int i;
	struct vsnix_test_vm *vm;
	pthread_t t;
	struct ucall uc;
	bool ok;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_LAPIC) != 1)
		tap_skip_all("no VSNIX_CAP_LAPIC");
	tap_plan(13);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	vm = vm_create_long(0);
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_LAPIC, 0), "CREATE_LAPIC: %s",
		    strerror(errno));
	v[0] = vcpu_create_long(vm, 0, guest_bsp);
	v[1] = vcpu_create_long(vm, 1, guest_ap);
	setup_idt(vm, v);
	ap.vcpu = v[1];
	TEST_ASSERT(!pthread_create(&t, NULL, ap_thread, &ap), "pthread_create");

	ok = bsp_stage(v[0], 1, &uc);
	tap_ok(ok && uc.args[1] == 1, "one-shot timer: one interrupt through HLT, count 0 after");
	/*
	 * The timer's clock (CPUID 0x15's crystal) never outruns the TSC on
	 * hardware: 10^6 counts at divide-by-1 last >= 10^6 TSC cycles, also
	 * on a slow TSC (Bochs' 200 MHz; kvm-unit-tests' "APIC LVT timer one
	 * shot" checks the same).
	 */
	tap_ok(ok && uc.args[2] >= 1000000,
	       "one-shot of 1000000 counts lasted %lu TSC cycles (>= 1000000)",
	       (unsigned long)uc.args[2]);
	ok = bsp_stage(v[0], 2, &uc);
	tap_ok(ok && uc.args[1] >= 5 && uc.args[2] == 0,
	       "periodic timer: %lu interrupts, %lu after initial count 0",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = bsp_stage(v[0], 3, &uc);
	tap_ok(ok && uc.args[1] == 1 && uc.args[2] == 0,
	       "TSC-deadline timer: fired at or after the deadline, MSR reads 0 after; a past deadline fires before the next instruction");
	ok = bsp_stage(v[0], 4, &uc);
	tap_ok(ok && uc.args[1] == 1, "xAPIC self-IPI (ICR shorthand self)");
	ok = bsp_stage(v[0], 5, &uc);
	tap_ok(ok && uc.args[1] == 2, "CR8 = 6 holds vector 0x50 in IRR; CR8 = 0 delivers it");
	ok = bsp_stage(v[0], 6, &uc);
	tap_ok(ok && uc.args[1] == 1, "fixed IPI from vCPU 0 to vCPU 1 (physical ID 1)");
	/*
	 * The BSP's stage 6 ends once the AP's handler ran; the AP thread
	 * sees its own SYNC exit a little later (much later on the debug
	 * kernel): wait for it (10 s).
	 */
	for (i = 0; i < 10000 && !__atomic_load_n(&ap.reported, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	tap_ok(ap.synced && ap.ipi, "vCPU 1 took the IPI while halted");
	ok = bsp_stage(v[0], 7, &uc);
	tap_ok(ok && uc.args[1] == 0xbeef, "INIT/SIPI: vCPU 1 ran the real-mode trampoline");
	while (pthread_tryjoin_np(t, NULL)) {
		pthread_kill(t, SIGUSR1);
		usleep(10000);
	}
	tap_ok(ap.started && ap.cs == SIPI_VECTOR << 8,
	       "vCPU 1 started at CS 0x%x after the SIPI (want 0x%x)", ap.cs,
	       SIPI_VECTOR << 8);
	ok = bsp_stage(v[0], 8, &uc);
	tap_ok(ok && uc.args[1] == 1, "x2APIC SELF_IPI MSR, EOI by MSR");
	alarm(30);
	tap_ok(vcpu_run_ucall_soft(v[0], &uc) == UCALL_DONE, "guest finished");
	alarm(0);
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
