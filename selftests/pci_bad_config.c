// SPDX-License-Identifier: GPL-2.0
/*
 * Bad PCI configurations from userspace get an errno (and one message),
 * never a half-made device: a virtio function without a host bridge, a
 * second host bridge, a misplaced ECAM or BAR window, a slot out of
 * range or taken, a BAR outside the window or not aligned to its size.
 * DESTROY_DEVICE frees a slot for a new function.
 */
#include <vsnix/pc.h>
#include "vsnix_util.h"

#define NR_TESTS	17
#define BAD(ret, err, what) \
	tap_ok(expect_errno((ret), (err), (what)), "%s: %s", (what), #err)

static int create(int vm_fd, struct vsnix_device_config *c)
{
	c->console_fd = -1;
	return ioctl(vm_fd, VSNIX_CREATE_DEVICE, c);
}

static struct vsnix_device_config host_cfg(void)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_PCI_HOST };

	c.pci_host.ecam_base = PC_PCI_ECAM_BASE;
	c.pci_host.nr_buses = PC_PCI_BUSES;
	c.pci_host.intx_gsi_base = 16;
	c.pci_host.mmio_base = PC_PCI_MMIO_START;
	c.pci_host.mmio_size = PC_PCI_MMIO_END + 1 - PC_PCI_MMIO_START;
	return c;
}

static int rng(int vm_fd, int slot, int func, uint64_t bar, uint32_t *id)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_VIRTIO_RNG };
	int ret;

	c.virtio_rng.pci.slot = slot;
	c.virtio_rng.pci.func = func;
	c.virtio_rng.pci.bar_base = bar;
	ret = create(vm_fd, &c);
	if (id)
		*id = c.id;
	return ret;
}

int main(void)
{
	struct vsnix_device_config c;
	struct vsnix_test_vm *vm;
	uint32_t host_id, id;

	vsnix_dev_fd();
	if (!(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_PCI_HOST)))
		tap_skip_all("no VSNIX_DEV_PCI_HOST");
	tap_plan(NR_TESTS);
	vm = vm_create(1 << 20);

	BAD(rng(vm->fd, 3, 0, PC_PCI_MMIO_START, NULL), ENODEV,
		     "virtio-rng without a host bridge");
	c = host_cfg();
	c.pci_host.ecam_base += 0x1000;
	BAD(create(vm->fd, &c), EINVAL, "ECAM not 1 MiB aligned");
	c = host_cfg();
	c.pci_host.nr_buses = 0;
	BAD(create(vm->fd, &c), EINVAL, "0 buses");
	c = host_cfg();
	c.pci_host.mmio_base = PC_PCI_ECAM_BASE;
	BAD(create(vm->fd, &c), EINVAL, "BAR window over ECAM");
	c = host_cfg();
	c.pci_host.mmio_size = 0x200000000ull;
	BAD(create(vm->fd, &c), EINVAL, "BAR window above 4 GiB");
	c = host_cfg();
	c.pci_host.reserved[0] = 1;
	BAD(create(vm->fd, &c), EINVAL, "reserved field set");
	c = host_cfg();
	tap_ok(!create(vm->fd, &c), "host bridge created");
	host_id = c.id;
	c = host_cfg();
	BAD(create(vm->fd, &c), EEXIST, "a second host bridge");

	BAD(rng(vm->fd, 0, 0, PC_PCI_MMIO_START, NULL), EINVAL,
		     "slot 0 (the host bridge's)");
	BAD(rng(vm->fd, 32, 0, PC_PCI_MMIO_START, NULL), EINVAL,
		     "slot 32");
	BAD(rng(vm->fd, 3, 8, PC_PCI_MMIO_START, NULL), EINVAL,
		     "function 8");
	BAD(rng(vm->fd, 3, 0, PC_PCI_MMIO_START + 0x1000, NULL),
		     EINVAL, "BAR not aligned to its 16 KiB");
	BAD(rng(vm->fd, 3, 0, 0xa0000000, NULL), EINVAL,
		     "BAR below the window");
	tap_ok(!rng(vm->fd, 3, 0, PC_PCI_MMIO_START, &id) && id,
	       "virtio-rng at slot 3");
	BAD(rng(vm->fd, 3, 0, PC_PCI_MMIO_START + 0x4000, NULL),
		     EEXIST, "slot 3 again");
	tap_ok(!ioctl(vm->fd, VSNIX_DESTROY_DEVICE, id) &&
	       !rng(vm->fd, 3, 0, PC_PCI_MMIO_START, NULL) &&
	       !ioctl(vm->fd, VSNIX_DESTROY_DEVICE, host_id),
	       "DESTROY_DEVICE frees the slot; the host bridge goes before its function");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel healthy");
	tap_finish();
}
