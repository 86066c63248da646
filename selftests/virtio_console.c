// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console over PCI (VSNIX_DEV_VIRTIO_CONSOLE): the guest's
 * transmitq output lands in the console file (a pipe); VSNIX_DEVICE_INPUT
 * bytes reach a receive buffer the guest posted, and input that comes
 * before any buffer waits in the device until the guest posts one.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include "virtio_blk_test.h"

#ifndef VSNIX_DEVICE_INPUT
struct vsnix_device_input {
	__u32 id;
	__u32 len;
	__u64 data;
	__u64 reserved[2];
};
#define VSNIX_DEVICE_INPUT	_IOW(VSNIXIO, 0x5e, struct vsnix_device_input)
#endif

#define NR_TESTS	5
#define ID_CONSOLE	3
#define MSG		"hello from hvc0\n"

static void guest_main(uint64_t base)
{
	uint64_t rx = vbt_data(base, 0), tx = vbt_data(base, 1);
	volatile uint64_t *rxw = (volatile uint64_t *)rx;
	struct vg_used_elem e;
	struct vg_dev d;
	uint32_t len;

	GUEST_ASSERT(vg_find(&d, ID_CONSOLE, 0) == 0);
	GUEST_ASSERT(vg_init(&d, 0));
	GUEST_ASSERT(vbt_queues(&d, base, 2) == 0);

	vg_memcpy((void *)tx, MSG, sizeof(MSG) - 1);
	vg_set_desc(&d, 1, 0, tx, sizeof(MSG) - 1, 0, 0);
	vg_post(&d, 1, 0);
	vg_kick(&d, 1);
	GUEST_ASSERT(vg_wait_used(&d, 1, &e));
	GUEST_SYNC2(1, e.id);

	/* A receive buffer, then the host's input. */
	*rxw = 0;
	vg_set_desc(&d, 0, 0, rx, 64, VG_DESC_F_WRITE, 0);
	vg_post(&d, 0, 0);
	vg_kick(&d, 0);
	GUEST_SYNC(2);
	len = vg_wait_used(&d, 0, &e) ? e.len : 0xffff;
	GUEST_SYNC3(3, len, *rxw);

	/* The host's input comes first; the buffer after it. */
	GUEST_SYNC(4);
	*rxw = 0;
	vg_post(&d, 0, 0);
	vg_kick(&d, 0);
	len = vg_wait_used(&d, 0, &e) ? e.len : 0xffff;
	GUEST_SYNC3(5, len, *rxw);
}

static bool pipe_has(int fd, const char *want)
{
	char buf[256];
	size_t got = 0, n = strlen(want);
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (got < n && poll(&p, 1, 5000) == 1) {
		ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);

		if (r <= 0)
			break;
		got += r;
	}
	buf[got] = 0;
	return got == n && !strcmp(buf, want);
}

static long input(struct vsnix_test_vm *vm, uint32_t id, const char *s)
{
	struct vsnix_device_input in = { .id = id, .len = strlen(s),
					 .data = (uintptr_t)s };

	return ioctl(vm->fd, VSNIX_DEVICE_INPUT, &in);
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	uint64_t base, w;
	struct ucall uc;
	int pfd[2];
	long id, r;

	vsnix_dev_fd();
	if (!(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_VIRTIO_CONSOLE)) ||
	    !(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_PCI_HOST)))
		tap_skip_all("no virtio-console or PCI host device");
	tap_plan(NR_TESTS);
	TEST_ASSERT(pipe2(pfd, O_NONBLOCK) == 0, "pipe");

	vm = vm_create_long(VBT_AREA + 0x10000);
	base = (vm_alloc(vm, VBT_AREA + 0x1000) + 0xfff) & ~0xfffull;
	vbt_pci_host(vm);
	{
		struct vsnix_device_config c = {
			.type = VSNIX_DEV_VIRTIO_CONSOLE, .console_fd = pfd[1],
			.virtio_console.pci = { .slot = 3,
				.bar_base = PC_PCI_MMIO_START +
					    2 * PC_PCI_BAR_SIZE },
		};

		TEST_ASSERT(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c) >= 0,
			    "virtio-console: %s", strerror(errno));
		id = c.id;
	}
	vcpu = vcpu_create_long(vm, 0, guest_main);
	vcpu_set_args(vcpu, 1, base);

	vcpu_run_ucall(vcpu, &uc);
	tap_ok(uc.args[0] == 1 && pipe_has(pfd[0], MSG),
	       "transmitq: the guest's bytes in the console pipe");

	vcpu_run_ucall(vcpu, &uc);
	TEST_ASSERT(uc.args[0] == 2, "stage 2");
	r = input(vm, id, "ping");
	tap_ok(r == 4, "VSNIX_DEVICE_INPUT takes 4 bytes (%ld, %s)", r,
	       r < 0 ? strerror(errno) : "");
	vcpu_run_ucall(vcpu, &uc);
	memcpy(&w, "ping\0\0\0\0", 8);
	tap_ok(uc.args[0] == 3 && uc.args[1] == 4 && uc.args[2] == w,
	       "receiveq: 4 bytes \"ping\" in the guest's buffer");

	vcpu_run_ucall(vcpu, &uc);
	TEST_ASSERT(uc.args[0] == 4, "stage 4");
	r = input(vm, id, "early");
	vcpu_run_ucall(vcpu, &uc);
	memcpy(&w, "early\0\0\0", 8);
	tap_ok(r == 5 && uc.args[0] == 5 && uc.args[1] == 5 && uc.args[2] == w,
	       "input before a buffer waits for it (%ld, %lu bytes)", r,
	       (unsigned long)uc.args[1]);
	tap_ok(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE && kernel_healthy(),
	       "guest done, kernel healthy");
	vm_destroy(vm);
	close(pfd[0]);
	close(pfd[1]);
	tap_finish();
}
