// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix: boots a Linux bzImage by the x86 boot protocol (the kernel's
 * Documentation/arch/x86/boot.rst), through its 64-bit entry ("64-bit BOOT
 * PROTOCOL"): no firmware and no real-mode setup code run. vsnix fills the
 * zero page (struct boot_params) as a boot loader would.
 *
 * Low memory (below the 1 MiB the kernel never loads into):
 *   0x1000 GDT   0x7000 zero page   0x9000 page tables (4 GiB identity)
 *   0x20000 command line
 * The kernel at its pref_address (16 MiB for Debian's), the initrd as high
 * as initrd_addr_max and the low RAM allow.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "vsnix/libvsnix.h"
#include "vsnix/boot.h"
#include "vsnix/pc.h"

#define LX_GDT_GPA		0x1000
#define LX_ZERO_PAGE_GPA	0x7000
#define LX_PT_GPA		0x9000	/* PML4, PDPT, 4 PDs: 0x9000-0xefff */
#define LX_CMDLINE_GPA		0x20000
#define LX_CMDLINE_MAX		0x10000
#define LX_STACK_TOP		0x6ff0	/* not used by startup_64 */
#define LX_BOOT_CS		0x10	/* boot.rst: __BOOT_CS, __BOOT_DS */
#define LX_BOOT_DS		0x18

/* Offsets in the zero page / the image's first sectors (zero-page.rst). */
#define BP_ACPI_RSDP_ADDR	0x070
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_HDR			0x1f1	/* struct setup_header */
#define BP_E820_TABLE		0x2d0
#define BP_E820_MAX		128

#define HDR_SETUP_SECTS		0x1f1
#define HDR_SYSSIZE		0x1f4
#define HDR_BOOT_FLAG		0x1fe
#define HDR_JUMP		0x200
#define HDR_MAGIC		0x202
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_HEAP_END_PTR	0x224
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_KERNEL_ALIGNMENT	0x230
#define HDR_RELOCATABLE		0x234
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PAYLOAD_OFFSET	0x248
#define HDR_PAYLOAD_LENGTH	0x24c
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260

#define LOADED_HIGH		0x01
#define CAN_USE_HEAP		0x80
#define XLF_KERNEL_64		0x01
#define LX_MIN_VERSION		0x020c	/* 2.12: xloadflags, the 64-bit entry */
#define LX_ENTRY_64		0x200	/* from the load address */
#define LX_HDR_READ		0x280	/* the header ends before (0x202 + jump) */

struct lx_image {
	const char *path;
	int fd;
	uint64_t file_size;
	uint8_t hdr[LX_HDR_READ];	/* the image's first bytes */
	uint64_t setup_size;		/* real-mode part, skipped */
	uint64_t kernel_size;		/* protected-mode part, loaded */
	uint64_t load_addr, init_size;
	uint16_t version;
};

static uint32_t get32(const uint8_t *p, unsigned int off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static uint16_t get16(const uint8_t *p, unsigned int off)
{
	return p[off] | p[off + 1] << 8;
}

static void put32(uint8_t *p, unsigned int off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

int vx_linux_is_bzimage(const uint8_t *head, size_t len)
{
	return len >= HDR_MAGIC + 4 && !memcmp(head + HDR_MAGIC, "HdrS", 4) &&
	       get16(head, HDR_BOOT_FLAG) == 0xaa55;
}

static int lx_error(const char *path, const char *msg)
{
	return vx_fail(EINVAL, "%s: not a bootable Linux bzImage: %s", path, msg);
}

/* Reads and checks the setup header (boot.rst "THE REAL-MODE KERNEL HEADER"). */
static int lx_read_header(struct lx_image *img)
{
	const uint8_t *h = img->hdr;
	unsigned int sects;
	struct stat st;
	uint64_t align;

	if (fstat(img->fd, &st) < 0)
		return vx_fail(errno, "%s: %s", img->path, strerror(errno));
	img->file_size = st.st_size;
	memset(img->hdr, 0, sizeof(img->hdr));
	if (pread(img->fd, img->hdr, sizeof(img->hdr), 0) != sizeof(img->hdr))
		return lx_error(img->path, "shorter than a setup header (truncated?)");
	if (!vx_linux_is_bzimage(h, sizeof(img->hdr)))
		return lx_error(img->path, "no \"HdrS\" magic and boot flag 0xAA55 at 0x1fe");
	img->version = get16(h, HDR_VERSION);
	if (img->version < LX_MIN_VERSION)
		return vx_fail(EINVAL, "%s: Linux boot protocol %u.%02u; vsnix needs 2.12 or later (the 64-bit entry)",
			       img->path, img->version >> 8, img->version & 0xff);
	if (!(get16(h, HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return lx_error(img->path, "no 64-bit entry (XLF_KERNEL_64 clear): a 32-bit kernel");
	if (!(h[HDR_LOADFLAGS] & LOADED_HIGH))
		return lx_error(img->path, "a zImage (loaded low); only bzImage is supported");
	sects = h[HDR_SETUP_SECTS] ? h[HDR_SETUP_SECTS] : 4;
	img->setup_size = (sects + 1) * 512ull;
	if (img->file_size <= img->setup_size)
		return lx_error(img->path, "truncated: no protected-mode kernel after the setup code");
	img->kernel_size = img->file_size - img->setup_size;
	if ((uint64_t)get32(h, HDR_SYSSIZE) * 16 > img->kernel_size)
		return lx_error(img->path, "truncated: the file is shorter than the header's syssize");
	img->init_size = get32(h, HDR_INIT_SIZE);
	if (img->init_size < img->kernel_size)
		img->init_size = img->kernel_size;
	align = get32(h, HDR_KERNEL_ALIGNMENT);
	img->load_addr = 0;
	memcpy(&img->load_addr, h + HDR_PREF_ADDRESS, 8);
	if (!h[HDR_RELOCATABLE] || !img->load_addr)
		img->load_addr = h[HDR_RELOCATABLE] ? 0x1000000 : 0x100000;
	if (h[HDR_RELOCATABLE] && align && (align & (align - 1)) == 0)
		img->load_addr = (img->load_addr + align - 1) & ~(align - 1);
	return 0;
}

int vx_linux_payload(int fd, const char *path, uint64_t *offset, uint64_t *len)
{
	struct lx_image img = { .path = path, .fd = fd };
	uint64_t off, n;
	int r;

	r = lx_read_header(&img);
	if (r)
		return r;
	/* boot.rst: payload_offset counts from the protected-mode code. */
	off = get32(img.hdr, HDR_PAYLOAD_OFFSET);
	n = get32(img.hdr, HDR_PAYLOAD_LENGTH);
	if (!off || !n || off > img.kernel_size || n > img.kernel_size - off)
		return lx_error(path, "payload_offset/payload_length outside the protected-mode kernel");
	*offset = img.setup_size + off;
	*len = n;
	return 0;
}

/* The protected-mode kernel at its load address, with room for init_size. */
static int lx_load_kernel(struct vx_vm *vm, struct lx_image *img, uint64_t low_end)
{
	uint8_t *dst;

	if (img->load_addr + img->init_size > low_end)
		return vx_fail(ENOSPC, "%s: the kernel needs RAM up to %#llx (load address + init_size); give --mem more",
			       img->path, (unsigned long long)(img->load_addr + img->init_size));
	dst = vx_gpa(vm, img->load_addr, img->kernel_size);
	if (!dst || pread(img->fd, dst, img->kernel_size, img->setup_size) !=
		    (ssize_t)img->kernel_size)
		return vx_fail(EIO, "%s: cannot read the kernel", img->path);
	return 0;
}

/* The initrd, page-aligned, as high as initrd_addr_max and RAM allow. */
static int lx_load_initrd(struct vx_vm *vm, const struct lx_image *img,
			  const char *path, uint8_t *bp, uint64_t low_end)
{
	uint64_t max = (uint64_t)get32(img->hdr, HDR_INITRD_ADDR_MAX) + 1;
	uint64_t floor = img->load_addr + img->init_size, at;
	struct stat st;
	uint8_t *dst;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		e = fd < 0 ? errno : EINVAL;
		if (fd >= 0)
			close(fd);
		return vx_fail(e, "initrd %s: %s", path,
			       e == EINVAL ? "not a regular file" : strerror(e));
	}
	if (max > low_end || max == 1)
		max = low_end;
	if ((uint64_t)st.st_size > max || ((max - st.st_size) & ~0xfffull) < floor) {
		close(fd);
		return vx_fail(ENOSPC, "initrd %s (%llu MiB) does not fit in guest RAM below %#llx after the kernel; give --mem more",
			       path, (unsigned long long)(st.st_size >> 20),
			       (unsigned long long)max);
	}
	at = (max - st.st_size) & ~0xfffull;
	dst = vx_gpa(vm, at, st.st_size);
	if (!dst || pread(fd, dst, st.st_size, 0) != st.st_size) {
		close(fd);
		return vx_fail(EIO, "cannot read initrd %s", path);
	}
	close(fd);
	put32(bp, HDR_RAMDISK_IMAGE, at);
	put32(bp, HDR_RAMDISK_SIZE, st.st_size);
	put32(bp, BP_EXT_RAMDISK_IMAGE, at >> 32);
	put32(bp, BP_EXT_RAMDISK_SIZE, (uint64_t)st.st_size >> 32);
	return 0;
}

/* The zero page: the image's setup header, loader fields, e820, cmdline. */
static int lx_zero_page(struct vx_vm *vm, const struct lx_image *img,
			const struct vx_boot *b, uint8_t *bp)
{
	unsigned int hdr_end = HDR_JUMP + 2 + img->hdr[HDR_JUMP + 1], n, i;
	const char *cmdline = b->cmdline ? b->cmdline : "";
	uint32_t max = get32(img->hdr, HDR_CMDLINE_SIZE);
	struct vx_e820_entry map[VX_E820_MAX];
	char *cl;

	if (hdr_end > LX_HDR_READ)
		hdr_end = LX_HDR_READ;
	memset(bp, 0, 4096);
	memcpy(bp + BP_HDR, img->hdr + BP_HDR, hdr_end - BP_HDR);
	bp[HDR_TYPE_OF_LOADER] = 0xff;	/* undefined loader */
	bp[HDR_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
	/* heap_end_ptr: from the real-mode setup; unused by the 64-bit entry. */
	bp[HDR_HEAP_END_PTR] = 0x00;
	bp[HDR_HEAP_END_PTR + 1] = 0xfe;
	if (!max || max > LX_CMDLINE_MAX - 1)
		max = LX_CMDLINE_MAX - 1;
	if (strlen(cmdline) > max)
		return vx_fail(E2BIG, "command line too long: %zu characters, the kernel takes %u",
			       strlen(cmdline), max);
	cl = vx_gpa(vm, LX_CMDLINE_GPA, strlen(cmdline) + 1);
	if (!cl)
		return vx_fail(EINVAL, "guest RAM too small for the command line");
	strcpy(cl, cmdline);
	put32(bp, HDR_CMD_LINE_PTR, LX_CMDLINE_GPA);
	put32(bp, BP_EXT_CMD_LINE_PTR, 0);
	n = vx_pc_e820(vm, map);
	for (i = 0; i < n && i < BP_E820_MAX; i++)
		memcpy(bp + BP_E820_TABLE + i * 20, &map[i], 20);
	bp[BP_E820_ENTRIES] = i;
	return 0;
}

/* Identity map of the low 4 GiB with 2 MiB pages (AMD APM Vol 2, 5.3). */
static int lx_page_tables(struct vx_vm *vm)
{
	uint64_t *pt = vx_gpa(vm, LX_PT_GPA, 6 * 4096);
	unsigned int i;

	if (!pt)
		return vx_fail(EINVAL, "guest RAM too small for the page tables");
	memset(pt, 0, 6 * 4096);
	pt[0] = (LX_PT_GPA + 0x1000) | 0x3;		/* PML4[0] -> PDPT, P|RW */
	for (i = 0; i < 4; i++)
		pt[512 + i] = (LX_PT_GPA + 0x2000 + i * 0x1000) | 0x3;
	for (i = 0; i < 4 * 512; i++)
		pt[1024 + i] = ((uint64_t)i << 21) | 0x83;	/* P|RW|PS */
	return 0;
}

/*
 * boot.rst "64-bit BOOT PROTOCOL": long mode, paging on with the loaded
 * ranges identity-mapped, a GDT with flat __BOOT_CS (0x10) and __BOOT_DS
 * (0x18), interrupts off, RSI the zero page.
 */
static int lx_cpu_state(struct vx_vm *vm, struct vsnix_regs *regs,
			struct vsnix_sregs *sregs, uint64_t entry)
{
	uint64_t *gdt = vx_gpa(vm, LX_GDT_GPA, 4 * 8);
	int r;

	if (!gdt)
		return vx_fail(EINVAL, "guest RAM too small for the GDT");
	r = vx_write_flat_gdt(vm, LX_GDT_GPA, true, sregs);
	if (r || lx_page_tables(vm))
		return r ? r : -EINVAL;
	sregs->cs.selector = LX_BOOT_CS;
	sregs->ds.selector = LX_BOOT_DS;
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	gdt[0] = gdt[1] = 0;
	gdt[2] = vx_gdt_descriptor(&sregs->cs);
	gdt[3] = vx_gdt_descriptor(&sregs->ds);
	sregs->gdt.limit = 4 * 8 - 1;
	sregs->cr0 = 0x80050033;	/* PG | AM | WP | NE | ET | MP | PE */
	sregs->cr3 = LX_PT_GPA;
	sregs->cr4 = 0x20;		/* PAE */
	sregs->efer = 0x500;		/* LME | LMA */
	memset(regs, 0, sizeof(*regs));
	regs->rip = entry;
	regs->rsi = LX_ZERO_PAGE_GPA;
	regs->rsp = LX_STACK_TOP;
	regs->rflags = 0x2;
	return 0;
}

int vx_linux_load(struct vx_vm *vm, int fd, const char *path, struct vx_boot *b)
{
	struct lx_image img = { .path = path, .fd = fd };
	struct vsnix_sregs sregs = { 0 };
	struct vsnix_regs regs;
	struct vx_pc pc = { 0 };
	uint64_t low_end;
	uint8_t *bp;
	int r;

	r = lx_read_header(&img);
	if (r)
		return r;
	if (b->mem_size < (32ull << 20))
		return vx_fail(EINVAL, "--mem must be at least 32 MiB for a Linux guest");
	r = vx_pc_ram(vm, b->mem_size);
	if (r)
		return r;
	low_end = vm->mem_size < PC_LOW_RAM_END ? vm->mem_size : PC_LOW_RAM_END;
	bp = vx_gpa(vm, LX_ZERO_PAGE_GPA, 4096);
	r = lx_load_kernel(vm, &img, low_end);
	if (!r)
		r = lx_zero_page(vm, &img, b, bp);
	if (!r && b->initrd)
		r = lx_load_initrd(vm, &img, b->initrd, bp, low_end);
	if (!r)
		r = vx_pc_vcpus(vm, b, &pc);
	if (r)
		return r;
	/* Set by the platform's ACPI tables, when it has them. */
	memcpy(bp + BP_ACPI_RSDP_ADDR, &pc.rsdp, 8);
	r = lx_cpu_state(vm, &regs, &sregs, img.load_addr + LX_ENTRY_64);
	return r ? r : vx_vcpu_set_state(b->vcpu, &regs, &sregs);
}
