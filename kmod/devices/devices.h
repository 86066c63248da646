/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel devices: declarations shared by the files of kmod/devices only. Each
 * device keeps all of its state in one struct that embeds its
 * struct vsnix_io_device, so the state can be saved for snapshots later.
 */
#ifndef VSNIX_DEVICES_H
#define VSNIX_DEVICES_H

#include <linux/fs.h>
#include "../core/vsnix.h"

/*
 * True for files that can hold other files, and so the VM itself: vsnix's
 * own fds and anonymous-inode files (io_uring). Devices never keep one.
 */
bool vsnix_file_may_hold_files(struct file *file);

/*
 * The console file of a device: NULL when the config said -1. Returns an
 * ERR_PTR (with a message) when fd is not open for writing (-EBADF) or not
 * a kind of file a VM may hold (-EINVAL, see vsnix_console_kind_ok).
 */
struct file *vsnix_console_get(int fd, const char *who);
void vsnix_console_put(struct file *console);
/*
 * Writes guest output; what the file does not take is dropped and counted
 * in vm->console_dropped, never fatal to the VM (a full pipe nobody drains
 * must not end the guest).
 */
void vsnix_console_write(struct vsnix_vm *vm, struct file *console,
			 const void *buf, size_t len);

/* True when every byte of [p, p + len) is zero. */
bool vsnix_dev_all_zero(const void *p, size_t len);

/* Little-endian value of a 1, 2 or 4-byte port access. */
u32 vsnix_pio_value(const void *val, unsigned int len);
/* Stores the low len bytes of value, little-endian. */
void vsnix_pio_fill(void *val, unsigned int len, u32 value);

/*
 * vsnix_io_register with a message naming the device and its range.
 * Returns the device's id (> 0) or -errno; once it returns an id, the
 * device may already be gone (DESTROY_DEVICE): do not touch it.
 */
int vsnix_dev_register(struct vsnix_vm *vm, struct vsnix_io_device *io,
		       const char *who);

/* The per-type constructors, called with vm->lock held: id or -errno. */
int vsnix_hvt_create(struct vsnix_vm *vm, const struct vsnix_hvt_config *cfg,
		     struct file *console);
int vsnix_hvt2_create(struct vsnix_vm *vm,
		      const struct vsnix_hvt2_config *cfg,
		      struct file *console);
int vsnix_uart_create(struct vsnix_vm *vm,
		      const struct vsnix_uart_config *cfg,
		      struct file *console);
int vsnix_exit_port_create(struct vsnix_vm *vm,
			   const struct vsnix_exit_port_config *cfg);
int vsnix_fw_cfg_create(struct vsnix_vm *vm,
			const struct vsnix_fw_cfg_config *cfg);
/*
 * Devices with several ranges (PIC, PIT): io[0] is the device (its id,
 * its state ops), io[1..n-1] are extra ranges that go when io[0] goes.
 * The device counts in refs its creator and each range registered.
 * register_extra takes a ref per range and undoes itself on failure.
 */
int vsnix_dev_register_extra(struct vsnix_vm *vm, struct vsnix_io_device *io,
			     unsigned int n, atomic_t *refs, const char *who);
void vsnix_dev_unregister_extra(struct vsnix_vm *vm,
				struct vsnix_io_device *io, unsigned int n);

/* The chipset (Documentation/devices.rst). */
int vsnix_ioapic_create(struct vsnix_vm *vm,
			const struct vsnix_ioapic_config *cfg);
int vsnix_pic_create(struct vsnix_vm *vm, const struct vsnix_pic_config *cfg);
int vsnix_pit_create(struct vsnix_vm *vm, const struct vsnix_pit_config *cfg);
int vsnix_rtc_create(struct vsnix_vm *vm, const struct vsnix_rtc_config *cfg);
int vsnix_pm_timer_create(struct vsnix_vm *vm,
			  const struct vsnix_pm_timer_config *cfg);
int vsnix_acpi_pm_create(struct vsnix_vm *vm,
			 const struct vsnix_acpi_pm_config *cfg);

/* PCI (kmod/pci) and virtio devices over it (kmod/virtio). */
int vsnix_pci_host_create(struct vsnix_vm *vm,
			  const struct vsnix_pci_host_config *cfg);
int vsnix_virtio_rng_create(struct vsnix_vm *vm,
			    const struct vsnix_virtio_rng_config *cfg);
int vsnix_virtio_blk_create(struct vsnix_vm *vm,
			    const struct vsnix_virtio_blk_config *cfg);
int vsnix_virtio_console_create(struct vsnix_vm *vm,
				const struct vsnix_virtio_console_config *cfg,
				struct file *console);
int vsnix_virtio_net_create(struct vsnix_vm *vm,
			    const struct vsnix_virtio_net_config *cfg);

#endif /* VSNIX_DEVICES_H */
