// SPDX-License-Identifier: GPL-2.0
/*
 * An irqfd with an MSI route, end to end: each signal of the eventfd
 * becomes an MSI to the in-kernel LAPIC (fixed delivery, physical
 * destination APIC ID 0, SDM Vol 3, 10.11.1-2) and the guest's handler
 * runs, with no exit to userspace: the guest halts in the kernel between
 * interrupts and a host thread signals while RUN sleeps. After DEASSIGN a
 * signal raises nothing. Needs the in-kernel LAPIC (VSNIX_CAP_LAPIC); a
 * build without it skips.
 */
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "vsnix_util.h"

#define NR_TESTS	6
#define VECTOR		0x45
#define NR_ROUNDS	3
#define XAPIC		0xfee00000ull
#define MSI_ADDR	0xfee00000ull	/* destination ID 0 in bits 19:12 */

#ifdef VSNIX_CAP_LAPIC
volatile uint64_t irq_count;

/* The handler counts and EOIs (xAPIC EOI register, 0xb0). */
extern char msi_stub[];
asm(".pushsection .text\n"
	"msi_stub:\n"
	"  pushq %rax\n"
	"  lock incq irq_count(%rip)\n"
	"  movabsq $0xfee000b0, %rax\n"
	"  movl $0, (%rax)\n"
	"  popq %rax\n"
	"  iretq\n"
	".popsection\n");

static void guest_code(void)
{
	uint64_t i, spin;

	/* Software-enable the APIC, spurious vector 0xff (10.9). */
	*(volatile uint32_t *)(XAPIC + 0xf0) = 0x1ff;
	for (i = 1; i <= NR_ROUNDS; i++) {
		asm volatile("cli");
		while (irq_count < i)
			asm volatile("sti; hlt; cli" ::: "memory");
		asm volatile("sti");
		GUEST_SYNC2(1, irq_count);
	}
	/* After DEASSIGN: a while with interrupts on, and nothing comes. */
	for (spin = 0; spin < 20000000; spin++)
		asm volatile("pause");
	GUEST_SYNC2(2, irq_count);
	GUEST_DONE();
}

static int irqfd(int vm_fd, int fd, uint32_t flags, uint32_t data)
{
	struct vsnix_irqfd a = { .fd = fd, .flags = flags };

	if (!(flags & VSNIX_IRQFD_DEASSIGN)) {
		a.msi_address = MSI_ADDR;
		a.msi_data = data;
	}
	return ioctl(vm_fd, VSNIX_IRQFD, &a);
}

static int efd;

/* Signals while the vCPU sleeps in HLT inside RUN. */
static void *late_signal(void *arg)
{
	usleep(200 * 1000);
	eventfd_write(efd, 1);
	return NULL;
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_sregs sregs;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	pthread_t t;
	bool ok = true;
	int i;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_LAPIC) != 1 || vsnix_cap(VSNIX_CAP_IRQFD) != 1)
		tap_skip_all("no VSNIX_CAP_LAPIC or VSNIX_CAP_IRQFD");
	tap_plan(NR_TESTS);
	vm = vm_create_long(0);
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_LAPIC, 0), "CREATE_LAPIC: %s",
		    strerror(errno));
	vcpu = vcpu_create_long(vm, 0, guest_code);
	vm_set_idt_gate(vm, VECTOR, (uintptr_t)msi_stub);
	vcpu_get_sregs(vcpu, &sregs);
	sregs.idt.limit = 256 * 16 - 1;
	vcpu_set_sregs(vcpu, &sregs);
	efd = eventfd(0, EFD_NONBLOCK);
	TEST_ASSERT(efd >= 0, "eventfd");

	tap_ok(!irqfd(vm->fd, efd, VSNIX_IRQFD_MSI, VECTOR), "IRQFD with an MSI route (vector 0x%x)",
	       VECTOR);
	for (i = 1; i < NR_ROUNDS && ok; i++) {
		eventfd_write(efd, 1);
		ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 1 &&
		     uc.args[1] == (uint64_t)i;
	}
	tap_ok(ok, "%d signals, %d interrupts in the guest", NR_ROUNDS - 1, NR_ROUNDS - 1);
	TEST_ASSERT(!pthread_create(&t, NULL, late_signal, NULL), "pthread_create");
	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[1] == NR_ROUNDS;
	pthread_join(t, NULL);
	tap_ok(ok, "a signal while the guest halts in RUN wakes it with the interrupt");

	tap_ok(!irqfd(vm->fd, efd, VSNIX_IRQFD_DEASSIGN, 0), "DEASSIGN");
	eventfd_write(efd, 1);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 2 &&
	       uc.args[1] == NR_ROUNDS, "after DEASSIGN a signal raises nothing (count %lu)",
	       (unsigned long)uc.args[1]);
	TEST_ASSERT(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE, "done");
	vm_destroy(vm);
	close(efd);
	tap_ok(kernel_healthy(), "kernel healthy");
	tap_finish();
}
#else
int main(void)
{
	tap_skip_all("built without the in-kernel LAPIC (VSNIX_CAP_LAPIC)");
}
#endif
