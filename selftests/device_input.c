// SPDX-License-Identifier: GPL-2.0
/*
 * VSNIX_DEVICE_INPUT (VSNIX_CAP_DEVICE_INPUT): bytes reach the 16550's
 * receiver in order, a full FIFO takes part of a write and then none
 * (-EAGAIN), and bad arguments fail with a clear errno: an unknown id, a
 * device without input (the exit port), len above the limit, a bad
 * pointer, reserved fields set. Without VSNIX_UART_HAS_IRQ the UART still
 * takes input (polled guests).
 */
#include <sys/mman.h>
#include "vsnix_util.h"

#define COM1		0x3f8
#define EXIT_PORT	0xf4

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* Reads everything the receiver has, 8 bytes a ucall; then a 0 ucall. */
static void guest_main(void)
{
	uint64_t word, n;

	guest_outb(COM1 + 2, 0x01);	/* FIFOs on */
	GUEST_SYNC(1);
	for (;;) {
		word = 0;
		for (n = 0; n < 8 && (inb(COM1 + 5) & 1); n++)
			word |= (uint64_t)inb(COM1) << (8 * n);
		GUEST_SYNC3(2, n, word);
		if (!n)
			break;
	}
}

static long input(int vm_fd, uint32_t id, const void *p, uint32_t len)
{
	struct vsnix_device_input in = { .id = id, .len = len, .data = (uintptr_t)p };

	return ioctl(vm_fd, VSNIX_DEVICE_INPUT, &in);
}

/* Runs the guest's drain loop: the bytes it read, in order. */
static size_t drain(struct vsnix_test_vcpu *vcpu, char *out, size_t room)
{
	struct ucall uc;
	size_t len = 0, i;

	while (vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 2 && uc.args[1]) {
		for (i = 0; i < uc.args[1] && len < room; i++)
			out[len++] = uc.args[2] >> (8 * i);
	}
	return len;
}

static void bad_args(struct vsnix_test_vm *vm, uint32_t uart, uint32_t ep)
{
	struct vsnix_device_input in = { .id = uart, .len = 1, .data = (uintptr_t)"x" };
	static char big[VSNIX_DEVICE_INPUT_MAX + 1];
	void *unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	tap_ok(expect_errno(input(vm->fd, 9999, "x", 1), ENOENT, "unknown id") &&
	       expect_errno(input(vm->fd, 0, "x", 1), ENOENT, "id 0"),
	       "unknown device id: ENOENT");
	tap_ok(expect_errno(input(vm->fd, ep, "x", 1), EINVAL, "exit port"),
	       "a device without input (exit port): EINVAL");
	tap_ok(expect_errno(input(vm->fd, uart, big, sizeof(big)), EINVAL, "huge len") &&
	       expect_errno(input(vm->fd, uart, big, UINT32_MAX), EINVAL, "len 2^32-1"),
	       "len above VSNIX_DEVICE_INPUT_MAX (%d): EINVAL", VSNIX_DEVICE_INPUT_MAX);
	tap_ok(expect_errno(input(vm->fd, uart, unmapped, 16), EFAULT, "PROT_NONE data") &&
	       expect_errno(input(vm->fd, uart, (void *)0xffff800000000000ul, 1), EFAULT,
			    "kernel address") &&
	       expect_errno(ioctl(vm->fd, VSNIX_DEVICE_INPUT, (void *)8), EFAULT, "bad arg"),
	       "bad pointers (data, the struct): EFAULT");
	in.reserved[1] = 1;
	tap_ok(expect_errno(ioctl(vm->fd, VSNIX_DEVICE_INPUT, &in), EINVAL, "reserved"),
	       "reserved not zero: EINVAL");
	tap_ok(input(vm->fd, uart, NULL, 0) == 0, "len 0: 0 bytes, no error");
	munmap(unmapped, 4096);
}

int main(void)
{
	static const char msg[] = "0123456789abcdefXYZ";	/* 19 */
	struct vsnix_device_config u = { .type = VSNIX_DEV_UART16550, .console_fd = -1,
					 .uart.base = COM1 };
	struct vsnix_device_config ep = { .type = VSNIX_DEV_EXIT_PORT, .console_fd = -1,
					  .exit_port.port = EXIT_PORT };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	char got[64];
	struct ucall uc;
	size_t len;
	long r;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_DEVICE_INPUT) <= 0)
		tap_skip_all("no VSNIX_CAP_DEVICE_INPUT");
	tap_plan(11);
	tap_ok(vsnix_cap(VSNIX_CAP_DEVICE_INPUT) == VSNIX_DEVICE_INPUT_MAX,
	       "VSNIX_CAP_DEVICE_INPUT says the limit (%ld)", vsnix_cap(VSNIX_CAP_DEVICE_INPUT));
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_DEVICE, &u) && !ioctl(vm->fd, VSNIX_CREATE_DEVICE, &ep),
		    "CREATE_DEVICE: %s", strerror(errno));
	TEST_ASSERT(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 1, "stage 1");

	r = input(vm->fd, u.id, msg, 19);
	tap_ok(r == 16, "19 bytes into an empty FIFO: %ld taken (16)", r);
	tap_ok(expect_errno(input(vm->fd, u.id, msg + 16, 3), EAGAIN, "full"),
	       "a full FIFO takes none: EAGAIN");
	len = drain(vcpu, got, sizeof(got));
	tap_ok(len == 16 && !memcmp(got, msg, 16), "the guest reads the 16 in order (%zu: %.*s)",
	       len, (int)len, got);
	/* The guest ended its loop: a new VM for the rest is not needed. */
	bad_args(vm, u.id, ep.id);
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
