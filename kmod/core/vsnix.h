/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vSnix core: the arch-neutral VM, vCPU, memory and I/O bus objects, and
 * the services the core gives arch code. The core calls arch code through
 * arch.h only; the vendors' contract is in kmod/arch/x86/vendor.h.
 */
#ifndef VSNIX_CORE_H
#define VSNIX_CORE_H

#include <linux/types.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/kref.h>
#include <linux/uidgid.h>
#include <linux/srcu.h>
#include <linux/mmu_notifier.h>
#include <linux/workqueue.h>
#include <uapi/linux/vsnix.h>
#include "stats.h"
#include "arch.h"

#define VSNIX_MAX_VCPUS		64
#define VSNIX_MAX_MEMSLOTS	32
#define VSNIX_MAX_MEM_MB	(64 * 1024)
#define VSNIX_GPA_BITS		48	/* guest-physical space the TDP maps */

struct vsnix_vm;
struct vsnix_vcpu;
struct vsnix_io_device;
struct vsnix_io_bus;
struct vsnix_irq_routing;
struct vsnix_pci_host;

/* ---------------------------------------------------------------- memory */

/*
 * A slot: guest RAM at [gpa, +size) backed by the VMM's memory at uaddr.
 * Immutable once published, freed after an SRCU grace period.
 */
struct vsnix_memslot {
	u32 id;
	u32 flags;		/* VSNIX_MEM_* */
	u64 gpa;
	u64 size;
	u64 uaddr;
	unsigned long npages;
	struct page **pages;	/* VSNIX_MEM_PIN only: pinned for its life */
	unsigned long *dirty_bitmap;	/* VSNIX_MEM_LOG_DIRTY only */
	struct mm_struct *mm;	/* the owner's (mmgrab) */
	struct vsnix_vm *vm;
	/* Not pinned: the host's changes to [uaddr, +size) unmap the TDP. */
	struct mmu_interval_notifier mni;
};

/* The published slot set: one immutable copy, replaced whole. */
struct vsnix_memslots {
	unsigned int nr;
	struct vsnix_memslot *by_gpa[VSNIX_MAX_MEMSLOTS];	/* sorted */
	struct vsnix_memslot *by_id[VSNIX_MAX_MEMSLOTS];
};

/*
 * Looks a GPA up (binary search); NULL when no slot maps it. Caller holds
 * srcu_read_lock(&vm->srcu) or vm->slots_lock, and the slot stays valid
 * until it drops it.
 */
struct vsnix_memslot *vsnix_memslot_find(struct vsnix_vm *vm, u64 gpa);

/*
 * The host page behind gpa for an NPT/EPT fault (core/guest_mem.c), with a
 * reference that the caller drops with put_page() once the TDP entry is in
 * (under vm->mmu_lock, after vsnix_memslot_retry() said no invalidation
 * came in between). *writable: the entry may allow writes. *huge: the
 * 2 MiB around gpa is one host huge page the slot maps whole, at gpa's
 * 2 MiB alignment. -EFAULT when the host has no page there, -EINTR on a
 * fatal signal.
 */
int vsnix_memslot_get_page(struct vsnix_memslot *s, u64 gpa, bool write,
			   struct page **page, bool *writable, bool *huge);
unsigned long vsnix_memslot_seq_begin(struct vsnix_memslot *s);
bool vsnix_memslot_retry(struct vsnix_memslot *s, unsigned long seq);
/* A write to gpa (VSNIX_MEM_LOG_DIRTY slots; a no-op for others). */
void vsnix_memslot_mark_dirty(struct vsnix_memslot *s, u64 gpa);

/*
 * With vm->mmu_lock held after TDP entries were cleared or write-protected:
 * every vCPU flushes its TLB before it enters again, and running ones are
 * out of guest mode when this returns.
 */
void vsnix_vm_flush_tlbs(struct vsnix_vm *vm);

/*
 * The one way the host touches guest memory. Fails with -EFAULT when any
 * byte of [gpa, gpa + len) is outside guest RAM (or, for writes, read-only).
 * May cross page and slot boundaries. Process context only: unpinned
 * memory is read through the owner's page tables and may fault in.
 */
int vsnix_guest_read(struct vsnix_vm *vm, u64 gpa, void *buf, size_t len);
int vsnix_guest_write(struct vsnix_vm *vm, u64 gpa, const void *buf,
		      size_t len);
/*
 * A write within one guest page that never sleeps nor faults (IRQs may be
 * off): -EFAULT also when the page is not in the owner's page tables now.
 * The vCPU threads of the VMM only.
 */
int vsnix_guest_write_atomic(struct vsnix_vm *vm, u64 gpa, const void *buf,
			     size_t len);
/* True when [gpa, gpa + len) is entirely guest RAM. */
bool vsnix_guest_range_ok(struct vsnix_vm *vm, u64 gpa, u64 len);
/*
 * True when [gpa, gpa + len) lies in one memory slot, whose range goes to
 * [*lo, *hi): a caller checking many buffers (a virtqueue chain) tests the
 * next against it first. Only a promise: each access checks again.
 */
bool vsnix_guest_slot_range(struct vsnix_vm *vm, u64 gpa, u64 len,
			    u64 *lo, u64 *hi);

/*
 * Pure validation of a userspace request against the existing slots
 * (kmod/core/memcheck.c, KUnit-tested): 0, -EINVAL or -EEXIST.
 */
int vsnix_memregion_check(const struct vsnix_memory_region *r,
			  struct vsnix_memslot *const *slots,
			  unsigned int nslots, u64 max_bytes);

/*
 * Page-allocator pages of the module (kmod/core/pages.c), counted because
 * kmemleak does not see them. node may be NUMA_NO_NODE.
 */
struct page *vsnix_alloc_pages(gfp_t gfp, int node, unsigned int order);
void vsnix_free_pages(struct page *page, unsigned int order);
void *vsnix_zalloc_page(gfp_t gfp);	/* one zeroed page, or NULL */
void vsnix_free_page(void *addr);	/* NULL is a no-op */

/*
 * A read-only module parameter showing an atomic_long_t counter (kp->arg):
 * module_param_cb(name, &vsnix_counter_param_ops, &counter, 0444).
 */
extern const struct kernel_param_ops vsnix_counter_param_ops;

/* ---------------------------------------------------------------- I/O bus */

enum vsnix_bus {
	VSNIX_BUS_PIO,
	VSNIX_BUS_MMIO,
	/*
	 * Devices with an id but no address range of their own (PCI
	 * functions, reached through their host bridge): base is a key
	 * unique on this bus, len 1; never dispatched.
	 */
	VSNIX_BUS_ID,
	VSNIX_NR_BUSES,
};

/*
 * Result of a device access: VSNIX_IO_DONE resumes the guest;
 * VSNIX_IO_EXIT means the device filled vcpu->run and the run loop returns
 * to userspace (e.g. the guest halted). -EINTR: a signal interrupted a
 * sleeping device; the instruction is not completed (RIP unchanged), so it
 * runs again at the next RUN, and RUN returns -EINTR. Any other -errno: the
 * device filled an INTERNAL_ERROR exit (vsnix_exit_internal) and the run
 * returns to userspace with 0.
 */
#define VSNIX_IO_DONE	1
#define VSNIX_IO_EXIT	0

struct vsnix_io_ops {
	u32 type;		/* VSNIX_DEV_*: names the state blob's layout */
	/*
	 * Called in preemptible context, under no lock of the bus: devices
	 * may sleep (block I/O, hvt POLL). The device holds a reference for
	 * the call, so it stays valid even if it is removed meanwhile.
	 */
	int (*read)(struct vsnix_io_device *dev, struct vsnix_vcpu *vcpu,
		    u64 addr, unsigned int len, void *val);
	int (*write)(struct vsnix_io_device *dev, struct vsnix_vcpu *vcpu,
		     u64 addr, unsigned int len, const void *val);
	/*
	 * The last reference went: free the device. Process context: the
	 * ioctl that removed it, the VM's end, or a work item when a vCPU
	 * thread dropped it (so destroy may wait for vm->srcu, e.g. to
	 * unregister an irqchip, whatever the run loop holds).
	 */
	void (*destroy)(struct vsnix_io_device *dev);

	/*
	 * Optional. reset: back to the power-on state. save/restore: the
	 * guest-visible state as state_size bytes of layout state_version
	 * (uapi/linux/vsnix.h); restore checks every value (-EINVAL).
	 */
	void (*reset)(struct vsnix_io_device *dev);
	void (*save)(struct vsnix_io_device *dev, void *state);
	int (*restore)(struct vsnix_io_device *dev, const void *state);
	/*
	 * Optional: console input for the guest (VSNIX_DEVICE_INPUT; the
	 * 16550's receiver, virtio-console's RX queue). Process context, no
	 * bus lock held. Returns the bytes taken (0 when the device's
	 * buffer is full) or -errno; never blocks.
	 */
	ssize_t (*input)(struct vsnix_io_device *dev, const u8 *buf,
			 size_t len);
	u32 state_version;
	u32 state_size;
};

struct vsnix_io_device {
	enum vsnix_bus bus;
	u64 base;
	u64 len;
	const struct vsnix_io_ops *ops;
	u32 id;			/* VM-unique, set by vsnix_io_register */
	/*
	 * Also takes accesses that start in its range and run past its end
	 * (the PC's CONFIG_ADDRESS: a dword at 0xcf8, whose byte 0xcf9 is
	 * the reset control register, another device's).
	 */
	bool wide;
	/*
	 * A part its owner maps and removes (a PCI function's BAR map): it
	 * has an id for the statistics and traces, but VSNIX_DESTROY_DEVICE
	 * and the other by-id ioctls do not find it (the owner would keep a
	 * pointer to a freed map).
	 */
	bool owned;
	refcount_t users;	/* the bus's reference + calls in flight */
	struct vsnix_io_dev_stat __percpu *stat;	/* core/stats.h */
	struct work_struct destroy_work;	/* last put in a vCPU thread */
};

/*
 * Register a device on a range; -EEXIST when it overlaps another. The
 * bus takes over the device: vsnix_io_unregister or the VM's end drops
 * it, and ops->destroy runs once the last call in flight returns.
 * Sleeps (waits for an SRCU grace period).
 */
int vsnix_io_register(struct vsnix_vm *vm, struct vsnix_io_device *dev);
/* The same, also giving the new device's id (VSNIX_CREATE_DEVICE). */
int vsnix_io_register_id(struct vsnix_vm *vm, struct vsnix_io_device *dev,
			 u32 *id);
/* Take a registered device off its bus and drop the bus's reference. */
void vsnix_io_unregister(struct vsnix_vm *vm, struct vsnix_io_device *dev);
/*
 * Dispatch an access: returns VSNIX_IO_DONE/EXIT/-errno from the device, or
 * -ENODEV when no device covers [addr, addr + len). A write that matches
 * an ioeventfd signals it and returns VSNIX_IO_DONE.
 */
int vsnix_io_dispatch(struct vsnix_vcpu *vcpu, enum vsnix_bus bus, u64 addr,
		      unsigned int len, bool write, void *val);

/* ---------------------------------------------------------------- vCPU */

/* vcpu->requests bits, handled before each guest entry. */
#define VSNIX_REQ_TLB_FLUSH	0	/* TDP changed: flush this vCPU's TLB */
#define VSNIX_REQ_EXIT		1	/* leave the guest (kick) */
#define VSNIX_REQ_EVENT		2	/* re-evaluate events before entering */

enum vsnix_vcpu_mode {
	VSNIX_OUTSIDE_GUEST,
	VSNIX_IN_GUEST,
};

struct vsnix_vcpu {
	struct vsnix_vm *vm;
	u32 id;
	int cpu;		/* CPU it last ran on, -1 before the first */
	struct mutex mutex;	/* one RUN or state ioctl at a time */
	struct vsnix_run *run;	/* 2 pages, mmapped by userspace */
	struct page *run_pages[2];

	unsigned long requests;
	int mode;		/* enum vsnix_vcpu_mode, read by kickers */
	/* A halted vCPU sleeps here; vsnix_vcpu_kick wakes it. */
	wait_queue_head_t wq;

	/*
	 * The arch's state (kmod/arch/x86/arch_types.h): a struct
	 * vsnix_arch_vcpu, also reached member by member (vcpu->rip).
	 */
	VSNIX_ARCH_VCPU_STATE;

	/* core/stats.h: written by the vCPU's thread only. */
	struct vsnix_vcpu_stat stat;
	struct vsnix_vcpu_trace trace;
};

/* ---------------------------------------------------------------- VM */

struct vsnix_vm {
	struct kref ref;
	/* Identity (core/stats.c): id and owner fixed, name under vm->lock. */
	u32 id;
	pid_t owner_pid;
	kuid_t owner_uid;
	char name[VSNIX_VM_NAME_LEN];
	struct list_head list;		/* vsnix_vms, under its mutex */
	u64 memory_changes;		/* VSNIX_SET_MEMORY_REGION calls */
	/*
	 * Read side of the read-mostly VM data (memory slots, the I/O
	 * buses): readers hold srcu_read_lock(&vm->srcu); writers publish a
	 * new copy with rcu_assign_pointer and wait with synchronize_srcu.
	 */
	struct srcu_struct srcu;
	struct mutex lock;		/* vCPU creation, devices, CPUID */
	/*
	 * Memory: slots_lock serializes writers of memslots (read under
	 * srcu). mmu_lock covers the TDP tables and, with each slot's
	 * notifier sequence, orders faults against host invalidations.
	 */
	struct mutex slots_lock;
	struct vsnix_memslots __rcu *memslots;
	spinlock_t mmu_lock;
	cpumask_var_t flush_mask;	/* vsnix_vm_flush_tlbs, mmu_lock */
	u64 mem_bytes;

	struct vsnix_vcpu *vcpus[VSNIX_MAX_VCPUS];
	atomic_t nr_vcpus;

	/*
	 * The I/O buses (kmod/core/iobus.c): an immutable sorted array per
	 * bus, read under vm->srcu, replaced whole under io_lock.
	 */
	struct vsnix_io_bus __rcu *buses[VSNIX_NR_BUSES];
	struct mutex io_lock;
	u32 next_dev_id;

	/* Interrupt lines (kmod/core/irq.c): chips read under vm->srcu. */
	struct vsnix_irq_routing __rcu *irq_routing;
	struct mutex irq_lock;		/* irq_routing writers */
	spinlock_t irqfds_lock;		/* irqfds */
	struct list_head irqfds;

	/* Set once by a device ending the VM (hvt HALT, exit port). */
	bool exited;
	int exit_status;
	u32 halt_flags;			/* VSNIX_HALT_*, VSNIX_SET_HALT_CONFIG */
	atomic64_t console_bytes;
	/* Console output no file took (EAGAIN, EPIPE, ...); see devices.c. */
	atomic64_t console_dropped;
	/* Orders console writes and the f_pos of a shared console file. */
	struct mutex console_lock;

	/* The PCI host bridge (kmod/pci): set and cleared under vm->lock. */
	struct vsnix_pci_host *pci;

	/* The arch's state: a struct vsnix_arch_vm (arch_types.h). */
	VSNIX_ARCH_VM_STATE;
};

/* ------------------------------------------------------- core services */

/*
 * With IRQs disabled, right before the hardware entry: publishes
 * vcpu->mode = IN_GUEST and returns false when the entry must be skipped
 * (a request, a signal or a reschedule is pending); the backend then
 * returns 0 from vcpu_run with no exit to handle, and the loop retries.
 */
bool vsnix_vcpu_enter_prepare(struct vsnix_vcpu *vcpu);
/* With IRQs disabled, right after the hardware exit. */
void vsnix_vcpu_exit_done(struct vsnix_vcpu *vcpu);
/* Make a vCPU leave the guest soon (IPI when it is in guest mode). */
void vsnix_vcpu_kick(struct vsnix_vcpu *vcpu);
void vsnix_vcpu_request(struct vsnix_vcpu *vcpu, int req);
static inline bool vsnix_vcpu_check_request(struct vsnix_vcpu *vcpu, int req)
{
	return test_and_clear_bit(req, &vcpu->requests);
}

/* Fill run for common exits. */
void vsnix_exit_internal(struct vsnix_vcpu *vcpu, u32 suberror,
			 unsigned int ndata, const u64 *data);
/* data: a source's detail for userspace (HVT_HALT: the cookie's GPA). */
void vsnix_exit_guest(struct vsnix_vcpu *vcpu, int status, u32 source,
		      u64 data);

/* In-kernel devices: VSNIX_CREATE_DEVICE (kmod/devices/devices.c). */
u32 vsnix_device_types(void);	/* devices.c: VSNIX_CAP_DEVICES */
int vsnix_device_create(struct vsnix_vm *vm,
			const struct vsnix_device_config *cfg);

/* Root mode on all CPUs while VMs exist (kmod/core/virt.c). */
int vsnix_virt_get(void);
void vsnix_virt_put(void);

#endif /* VSNIX_CORE_H */
