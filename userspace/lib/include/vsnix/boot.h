/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libvsnix: guest loaders (lib/hvt.c, lib/multiboot.c, lib/x86.c). Each
 * sets up guest RAM, vCPU 0 and the guest's devices in an empty VM
 * (Documentation/vsnixctl.rst describes the guest layouts).
 */
#ifndef VSNIX_LIBVSNIX_BOOT_H
#define VSNIX_LIBVSNIX_BOOT_H

#include <stdbool.h>
#include <stdint.h>

struct vx_vm;
struct vx_vcpu;
struct vx_elf_image;

#define VX_MAX_MODULES		16

struct vx_boot_module {
	const char *path;
	const char *args;	/* may be NULL */
};

/* A virtio-blk disk of a PC guest (vsnixctl run --disk). */
#define VX_MAX_DISKS		16
struct vx_disk {
	const char *path;	/* regular file or block device */
	const char *serial;	/* GET_ID, at most 20 bytes; NULL: none */
	bool read_only;
};

/*
 * A virtio-net card of a PC guest (vsnixctl run --net tap=...): the tap
 * queues, one per queue pair, opened by the caller (vx_tap_open_queues);
 * the device takes its own references.
 */
#define VX_MAX_NICS		4
struct vx_nic {
	const int *fds;
	unsigned int nr_fds;
	uint8_t mac[6];
};

/* What a loader is given, and what it reports back. */
struct vx_boot {
	uint64_t mem_size;	/* guest RAM asked for */
	const char *cmdline;	/* NULL: empty */
	int console_fd;		/* console device output (VSNIX_CREATE_DEVICE) */
	const struct vx_boot_module *modules;	/* multiboot only */
	const char *initrd;	/* Linux, PVH: the initial ramdisk file, or NULL */
	unsigned int nr_modules;
	/* PC guests (Linux): virtio-blk disks, virtio-console (hvc0). */
	const struct vx_disk *disks;
	unsigned int nr_disks;
	bool virtio_console;
	bool virtio_rng;	/* a virtio-rng (hw_random) function */
	const struct vx_nic *nics;	/* virtio-net cards */
	unsigned int nr_nics;
	/*
	 * Multiboot: vCPUs 0..nr_cpus-1 (0 means 1). vCPU 0 boots; each other
	 * one (an AP) is handed to ap_init, which must park it (e.g. waiting
	 * for INIT/SIPI). platform, if set, runs after RAM is mapped and
	 * before the first vCPU exists (an in-kernel LAPIC, say).
	 */
	unsigned int nr_cpus;
	uint32_t cpuid_1_ecx_clear;	/* CPUID.1:ECX bits hidden (bit 21: x2APIC) */
	int (*platform)(struct vx_vm *vm, void *opaque);
	int (*ap_init)(struct vx_vcpu *ap, void *opaque);
	void *opaque;
	/* out */
	struct vx_vcpu *vcpu;	/* vCPU 0, ready to run */
	uint32_t console_id;	/* the device taking console input, 0: none */
	bool default_cpuid;	/* VSNIX_SET_CPUID failed: the guest runs on the default */
};

/* ---- Solo5 hvt unikernels (ABI version 2) ---- */

struct vx_hvt;

/* 1 if the ELF has the Solo5 ABI note, 0 if not, -errno if malformed. */
int vx_hvt_is_hvt(struct vx_elf_image *img);
/* The RAM hvt gets for `asked` bytes: a multiple of 2 MiB, at most 4 GiB. */
int vx_hvt_mem_size(uint64_t asked, uint64_t *mem_size);
/* Checks the ABI note, the segments and the manifest; img must outlive h. */
int vx_hvt_open(struct vx_elf_image *img, struct vx_hvt **out);
/* Its manifest index if the manifest declares it and it is unattached. */
int vx_hvt_check_device(struct vx_hvt *h, const char *name, bool net);
/* The backing fd is duplicated: the caller closes its own. */
int vx_hvt_attach_block(struct vx_hvt *h, const char *name, int fd, uint64_t size,
			uint32_t sector_size);
/* The guest's MTU is that of the tap (or packet socket's) interface. */
int vx_hvt_attach_net(struct vx_hvt *h, const char *name, int fd,
		      const uint8_t mac[6]);
/* Every declared device must be attached. */
int vx_hvt_load(struct vx_hvt *h, struct vx_vm *vm, struct vx_boot *b);
void vx_hvt_close(struct vx_hvt *h);

/* ---- Multiboot v1 kernels ---- */

/* Offset of a valid multiboot v1 header in the first 8 KiB, or -1. */
long vx_multiboot_find_header(const uint8_t *head, size_t len);
int vx_multiboot_load(struct vx_vm *vm, int fd, const char *path, long header_offset,
		      struct vx_boot *b);

/* ---- the PC platform (lib/pc.c, the layout of vsnix/pc.h) ---- */

#define VX_PC_EXIT_PORT		0xf4	/* VSNIX_DEV_EXIT_PORT: a guest's way out */

struct vx_pc {
	unsigned int nr_cpus;	/* 0 means 1 */
	uint64_t mem_size;	/* guest RAM (for the RTC's CMOS and the tables) */
	int console_fd;		/* COM1's output */
	/* virtio-blk disks (one queue per vCPU), virtio-console on console_fd */
	const struct vx_disk *disks;
	unsigned int nr_disks;
	bool virtio_console;
	bool virtio_rng;	/* virtio-rng, after the console */
	const struct vx_nic *nics;	/* virtio-net, after the disks */
	unsigned int nr_nics;
	unsigned int next_slot;	/* the next free PCI slot (internal) */
	/* out: the ACPI RSDP's GPA, 0 when no tables were built */
	uint64_t rsdp;
	uint32_t com1_id;	/* out: COM1's device id (console input) */
};

/*
 * The platform devices of a PC guest, in the kernel: the local APICs (so
 * it runs before the first vCPU exists), IOAPIC, PIC, PIT, RTC, PM timer,
 * COM1 and the exit port. RAM must be allocated (the tables go in it).
 */
int vx_pc_platform_create(struct vx_vm *vm, struct vx_pc *pc);
/*
 * Guest RAM of a PC: [0, min(size, 3 GiB)) and the rest from 4 GiB, one
 * host mapping (vm->mem), two slots. Loaders write below 3 GiB only.
 */
int vx_pc_ram(struct vx_vm *vm, uint64_t size);

struct vx_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;		/* VX_E820_* */
} __attribute__((packed));

#define VX_E820_RAM		1
#define VX_E820_RESERVED	2
#define VX_E820_MAX		16

/* The memory map of the PC platform with vm's RAM; the entry count. */
unsigned int vx_pc_e820(const struct vx_vm *vm, struct vx_e820_entry *map);
/* The platform, vCPU 0, and the APs waiting for INIT/SIPI (b->nr_cpus). */
int vx_pc_vcpus(struct vx_vm *vm, struct vx_boot *b, struct vx_pc *pc);

/* ---- Linux: the x86 boot protocol's bzImage (lib/linux.c) ---- */

/* 1 if head holds a bzImage's setup header ("HdrS", boot flag), else 0. */
int vx_linux_is_bzimage(const uint8_t *head, size_t len);
/*
 * Loads a bzImage (boot protocol 2.12 or later, 64-bit entry), its initrd
 * and command line, builds the zero page and the PC platform, and sets
 * vCPU 0 at the 64-bit entry (Documentation/platform.rst, "Linux boot").
 */
int vx_linux_load(struct vx_vm *vm, int fd, const char *path, struct vx_boot *b);
/*
 * The bzImage's payload (boot.rst payload_offset, payload_length): its
 * offset in the file and its length. The header is checked as for a boot.
 */
int vx_linux_payload(int fd, const char *path, uint64_t *offset, uint64_t *len);

/* ---- PVH: an ELF kernel with XEN_ELFNOTE_PHYS32_ENTRY (lib/pvh.c) ---- */

/* 1 if the ELF has the PVH entry note (its address in *entry), 0, -errno. */
int vx_pvh_entry(struct vx_elf_image *img, uint64_t *entry);
int vx_pvh_load(struct vx_vm *vm, struct vx_elf_image *img, struct vx_boot *b);

/* ---- flat binaries ---- */

/* Copies the whole file at fd to guest RAM at gpa; its size in *size. */
int vx_load_flat(struct vx_vm *vm, int fd, uint64_t gpa, uint64_t *size);

#endif /* VSNIX_LIBVSNIX_BOOT_H */
