// SPDX-License-Identifier: GPL-2.0
/*
 * Fixed IPIs from vCPU 0 to vCPU 1, which waits in HLT with IF=1, round
 * after round; each must reach vCPU 1's handler exactly once. Two kinds:
 * vCPU 1 back in HLT (sleeping in the kernel) when the IPI comes, and the
 * next IPI sent once the handler ran but before its EOI, so that it must
 * wait in IRR while the first is in ISR (Intel SDM Vol 3, 10.8.4). The
 * second is what kvm-unit-tests' vmexit_ipi does (the sender sees the
 * handler's "done" before its EOI); with SVM V_IRQ delivery, that IPI was
 * merged with the one in V_IRQ and lost, and the sender hung.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include "vsnix_util.h"

#define XAPIC		0xfee00000ul
#define V_IPI		0x60
#define V_SPURIOUS	0xff
#define ROUNDS_HALTED	60
#define ROUNDS_OVERLAP	100
/* A bound on each wait, far beyond a round (microseconds): ~10 s. */
#define WAIT_CYCLES	20000000000ull

volatile uint64_t ap_count;	/* IPIs vCPU 1's handler took */
volatile uint64_t bsp_sent;	/* IPIs vCPU 0 sent */
volatile uint64_t overlap;	/* the handler waits for the next IPI */
volatile uint64_t ap_ready;

static inline void apic_wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(XAPIC + off) = v;
}

/* vCPU 1's handler: count, then (overlap) wait until the next was sent. */
void ap_irq(void)
{
	uint64_t n = ap_count + 1, end;

	ap_count = n;
	if (overlap) {
		end = guest_rdtsc() + WAIT_CYCLES;
		while (overlap && bsp_sent <= n && guest_rdtsc() < end)
			asm volatile("pause");
	}
	apic_wr(0xb0, 0);				/* EOI */
}

/* Caller-saved registers around a C call; RSP is 16-aligned at the call. */
extern char ipi_stub[], spurious_stub[];
asm(".pushsection .text\n"
	"ipi_stub:\n"
	"  pushq %rax\n  pushq %rcx\n  pushq %rdx\n  pushq %rsi\n"
	"  pushq %rdi\n  pushq %r8\n  pushq %r9\n  pushq %r10\n"
	"  pushq %r11\n"
	"  call ap_irq\n"
	"  popq %r11\n  popq %r10\n  popq %r9\n  popq %r8\n"
	"  popq %rdi\n  popq %rsi\n  popq %rdx\n  popq %rcx\n"
	"  popq %rax\n"
	"  iretq\n"
	"spurious_stub:\n"
	"  iretq\n"
	".popsection\n");

static void send_ipi(uint32_t dest, uint32_t icr)
{
	apic_wr(0x310, dest << 24);
	apic_wr(0x300, icr);
}

/* Rounds until one IPI was not taken in time; all of them when none. */
static uint64_t ipi_rounds(uint64_t rounds, bool overlapped)
{
	uint64_t i, base, end;

	overlap = overlapped;
	for (i = 0; i < rounds; i++) {
		base = ap_count;
		send_ipi(1, V_IPI);			/* fixed, physical ID 1 */
		bsp_sent = bsp_sent + 1;
		end = guest_rdtsc() + WAIT_CYCLES;
		while (ap_count == base && guest_rdtsc() < end)
			asm volatile("pause");
		if (ap_count == base)
			break;
		/* Leave vCPU 1 time to return to HLT, poll, and sleep. */
		if (!overlapped)
			guest_spin_cycles((i % 8) * 50000);
	}
	overlap = 0;
	return i;
}

/* Every IPI sent, taken once: wait for the last, then a little more. */
static uint64_t settled_count(void)
{
	uint64_t end = guest_rdtsc() + WAIT_CYCLES;

	while (ap_count < bsp_sent && guest_rdtsc() < end)
		asm volatile("pause");
	guest_spin_cycles(10000000);
	return ap_count;
}

static void guest_bsp(void)
{
	uint64_t end = guest_rdtsc() + WAIT_CYCLES, n;

	while (!ap_ready && guest_rdtsc() < end)
		asm volatile("pause");
	GUEST_ASSERT(ap_ready);
	n = ipi_rounds(ROUNDS_HALTED, false);
	GUEST_SYNC3(1, n, settled_count() - bsp_sent);
	n = ipi_rounds(ROUNDS_OVERLAP, true);
	GUEST_SYNC3(2, n, settled_count() - bsp_sent);
	GUEST_DONE();
}

static void guest_ap(void)
{
	apic_wr(0xf0, 0x100 | V_SPURIOUS);		/* software enable */
	ap_ready = 1;
	for (;;)
		asm volatile("sti; hlt" ::: "memory");
}

static volatile bool ap_stop;

static void on_signal(int sig)
{
}

/* vCPU 1 only halts: its RUN ends only for a signal (the stop). */
static void *ap_thread(void *arg)
{
	struct vsnix_test_vcpu *vcpu = arg;
	sigset_t set;
	int r;

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (!ap_stop) {
		r = vcpu_run_raw(vcpu);
		if (r && errno != EINTR) {
			tap_diag("vCPU 1: RUN %d (%s)", r, strerror(errno));
			return (void *)1;
		}
		if (!r) {
			tap_diag("vCPU 1: %s", vcpu_exit_str(vcpu));
			return (void *)1;
		}
	}
	return NULL;
}

static bool bsp_stage(struct vsnix_test_vcpu *vcpu, uint64_t n, struct ucall *uc)
{
	bool ok;

	alarm(40);
	ok = vcpu_run_sync_is(vcpu, uc, n);
	alarm(0);
	return ok;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct vsnix_test_vcpu *v[2];
	struct vsnix_test_vm *vm;
	struct vsnix_sregs sregs;
	void *ap_ret = (void *)1;
	struct ucall uc;
	pthread_t t;
	bool ok;
	int i;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_LAPIC) != 1)
		tap_skip_all("no VSNIX_CAP_LAPIC");
	tap_plan(5);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	vm = vm_create_long(0);
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_LAPIC, 0), "CREATE_LAPIC: %s",
		    strerror(errno));
	v[0] = vcpu_create_long(vm, 0, guest_bsp);
	v[1] = vcpu_create_long(vm, 1, guest_ap);
	vm_set_idt_gate(vm, V_IPI, (uintptr_t)ipi_stub);
	vm_set_idt_gate(vm, V_SPURIOUS, (uintptr_t)spurious_stub);
	for (i = 0; i < 2; i++) {
		vcpu_get_sregs(v[i], &sregs);
		sregs.idt.limit = 256 * 16 - 1;
		vcpu_set_sregs(v[i], &sregs);
	}
	TEST_ASSERT(!pthread_create(&t, NULL, ap_thread, v[1]), "pthread_create");

	ok = bsp_stage(v[0], 1, &uc);
	tap_ok(ok && uc.args[1] == ROUNDS_HALTED && uc.args[2] == 0,
	       "%d IPIs to a halted vCPU: %lu taken in time, %ld more or fewer than sent",
	       ROUNDS_HALTED, ok ? (unsigned long)uc.args[1] : 0,
	       ok ? (long)uc.args[2] : 0);
	ok = bsp_stage(v[0], 2, &uc);
	tap_ok(ok && uc.args[1] == ROUNDS_OVERLAP && uc.args[2] == 0,
	       "%d IPIs each sent before the EOI of the last: %lu taken in time, %ld more or fewer than sent",
	       ROUNDS_OVERLAP, ok ? (unsigned long)uc.args[1] : 0,
	       ok ? (long)uc.args[2] : 0);
	alarm(40);
	tap_ok(vcpu_run_ucall_soft(v[0], &uc) == UCALL_DONE, "guest finished");
	alarm(0);

	ap_stop = true;
	for (i = 0; i < 1000 && pthread_tryjoin_np(t, &ap_ret); i++) {
		pthread_kill(t, SIGUSR1);
		usleep(10000);
	}
	tap_ok(!ap_ret, "vCPU 1 stayed in the kernel (HLT) until stopped");
	if (ap_ret)
		_exit(1);	/* a thread still in RUN: no vm_destroy */
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
