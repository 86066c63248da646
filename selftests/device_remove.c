// SPDX-License-Identifier: GPL-2.0
/*
 * VSNIX_DESTROY_DEVICE (VSNIX_CAP_DESTROY_DEVICE): a UART is removed while
 * its guest hammers it from another thread; the guest's next access exits
 * to userspace as an unclaimed port. Removing twice, id 0 and an unknown
 * id fail cleanly, a new device can take the freed range, and nothing
 * leaks (VMs, module references, pages: the rig checks the page count).
 */
#include <pthread.h>
#include <unistd.h>
#include "vsnix_util.h"

#define NR_TESTS	9
#define COM1		0x3f8
#define SCR		(COM1 + 7)

static uint8_t guest_inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* Scratch register round trips until one leaves the kernel. */
static void guest_code(void)
{
	uint8_t i = 0;

	GUEST_SYNC(1);
	for (;;) {
		guest_outb(SCR, ++i);
		GUEST_ASSERT_EQ(guest_inb(SCR), i);
	}
}

struct remover {
	int vm_fd;
	uint32_t id;
	int ret, err;
};

static void *remove_thread(void *arg)
{
	struct remover *r = arg;

	usleep(100 * 1000);	/* the guest is in its loop by now */
	r->ret = ioctl(r->vm_fd, VSNIX_DESTROY_DEVICE, (unsigned long)r->id);
	r->err = errno;
	return NULL;
}

static int create_uart(struct vsnix_test_vm *vm, uint32_t *id)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_UART16550, .console_fd = -1,
					 .uart.base = COM1 };
	int ret = ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c);

	*id = c.id;
	return ret;
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct remover r = { 0 };
	long refs;
	struct ucall uc;
	pthread_t t;
	uint32_t id2 = 0;
	int ret;

	if (vsnix_cap(VSNIX_CAP_DESTROY_DEVICE) <= 0)
		tap_skip_all("no VSNIX_CAP_DESTROY_DEVICE");
	refs = vsnix_module_refcnt();	/* with /dev/vsnix open */
	tap_plan(NR_TESTS);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_code);
	TEST_ASSERT(!create_uart(vm, &r.id), "CREATE_DEVICE uart");
	tap_ok(r.id > 0, "CREATE_DEVICE returns an id (%u)", r.id);
	TEST_ASSERT(vcpu_run_ucall(vcpu, &uc) == UCALL_SYNC, "stage 1");

	r.vm_fd = vm->fd;
	TEST_ASSERT(!pthread_create(&t, NULL, remove_thread, &r), "pthread_create");
	vcpu_run(vcpu);
	pthread_join(t, NULL);
	tap_ok(!r.ret, "DESTROY_DEVICE while the guest runs (%s)", r.ret ? strerror(r.err) : "0");
	tap_ok(vcpu->run->exit_reason == VSNIX_EXIT_IO && vcpu->run->io.port == SCR,
	       "the next access exits to userspace: %s", vcpu_exit_str(vcpu));

	tap_ok(expect_errno(ioctl(vm->fd, VSNIX_DESTROY_DEVICE, (unsigned long)r.id), ENOENT,
			    "DESTROY_DEVICE twice"), "removing it again: ENOENT");
	tap_ok(expect_errno(ioctl(vm->fd, VSNIX_DESTROY_DEVICE, 0ul), EINVAL, "id 0") &&
	       expect_errno(ioctl(vm->fd, VSNIX_DESTROY_DEVICE, 1ul << 40), EINVAL, "id > 32 bits") &&
	       expect_errno(ioctl(vm->fd, VSNIX_DESTROY_DEVICE, 12345ul), ENOENT, "unknown id"),
	       "bad ids refused");
	ret = create_uart(vm, &id2);
	tap_ok(!ret && id2 && id2 != r.id, "a new UART takes the range (id %u)", id2);
	tap_ok(!ioctl(vm->fd, VSNIX_DESTROY_DEVICE, (unsigned long)id2), "and is removed again");
	vm_destroy(vm);
	tap_ok(vsnix_module_refcnt() == refs, "module references back to %ld", refs);
	tap_ok(kernel_healthy(), "kernel healthy");
	tap_finish();
}
