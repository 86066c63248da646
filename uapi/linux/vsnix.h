/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vSnix: userspace API of /dev/vsnix.
 *
 * Rules of this ABI (see Documentation/api.rst):
 *  - VSNIX_API_VERSION never changes; everything added later is announced by
 *    a VSNIX_CAP_* answered by VSNIX_CHECK_EXTENSION.
 *  - Structs have explicit padding. Every "flags", "pad" and "reserved"
 *    field must be zero on input, else the ioctl fails with -EINVAL.
 *  - A struct is never edited once released: a new ioctl number is added.
 *  - Ioctl numbers are split by the kind of fd they apply to:
 *      0x00-0x3f  /dev/vsnix (system)
 *      0x40-0x7f  VM fd
 *      0x80-0xbf  vCPU fd
 *      0xc0-0xff  device fd (reserved)
 */
#ifndef _UAPI_LINUX_VSNIX_H
#define _UAPI_LINUX_VSNIX_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define VSNIX_API_VERSION	1

/* Free in Documentation/userspace-api/ioctl/ioctl-number.rst (Linux 6.1). */
#define VSNIXIO			0xB9

/* ---- system ioctls (/dev/vsnix) ---- */
#define VSNIX_GET_API_VERSION	_IO(VSNIXIO, 0x00)
#define VSNIX_CHECK_EXTENSION	_IO(VSNIXIO, 0x01)	/* arg: VSNIX_CAP_* */
#define VSNIX_CREATE_VM		_IO(VSNIXIO, 0x02)	/* arg: 0 (flags) */
#define VSNIX_GET_VCPU_MMAP_SIZE _IO(VSNIXIO, 0x03)
#define VSNIX_GET_SUPPORTED_CPUID _IOWR(VSNIXIO, 0x04, struct vsnix_cpuid)

/* ---- VM ioctls ---- */
#define VSNIX_SET_MEMORY_REGION	_IOW(VSNIXIO, 0x40, struct vsnix_memory_region)
#define VSNIX_CREATE_VCPU	_IO(VSNIXIO, 0x41)	/* arg: vCPU id */
#define VSNIX_SET_CPUID		_IOW(VSNIXIO, 0x42, struct vsnix_cpuid)
#define VSNIX_GET_CPUID		_IOWR(VSNIXIO, 0x43, struct vsnix_cpuid)
#define VSNIX_CREATE_DEVICE	_IOWR(VSNIXIO, 0x44, struct vsnix_device_config)
#define VSNIX_GET_VM_STATUS	_IOR(VSNIXIO, 0x45, struct vsnix_vm_status)
#define VSNIX_GET_MSR_INDEX_LIST _IOWR(VSNIXIO, 0x48, struct vsnix_msr_list)
/* Fetch and clear a slot's dirty bitmap (VSNIX_CAP_DIRTY_LOG). */
#define VSNIX_GET_DIRTY_LOG	_IOW(VSNIXIO, 0x4a, struct vsnix_dirty_log)
#define VSNIX_DESTROY_DEVICE	_IO(VSNIXIO, 0x4e)	/* arg: device id */
#define VSNIX_IOEVENTFD		_IOW(VSNIXIO, 0x4f, struct vsnix_ioeventfd_config)
#define VSNIX_IRQ_LINE		_IOW(VSNIXIO, 0x50, struct vsnix_irq_level)
#define VSNIX_IRQFD		_IOW(VSNIXIO, 0x51, struct vsnix_irqfd)
#define VSNIX_GET_DEVICE_STATE	_IOWR(VSNIXIO, 0x52, struct vsnix_device_state)
#define VSNIX_SET_DEVICE_STATE	_IOW(VSNIXIO, 0x53, struct vsnix_device_state)
#define VSNIX_SET_HALT_CONFIG	_IOW(VSNIXIO, 0x46, struct vsnix_halt_config)
/* In-kernel local APIC for every vCPU created afterwards (VSNIX_CAP_LAPIC). */
#define VSNIX_CREATE_LAPIC	_IO(VSNIXIO, 0x54)	/* arg: 0 (flags) */
/* Console input for a device: bytes taken, or -EAGAIN (VSNIX_CAP_DEVICE_INPUT). */
#define VSNIX_DEVICE_INPUT	_IOW(VSNIXIO, 0x5e, struct vsnix_device_input)

/* ---- vCPU ioctls ---- */
#define VSNIX_RUN		_IO(VSNIXIO, 0x80)
#define VSNIX_GET_REGS		_IOR(VSNIXIO, 0x81, struct vsnix_regs)
#define VSNIX_SET_REGS		_IOW(VSNIXIO, 0x82, struct vsnix_regs)
#define VSNIX_GET_SREGS		_IOR(VSNIXIO, 0x83, struct vsnix_sregs)
#define VSNIX_SET_SREGS		_IOW(VSNIXIO, 0x84, struct vsnix_sregs)
#define VSNIX_GET_XSAVE		_IOR(VSNIXIO, 0x85, struct vsnix_xsave)
#define VSNIX_SET_XSAVE		_IOW(VSNIXIO, 0x86, struct vsnix_xsave)
#define VSNIX_GET_MSRS		_IOWR(VSNIXIO, 0x87, struct vsnix_msrs)
#define VSNIX_SET_MSRS		_IOW(VSNIXIO, 0x88, struct vsnix_msrs)
#define VSNIX_INJECT_EVENT	_IOW(VSNIXIO, 0x89, struct vsnix_event)
#define VSNIX_GET_VCPU_EVENTS	_IOR(VSNIXIO, 0x8a, struct vsnix_vcpu_events)
#define VSNIX_SET_VCPU_EVENTS	_IOW(VSNIXIO, 0x8b, struct vsnix_vcpu_events)
#define VSNIX_GET_DEBUGREGS	_IOR(VSNIXIO, 0x8c, struct vsnix_debugregs)
#define VSNIX_SET_DEBUGREGS	_IOW(VSNIXIO, 0x8d, struct vsnix_debugregs)
#define VSNIX_GET_LAPIC		_IOR(VSNIXIO, 0x94, struct vsnix_lapic_state)
#define VSNIX_SET_LAPIC		_IOW(VSNIXIO, 0x95, struct vsnix_lapic_state)

/* ---- capabilities (VSNIX_CHECK_EXTENSION) ---- */
#define VSNIX_CAP_VENDOR	1	/* VSNIX_VENDOR_* of this host */
#define VSNIX_CAP_NR_VCPUS	2	/* vCPUs per VM */
#define VSNIX_CAP_NR_MEMSLOTS	3	/* memory regions per VM */
#define VSNIX_CAP_MAX_MEM_MB	4	/* guest memory per VM, MiB */
#define VSNIX_CAP_READONLY_MEM	5	/* VSNIX_MEM_READONLY */
#define VSNIX_CAP_XSAVE		6	/* VSNIX_GET/SET_XSAVE */
#define VSNIX_CAP_REAL_MODE	7	/* guests may start in real mode */
#define VSNIX_CAP_DEVICES	8	/* bitmask of 1 << VSNIX_DEV_* */
#define VSNIX_CAP_INJECT_EVENT	9	/* VSNIX_INJECT_EVENT */
#define VSNIX_CAP_NOEXEC_MEM	10	/* VSNIX_MEM_NOEXEC, EXIT_MEMORY_FAULT */
#define VSNIX_CAP_HVT_MAX_DEVICES 11	/* devices of VSNIX_DEV_HVT_MANY */
#define VSNIX_CAP_MSR_LIST	16	/* VSNIX_GET_MSR_INDEX_LIST */
#define VSNIX_CAP_MEM_ON_DEMAND	20	/* RAM faulted in, not pinned; MEM_PIN */
#define VSNIX_CAP_DIRTY_LOG	21	/* VSNIX_MEM_LOG_DIRTY, GET_DIRTY_LOG */
#define VSNIX_CAP_HUGE_TDP	22	/* 2 MiB NPT/EPT entries over THP/hugetlb */
#define VSNIX_CAP_DESTROY_DEVICE 24	/* device ids, VSNIX_DESTROY_DEVICE */
#define VSNIX_CAP_IOEVENTFD	25	/* VSNIX_IOEVENTFD */
#define VSNIX_CAP_IRQFD		26	/* VSNIX_IRQ_LINE, VSNIX_IRQFD */
#define VSNIX_CAP_DEVICE_STATE	27	/* VSNIX_GET/SET_DEVICE_STATE */
#define VSNIX_CAP_VCPU_EVENTS	12	/* GET/SET_VCPU_EVENTS, GET/SET_DEBUGREGS */
#define VSNIX_CAP_HALT_IN_KERNEL 13	/* VSNIX_SET_HALT_CONFIG */
#define VSNIX_CAP_EXTINT_QUEUE	14	/* INJECT_EVENT from any thread; EXTINT queue depth */
#define VSNIX_CAP_LAPIC		28	/* VSNIX_CREATE_LAPIC, GET/SET_LAPIC */
#define VSNIX_CAP_DEVICE_INPUT	40	/* VSNIX_DEVICE_INPUT; its len limit */
#define VSNIX_CAP_UART_IRQ	41	/* VSNIX_UART_HAS_IRQ, UART state v2 */

#define VSNIX_VENDOR_SVM	1
#define VSNIX_VENDOR_VMX	2

/* ---- memory ---- */
#define VSNIX_MEM_READONLY	(1u << 0)	/* guest writes exit as MMIO */
#define VSNIX_MEM_NOEXEC	(1u << 1)	/* fetches exit as MEMORY_FAULT */
#define VSNIX_MEM_PIN		(1u << 2)	/* pinned whole, charged to memlock */
#define VSNIX_MEM_LOG_DIRTY	(1u << 3)	/* track guest writes per page */

/*
 * Maps [guest_phys_addr, +memory_size) onto the calling process's memory at
 * userspace_addr. Pages are faulted in when the guest first touches them
 * and follow the host's changes to the mapping (munmap, swap, migration);
 * VSNIX_MEM_PIN pins them all up front instead, charged to RLIMIT_MEMLOCK.
 * memory_size == 0 deletes the slot. Addresses and size are 4 KiB aligned.
 */
struct vsnix_memory_region {
	__u32 slot;
	__u32 flags;		/* VSNIX_MEM_* */
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 reserved[2];
};

/*
 * VSNIX_GET_DIRTY_LOG: copies the bitmap of the pages of a
 * VSNIX_MEM_LOG_DIRTY slot written since the last call (bit n = page n of
 * the slot, in unsigned 64-bit words, ceil(pages / 64) of them) to
 * dirty_bitmap, and clears it: later writes set bits again.
 */
struct vsnix_dirty_log {
	__u32 slot;
	__u32 flags;		/* 0 */
	__u64 dirty_bitmap;	/* user pointer */
	__u64 reserved[2];
};

/* ---- CPUID ---- */
#define VSNIX_CPUID_FLAG_SIGNIFICANT_INDEX	(1u << 0)

struct vsnix_cpuid_entry {
	__u32 function;
	__u32 index;
	__u32 flags;		/* VSNIX_CPUID_FLAG_* */
	__u32 eax;
	__u32 ebx;
	__u32 ecx;
	__u32 edx;
	__u32 pad;
};

#define VSNIX_MAX_CPUID_ENTRIES	256

/*
 * The guest ABI of VMCALL (Intel) / VMMCALL (AMD) at CPL 0 (CPUID leaf
 * 0x40000000 says "vSnixvSnixvS"): vsnix offers no hypercalls, each one
 * returns this in RAX (EAX outside 64-bit mode). At CPL > 0: #UD.
 */
#define VSNIX_HYPERCALL_ENOSYS	(-1000)

struct vsnix_cpuid {
	__u32 nent;		/* in: room in entries[]; out: entries used */
	__u32 pad;
	struct vsnix_cpuid_entry entries[];
};

/* ---- registers ---- */
struct vsnix_regs {
	__u64 rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	__u64 r8, r9, r10, r11, r12, r13, r14, r15;
	__u64 rip, rflags;
};

struct vsnix_segment {
	__u64 base;
	__u32 limit;
	__u16 selector;
	__u8 type;
	__u8 present, dpl, db, s, l, g, avl;
	__u8 unusable;
	__u8 pad;
};

struct vsnix_dtable {
	__u64 base;
	__u16 limit;
	__u16 pad[3];
};

struct vsnix_sregs {
	struct vsnix_segment cs, ds, es, fs, gs, ss;
	struct vsnix_segment tr, ldt;
	struct vsnix_dtable gdt, idt;
	__u64 cr0, cr2, cr3, cr4, cr8;
	__u64 efer;
	__u64 apic_base;
	__u64 reserved[4];
};

/* XSAVE image in the standard (non-compacted) layout of Intel SDM 13.4. */
struct vsnix_xsave {
	__u32 region[1024];
};

struct vsnix_msr_entry {
	__u32 index;
	__u32 reserved;
	__u64 data;
};

/*
 * GET_MSRS returns the number of entries read; SET_MSRS the number written.
 * Both stop at the first MSR that is not supported.
 */
struct vsnix_msrs {
	__u32 nmsrs;
	__u32 pad;
	struct vsnix_msr_entry entries[];
};

#define VSNIX_MAX_MSR_ENTRIES	64

/*
 * VSNIX_GET_MSR_INDEX_LIST (VM fd): the MSRs of the allow-list. nmsrs in:
 * room in indices[]; out: how many. -E2BIG with nmsrs set when too small.
 */
struct vsnix_msr_list {
	__u32 nmsrs;
	__u32 pad;
	__u32 indices[];
};

/* ---- events ---- */
#define VSNIX_EVENT_EXTINT	0	/* external interrupt, vector */
#define VSNIX_EVENT_NMI		2
#define VSNIX_EVENT_EXCEPTION	3	/* vector (+ error code) */

#define VSNIX_EVENT_HAS_ERROR_CODE	(1u << 0)

struct vsnix_event {
	__u8 type;		/* VSNIX_EVENT_* */
	__u8 vector;
	__u16 pad;
	__u32 flags;		/* VSNIX_EVENT_HAS_ERROR_CODE */
	__u32 error_code;
	__u32 reserved[5];
};

/* ---- in-kernel local APIC ---- */
#define VSNIX_LAPIC_NR_REGS	64

/*
 * The state of a vCPU's local APIC. regs[i] is the 32-bit register at
 * offset 16 * i of the xAPIC page (Intel SDM Vol 3, table 10-1): ID at
 * regs[2], ISR at regs[0x10..0x17], IRR at regs[0x20..0x27], the timer's
 * current count at regs[0x39] (GET: the count now; SET: the timer restarts
 * from it). In x2APIC mode regs[2] holds the 32-bit x2APIC ID and the ICR
 * destination is regs[0x31].
 */
struct vsnix_lapic_state {
	__u64 apic_base;	/* IA32_APIC_BASE */
	__u64 tsc_deadline;	/* IA32_TSC_DEADLINE (guest TSC), 0: disarmed */
	__u32 flags;		/* must be 0 */
	__u32 pad;
	__u64 reserved[5];
	__u32 regs[VSNIX_LAPIC_NR_REGS];
};

/*
 * VSNIX_INJECT_EVENT may be called from any thread while RUN runs: an
 * EXTINT joins a FIFO of VSNIX_MAX_QUEUED_IRQS vectors (EAGAIN when full),
 * an NMI is latched (a second one before delivery merges with it), an
 * exception is refused with EBUSY while the vCPU runs or has one pending.
 */
#define VSNIX_MAX_QUEUED_IRQS	64

/* ---- vCPU event state (VSNIX_CAP_VCPU_EVENTS) ---- */
#define VSNIX_MP_RUNNABLE	0
#define VSNIX_MP_HALTED		1	/* HLT, sleeping in the kernel */
#define VSNIX_MP_WAIT_FOR_SIPI	2	/* INIT received */

/* interrupt_shadow */
#define VSNIX_SHADOW_STI	(1u << 0)
#define VSNIX_SHADOW_MOV_SS	(1u << 1)

/* injected.type: an event whose delivery an exit cut short */
#define VSNIX_INJECTED_NONE		0
#define VSNIX_INJECTED_EXTINT		1
#define VSNIX_INJECTED_NMI		2
#define VSNIX_INJECTED_EXCEPTION	3
#define VSNIX_INJECTED_SOFT_INT		4	/* INT n, insn_len */
#define VSNIX_INJECTED_SOFT_EXC		5	/* INT3/INTO, insn_len */
#define VSNIX_INJECTED_PRIV_SOFT_EXC	6	/* INT1, insn_len */

struct vsnix_vcpu_events {
	struct {
		__u8 pending;		/* queued, not yet delivered */
		__u8 vector;
		__u8 has_error_code;
		__u8 pad;
		__u32 error_code;
	} exception;
	struct {
		__u8 type;		/* VSNIX_INJECTED_* */
		__u8 vector;
		__u8 has_error_code;
		__u8 pad;
		__u32 error_code;
		__u32 insn_len;
		__u32 pad2;
	} injected;
	__u8 nmi_pending;
	__u8 nmi_masked;	/* NMIs blocked until the next IRET */
	__u8 interrupt_shadow;	/* VSNIX_SHADOW_* */
	__u8 mp_state;		/* VSNIX_MP_* */
	__u8 init_pending;
	__u8 sipi_pending;
	__u8 sipi_vector;
	__u8 irq_requeued;	/* requeued_vector goes before irqs[] */
	__u8 requeued_vector;	/* an EXTINT an exception interrupted */
	__u8 pad2[3];
	__u32 flags;		/* must be 0 */
	__u32 nr_irqs;		/* queued EXTINT vectors in irqs[], FIFO */
	__u32 pad3;
	__u8 irqs[VSNIX_MAX_QUEUED_IRQS];
	__u64 reserved[8];
};

struct vsnix_debugregs {
	__u64 db[4];		/* DR0-DR3 */
	__u64 dr6;
	__u64 dr7;
	__u32 flags;		/* must be 0 */
	__u32 pad;
	__u64 reserved[8];
};

/* ---- HLT (VSNIX_CAP_HALT_IN_KERNEL) ---- */
#define VSNIX_HALT_IN_KERNEL	(1u << 0)	/* IF=1 HLT sleeps until an event */

struct vsnix_halt_config {
	__u32 flags;		/* VSNIX_HALT_* */
	__u32 pad;
	__u64 reserved[3];
};

/* ---- in-kernel devices ---- */
#define VSNIX_DEV_HVT		0	/* Solo5 hvt hypercalls, ports 0x500+ */
#define VSNIX_DEV_UART16550	1	/* 16550 UART at config.base */
#define VSNIX_DEV_EXIT_PORT	2	/* 32-bit write of a status ends the run */
#define VSNIX_DEV_FW_CFG	3	/* QEMU fw_cfg (selector 0x510, data 0x511) */
#define VSNIX_DEV_HVT2		4	/* VSNIX_DEV_HVT, up to 63 devices */
/* 5: unused (the local APIC is VSNIX_CREATE_LAPIC) */
#define VSNIX_DEV_IOAPIC	6	/* 82093AA I/O APIC, MMIO at config.base */
#define VSNIX_DEV_PIC		7	/* 8259A pair: 0x20, 0xa0, ELCR 0x4d0 */
#define VSNIX_DEV_PIT		8	/* 8254 at 0x40-0x43, port 0x61 */
#define VSNIX_DEV_RTC		9	/* MC146818 CMOS RTC at 0x70/0x71 */
#define VSNIX_DEV_PM_TIMER	10	/* ACPI PM timer at config.port */
/*
 * 11-16: the PC platform for Linux guests. VSNIX_CAP_DEVICES says which
 * of them this module serves; creating one it does not serve is -EINVAL.
 */
#define VSNIX_DEV_ACPI_PM	11	/* ACPI PM1 event/control, reset register */
#define VSNIX_DEV_PCI_HOST	12	/* PCI host bridge: 0xcf8/0xcfc and ECAM */
#define VSNIX_DEV_VIRTIO_RNG	13	/* virtio-rng (entropy) over PCI */
#define VSNIX_DEV_VIRTIO_BLK	14	/* virtio-blk over PCI */
#define VSNIX_DEV_VIRTIO_CONSOLE 15	/* virtio-console over PCI */
#define VSNIX_DEV_VIRTIO_NET	16	/* virtio-net over PCI */
#define VSNIX_NR_DEVICES	17

#define VSNIX_HVT_MAX_BLOCK	4
#define VSNIX_HVT_MAX_NET	4
#define VSNIX_DEV_NAME_LEN	32

/* A file descriptor of -1 means "absent". */
struct vsnix_hvt_block {
	__s32 fd;		/* regular file or block device, O_RDWR */
	__u32 sector_size;	/* 512 if 0 */
	char name[VSNIX_DEV_NAME_LEN];
};

struct vsnix_hvt_net {
	__s32 fd;		/* tap fd (IFF_TAP | IFF_NO_PI), AF_PACKET raw */
	__u32 pad;
	__u8 mac[6];
	__u8 pad2[2];
	char name[VSNIX_DEV_NAME_LEN];
};

/*
 * Solo5 guests name a device by its handle: its index in the manifest
 * (struct mft.e[]; entry 0 is the reserved first entry, so 1..63). The
 * tender reads the manifest and gives each block[i]/net[i] its handle.
 */
#define VSNIX_HVT_MAX_HANDLE	63

struct vsnix_hvt_config {
	__u64 mem_size;		/* guest RAM size given to the guest */
	__u8 block_handle[VSNIX_HVT_MAX_BLOCK];	/* handle of block[i] */
	__u8 net_handle[VSNIX_HVT_MAX_NET];	/* handle of net[i] */
	__u64 reserved[2];
	__u32 nr_block;
	__u32 nr_net;
	struct vsnix_hvt_block block[VSNIX_HVT_MAX_BLOCK];
	struct vsnix_hvt_net net[VSNIX_HVT_MAX_NET];
};

/* VSNIX_DEV_HVT2: the devices are an array in the caller's memory. */
#define VSNIX_HVT_DEV_BLOCK	1
#define VSNIX_HVT_DEV_NET	2

struct vsnix_hvt_dev {
	__u32 kind;		/* VSNIX_HVT_DEV_* */
	__s32 fd;		/* as in vsnix_hvt_block / vsnix_hvt_net */
	__u32 handle;		/* manifest index, 1..VSNIX_HVT_MAX_HANDLE */
	__u32 sector_size;	/* block: 512 if 0; net: 0 */
	char name[VSNIX_DEV_NAME_LEN];
	__u64 reserved[2];
};

struct vsnix_hvt2_config {
	__u64 devices;		/* address of struct vsnix_hvt_dev[nr_devices] */
	__u32 nr_devices;	/* 0..VSNIX_CAP_HVT_MAX_DEVICES */
	__u32 pad;
	__u64 reserved[4];
};

/*
 * Where a PCI function sits: bus 0, device `slot`, function `func`, and
 * the guest-physical address of its memory BAR (placed by userspace in
 * the host bridge's 32-bit MMIO window, aligned to the BAR's size).
 */
struct vsnix_pci_placement {
	__u8 slot;		/* 1..31 (0 is the host bridge) */
	__u8 func;		/* 0..7 */
	__u16 pad;
	__u32 pad2;
	__u64 bar_base;		/* memory BAR; 0: the device has none */
	__u64 reserved[2];
};

/*
 * VSNIX_DEV_PCI_HOST: the host bridge (function 00.0) with configuration
 * mechanism 1 at ports 0xcf8 and 0xcfc-0xcff (0xcf9 is left free) and
 * ECAM at ecam_base (1 MiB per bus, buses 0..nr_buses - 1; functions sit
 * on bus 0). Memory BARs of the
 * functions must lie in [mmio_base, mmio_base + mmio_size). INTx pin p
 * (0 = INTA) of slot s is GSI intx_gsi_base + ((s + p) & 3), level.
 */
struct vsnix_pci_host_config {
	__u64 ecam_base;	/* aligned to nr_buses MiB; 0xe0000000 */
	__u32 nr_buses;		/* 1..256 */
	__u32 intx_gsi_base;	/* 16 on the PC platform */
	__u64 mmio_base;	/* 32-bit BAR window, e.g. 0xc0000000 */
	__u64 mmio_size;	/* e.g. 0x20000000 */
	__u64 reserved[4];
};

/* VSNIX_DEV_VIRTIO_RNG: entropy from the host's get_random_bytes. */
struct vsnix_virtio_rng_config {
	struct vsnix_pci_placement pci;	/* BAR: VSNIX_VIRTIO_PCI_BAR_SIZE */
	__u64 reserved[4];
};

/* Every virtio-pci function has one memory BAR of this size (16 KiB). */
#define VSNIX_VIRTIO_PCI_BAR_SIZE	0x4000

/*
 * VSNIX_DEV_UART16550. With VSNIX_UART_HAS_IRQ the UART drives gsi as a
 * PC's 8250 does: high while an enabled interrupt is pending (IIR) and
 * MCR.OUT2 is set (VSNIX_CAP_UART_IRQ). Without it, no interrupt line.
 */
#define VSNIX_UART_HAS_IRQ	(1u << 0)

struct vsnix_uart_config {
	__u16 base;		/* 0x3f8 for COM1 */
	__u16 pad;
	__u32 flags;		/* VSNIX_UART_* (was reserved[0]) */
	__u32 gsi;		/* 4 for COM1 (was reserved[1]) */
	__u32 reserved[5];
};

struct vsnix_exit_port_config {
	__u16 port;		/* 0xf4 (isa-debug-exit) */
	__u16 pad;
	__u32 reserved[7];
};

struct vsnix_fw_cfg_config {
	__u64 ram_size;
	__u32 nr_cpus;
	__u32 pad;
	__u64 reserved[6];
};

/* VSNIX_DEV_IOAPIC: 24 pins serving GSIs gsi_base..gsi_base + 23. */
struct vsnix_ioapic_config {
	__u64 base;		/* 0xfec00000; 4 KiB aligned, below 4 GiB */
	__u32 id;		/* IOAPIC ID register, 0..15 */
	__u32 gsi_base;		/* 0 for the first (and only) IOAPIC */
	__u64 reserved[6];
};

/* VSNIX_DEV_PIC, VSNIX_DEV_PIT: fixed ports, nothing to configure. */
struct vsnix_pic_config {
	__u64 reserved[8];
};

struct vsnix_pit_config {
	__u64 reserved[8];
};

/* VSNIX_DEV_RTC: the CMOS memory-size bytes are filled from ram_size. */
struct vsnix_rtc_config {
	__u64 ram_size;		/* bytes of guest RAM; 0: leave them 0 */
	__u64 reserved[7];
};

/* VSNIX_DEV_PM_TIMER: a 24-bit counter at 3.579545 MHz (FADT TMR_VAL_EXT = 0). */
struct vsnix_pm_timer_config {
	__u16 port;		/* 0x608 (QEMU q35) or 0xb008 (piix4) */
	__u16 pad;
	__u32 reserved[7];
};

/*
 * VSNIX_DEV_VIRTIO_BLK: a disk on a regular file or block device, fd open
 * for reading (and writing unless read-only); the device takes its own
 * reference. Capacity: the file's size, rounded down to 512 bytes.
 */
#define VSNIX_VIRTIO_BLK_RO		(1u << 0)	/* VIRTIO_BLK_F_RO */
#define VSNIX_VIRTIO_BLK_SERIAL_LEN	20		/* GET_ID bytes */
#define VSNIX_VIRTIO_BLK_MAX_QUEUES	64
struct vsnix_virtio_blk_config {
	__s32 fd;
	__u32 flags;		/* VSNIX_VIRTIO_BLK_* */
	char serial[VSNIX_VIRTIO_BLK_SERIAL_LEN];	/* NUL-padded */
	__u16 nr_queues;	/* 0: 1; at most VSNIX_VIRTIO_BLK_MAX_QUEUES */
	__u16 pad;
	struct vsnix_pci_placement pci;	/* BAR: 16 KiB */
	__u64 reserved[4];
};

/*
 * VSNIX_DEV_VIRTIO_CONSOLE: hvc0, port 0 only. Output goes to console_fd,
 * input comes by VSNIX_DEVICE_INPUT.
 */
struct vsnix_virtio_console_config {
	struct vsnix_pci_placement pci;	/* BAR: 16 KiB */
	__u64 reserved[4];
};

/*
 * VSNIX_DEV_ACPI_PM: the ACPI fixed hardware of Documentation/platform.rst
 * (ACPI 6.5, 4.8): the PM1a event block (PM1_STS, PM1_EN), the PM1a
 * control block (SLP_TYP + SLP_EN of s5_slp_typ ends the VM with status 0,
 * source VSNIX_GUEST_EXIT_POWEROFF), the GPE0 block (GPE0_STS, GPE0_EN,
 * 16 GPEs), the SCI as a level interrupt on sci_gsi, and a reset register
 * (a write with bit 2, RST_CPU, set ends the VM with status 0, source
 * VSNIX_GUEST_EXIT_RESET). Each block on its own ports; none may overlap.
 */
struct vsnix_acpi_pm_config {
	__u16 pm1a_evt;		/* PM1a_EVT_BLK: 4 bytes, 4-aligned (0x600) */
	__u16 pm1a_cnt;		/* PM1a_CNT_BLK: 2 bytes, 2-aligned (0x604) */
	__u16 gpe0;		/* GPE0_BLK: 4 bytes, 4-aligned (0x620) */
	__u16 reset_port;	/* RESET_REG: 1 byte (0xcf9); 0: none */
	__u32 sci_gsi;		/* 9 (the FADT's SCI_INT) */
	__u8 s5_slp_typ;	/* the DSDT's \_S5 SLP_TYP, 0..7 */
	__u8 pad[3];
	__u64 reserved[5];
};

/*
 * VSNIX_DEV_VIRTIO_NET (virtio 1.2 section 5.1): one tap fd per queue pair,
 * each attached with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR (| IFF_MULTI_QUEUE
 * when nr_queue_pairs > 1) and TUNSETVNETHDRSZ 12. The device sets the
 * tap's offloads (TUNSETOFFLOAD) from the features the driver accepts.
 */
#define VSNIX_VIRTIO_NET_MAX_PAIRS	32

struct vsnix_virtio_net_config {
	__s32 fds[VSNIX_VIRTIO_NET_MAX_PAIRS];	/* [0, nr_queue_pairs) */
	__u16 nr_queue_pairs;	/* 1..VSNIX_VIRTIO_NET_MAX_PAIRS */
	__u16 flags;		/* must be 0 */
	__u8 mac[6];		/* unicast */
	__u8 pad[4];
	struct vsnix_pci_placement pci;	/* BAR: 16 KiB */
	__u64 reserved[4];
};

/*
 * Devices write console output to console_fd (a regular file, pipe, tty,
 * /dev/null or TCP/UDP socket opened for writing; never a file that can
 * hold the VM, see Documentation/api.rst), from the kernel, without a
 * return to userspace.
 */
struct vsnix_device_config {
	__u32 type;		/* VSNIX_DEV_* */
	__u32 flags;		/* must be 0 */
	__s32 console_fd;	/* -1: no console */
	__u32 id;		/* out: device id (in: ignored; was pad) */
	__u64 reserved[4];
	union {
		struct vsnix_hvt_config hvt;
		struct vsnix_hvt2_config hvt2;
		struct vsnix_uart_config uart;
		struct vsnix_exit_port_config exit_port;
		struct vsnix_fw_cfg_config fw_cfg;
		struct vsnix_ioapic_config ioapic;
		struct vsnix_pic_config pic;
		struct vsnix_pit_config pit;
		struct vsnix_rtc_config rtc;
		struct vsnix_pm_timer_config pm_timer;
		struct vsnix_pci_host_config pci_host;
		struct vsnix_virtio_rng_config virtio_rng;
		struct vsnix_virtio_blk_config virtio_blk;
		struct vsnix_virtio_console_config virtio_console;
		struct vsnix_acpi_pm_config acpi_pm;
		struct vsnix_virtio_net_config virtio_net;
		__u8 raw[1024];
	};
};

/*
 * VSNIX_IOEVENTFD: a guest write of len bytes at addr (and, with
 * DATAMATCH, of the value datamatch) signals the eventfd fd in the kernel
 * and the guest goes on; other writes there are served as before (device
 * or exit). DEASSIGN removes the registration with the same fields.
 */
#define VSNIX_IOEVENTFD_MMIO		(1u << 0)	/* else port I/O */
#define VSNIX_IOEVENTFD_DATAMATCH	(1u << 1)
#define VSNIX_IOEVENTFD_DEASSIGN	(1u << 2)
#define VSNIX_IOEVENTFD_FLAGS		0x7u

struct vsnix_ioeventfd_config {
	__u64 addr;
	__u64 datamatch;	/* 0 without DATAMATCH */
	__u32 len;		/* 1, 2, 4 (8: MMIO only) */
	__s32 fd;		/* eventfd */
	__u32 flags;		/* VSNIX_IOEVENTFD_* */
	__u32 pad;
	__u64 reserved[4];
};

/* VSNIX_IRQ_LINE: drive a GSI's input (level 1: asserted). */
struct vsnix_irq_level {
	__u32 gsi;
	__u32 level;		/* 0 or 1 */
	__u64 reserved[2];
};

/*
 * VSNIX_IRQFD: each signal of the eventfd fd pulses gsi (an edge) or, with
 * MSI, sends the message (msi_address, msi_data), in the kernel. DEASSIGN
 * removes the irqfd of fd (other fields: as at assignment).
 */
#define VSNIX_IRQFD_MSI		(1u << 0)
#define VSNIX_IRQFD_DEASSIGN	(1u << 1)
#define VSNIX_IRQFD_FLAGS	0x3u

struct vsnix_irqfd {
	__s32 fd;
	__u32 gsi;		/* 0 with MSI */
	__u32 flags;		/* VSNIX_IRQFD_* */
	__u32 msi_data;
	__u64 msi_address;
	__u64 reserved[4];
};

/*
 * VSNIX_GET/SET_DEVICE_STATE: a device's guest-visible state as a blob at
 * data: a header, then the type's own struct (below). GET: size in is the
 * room at data, out the bytes written. SET: size is the blob's size;
 * flags RESET instead puts the device in its power-on state (size and
 * data 0).
 */
#define VSNIX_DEVICE_STATE_RESET	(1u << 0)
#define VSNIX_DEVICE_STATE_MAX		4096

struct vsnix_device_state {
	__u32 id;		/* from VSNIX_CREATE_DEVICE */
	__u32 flags;		/* SET: VSNIX_DEVICE_STATE_RESET */
	__u32 size;
	__u32 pad;
	__u64 data;		/* address of the blob */
	__u64 reserved[4];
};

struct vsnix_device_state_header {
	__u32 type;		/* VSNIX_DEV_* */
	__u32 version;		/* of the type's struct */
	__u32 size;		/* bytes after the header */
	__u32 pad;
};

/*
 * VSNIX_DEV_UART16550, version 2: the registers (PC16550D, 8), the
 * receive FIFO and the interrupt sources. (Version 1 was 16 bytes: the
 * registers and one received byte, no FIFO and no interrupts.)
 */
#define VSNIX_UART_STATE_VERSION	2
#define VSNIX_UART_FIFO_SIZE		16
#define VSNIX_UART_THRE_PENDING		(1u << 0)	/* THRE interrupt */
#define VSNIX_UART_TIMEOUT_PENDING	(1u << 1)	/* character timeout */
struct vsnix_uart_state {
	__u8 ier, lcr, mcr, scr;
	__u8 fcr;		/* FIFO enable, DMA mode, RX trigger (7:6) */
	__u8 dll, dlm;
	__u8 rbr;		/* the last byte read */
	__u8 lsr_errors;	/* LSR bits 1-4 latched until LSR is read */
	__u8 msr_delta;		/* MSR bits 0-3 until MSR is read */
	__u8 flags;		/* VSNIX_UART_*_PENDING */
	__u8 rx_count;		/* bytes in rx_fifo, 0..16 */
	__u8 pad[4];
	__u8 rx_fifo[VSNIX_UART_FIFO_SIZE];	/* oldest first */
};

/* VSNIX_DEV_FW_CFG, version 1: the item being read. */
#define VSNIX_FW_CFG_STATE_VERSION	1
struct vsnix_fw_cfg_state {
	__u16 selector;
	__u16 pad;
	__u32 offset;
};

/*
 * VSNIX_DEV_EXIT_PORT and VSNIX_DEV_HVT(2), version 1: no guest-visible
 * state (an hvt device's files are fixed at creation); size 0.
 */
#define VSNIX_STATELESS_VERSION		1

/* VSNIX_DEV_IOAPIC, version 1: registers and pin inputs (82093AA). */
#define VSNIX_IOAPIC_STATE_VERSION	1
struct vsnix_ioapic_state {
	__u64 redir[24];	/* redirection entries, remote IRR included */
	__u32 levels;		/* bit n: pin n asserted */
	__u8 ioregsel;
	__u8 id;		/* 0..15 */
	__u8 pad[2];
};

/* VSNIX_DEV_PIC, version 1: each 8259A (master, slave) and the inputs. */
#define VSNIX_PIC_STATE_VERSION		1
#define VSNIX_8259_ICW4			(1u << 0)	/* ICW1: IC4 */
#define VSNIX_8259_SINGLE		(1u << 1)	/* ICW1: SNGL */
#define VSNIX_8259_LTIM			(1u << 2)	/* ICW1: level mode */
#define VSNIX_8259_AUTO_EOI		(1u << 3)	/* ICW4: AEOI */
#define VSNIX_8259_ROTATE_AUTO_EOI	(1u << 4)	/* OCW2 */
#define VSNIX_8259_SFNM			(1u << 5)	/* ICW4 */
#define VSNIX_8259_SPECIAL_MASK		(1u << 6)	/* OCW3: SMM */
#define VSNIX_8259_READ_ISR		(1u << 7)	/* OCW3: RR, RIS */
#define VSNIX_8259_POLL			(1u << 8)	/* OCW3: P */
struct vsnix_8259_state {
	__u8 irr, isr, imr, elcr;
	__u8 lines;		/* input levels */
	__u8 prio_base;		/* IR of the highest priority, 0..7 */
	__u8 vector_base;	/* ICW2, low 3 bits 0 */
	__u8 init_step;		/* 0, or the ICW expected next: 2..4 */
	__u16 flags;		/* VSNIX_8259_* */
	__u8 pad[6];
};
struct vsnix_pic_state {
	struct vsnix_8259_state chip[2];
	__u16 gsi_levels;	/* bit n: GSI n asserted */
	__u8 pad[6];
};

/*
 * VSNIX_DEV_PIT, version 1: each counter of the 8254 and port 0x61.
 * elapsed counts the ticks since the count was loaded: a restored
 * counter goes on from there.
 */
#define VSNIX_PIT_STATE_VERSION		1
#define VSNIX_PIT_BCD			(1u << 0)
#define VSNIX_PIT_GATE			(1u << 1)
#define VSNIX_PIT_ARMED			(1u << 2)	/* counting */
#define VSNIX_PIT_NULL_COUNT		(1u << 3)
#define VSNIX_PIT_WRITE_MSB		(1u << 4)	/* next write: MSB */
#define VSNIX_PIT_READ_MSB		(1u << 5)	/* next read: MSB */
#define VSNIX_PIT_COUNT_LATCHED		(1u << 6)
#define VSNIX_PIT_STATUS_LATCHED	(1u << 7)
struct vsnix_pit_channel_state {
	__u64 elapsed;
	__u32 reload;		/* 1..65536 (BCD: 1..10000) */
	__u16 latched_count;
	__u16 flags;		/* VSNIX_PIT_* */
	__u8 mode;		/* 0..5 */
	__u8 rw;		/* access mode 1..3, 0 before a control word */
	__u8 write_lsb;
	__u8 latch_reads;	/* 0..2 */
	__u8 status;
	__u8 pad[3];
};
struct vsnix_pit_state {
	struct vsnix_pit_channel_state ch[3];
	__u8 port_b;		/* bits 0-3 */
	__u8 pad[7];
};

/* VSNIX_DEV_RTC, version 1: the CMOS bytes and the guest's clock. */
#define VSNIX_RTC_STATE_VERSION		1
struct vsnix_rtc_state {
	__u8 cmos[128];
	__s64 time_ns;		/* guest time, ns since 1970 */
	__u8 index;		/* 0..127 */
	__u8 nmi_masked;
	__u8 pad[6];
};

/* VSNIX_DEV_PM_TIMER, version 1: the counter goes on from ticks. */
#define VSNIX_PM_TIMER_STATE_VERSION	1
struct vsnix_pm_timer_state {
	__u64 ticks;		/* since creation, 3.579545 MHz */
};

/*
 * VSNIX_DEVICE_INPUT: len bytes at data are offered to device id as
 * console input (the 16550's receiver, a virtio console's RX queue). The
 * ioctl returns how many the device took, from the first on (0 only for
 * len 0); -EAGAIN when it had no room for any: retry once the guest has
 * read some. -ENOENT: no such device; -EINVAL: a device without input,
 * len above VSNIX_DEVICE_INPUT_MAX, or reserved not zero.
 */
#define VSNIX_DEVICE_INPUT_MAX		4096

struct vsnix_device_input {
	__u32 id;		/* from VSNIX_CREATE_DEVICE */
	__u32 len;
	__u64 data;		/* address of the bytes */
	__u64 reserved[2];
};

/*
 * VSNIX_DEV_ACPI_PM, version 1: the registers (ACPI 6.5, 4.8.3.1, 4.8.4.1).
 * pm1_cnt holds SCI_EN (always 1) and SLP_TYP; SLP_EN and GBL_RLS are
 * write-only. A SET with a status bit that is enabled raises the SCI,
 * as a press of the power button (PWRBTN_STS) would.
 */
#define VSNIX_ACPI_PM_STATE_VERSION	1
struct vsnix_acpi_pm_state {
	__u16 pm1_sts;
	__u16 pm1_en;
	__u16 pm1_cnt;
	__u16 gpe0_sts;
	__u16 gpe0_en;
	__u8 reset;		/* the reset register's bits 1 and 3 */
	__u8 pad[5];
};

/* State of a VM that in-kernel devices ended. */
struct vsnix_vm_status {
	__u32 exited;		/* 1 once a device ended the VM */
	__s32 exit_status;
	__u64 console_bytes;	/* written to the console so far */
	__u64 console_dropped;	/* of those, bytes the console file refused */
	__u64 reserved[5];
};

/* ---- the run structure, mmap()ed from a vCPU fd at offset 0 ---- */
#define VSNIX_EXIT_UNKNOWN		0
#define VSNIX_EXIT_IO			1
#define VSNIX_EXIT_MMIO			2
#define VSNIX_EXIT_HLT			3
#define VSNIX_EXIT_SHUTDOWN		4	/* triple fault or shutdown */
#define VSNIX_EXIT_FAIL_ENTRY		5
#define VSNIX_EXIT_INTERNAL_ERROR	6
#define VSNIX_EXIT_INTR			7	/* signal pending, RUN gave -EINTR */
#define VSNIX_EXIT_GUEST_EXIT		8	/* a device ended the VM */
#define VSNIX_EXIT_DEBUG		9
#define VSNIX_EXIT_MEMORY_FAULT		10	/* slot permission refused */

/* memory_fault.access: what the guest tried */
#define VSNIX_MEMORY_FAULT_READ		(1u << 0)
#define VSNIX_MEMORY_FAULT_WRITE	(1u << 1)
#define VSNIX_MEMORY_FAULT_EXEC		(1u << 2)

#define VSNIX_EXIT_IO_IN	0
#define VSNIX_EXIT_IO_OUT	1

/* internal.suberror */
#define VSNIX_INTERNAL_EMULATION	1	/* instruction not decodable */
#define VSNIX_INTERNAL_UNHANDLED_EXIT	2	/* data[0] = vendor exit code */
#define VSNIX_INTERNAL_GUEST_FAULT	3	/* bad guest argument to a device */
#define VSNIX_INTERNAL_DEVICE_ERROR	4	/* host I/O error; data[0] = -errno */
/* The exit saved the host's state, not the guest's (an emulator fault):
 * data[0] = exit code, data[1] = RIP, data[2] = CR3 found in the VMCB. */
#define VSNIX_INTERNAL_LOST_STATE	5

/* guest_exit.source */
#define VSNIX_GUEST_EXIT_HVT_HALT	1
#define VSNIX_GUEST_EXIT_PORT		2
#define VSNIX_GUEST_EXIT_POWEROFF	3	/* ACPI S5 (VSNIX_DEV_ACPI_PM) */
#define VSNIX_GUEST_EXIT_RESET		4	/* reset register (VSNIX_DEV_ACPI_PM) */

struct vsnix_run {
	/* in */
	__u8 immediate_exit;	/* return -EINTR before entering the guest */
	__u8 pad1[7];

	/* out */
	__u32 exit_reason;	/* VSNIX_EXIT_* */
	__u32 flags;
	__u64 reserved[6];

	union {
		/* VSNIX_EXIT_IO: data at (char *)run + data_offset */
		struct {
			__u8 direction;	/* VSNIX_EXIT_IO_IN / _OUT */
			__u8 size;	/* 1, 2 or 4 */
			__u16 port;
			__u32 count;
			__u64 data_offset;
		} io;
		/* VSNIX_EXIT_MMIO: for a read, fill data[] before the next RUN */
		struct {
			__u64 phys_addr;
			__u8 data[8];
			__u32 len;
			__u8 is_write;
			__u8 pad[3];
		} mmio;
		/* VSNIX_EXIT_FAIL_ENTRY */
		struct {
			__u64 hardware_entry_failure_reason;
			__u32 cpu;
			__u32 pad;
		} fail_entry;
		/* VSNIX_EXIT_INTERNAL_ERROR */
		struct {
			__u32 suberror;
			__u32 ndata;
			__u64 data[16];
		} internal;
		/* VSNIX_EXIT_SHUTDOWN: vendor exit code in data[0] */
		struct {
			__u64 data[4];
		} shutdown;
		/* VSNIX_EXIT_GUEST_EXIT */
		struct {
			__s32 status;
			__u32 source;	/* VSNIX_GUEST_EXIT_* */
			/* HVT_HALT: GPA of the halt cookie (RAM), or 0 */
			__u64 data;
		} guest_exit;
		/* VSNIX_EXIT_DEBUG */
		struct {
			__u32 exception;
			__u32 pad;
			__u64 pc;
		} debug;
		/* VSNIX_EXIT_MEMORY_FAULT: RIP is at the faulting instruction */
		struct {
			__u64 gpa;
			__u32 access;	/* VSNIX_MEMORY_FAULT_* */
			__u32 pad;
		} memory_fault;
		__u8 padding[256];
	};
};

/* The I/O data area lives in the second page of the vCPU mapping. */
#define VSNIX_RUN_IO_DATA_OFFSET	4096

/* ---- statistics and the VM list (VSNIX_CAP_STATS, VSNIX_CAP_VM_LIST) ---- */
#define VSNIX_CAP_STATS		54	/* VSNIX_GET_STATS_FD (VM and vCPU fds) */
#define VSNIX_CAP_VM_LIST	55	/* LIST_VMS, STATS_FD_BY_ID, VM names */

/* system ioctls (outside the per-helper VM/vCPU ranges; see api.rst) */
#define VSNIX_LIST_VMS		_IOWR(VSNIXIO, 0x10, struct vsnix_vm_list)
#define VSNIX_STATS_FD_BY_ID	_IOW(VSNIXIO, 0x11, struct vsnix_stats_fd_req)
/* VM ioctls */
#define VSNIX_GET_STATS_FD	_IO(VSNIXIO, 0x6c)	/* arg: 0; vCPU: 0x98 */
#define VSNIX_SET_VM_NAME	_IOW(VSNIXIO, 0x6d, struct vsnix_vm_name)
#define VSNIX_GET_VM_INFO	_IOR(VSNIXIO, 0x6e, struct vsnix_vm_info)
/* vCPU ioctls */
#define VSNIX_GET_VCPU_STATS_FD	_IO(VSNIXIO, 0x98)	/* arg: 0 */

#define VSNIX_VM_NAME_LEN	32

/* A name for the VM (tools show it): printable ASCII, NUL-padded. */
struct vsnix_vm_name {
	char name[VSNIX_VM_NAME_LEN];
	__u64 reserved[2];
};

#define VSNIX_VM_INFO_EXITED	(1u << 0)

struct vsnix_vm_info {
	__u32 id;		/* unique while the module is loaded, from 1 */
	__s32 owner_pid;	/* thread group that created it */
	__u32 owner_uid;	/* its effective uid then */
	__u32 nr_vcpus;
	__u32 flags;		/* VSNIX_VM_INFO_* */
	__u32 pad;
	__u64 mem_bytes;	/* guest memory in its slots */
	char name[VSNIX_VM_NAME_LEN];
	__u64 reserved[4];
};

/*
 * VSNIX_LIST_VMS: up to nr entries of the VMs of this host (every user's)
 * to entries; nr becomes the number of VMs (more than asked: -E2BIG, with
 * nr set, nothing copied beyond the first nr).
 */
struct vsnix_vm_list {
	__u32 nr;
	__u32 flags;		/* 0 */
	__u64 entries;		/* user pointer to struct vsnix_vm_info[nr] */
	__u64 reserved[2];
};

#define VSNIX_STATS_VM		0xffffffffu	/* vcpu: the VM's own fd */

/*
 * VSNIX_STATS_FD_BY_ID: a stats fd of VM vm_id (vcpu VSNIX_STATS_VM) or of
 * one of its vCPUs, for the VM's owner (same effective uid) or
 * CAP_SYS_ADMIN; else -EPERM. -ENOENT: no such VM or vCPU.
 */
struct vsnix_stats_fd_req {
	__u32 vm_id;
	__u32 vcpu;
	__u32 flags;		/* 0 */
	__u32 pad;
	__u64 reserved[2];
};

/*
 * A stats fd: read-only, read with pread(). At offset 0 a header; at
 * id_offset a NUL-terminated id ("vm3" or "vm3/vcpu0"); at desc_offset
 * nr_desc descriptors of desc_size bytes each; at data_offset the values,
 * __u64 each, read fresh on every read that covers them. Header, id and
 * descriptors never change for the life of the fd.
 */
#define VSNIX_STATS_MAGIC	0x54535356	/* "VSST" */
#define VSNIX_STATS_VERSION	1

struct vsnix_stats_header {
	__u32 magic;
	__u32 version;
	__u32 flags;		/* 0 */
	__u32 nr_desc;
	__u32 name_size;	/* bytes of vsnix_stats_desc.name */
	__u32 id_offset;
	__u32 desc_offset;
	__u32 desc_size;
	__u32 data_offset;
	__u32 data_size;
	__u32 reserved[6];
};

/* desc.flags: a type and a unit */
#define VSNIX_STATS_TYPE_MASK		0x0fu
#define VSNIX_STATS_TYPE_CUMULATIVE	0x00u	/* only grows */
#define VSNIX_STATS_TYPE_INSTANT	0x01u	/* a current value */
#define VSNIX_STATS_UNIT_MASK		0xf0u
#define VSNIX_STATS_UNIT_NONE		0x00u	/* a count */
#define VSNIX_STATS_UNIT_BYTES		0x10u
#define VSNIX_STATS_UNIT_NS		0x20u	/* nanoseconds */

struct vsnix_stats_desc {
	__u32 flags;		/* VSNIX_STATS_TYPE_* | VSNIX_STATS_UNIT_* */
	__u32 count;		/* __u64 values (1 for a scalar) */
	__u32 offset;		/* of the first value, from data_offset */
	__u32 reserved;
	char name[];		/* name_size bytes, NUL-terminated */
};

#endif /* _UAPI_LINUX_VSNIX_H */
