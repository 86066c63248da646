/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The Solo5 hvt ABI, version 2, as this project implements it: boot info,
 * hypercall argument structs, the ABI and manifest ELF notes. The one
 * declaration of it: vsnix.ko (kmod/devices/hvt.c), vsnixctl (the tender)
 * and the freestanding test unikernels in selftests/guests/ all include
 * this file, so it needs only <stdint.h> (<linux/types.h> in the kernel).
 *
 * Written from the facts of Solo5's include/hvt_abi.h, mft_abi.h and
 * elf_abi.h (x86-64: size_t and guest pointers are 64-bit, int is 32);
 * the asserts at the end pin every size and offset to that layout. Guest
 * pointers are plain uint64_t on both sides: the host must never
 * dereference them without a bounds check.
 */
#ifndef VSNIX_HVT_ABI_H
#define VSNIX_HVT_ABI_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/stddef.h>
#else
#include <stdint.h>
#include <stddef.h>
#endif

#define HVT_ABI_VERSION		2
#define HVT_ABI_TARGET		1	/* enum abi_target: hvt */

/* Guest memory layout on x86-64 (Solo5 tenders/hvt/hvt_cpu_x86_64.h). */
#define HVT_GDT_BASE		0x1000
#define HVT_PML4_BASE		0x2000
#define HVT_PDPTE_BASE		0x3000
#define HVT_PDE_BASE		0x4000	/* 4 pages: one per GiB */
#define HVT_PT0_BASE		0x8000	/* 4 KiB pages of the first 2 MiB */
#define HVT_BOOT_INFO_BASE	0x10000	/* read-only to the guest up to 1 MiB */
#define HVT_GUEST_MIN_BASE	0x100000	/* lowest address an ELF may use */
#define HVT_GUEST_PAGE_SIZE	0x200000ULL	/* memory is a multiple of this */
#define HVT_GUEST_MAX_MEM	(2048 * HVT_GUEST_PAGE_SIZE)	/* 4 PDE pages */
#define HVT_CMDLINE_SIZE	8192	/* including the NUL */

/*
 * A hypercall is a 32-bit OUT to HVT_HYPERCALL_PIO_BASE + nr of the
 * argument struct's guest-physical address (below 4 GiB).
 */
#define HVT_HYPERCALL_PIO_BASE	0x500
/* Bytes the tender may read behind a non-NULL halt cookie. */
#define HVT_HALT_COOKIE_MAX	512

enum hvt_hypercall {
	HVT_HYPERCALL_WALLTIME = 1,
	HVT_HYPERCALL_PUTS,
	HVT_HYPERCALL_POLL,
	HVT_HYPERCALL_BLOCK_WRITE,
	HVT_HYPERCALL_BLOCK_READ,
	HVT_HYPERCALL_NET_WRITE,
	HVT_HYPERCALL_NET_READ,
	HVT_HYPERCALL_HALT,
	HVT_HYPERCALL_MAX
};

/* Solo5 result codes (include/solo5.h). */
#define SOLO5_R_OK		0
#define SOLO5_R_AGAIN		1
#define SOLO5_R_EINVAL		2
#define SOLO5_R_EUNSPEC		3

/* Passed in RDI to the guest entry point; new fields only at the end. */
struct hvt_boot_info {
	uint64_t mem_size;
	uint64_t kernel_end;
	uint64_t cpu_cycle_freq;	/* TSC Hz */
	uint64_t cmdline;		/* GPA of a C string */
	uint64_t mft;			/* GPA of the manifest copy */
	uint32_t host_features;		/* ring I/O offer: vsnix offers none */
	uint32_t guest_features;
	uint64_t net_ring;
};

struct hvt_hc_walltime {
	uint64_t nsecs;
};

struct hvt_hc_puts {
	uint64_t data;
	uint64_t len;
};

/* "out": written by the host; everything else is read from the guest. */
struct hvt_hc_block_io {		/* BLOCK_WRITE and BLOCK_READ */
	uint64_t handle;
	uint64_t offset;
	uint64_t data;
	uint64_t len;
	int32_t ret;			/* out */
	uint32_t pad;			/* the guest's struct padding */
};

struct hvt_hc_net_io {			/* NET_WRITE and NET_READ */
	uint64_t handle;
	uint64_t data;
	uint64_t len;			/* NET_READ: out too */
	int32_t ret;			/* out */
	uint32_t pad;
};

struct hvt_hc_poll {
	uint64_t timeout_nsecs;
	uint64_t ready_set;		/* out */
	int32_t ret;			/* out */
	uint32_t pad;
};

struct hvt_hc_halt {
	uint64_t cookie;
	int32_t exit_status;
	uint32_t pad;
};

/* ---- manifest (MFT version 1) ---- */
#define MFT_VERSION		1
#define MFT_MAX_ENTRIES		64
#define MFT_NAME_SIZE		68
#define MFT_DEV_BLOCK_BASIC	1
#define MFT_DEV_NET_BASIC	2
#define MFT_RESERVED_FIRST	(1U << 30)

struct mft_entry {
	char name[MFT_NAME_SIZE];
	uint32_t type;
	union {
		struct {
			uint64_t capacity;
			uint16_t block_size;
		} block_basic;
		struct {
			uint8_t mac[6];
			uint16_t mtu;
		} net_basic;
	} u;
	union {
		int32_t hostfd;
		uint64_t data;
	} b;
	uint8_t attached;		/* C bool in the guest */
};

struct mft {
	uint32_t version;
	uint32_t entries;
	struct mft_entry e[];
};


/* ---- ELF notes: name "Solo5", descriptor aligned per its content ---- */
#define SOLO5_NOTE_NAME		"Solo5"
#define SOLO5_NOTE_ABI1		0x31494241	/* "ABI1" */
#define SOLO5_NOTE_MFT1		0x3154464d	/* "MFT1" */

struct solo5_nhdr {
	uint32_t n_namesz;
	uint32_t n_descsz;
	uint32_t n_type;
	char n_name[8];			/* "Solo5\0" padded to 4 bytes */
};

struct abi1_info {
	uint32_t abi_target;
	uint32_t abi_version;
	uint32_t reserved0;
	uint32_t reserved1;
};

/*
 * The descriptor of a note starts at the next multiple of its content's
 * alignment after the 20-byte header: 4 for ABI1, 8 for MFT1 (struct mft
 * holds 64-bit fields). n_descsz counts that padding.
 */
#define ABI1_DESC_ALIGN		4
#define MFT1_DESC_ALIGN		8

/* Solo5's layouts on x86-64: a changed field breaks every guest. */
#define HVT_ASSERT_AT(type, field, off)					\
	_Static_assert(offsetof(struct type, field) == (off),		\
		       #type "." #field " at " #off)
#define HVT_ASSERT_SIZE(type, size)					\
	_Static_assert(sizeof(struct type) == (size), #type " size")

HVT_ASSERT_SIZE(hvt_boot_info, 56);
HVT_ASSERT_AT(hvt_boot_info, mem_size, 0);
HVT_ASSERT_AT(hvt_boot_info, kernel_end, 8);
HVT_ASSERT_AT(hvt_boot_info, cpu_cycle_freq, 16);
HVT_ASSERT_AT(hvt_boot_info, cmdline, 24);
HVT_ASSERT_AT(hvt_boot_info, mft, 32);
HVT_ASSERT_AT(hvt_boot_info, host_features, 40);
HVT_ASSERT_AT(hvt_boot_info, guest_features, 44);
HVT_ASSERT_AT(hvt_boot_info, net_ring, 48);
HVT_ASSERT_SIZE(hvt_hc_walltime, 8);
HVT_ASSERT_AT(hvt_hc_walltime, nsecs, 0);
HVT_ASSERT_SIZE(hvt_hc_puts, 16);
HVT_ASSERT_AT(hvt_hc_puts, data, 0);
HVT_ASSERT_AT(hvt_hc_puts, len, 8);
HVT_ASSERT_SIZE(hvt_hc_block_io, 40);
HVT_ASSERT_AT(hvt_hc_block_io, handle, 0);
HVT_ASSERT_AT(hvt_hc_block_io, offset, 8);
HVT_ASSERT_AT(hvt_hc_block_io, data, 16);
HVT_ASSERT_AT(hvt_hc_block_io, len, 24);
HVT_ASSERT_AT(hvt_hc_block_io, ret, 32);
HVT_ASSERT_SIZE(hvt_hc_net_io, 32);
HVT_ASSERT_AT(hvt_hc_net_io, handle, 0);
HVT_ASSERT_AT(hvt_hc_net_io, data, 8);
HVT_ASSERT_AT(hvt_hc_net_io, len, 16);
HVT_ASSERT_AT(hvt_hc_net_io, ret, 24);
HVT_ASSERT_SIZE(hvt_hc_poll, 24);
HVT_ASSERT_AT(hvt_hc_poll, timeout_nsecs, 0);
HVT_ASSERT_AT(hvt_hc_poll, ready_set, 8);
HVT_ASSERT_AT(hvt_hc_poll, ret, 16);
HVT_ASSERT_SIZE(hvt_hc_halt, 16);
HVT_ASSERT_AT(hvt_hc_halt, cookie, 0);
HVT_ASSERT_AT(hvt_hc_halt, exit_status, 8);
HVT_ASSERT_SIZE(mft_entry, 104);
HVT_ASSERT_AT(mft_entry, type, 68);
HVT_ASSERT_AT(mft_entry, u, 72);
HVT_ASSERT_AT(mft_entry, b, 88);
HVT_ASSERT_AT(mft_entry, attached, 96);
HVT_ASSERT_SIZE(mft, 8);
HVT_ASSERT_SIZE(abi1_info, 16);

#endif /* VSNIX_HVT_ABI_H */
