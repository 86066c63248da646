// SPDX-License-Identifier: GPL-2.0
/*
 * INJECT_EVENT delivery. An external interrupt queued while the guest has
 * IF=0 waits and is delivered right
 * after the instruction that follows STI (the STI shadow, Intel SDM Vol 3,
 * 6.8.3); with IF=1 it is delivered at the next entry. An NMI is delivered
 * with IF=0. An exception with an error code reaches the handler with that
 * code; an error code on a vector that has none, or none on one that has
 * one, is refused (the vendors deliver these differently otherwise: SDM
 * Vol 3, 6.13 and 27.2.1.3; AMD APM Vol 2, 15.20). A second exception
 * while one is pending is refused with EBUSY (one slot); external
 * interrupts queue (extint_queue.c).
 * The API has no "request interrupt window" exit: the kernel waits for the
 * window itself, which is what the STI case checks. An exit inside the
 * shadow (a nested page fault on the shadowed instruction's write) must
 * not end it: the interrupt comes right after that instruction, at the
 * RIP its frame shows. Nor must two: STI as the last byte of a page, the
 * next instruction's fetch and then its write each fault. The pages leave
 * the guest's page tables by an mprotect round trip, which keeps their
 * contents.
 */
#include <sys/mman.h>
#include "vsnix_util.h"

#define EXTINT_VECTOR	0x40
#define ERROR_CODE	0x1234

volatile uint64_t inj_marker, inj_marker_at_irq, inj_extint_count;
volatile uint64_t inj_nmi_count, inj_gp_count, inj_gp_error;
volatile uint64_t inj_rip_at_irq;
/* Touched only by the instruction in the STI shadow. */
volatile uint64_t inj_fresh_page[512] __attribute__((aligned(4096)));
extern char inj_extint_handler[], inj_nmi_handler[], inj_gp_handler[];
extern char inj_after_shadowed_fault[];
/* Touched only by the instruction in the shadow of inj_sti_at_page_end. */
volatile uint64_t inj_fresh_page2[512] __attribute__((aligned(4096)));
extern char inj_sti_at_page_end[], inj_after_two_faults[];

asm(".pushsection .text\n"
	"inj_extint_handler:\n"
	"  pushq %rax\n"
	"  movq inj_marker(%rip), %rax\n"
	"  movq %rax, inj_marker_at_irq(%rip)\n"
	"  movq 8(%rsp), %rax\n"
	"  movq %rax, inj_rip_at_irq(%rip)\n"
	"  incq inj_extint_count(%rip)\n"
	"  popq %rax\n"
	"  iretq\n"
	"inj_nmi_handler:\n"
	"  incq inj_nmi_count(%rip)\n"
	"  iretq\n"
	/* #GP pushes an error code (SDM Vol 3, 6.13): pop it before IRET. */
	"inj_gp_handler:\n"
	"  pushq %rax\n"
	"  movq 8(%rsp), %rax\n"
	"  movq %rax, inj_gp_error(%rip)\n"
	"  incq inj_gp_count(%rip)\n"
	"  popq %rax\n"
	"  addq $8, %rsp\n"
	"  iretq\n"
	".popsection\n");

/* Called with IF=0; returns with IF=0. */
asm(".pushsection .text.inj_page_end, \"ax\"\n"
	".balign 4096\n"
	".skip 4095, 0xcc\n"
	"inj_sti_at_page_end:\n"
	"  sti\n"
	"  movq $1, inj_fresh_page2(%rip)\n"
	"inj_after_two_faults:\n"
	"  cli\n"
	"  ret\n"
	/* Nothing else on these pages: no other code faults them in. */
	".balign 4096, 0xcc\n"
	".popsection\n");

static void guest_main(void)
{
	asm volatile("cli");
	GUEST_SYNC(1);				/* extint queued here, IF=0 */
	GUEST_SYNC2(2, inj_extint_count);
	asm volatile("movq $0, inj_marker(%%rip)\n\t"
		     "sti\n\t"
		     "movq $1, inj_marker(%%rip)\n\t"
		     "movq $2, inj_marker(%%rip)\n\t"
		     "cli" : : : "memory");
	GUEST_SYNC3(3, inj_extint_count, inj_marker_at_irq);
	asm volatile("sti");
	GUEST_SYNC(4);				/* extint queued, IF=1 */
	asm volatile("cli");
	GUEST_SYNC2(5, inj_extint_count);
	GUEST_SYNC(6);				/* NMI queued, IF=0 */
	GUEST_SYNC2(7, inj_nmi_count);
	GUEST_SYNC(8);				/* #GP(ERROR_CODE) queued */
	GUEST_SYNC3(9, inj_gp_count, inj_gp_error);
	GUEST_SYNC(10);				/* page unmapped, extint queued */
	asm volatile("sti\n\t"
		     "movq $1, inj_fresh_page(%%rip)\n\t"
		     "inj_after_shadowed_fault:\n\t"
		     "cli" : : : "memory");
	GUEST_SYNC3(11, inj_extint_count, inj_rip_at_irq);
	GUEST_SYNC(12);				/* pages unmapped, extint queued */
	asm volatile("call inj_sti_at_page_end" : : : "memory");
	GUEST_SYNC3(13, inj_extint_count, inj_rip_at_irq);
}

static int inject(struct vsnix_test_vcpu *vcpu, uint8_t type, uint8_t vector, uint32_t flags,
		  uint32_t error_code)
{
	struct vsnix_event ev = {
		.type = type, .vector = vector, .flags = flags, .error_code = error_code,
	};

	return ioctl(vcpu->fd, VSNIX_INJECT_EVENT, &ev);
}

/* Refused combinations, on a vCPU of their own (accepted ones would run). */
static void test_refused(void)
{
	struct vsnix_test_vm *vm = vm_create_long(0);
	struct vsnix_test_vcpu *vcpu = vcpu_create_long(vm, 0, guest_main);

	tap_ok(expect_errno(inject(vcpu, VSNIX_EVENT_EXCEPTION, 6, VSNIX_EVENT_HAS_ERROR_CODE, 1),
			    EINVAL, "#UD with an error code"),
	       "INJECT_EVENT: #UD with an error code is refused (EINVAL)");
	tap_ok(expect_errno(inject(vcpu, VSNIX_EVENT_EXCEPTION, 13, 0, 0), EINVAL,
			    "#GP without an error code"),
	       "INJECT_EVENT: #GP without an error code is refused (EINVAL)");
	tap_ok(inject(vcpu, VSNIX_EVENT_EXCEPTION, 6, 0, 0) == 0 &&
	       expect_errno(inject(vcpu, VSNIX_EVENT_EXCEPTION, 6, 0, 0), EBUSY,
			    "second #UD"),
	       "INJECT_EVENT: a second pending exception is refused (EBUSY)");
	vm_destroy(vm);
}

/* Out of the guest's page tables until it touches it again. */
static bool unmap_from_guest(struct vsnix_test_vm *vm, uintptr_t gva)
{
	void *page = gpa2hva(vm, gva & ~4095UL, 4096);

	return mprotect(page, 4096, PROT_READ) == 0 &&
	       mprotect(page, 4096, PROT_READ | PROT_WRITE) == 0;
}

/*
 * At GUEST_SYNC(sync) the pages of gva[] leave the guest's page tables and
 * an interrupt is queued; the instruction in the shadow that follows
 * faults on them. At GUEST_SYNC(sync + 1): delivered once more, at want.
 */
static void test_shadow_exits(struct vsnix_test_vm *vm, struct vsnix_test_vcpu *vcpu,
			      int sync, const uintptr_t *gva, int n, uint64_t deliveries,
			      const char *want, const char *what)
{
	struct ucall uc;
	bool ok;
	int i;

	ok = vcpu_run_sync_is(vcpu, &uc, sync);
	for (i = 0; ok && i < n; i++)
		ok = unmap_from_guest(vm, gva[i]);
	ok = ok && inject(vcpu, VSNIX_EVENT_EXTINT, EXTINT_VECTOR, 0, 0) == 0;
	ok = ok && vcpu_run_sync_is(vcpu, &uc, sync + 1);
	tap_ok(ok && uc.args[1] == deliveries && uc.args[2] == (uintptr_t)want,
	       "%s: delivered after the shadowed instruction (%lu deliveries, at %#lx, want %p)",
	       what, (unsigned long)uc.args[1], (unsigned long)uc.args[2], (void *)want);
}

static void test_shadowed_faults(struct vsnix_test_vm *vm, struct vsnix_test_vcpu *vcpu)
{
	/* Its write faults. */
	uintptr_t one[] = { (uintptr_t)inj_fresh_page };
	/* Its fetch faults, then its write. */
	uintptr_t two[] = { (uintptr_t)inj_after_two_faults, (uintptr_t)inj_fresh_page2 };

	test_shadow_exits(vm, vcpu, 10, one, 1, 3, inj_after_shadowed_fault,
			  "an exit inside the STI shadow keeps it");
	test_shadow_exits(vm, vcpu, 12, two, 2, 4, inj_after_two_faults,
			  "two exits inside one STI shadow keep it");
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_sregs sregs;
	struct ucall uc;
	bool ok;

	vsnix_dev_fd();
	if (!vsnix_cap(VSNIX_CAP_INJECT_EVENT))
		tap_skip_all("no VSNIX_CAP_INJECT_EVENT");
	tap_plan(13);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	vm_set_idt_gate(vm, 2, (uintptr_t)inj_nmi_handler);
	vm_set_idt_gate(vm, 13, (uintptr_t)inj_gp_handler);
	vm_set_idt_gate(vm, EXTINT_VECTOR, (uintptr_t)inj_extint_handler);
	vcpu_get_sregs(vcpu, &sregs);
	sregs.idt.limit = (EXTINT_VECTOR + 1) * 16 - 1;
	vcpu_set_sregs(vcpu, &sregs);

	ok = vcpu_run_sync_is(vcpu, &uc, 1) &&
	     inject(vcpu, VSNIX_EVENT_EXTINT, EXTINT_VECTOR, 0, 0) == 0;
	tap_ok(ok, "external interrupt queued with IF=0");
	ok = vcpu_run_sync_is(vcpu, &uc, 2);
	tap_ok(ok && uc.args[1] == 0, "IF=0: not delivered (%lu deliveries)",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 3);
	tap_ok(ok && uc.args[1] == 1 && uc.args[2] == 1,
	       "delivered once, after STI and the one instruction after it (%lu, marker %lu)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);

	ok = vcpu_run_sync_is(vcpu, &uc, 4) && inject(vcpu, VSNIX_EVENT_EXTINT, EXTINT_VECTOR, 0, 0) == 0;
	ok = ok && vcpu_run_sync_is(vcpu, &uc, 5);
	tap_ok(ok && uc.args[1] == 2, "IF=1: delivered at the next entry (%lu)",
	       (unsigned long)uc.args[1]);

	ok = vcpu_run_sync_is(vcpu, &uc, 6) && inject(vcpu, VSNIX_EVENT_NMI, 2, 0, 0) == 0;
	ok = ok && vcpu_run_sync_is(vcpu, &uc, 7);
	tap_ok(ok && uc.args[1] == 1, "NMI delivered with IF=0 (%lu)", (unsigned long)uc.args[1]);

	ok = vcpu_run_sync_is(vcpu, &uc, 8) &&
	     inject(vcpu, VSNIX_EVENT_EXCEPTION, 13, VSNIX_EVENT_HAS_ERROR_CODE, ERROR_CODE) == 0;
	ok = ok && vcpu_run_sync_is(vcpu, &uc, 9);
	tap_ok(ok && uc.args[1] == 1 && uc.args[2] == ERROR_CODE,
	       "#GP delivered with error code 0x%x (got %lu, 0x%lx)", ERROR_CODE,
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	test_shadowed_faults(vm, vcpu);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE, "guest finished");
	vm_destroy(vm);
	test_refused();
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
