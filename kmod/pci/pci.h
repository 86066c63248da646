/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel PCI bus: a host bridge (configuration mechanism 1 at
 * 0xcf8/0xcfc, PCI Local Bus Specification 3.0 section 3.2.2.3.2, and
 * ECAM, PCI Express Base Specification 7.2.2) with functions on bus 0.
 * A function has a type 0 header (PCI 3.0 section 6.1) emulated from a
 * 256-byte image and a per-byte writable mask, memory BARs that the guest
 * may size and move, a capability list, MSI-X (PCI 3.0 section 6.8.2)
 * with its table and PBA in a BAR, and INTx as fallback.
 *
 * A device model (virtio_pci.c) fills a struct vsnix_pci_func, its ops
 * and its header, adds capabilities and hands it to vsnix_pci_func_add.
 */
#ifndef VSNIX_PCI_H
#define VSNIX_PCI_H

#include <linux/pci_ids.h>
#include <linux/sizes.h>
#include <uapi/linux/pci.h>
#include <linux/spinlock.h>
#include "../core/vsnix.h"

#define VSNIX_PCI_CFG_SIZE	256	/* conventional; ECAM's rest reads 0 */
#define VSNIX_PCI_NR_BARS	6
#define VSNIX_PCI_MSIX_MAX	128	/* vectors a function may have */
#define VSNIX_PCI_NR_DEVFN	256

/*
 * The host bridge's identity at 00.0. Red Hat assigned 1b36:0008 as the
 * generic PCIe host bridge of virtual machines (QEMU's
 * docs/specs/pci-ids.rst); it names no real chipset, so a guest applies
 * no chipset quirk. Class 06/00/00: host bridge.
 */
#define VSNIX_PCI_HOST_VENDOR	0x1b36
#define VSNIX_PCI_HOST_DEVICE	0x0008

struct vsnix_pci_host;
struct vsnix_pci_func;
struct vsnix_pci_bar_map;

struct vsnix_pci_func_ops {
	/*
	 * An access to a BAR at byte offset off (outside the MSI-X table and
	 * PBA, which pci.c serves). vcpu is NULL for an access through a
	 * configuration window (VIRTIO_PCI_CAP_PCI_CFG). May sleep.
	 */
	int (*bar_read)(struct vsnix_pci_func *f, struct vsnix_vcpu *vcpu,
			unsigned int bar, u64 off, unsigned int len, void *val);
	int (*bar_write)(struct vsnix_pci_func *f, struct vsnix_vcpu *vcpu,
			 unsigned int bar, u64 off, unsigned int len,
			 const void *val);
	/*
	 * Optional: a configuration access the device takes over, called
	 * after the generic handling with f->lock held; a read may change
	 * *val. off is dword-relative (off & 3) + len <= 4.
	 */
	void (*cfg_read)(struct vsnix_pci_func *f, u32 off, u32 len, u32 *val);
	void (*cfg_write)(struct vsnix_pci_func *f, u32 off, u32 len, u32 val);
	/*
	 * The function left the bus (VSNIX_DESTROY_DEVICE or the VM's end):
	 * stop. No BAR access is in flight or will come. Frees nothing.
	 */
	void (*remove)(struct vsnix_pci_func *f);
	/* Optional: VSNIX_DEVICE_INPUT (struct vsnix_io_ops.input). */
	ssize_t (*input)(struct vsnix_pci_func *f, const u8 *buf, size_t len);
	/* Last reference gone: free the function (it embeds f). */
	void (*free)(struct vsnix_pci_func *f);
};

/* One MSI-X table entry (PCI 3.0 section 6.8.2.6-9), little-endian. */
struct vsnix_pci_msix_entry {
	u32 addr_lo;
	u32 addr_hi;
	u32 data;
	u32 ctrl;		/* bit 0: Mask */
};

/*
 * The guest-visible state of a function, in one place so that it can be
 * saved and restored whole (VSNIX_GET/SET_DEVICE_STATE, later).
 */
struct vsnix_pci_func_state {
	u8 cfg[VSNIX_PCI_CFG_SIZE];
	struct vsnix_pci_msix_entry msix[VSNIX_PCI_MSIX_MAX];
	unsigned long msix_pba[BITS_TO_LONGS(VSNIX_PCI_MSIX_MAX)];
	bool intx_level;	/* the device's INTx request */
};

struct vsnix_pci_func {
	/*
	 * The function's identity on VSNIX_BUS_ID (no address range): its
	 * device id, DESTROY_DEVICE and the state ioctls. Config accesses
	 * reach the function through the host bridge, BAR accesses through
	 * the maps on the MMIO bus.
	 */
	struct vsnix_io_device io;
	refcount_t refs;	/* identity, host table, each BAR map */
	struct vsnix_vm *vm;
	struct vsnix_pci_host *host;
	const struct vsnix_pci_func_ops *ops;
	void *priv;
	u8 devfn;
	u32 intx_gsi;		/* INTA's GSI (the host's swizzle) */

	/* Configuration (set before vsnix_pci_func_add, then fixed). */
	u8 wmask[VSNIX_PCI_CFG_SIZE];	/* guest-writable bits */
	u8 w1c[VSNIX_PCI_CFG_SIZE];	/* write-1-to-clear bits */
	u64 bar_size[VSNIX_PCI_NR_BARS];	/* 0: no BAR */
	u16 msix_nr;		/* 0: no MSI-X */
	u8 msix_cap;		/* offset of the capability */
	u8 msix_bar;
	u32 msix_table_off, msix_pba_off;
	u8 cap_end;		/* next free byte for a capability */
	u8 cap_last;		/* offset of the last capability, 0: none */

	/* f->lock: config space and BAR maps; may sleep. */
	struct mutex lock;
	struct vsnix_pci_bar_map *map[VSNIX_PCI_NR_BARS];
	/* irq_lock: interrupt state, taken from any thread. */
	spinlock_t irq_lock;
	bool msix_enabled, msix_fmask, intx_disabled, intx_out;
	bool removed;		/* off the bus: no more interrupts */
	struct vsnix_pci_func_state s;
};

/* ----------------------------------------------------- building a function */

/* Header fields (type 0, PCI 3.0 6.1) with their reset values. */
void vsnix_pci_func_init(struct vsnix_pci_func *f, u16 vendor, u16 device,
			 u8 revision, u32 class, u16 subsys_vendor,
			 u16 subsys);
/* A 32-bit non-prefetchable memory BAR of size (a power of 2 >= 4 KiB). */
void vsnix_pci_func_add_bar(struct vsnix_pci_func *f, unsigned int bar,
			    u64 size, u64 base);
/* Appends a capability of len bytes; returns its offset, or 0 if full. */
u8 vsnix_pci_func_add_cap(struct vsnix_pci_func *f, u8 id, u8 len);
/* The MSI-X capability: nr vectors, table and PBA in bar at these offsets. */
int vsnix_pci_func_add_msix(struct vsnix_pci_func *f, u16 nr,
			    unsigned int bar, u32 table_off, u32 pba_off);

/*
 * Puts f on the VM's host bridge at devfn (bus 0) and maps its BARs where
 * placed (memory decoding on, as firmware would leave it). Returns the
 * function's device id or -errno (with a message; f is then the caller's
 * to free). Called with vm->lock held.
 */
int vsnix_pci_func_add(struct vsnix_vm *vm, struct vsnix_pci_func *f,
		       unsigned int slot, unsigned int func, const char *who);
/* Checks a placement's slot, function and BAR base: 0 or -EINVAL. */
int vsnix_pci_check_placement(struct vsnix_vm *vm,
			      const struct vsnix_pci_placement *p,
			      u64 bar_size, const char *who);

/*
 * A BAR access as the guest made it, MSI-X table and PBA included (for a
 * configuration window such as VIRTIO_PCI_CAP_PCI_CFG; vcpu may be NULL).
 */
int vsnix_pci_bar_access(struct vsnix_pci_func *f, struct vsnix_vcpu *vcpu,
			 unsigned int bar, u64 off, unsigned int len,
			 void *val, bool write);

void vsnix_pci_func_get(struct vsnix_pci_func *f);
void vsnix_pci_func_put(struct vsnix_pci_func *f);

/* ----------------------------------------------------------- interrupts */

/* MSI-X Enable set and Function Mask clear or not: any thread. */
bool vsnix_pci_msix_enabled(struct vsnix_pci_func *f);
/*
 * Signals MSI-X vector v: delivered now, or left pending while masked
 * (delivered on unmask). False when MSI-X is off or v is out of range.
 * Any thread; does not sleep.
 */
bool vsnix_pci_msix_signal(struct vsnix_pci_func *f, u16 v);
/* Sets the function's INTx request (INTA): any thread, does not sleep. */
void vsnix_pci_intx_set(struct vsnix_pci_func *f, bool level);

#endif /* VSNIX_PCI_H */
