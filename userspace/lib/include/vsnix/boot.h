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

/* What a loader is given, and what it reports back. */
struct vx_boot {
	uint64_t mem_size;	/* guest RAM asked for */
	const char *cmdline;	/* NULL: empty */
	int console_fd;		/* console device output (VSNIX_CREATE_DEVICE) */
	const struct vx_boot_module *modules;	/* multiboot only */
	unsigned int nr_modules;
	/*
	 * Multiboot: vCPUs 0..nr_cpus-1 (0 means 1). vCPU 0 boots; each other
	 * one (an AP) is handed to ap_init, which must park it (e.g. waiting
	 * for INIT/SIPI). platform, if set, runs after RAM is mapped and
	 * before the first vCPU exists (an in-kernel LAPIC, say).
	 */
	unsigned int nr_cpus;
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

/* ---- flat binaries ---- */

/* Copies the whole file at fd to guest RAM at gpa; its size in *size. */
int vx_load_flat(struct vx_vm *vm, int fd, uint64_t gpa, uint64_t *size);

#endif /* VSNIX_LIBVSNIX_BOOT_H */
