// SPDX-License-Identifier: GPL-2.0
/*
 * VSNIX_INJECT_EVENT from another thread while RUN runs: external
 * interrupts join a FIFO (no vCPU mutex, a kick makes the vCPU take them),
 * and the guest, spinning with IF=1, receives every vector once, in the
 * order they were queued. A full queue answers EAGAIN; the capability
 * gives its depth. An interrupt restored as "injected" (SET_VCPU_EVENTS)
 * while the guest has IF=0 waits for STI like a queued one.
 */
#include <pthread.h>
#include <sched.h>

#include "vsnix_util.h"

#define NR_INJECT	1000
#define FIRST_VECTOR	32
#define NR_VECTORS	32

volatile uint64_t xq_n;
volatile uint8_t xq_seq[NR_INJECT];
extern char xq_stubs[];

/* One 16-byte stub per vector 32..63: push the vector, record it. */
asm(".pushsection .text\n"
	".balign 16\n"
	"xq_stubs:\n"
	".set xq_v, 32\n"
	".rept 32\n"
	"  pushq $xq_v\n"
	"  jmp xq_common\n"
	"  .balign 16\n"
	".set xq_v, xq_v + 1\n"
	".endr\n"
	"xq_common:\n"
	"  pushq %rax\n"
	"  pushq %rcx\n"
	"  pushq %rdx\n"
	"  movq 24(%rsp), %rax\n"
	"  movq xq_n(%rip), %rcx\n"
	"  cmpq $1000, %rcx\n"
	"  jae 1f\n"
	"  leaq xq_seq(%rip), %rdx\n"
	"  movb %al, (%rdx,%rcx)\n"
	"1:\n"
	"  incq xq_n(%rip)\n"
	"  popq %rdx\n"
	"  popq %rcx\n"
	"  popq %rax\n"
	"  addq $8, %rsp\n"
	"  iretq\n"
	".popsection\n");

static void guest_main(uint64_t target)
{
	asm volatile("sti");
	while (xq_n < target)
		asm volatile("pause");
	asm volatile("cli");
	GUEST_SYNC2(1, xq_n);
	/* Nothing more may arrive. */
	asm volatile("sti; nop; nop; cli");
	GUEST_SYNC2(2, xq_n);
}

static void guest_injected(void)
{
	asm volatile("cli");
	GUEST_SYNC2(1, xq_n);		/* injected EXTINT set here */
	GUEST_SYNC2(2, xq_n);
	asm volatile("sti; nop; cli");
	GUEST_SYNC2(3, xq_n);
}

static uint8_t sent[NR_INJECT];
static unsigned long retries;
static int exception_errno = -1;

static int inject_extint(int fd, uint8_t vector)
{
	struct vsnix_event ev = { .type = VSNIX_EVENT_EXTINT, .vector = vector };

	return ioctl(fd, VSNIX_INJECT_EVENT, &ev);
}

static void *injector(void *arg)
{
	struct vsnix_test_vcpu *vcpu = arg;
	struct vsnix_event ud = { .type = VSNIX_EVENT_EXCEPTION, .vector = 6 };
	int i;

	for (i = 0; i < NR_INJECT; i++) {
		/*
		 * The guest took one and waits for the rest: RUN runs, so an
		 * exception must be refused.
		 */
		if (i == 10) {
			while (!GUEST_VAR(vcpu->vm, xq_n))
				sched_yield();
			exception_errno = ioctl(vcpu->fd, VSNIX_INJECT_EVENT, &ud) ? errno : 0;
		}
		sent[i] = FIRST_VECTOR + (i * 7) % NR_VECTORS;
		while (inject_extint(vcpu->fd, sent[i])) {
			if (errno != EAGAIN)
				return (void *)(long)errno;
			retries++;
			sched_yield();
		}
	}
	return NULL;
}

static struct vsnix_test_vm *vm_with_gates(struct vsnix_test_vcpu **vcpu, void *fn)
{
	struct vsnix_test_vm *vm = vm_create_long(0);
	struct vsnix_sregs sregs;
	int i;

	*vcpu = vcpu_create_long(vm, 0, fn);
	for (i = 0; i < NR_VECTORS; i++)
		vm_set_idt_gate(vm, FIRST_VECTOR + i, (uintptr_t)xq_stubs + 16 * i);
	vcpu_get_sregs(*vcpu, &sregs);
	sregs.idt.limit = (FIRST_VECTOR + NR_VECTORS) * 16 - 1;
	vcpu_set_sregs(*vcpu, &sregs);
	return vm;
}

static bool sync_is(struct vsnix_test_vcpu *vcpu, struct ucall *uc, uint64_t stage,
		    uint64_t count)
{
	return vcpu_run_ucall_soft(vcpu, uc) == UCALL_SYNC && uc->args[0] == stage &&
	       uc->args[1] == count;
}

static void test_injected_if0(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm = vm_with_gates(&vcpu, guest_injected);
	struct vsnix_vcpu_events ev;
	struct ucall uc;
	bool ok;

	ok = sync_is(vcpu, &uc, 1, 0) && !ioctl(vcpu->fd, VSNIX_GET_VCPU_EVENTS, &ev);
	ev.injected.type = VSNIX_INJECTED_EXTINT;
	ev.injected.vector = FIRST_VECTOR + 5;
	ok = ok && !ioctl(vcpu->fd, VSNIX_SET_VCPU_EVENTS, &ev);
	ok = ok && sync_is(vcpu, &uc, 2, 0) && sync_is(vcpu, &uc, 3, 1) &&
	     GUEST_VAR(vm, xq_seq)[0] == FIRST_VECTOR + 5;
	tap_ok(ok, "an injected EXTINT restored while IF=0 waits for STI (%lu at stage %lu)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[0]);
	vm_destroy(vm);
}

static void test_full_queue(void)
{
	struct vsnix_test_vm *vm = vm_create_long(0);
	struct vsnix_test_vcpu *vcpu = vcpu_create_long(vm, 0, guest_main);
	long depth = vsnix_cap(VSNIX_CAP_EXTINT_QUEUE);
	long i, ok = 0;

	for (i = 0; i < depth; i++)
		ok += inject_extint(vcpu->fd, FIRST_VECTOR) == 0;
	tap_ok(depth == VSNIX_MAX_QUEUED_IRQS && ok == depth &&
	       expect_errno(inject_extint(vcpu->fd, FIRST_VECTOR), EAGAIN, "full queue"),
	       "queue of %ld EXTINTs (cap %ld), the next one: EAGAIN", ok, depth);
	vm_destroy(vm);
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	unsigned int lost = 0, wrong = 0, i;
	struct ucall uc;
	pthread_t t;
	void *res;
	bool ok;

	vsnix_dev_fd();
	if (!vsnix_cap(VSNIX_CAP_EXTINT_QUEUE))
		tap_skip_all("no VSNIX_CAP_EXTINT_QUEUE");
	tap_plan(7);
	vm = vm_with_gates(&vcpu, guest_main);
	vcpu_set_args(vcpu, 1, (uint64_t)NR_INJECT);

	TEST_ASSERT(!pthread_create(&t, NULL, injector, vcpu), "pthread_create");
	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 1;
	TEST_ASSERT(!pthread_join(t, &res), "pthread_join");
	tap_ok(ok && !res, "%d EXTINTs injected from another thread during RUN (%lu EAGAIN retries)",
	       NR_INJECT, retries);
	tap_ok(exception_errno == EBUSY, "an exception while RUN runs: EBUSY (%s)",
	       exception_errno > 0 ? strerror(exception_errno) : "accepted");
	for (i = 0; i < NR_INJECT; i++) {
		uint8_t got = GUEST_VAR(vm, xq_seq)[i];

		lost += got == 0;
		wrong += got && got != sent[i];
	}
	tap_ok(ok && uc.args[1] == NR_INJECT && !lost && !wrong,
	       "guest took each vector once, in queue order (%lu taken, %u missing, %u out of order)",
	       (unsigned long)uc.args[1], lost, wrong);
	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 2;
	tap_ok(ok && uc.args[1] == NR_INJECT, "no duplicate after the last one (%lu)",
	       (unsigned long)uc.args[1]);
	vm_destroy(vm);
	test_full_queue();
	test_injected_if0();
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
