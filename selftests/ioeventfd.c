// SPDX-License-Identifier: GPL-2.0
/*
 * VSNIX_IOEVENTFD (VSNIX_CAP_IOEVENTFD): a guest write to a registered
 * port or MMIO address signals the eventfd in the kernel and the guest
 * goes on; a host thread blocked in read(2) sees the count. With
 * DATAMATCH only the matching value signals; any other value, size or
 * address exits to userspace as before. Deassign, duplicates and bad
 * arguments are checked.
 */
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "vsnix_util.h"

#define NR_TESTS	10
#define KICK_PORT	0x600
#define KICK_MMIO	0xd0000000ull
#define MATCH		0x1234
#define NR_KICKS	100

static void guest_code(void)
{
	int i;

	for (i = 0; i < NR_KICKS; i++)
		guest_outw(KICK_PORT, MATCH);		/* in the kernel */
	guest_outw(KICK_PORT, 0x5678);			/* other data: exit */
	for (i = 0; i < NR_KICKS; i++)
		*(volatile uint32_t *)KICK_MMIO = i;	/* any value */
	*(volatile uint16_t *)KICK_MMIO = 7;		/* other size: exit */
	GUEST_SYNC(1);					/* host deassigns */
	guest_outw(KICK_PORT, MATCH);			/* now an exit */
	GUEST_DONE();
}

static int ioeventfd(int vm_fd, uint64_t addr, uint32_t len, int fd, uint32_t flags,
		     uint64_t datamatch)
{
	struct vsnix_ioeventfd_config c = { .addr = addr, .len = len, .fd = fd,
					    .flags = flags, .datamatch = datamatch };

	return ioctl(vm_fd, VSNIX_IOEVENTFD, &c);
}

struct counter {
	int efd;
	uint64_t want, got;
};

/* Reads the eventfd until the guest's kicks are all counted. */
static void *count_thread(void *arg)
{
	struct counter *c = arg;
	uint64_t v;

	while (c->got < c->want && read(c->efd, &v, sizeof(v)) == sizeof(v))
		c->got += v;
	return NULL;
}

static void bad_args(int vm_fd, int efd)
{
	bool ok = expect_errno(ioeventfd(vm_fd, KICK_PORT, 3, efd, 0, 0), EINVAL, "len 3");

	ok &= expect_errno(ioeventfd(vm_fd, KICK_PORT, 8, efd, 0, 0), EINVAL, "PIO len 8");
	ok &= expect_errno(ioeventfd(vm_fd, 0xffff, 2, efd, 0, 0), EINVAL, "past port 0xffff");
	ok &= expect_errno(ioeventfd(vm_fd, KICK_PORT, 1, efd, 1u << 7, 0), EINVAL, "flags");
	ok &= expect_errno(ioeventfd(vm_fd, KICK_PORT, 1, efd, VSNIX_IOEVENTFD_DATAMATCH,
				     0x100), EINVAL, "datamatch wider than len");
	ok &= expect_errno(ioeventfd(vm_fd, KICK_PORT, 1, 0, 0, 0), EINVAL, "not an eventfd");
	ok &= expect_errno(ioeventfd(vm_fd, KICK_PORT, 2, efd, VSNIX_IOEVENTFD_DATAMATCH,
				     MATCH), EEXIST, "duplicate");
	ok &= expect_errno(ioeventfd(vm_fd, KICK_PORT, 4, efd, VSNIX_IOEVENTFD_DEASSIGN, 0),
			   ENOENT, "deassign of nothing");
	tap_ok(ok, "bad arguments, duplicates and unknown deassigns refused");
}

int main(void)
{
	struct counter pio = { .want = NR_KICKS }, mmio = { .want = NR_KICKS };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	pthread_t t;
	uint64_t v;

	if (vsnix_cap(VSNIX_CAP_IOEVENTFD) <= 0)
		tap_skip_all("no VSNIX_CAP_IOEVENTFD");
	tap_plan(NR_TESTS);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_code);
	pio.efd = eventfd(0, 0);
	mmio.efd = eventfd(0, EFD_NONBLOCK);
	TEST_ASSERT(pio.efd >= 0 && mmio.efd >= 0, "eventfd");

	tap_ok(!ioeventfd(vm->fd, KICK_PORT, 2, pio.efd, VSNIX_IOEVENTFD_DATAMATCH, MATCH),
	       "IOEVENTFD on port 0x%x, 2 bytes, datamatch 0x%x", KICK_PORT, MATCH);
	tap_ok(!ioeventfd(vm->fd, KICK_MMIO, 4, mmio.efd, VSNIX_IOEVENTFD_MMIO, 0),
	       "IOEVENTFD on MMIO 0x%llx, 4 bytes", KICK_MMIO);
	bad_args(vm->fd, pio.efd);

	TEST_ASSERT(!pthread_create(&t, NULL, count_thread, &pio), "pthread_create");
	vcpu_run(vcpu);
	tap_ok(vcpu_is_io(vcpu, KICK_PORT, VSNIX_EXIT_IO_OUT, 2) &&
	       *(uint16_t *)vcpu_io_data(vcpu) == 0x5678,
	       "non-matching data exits to userspace: %s", vcpu_exit_str(vcpu));
	pthread_join(t, NULL);
	tap_ok(pio.got == NR_KICKS, "host thread read %lu kicks (want %d)",
	       (unsigned long)pio.got, NR_KICKS);

	vcpu_run(vcpu);
	tap_ok(vcpu->run->exit_reason == VSNIX_EXIT_MMIO &&
	       vcpu->run->mmio.phys_addr == KICK_MMIO && vcpu->run->mmio.len == 2,
	       "MMIO write of another size exits: %s", vcpu_exit_str(vcpu));
	count_thread(&mmio);
	tap_ok(mmio.got == NR_KICKS, "MMIO eventfd counted %lu (want %d)",
	       (unsigned long)mmio.got, NR_KICKS);

	TEST_ASSERT(vcpu_run_ucall(vcpu, &uc) == UCALL_SYNC, "stage 1");
	tap_ok(!ioeventfd(vm->fd, KICK_PORT, 2, pio.efd,
			  VSNIX_IOEVENTFD_DATAMATCH | VSNIX_IOEVENTFD_DEASSIGN, MATCH),
	       "DEASSIGN");
	vcpu_run(vcpu);
	tap_ok(vcpu_is_io(vcpu, KICK_PORT, VSNIX_EXIT_IO_OUT, 2) &&
	       *(uint16_t *)vcpu_io_data(vcpu) == MATCH &&
	       read(mmio.efd, &v, sizeof(v)) < 0 && errno == EAGAIN,
	       "after DEASSIGN the matching write exits: %s", vcpu_exit_str(vcpu));
	TEST_ASSERT(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE, "done");
	vm_destroy(vm);	/* with the MMIO ioeventfd still registered */
	close(pio.efd);
	close(mmio.efd);
	tap_ok(kernel_healthy(), "kernel healthy");
	tap_finish();
}
