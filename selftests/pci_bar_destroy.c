// SPDX-License-Identifier: GPL-2.0
/*
 * VSNIX_DESTROY_DEVICE takes only the ids VSNIX_CREATE_DEVICE returned
 * (found by ioctl_fuzz): once the guest turns on a PCI function's memory
 * decoding, its BAR is mapped on the MMIO bus as an entry with an id of
 * its own. Before the fix DESTROY_DEVICE of that id freed the map while
 * the function still pointed to it, and removing the function then wrote
 * into freed memory (KASAN: use-after-free in io_bus_remove_locked).
 * Every other id near the function's must give ENOENT, the device state
 * ioctls must not reach the map either, and the function's own id still
 * removes it whole.
 */
#include "virtio_blk_test.h"

#define NR_TESTS	5
#define SLOT		1

static void guest_main(void)
{
	/* Command register (PCI 3.0, 6.2.2) through ECAM: memory space on. */
	*(volatile uint16_t *)(PC_PCI_ECAM_BASE + (SLOT << 15) + 4) = 0x6;
	GUEST_SYNC2(1, *(volatile uint32_t *)(PC_PCI_MMIO_START + 0x14));
	GUEST_DONE();
}

int main(void)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_VIRTIO_RNG, .console_fd = -1 };
	struct vsnix_device_state st = { 0 };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	uint8_t blob[256];
	struct ucall uc;
	int id, wrong = 0, reached = 0;
	unsigned int other;

	vsnix_dev_fd();
	if (!(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_VIRTIO_RNG)))
		tap_skip_all("no virtio-rng device");
	tap_plan(NR_TESTS);
	vm = vm_create_long(0);
	vbt_pci_host(vm);
	c.virtio_rng.pci.slot = SLOT;
	c.virtio_rng.pci.bar_base = PC_PCI_MMIO_START;
	id = ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c) < 0 ? -1 : (int)c.id;
	TEST_ASSERT(id > 0, "virtio-rng: %s", strerror(errno));
	vcpu = vcpu_create_long(vm, 0, guest_main);
	tap_ok(vcpu_run_ucall(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 1,
	       "the guest turned on memory decoding and read the BAR (0x%lx)",
	       (unsigned long)uc.args[1]);

	/* The ids after the function's: its BAR map's among them. */
	for (other = id + 1; other <= (unsigned int)id + 8; other++) {
		st.id = other;
		st.size = sizeof(blob);
		st.data = (uintptr_t)blob;
		if (ioctl(vm->fd, VSNIX_GET_DEVICE_STATE, &st) >= 0)
			reached++;
		if (ioctl(vm->fd, VSNIX_DESTROY_DEVICE, (unsigned long)other) >= 0 ||
		    errno != ENOENT)
			wrong++;
	}
	tap_ok(!reached, "GET_DEVICE_STATE finds no id but CREATE_DEVICE's (%d did)",
	       reached);
	tap_ok(!wrong, "DESTROY_DEVICE of ids CREATE_DEVICE did not return: ENOENT (%d not)",
	       wrong);
	tap_ok(ioctl(vm->fd, VSNIX_DESTROY_DEVICE, (unsigned long)id) == 0,
	       "the function's own id removes it, BAR map and all");
	tap_ok(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE && kernel_healthy(),
	       "guest done, kernel healthy");
	vm_destroy(vm);
	tap_finish();
}
