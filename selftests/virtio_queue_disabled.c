// SPDX-License-Identifier: GPL-2.0
/*
 * A virtio driver that sets DRIVER_OK without enabling its queue (found by
 * ioctl_fuzz): the rings it gave the queue's registers belong to the
 * driver until queue_enable (virtio 1.2, 2.7 and 4.1.4.3), so the device
 * must neither serve nor write them. Before the fix, virtio-rng's worker
 * saw a new avail index, found the queue empty (not enabled), was told
 * "more arrived" by the kick re-enable, and spun forever, writing the
 * used ring's flags each turn; the reset that stops it then never
 * returned (the vCPU unkillable in D state). Here the guest watches the
 * used ring's flags, then takes the avail index back so that, unfixed,
 * the worker ends and the test reports instead of hanging.
 */
#include <unistd.h>
#include "virtio_blk_test.h"

#define NR_TESTS	4
#define RNG_ID		4
#define SENTINEL	0xabcd

static void guest_main(uint64_t ring)
{
	volatile uint16_t *avail = (volatile uint16_t *)(ring + 0x1000);
	volatile uint16_t *used = (volatile uint16_t *)(ring + 0x2000);
	struct vg_dev d;

	GUEST_ASSERT(vg_find(&d, RNG_ID, 0) == 0);
	GUEST_ASSERT(vg_init(&d, 0));
	/* Queue 0's rings, never enabled: 4.1.4.3 queue_desc/driver/device. */
	*(volatile uint16_t *)(d.common + 0x16) = 0;
	*(volatile uint32_t *)(d.common + 0x20) = ring;
	*(volatile uint32_t *)(d.common + 0x24) = 0;
	*(volatile uint32_t *)(d.common + 0x28) = ring + 0x1000;
	*(volatile uint32_t *)(d.common + 0x2c) = 0;
	*(volatile uint32_t *)(d.common + 0x30) = ring + 0x2000;
	*(volatile uint32_t *)(d.common + 0x34) = 0;
	used[0] = SENTINEL;
	used[1] = 0;
	avail[2] = 0;
	avail[1] = 1;		/* one new entry, in a ring not enabled */
	vg_driver_ok(&d);
	/* A kick too (4.1.4.4): ignored for a disabled queue. */
	*(volatile uint16_t *)(d.notify_base +
			       *(volatile uint16_t *)(d.common + 0x1e) * d.notify_mult) = 0;
	GUEST_SYNC(1);		/* the host waits: the worker had its chance */
	GUEST_SYNC3(2, used[0], used[1]);
	avail[1] = 0;		/* unfixed: lets the spinning worker end */
	vg_reset(&d);		/* stop: waits for the worker */
	GUEST_SYNC2(3, vg_status(&d));
	GUEST_DONE();
}

int main(void)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_VIRTIO_RNG, .console_fd = -1 };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	uint64_t ring;

	vsnix_dev_fd();
	if (!(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_VIRTIO_RNG)))
		tap_skip_all("no virtio-rng device");
	tap_plan(NR_TESTS);
	vm = vm_create_long(0x10000);
	ring = (vm_alloc(vm, 0x4000) + 0xfff) & ~0xfffull;
	vbt_pci_host(vm);
	c.virtio_rng.pci.slot = 1;
	c.virtio_rng.pci.bar_base = PC_PCI_MMIO_START;
	TEST_ASSERT(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c) >= 0, "virtio-rng: %s",
		    strerror(errno));
	vcpu = vcpu_create_long(vm, 0, guest_main);
	vcpu_set_args(vcpu, 1, ring);

	tap_ok(vcpu_run_ucall(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 1,
	       "DRIVER_OK with queue 0 not enabled");
	usleep(300 * 1000);
	vcpu_run_ucall(vcpu, &uc);
	tap_ok(uc.args[0] == 2 && uc.args[1] == SENTINEL && uc.args[2] == 0,
	       "the device left the disabled queue's used ring alone (flags 0x%lx, idx %lu)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	vcpu_run_ucall(vcpu, &uc);
	tap_ok(uc.args[0] == 3 && uc.args[1] == 0, "reset returns, status 0 (0x%lx)",
	       (unsigned long)uc.args[1]);
	tap_ok(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE && kernel_healthy(),
	       "guest done, kernel healthy");
	vm_destroy(vm);
	tap_finish();
}
