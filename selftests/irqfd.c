// SPDX-License-Identifier: GPL-2.0
/*
 * VSNIX_IRQ_LINE and VSNIX_IRQFD (VSNIX_CAP_IRQFD). Without an interrupt
 * controller behind a GSI, setting the line and an irqfd to it fail
 * cleanly (EINVAL). MSI irqfds: assign, duplicate (EBUSY), deassign,
 * deassign again (ENOENT). Teardown under fire: a thread signals the
 * eventfds as fast as it can while the main thread assigns, deassigns,
 * closes eventfds (EPOLLHUP teardown) and finally destroys the VM with
 * irqfds still live; the kernel must stay healthy with no leak.
 */
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "vsnix_util.h"

#define NR_TESTS	8
#define NR_ROUNDS	200
#define MSI_ADDR	0xfee00000ull	/* SDM Vol 3, 10.11.1 */

static int irqfd(int vm_fd, int fd, uint32_t gsi, uint32_t flags, uint64_t addr,
		 uint32_t data)
{
	struct vsnix_irqfd a = { .fd = fd, .gsi = gsi, .flags = flags,
				 .msi_address = addr, .msi_data = data };

	return ioctl(vm_fd, VSNIX_IRQFD, &a);
}

static int irq_line(int vm_fd, uint32_t gsi, uint32_t level)
{
	struct vsnix_irq_level l = { .gsi = gsi, .level = level };

	return ioctl(vm_fd, VSNIX_IRQ_LINE, &l);
}

static volatile int stop;
static int hammer_fds[2];

static void *hammer(void *arg)
{
	uint64_t one = 1;

	while (!stop) {
		/* Either fd may be closed and reused meanwhile: ignore errors. */
		if (write(hammer_fds[0], &one, sizeof(one)) < 0 ||
		    write(hammer_fds[1], &one, sizeof(one)) < 0)
			continue;
	}
	return NULL;
}

/* Assign/deassign/close while another thread signals. */
static bool churn(int vm_fd)
{
	pthread_t t;
	bool ok = true;
	int i;

	hammer_fds[0] = eventfd(0, EFD_NONBLOCK);
	hammer_fds[1] = eventfd(0, EFD_NONBLOCK);
	TEST_ASSERT(!pthread_create(&t, NULL, hammer, NULL), "pthread_create");
	for (i = 0; i < NR_ROUNDS && ok; i++) {
		ok = !irqfd(vm_fd, hammer_fds[0], 0, VSNIX_IRQFD_MSI, MSI_ADDR, 0x30) &&
		     !irqfd(vm_fd, hammer_fds[1], 0, VSNIX_IRQFD_MSI, MSI_ADDR, 0x31) &&
		     !irqfd(vm_fd, hammer_fds[0], 0, VSNIX_IRQFD_DEASSIGN, 0, 0);
		if (!ok)
			tap_diag("round %d: %s", i, strerror(errno));
		/* The other one goes by EPOLLHUP when its fd is closed. */
		close(hammer_fds[1]);
		hammer_fds[1] = eventfd(0, EFD_NONBLOCK);
	}
	/* Left assigned: the VM's end must tear it down. */
	ok &= !irqfd(vm_fd, hammer_fds[1], 0, VSNIX_IRQFD_MSI, MSI_ADDR, 0x32);
	return ok;
}

int main(void)
{
	struct vsnix_test_vm *vm;
	long refs;
	bool ok;
	int efd;

	if (vsnix_cap(VSNIX_CAP_IRQFD) <= 0)
		tap_skip_all("no VSNIX_CAP_IRQFD");
	refs = vsnix_module_refcnt();	/* with /dev/vsnix open */
	tap_plan(NR_TESTS);
	vm = vm_create(1 << 20);
	efd = eventfd(0, EFD_NONBLOCK);
	TEST_ASSERT(efd >= 0, "eventfd");

	tap_ok(expect_errno(irq_line(vm->fd, 4, 1), EINVAL, "IRQ_LINE"),
	       "IRQ_LINE to a GSI no chip serves: EINVAL");
	tap_ok(expect_errno(irq_line(vm->fd, 4, 2), EINVAL, "level 2"), "IRQ_LINE level 2: EINVAL");
	tap_ok(expect_errno(irqfd(vm->fd, efd, 4, 0, 0, 0), EINVAL, "IRQFD GSI 4"),
	       "IRQFD to a GSI no chip serves: EINVAL");
	ok = expect_errno(irqfd(vm->fd, efd, 4, VSNIX_IRQFD_MSI, MSI_ADDR, 0), EINVAL, "MSI + gsi");
	ok &= expect_errno(irqfd(vm->fd, efd, 0, 1u << 5, 0, 0), EINVAL, "flags");
	ok &= expect_errno(irqfd(vm->fd, 0, 0, VSNIX_IRQFD_MSI, MSI_ADDR, 0), EINVAL,
			   "not an eventfd");
	tap_ok(ok, "bad IRQFD arguments refused");

	ok = !irqfd(vm->fd, efd, 0, VSNIX_IRQFD_MSI, MSI_ADDR, 0x40);
	ok &= expect_errno(irqfd(vm->fd, efd, 0, VSNIX_IRQFD_MSI, MSI_ADDR, 0x41), EBUSY,
			   "same eventfd twice");
	ok &= eventfd_write(efd, 1) == 0;	/* no LAPIC yet: dropped */
	ok &= !irqfd(vm->fd, efd, 0, VSNIX_IRQFD_DEASSIGN, 0, 0);
	ok &= expect_errno(irqfd(vm->fd, efd, 0, VSNIX_IRQFD_DEASSIGN, 0, 0), ENOENT,
			   "deassign twice");
	tap_ok(ok, "MSI irqfd: assign, duplicate, signal, deassign, deassign again");

	tap_ok(churn(vm->fd), "%d rounds of assign/deassign/close under signals", NR_ROUNDS);
	vm_destroy(vm);
	stop = 1;
	usleep(10000);
	close(hammer_fds[0]);
	close(hammer_fds[1]);
	close(efd);
	tap_ok(vsnix_module_refcnt() == refs, "module references back to %ld", refs);
	tap_ok(kernel_healthy(), "kernel healthy");
	tap_finish();
}
