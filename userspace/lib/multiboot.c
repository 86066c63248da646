// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix: boots a Multiboot (version 1, specification 0.6.96) kernel:
 * ELF images through their program headers, anything else through the
 * header's address fields (the "a.out kludge", flag 16). The machine state
 * at entry is the spec's section 3.2; the kernel gets a 16550 UART at
 * 0x3f8, an exit port at 0xf4 and fw_cfg at 0x510.
 *
 * Low memory layout (all below the 1 MiB that kernels must load above):
 *   0x1000 GDT   0x2000 multiboot info   0x3000 memory map
 *   0x4000 module list   0x5000 command line   0x7000 other strings
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "vsnix/libvsnix.h"
#include "vsnix/elf.h"
#include "vsnix/boot.h"

#define MB_HEADER_MAGIC		0x1BADB002
#define MB_BOOT_MAGIC		0x2BADB002
#define MB_SEARCH_LEN		8192

/* Header flags (spec 3.1.2): bits 0-15 are requirements. */
#define MB_HF_PAGE_ALIGN	(1u << 0)
#define MB_HF_MEMORY_INFO	(1u << 1)
#define MB_HF_VIDEO_MODE	(1u << 2)
#define MB_HF_ADDRESSES		(1u << 16)
#define MB_HF_KNOWN_REQUIRED	(MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO)

/* Info flags (spec 3.3). */
#define MB_IF_MEMORY		(1u << 0)
#define MB_IF_CMDLINE		(1u << 2)
#define MB_IF_MODS		(1u << 3)
#define MB_IF_MMAP		(1u << 6)
#define MB_IF_LOADER_NAME	(1u << 9)

#define MB_GDT_GPA		0x1000
#define MB_INFO_GPA		0x2000
#define MB_MMAP_GPA		0x3000
#define MB_MODS_GPA		0x4000
#define MB_CMDLINE_GPA		0x5000
#define MB_STRINGS_GPA		0x7000
#define MB_STRINGS_END		0x9000
#define MB_STACK_TOP		0x9f000
#define MB_KERNEL_MIN		0x100000
#define MB_LOW_RAM_END		0x9fc00		/* 639 KiB, as a PC BIOS says */
#define MB_BIOS_START		0xf0000
#define MB_MEM_MIN		(4ULL << 20)
#define MB_MEM_MAX		(3ULL << 30)	/* 32-bit guest, below the PCI hole */

struct mb_header {
	uint32_t magic;
	uint32_t flags;
	uint32_t checksum;
	uint32_t header_addr;
	uint32_t load_addr;
	uint32_t load_end_addr;
	uint32_t bss_end_addr;
	uint32_t entry_addr;
};

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower;
	uint32_t mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe[6];
};

struct mb_module {
	uint32_t mod_start;
	uint32_t mod_end;
	uint32_t string;
	uint32_t reserved;
};

struct mb_mmap_entry {
	uint32_t size;		/* of the rest of the entry: 20 */
	uint64_t base_addr;
	uint64_t length;
	uint32_t type;		/* 1 = available RAM, else reserved */
} __attribute__((packed));

long vx_multiboot_find_header(const uint8_t *head, size_t len)
{
	size_t off;

	if (len > MB_SEARCH_LEN)
		len = MB_SEARCH_LEN;
	/* The header is 32-bit aligned in the first 8 KiB (spec 3.1.1). */
	for (off = 0; off + 12 <= len; off += 4) {
		uint32_t w[3];

		memcpy(w, head + off, sizeof(w));
		if (w[0] == MB_HEADER_MAGIC && (uint32_t)(w[0] + w[1] + w[2]) == 0)
			return off;
	}
	return -1;
}

static int mb_error(const char *path, const char *msg)
{
	return vx_fail(EINVAL, "%s: invalid multiboot image: %s", path, msg);
}

static int load_kludge(struct vx_vm *vm, int fd, const char *path,
		       const struct mb_header *h, long hoff, uint64_t file_size,
		       uint64_t *entry, uint64_t *end)
{
	uint64_t file_off, load_len, mem_end;
	uint8_t *dst;

	if (h->header_addr < h->load_addr ||
	    h->header_addr - h->load_addr > (uint64_t)hoff)
		return mb_error(path, "header_addr/load_addr do not match the header's file offset");
	file_off = hoff - (h->header_addr - h->load_addr);
	if (h->load_end_addr == 0)
		load_len = file_size - file_off;
	else if (h->load_end_addr <= h->load_addr)
		return mb_error(path, "load_end_addr is not above load_addr");
	else
		load_len = h->load_end_addr - h->load_addr;
	if (load_len > file_size - file_off)
		return mb_error(path, "load range runs past the end of the file");
	mem_end = h->load_addr + load_len;
	if (h->bss_end_addr) {
		if (h->bss_end_addr < mem_end)
			return mb_error(path, "bss_end_addr is below the loaded image");
		mem_end = h->bss_end_addr;
	}
	if (h->load_addr < MB_KERNEL_MIN)
		return mb_error(path, "load_addr is below 1 MiB (the boot area)");
	dst = vx_gpa(vm, h->load_addr, mem_end - h->load_addr);
	if (!dst)
		return mb_error(path, "image does not fit in guest memory");
	if (pread(fd, dst, load_len, file_off) != (ssize_t)load_len)
		return mb_error(path, "cannot read the image");
	memset(dst + load_len, 0, mem_end - h->load_addr - load_len);
	if (h->entry_addr < h->load_addr || h->entry_addr >= mem_end)
		return mb_error(path, "entry_addr is outside the loaded image");
	*entry = h->entry_addr;
	*end = mem_end;
	return 0;
}

static int load_elf(struct vx_vm *vm, int fd, const char *path, uint64_t *entry,
		    uint64_t *end)
{
	struct vx_elf_image img;
	unsigned int i;
	int ret;

	ret = vx_elf_open(&img, fd, path);
	if (ret)
		return ret;
	ret = vx_elf_load_segments(&img, vm, MB_KERNEL_MIN, end);
	*entry = img.entry;
	/* A higher-half kernel links e_entry at its virtual address. */
	for (i = 0; !ret && i < img.phnum; i++) {
		struct vx_elf_segment *s = &img.seg[i];

		if (s->type == 1 /* PT_LOAD */ && img.entry >= s->vaddr &&
		    img.entry - s->vaddr < s->memsz) {
			*entry = img.entry - s->vaddr + s->paddr;
			break;
		}
	}
	if (!ret && *entry > 0xffffffffULL)
		ret = mb_error(path, "entry point above 4 GiB");
	vx_elf_close(&img);
	return ret;
}

/* Appends a string to the strings area; returns its GPA or 0. */
static uint32_t put_string(struct vx_vm *vm, uint64_t *pos, uint64_t limit,
			   const char *s)
{
	size_t len = strlen(s) + 1;
	char *dst;
	uint32_t gpa = *pos;

	if (len > limit - *pos)
		return 0;
	dst = vx_gpa(vm, *pos, len);
	if (!dst)
		return 0;
	memcpy(dst, s, len);
	*pos += len;
	return gpa;
}

/* One module, page-aligned at *at; its string "PATH ARGS" as GRUB's. */
static int load_module(struct vx_vm *vm, const struct vx_boot_module *m,
		       uint64_t *at, struct mb_module *mod, uint64_t *strings)
{
	char line[1024];
	struct stat st;
	uint8_t *dst;
	int fd, e;

	fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		e = fd < 0 ? errno : EINVAL;
		if (fd >= 0)
			close(fd);
		return vx_fail(e, "module %s: %s", m->path,
			       e == EINVAL ? "not a regular file" : strerror(e));
	}
	dst = vx_gpa(vm, *at, st.st_size);
	if (!dst || *at + st.st_size > 0xffffffffULL) {
		close(fd);
		return vx_fail(ENOSPC, "module %s does not fit in guest memory", m->path);
	}
	if (st.st_size && pread(fd, dst, st.st_size, 0) != st.st_size) {
		close(fd);
		return vx_fail(EIO, "cannot read module %s", m->path);
	}
	close(fd);
	snprintf(line, sizeof(line), "%s%s%s", m->path,
		 m->args ? " " : "", m->args ? m->args : "");
	mod->mod_start = *at;
	mod->mod_end = *at + st.st_size;
	mod->string = put_string(vm, strings, MB_STRINGS_END, line);
	mod->reserved = 0;
	if (!mod->string)
		return vx_fail(E2BIG, "module command lines too long");
	*at = (*at + st.st_size + 0xfff) & ~0xfffULL;
	return 0;
}

static int load_modules(struct vx_vm *vm, const struct vx_boot *b,
			uint64_t kernel_end, struct mb_info *mbi,
			uint64_t *strings)
{
	struct mb_module *mods = vx_gpa(vm, MB_MODS_GPA,
					VX_MAX_MODULES * sizeof(*mods));
	uint64_t at = (kernel_end + 0xfff) & ~0xfffULL;
	unsigned int i;
	int r;

	if (!mods)
		return vx_fail(EINVAL, "guest memory too small for the module list");
	if (b->nr_modules > VX_MAX_MODULES)
		return vx_fail(E2BIG, "at most %d modules", VX_MAX_MODULES);
	for (i = 0; i < b->nr_modules; i++) {
		r = load_module(vm, &b->modules[i], &at, &mods[i], strings);
		if (r)
			return r;
	}
	mbi->flags |= MB_IF_MODS;
	mbi->mods_count = b->nr_modules;
	mbi->mods_addr = MB_MODS_GPA;
	return 0;
}

static int write_mmap(struct vx_vm *vm, struct mb_info *mbi)
{
	const struct mb_mmap_entry map[] = {
		{ 20, 0, MB_LOW_RAM_END, 1 },
		{ 20, MB_LOW_RAM_END, 0xa0000 - MB_LOW_RAM_END, 2 },
		{ 20, MB_BIOS_START, MB_KERNEL_MIN - MB_BIOS_START, 2 },
		{ 20, MB_KERNEL_MIN, vm->mem_size - MB_KERNEL_MIN, 1 },
	};
	void *dst = vx_gpa(vm, MB_MMAP_GPA, sizeof(map));

	if (!dst)
		return vx_fail(EINVAL, "guest memory too small for the memory map");
	memcpy(dst, map, sizeof(map));
	mbi->flags |= MB_IF_MEMORY | MB_IF_MMAP;
	mbi->mem_lower = MB_LOW_RAM_END >> 10;
	mbi->mem_upper = (vm->mem_size - MB_KERNEL_MIN) >> 10;
	mbi->mmap_addr = MB_MMAP_GPA;
	mbi->mmap_length = sizeof(map);
	return 0;
}

static int create_devices(struct vx_vm *vm, struct vx_boot *b)
{
	int console_fd = b->console_fd;
	struct vsnix_device_config uart = {
		.type = VSNIX_DEV_UART16550, .console_fd = console_fd,
		.uart = { .base = 0x3f8 },
	};
	struct vsnix_device_config exit_port = {
		.type = VSNIX_DEV_EXIT_PORT, .console_fd = -1,
		.exit_port = { .port = 0xf4 },
	};
	struct vsnix_device_config fw_cfg = {
		.type = VSNIX_DEV_FW_CFG, .console_fd = -1,
		.fw_cfg = { .ram_size = vm->mem_size, .nr_cpus = b->nr_cpus ?: 1 },
	};
	int r = vx_vm_create_device(vm, &uart);

	b->console_id = r ? 0 : uart.id;
	if (!r)
		r = vx_vm_create_device(vm, &exit_port);
	return r ? r : vx_vm_create_device(vm, &fw_cfg);
}

/* Reads and checks the header; RAM of the size asked. */
static int check_header(struct vx_vm *vm, int fd, const char *path, long hoff,
			const struct vx_boot *b, struct mb_header *h)
{
	uint64_t mem_size = (b->mem_size + 0xfff) & ~0xfffULL;

	memset(h, 0, sizeof(*h));
	if (pread(fd, h, sizeof(*h), hoff) < 12)
		return mb_error(path, "cannot read the header");
	if (h->flags & 0xffff & ~MB_HF_KNOWN_REQUIRED) {
		if (h->flags & MB_HF_VIDEO_MODE)
			return mb_error(path, "it requires a video mode (flag 2); vsnix has no display");
		return mb_error(path, "it requires features this loader does not know (flags bits 3-15)");
	}
	if (mem_size < MB_MEM_MIN || mem_size > MB_MEM_MAX)
		return vx_fail(EINVAL, "--mem must be between %llu MiB and %llu MiB for a multiboot guest",
			       MB_MEM_MIN >> 20, MB_MEM_MAX >> 20);
	return vx_vm_alloc_ram(vm, VX_MEM_ANON, mem_size);
}

/* The kernel image, by the header's addresses or as an ELF. */
static int load_kernel(struct vx_vm *vm, int fd, const char *path, long hoff,
		       const struct mb_header *h, uint64_t *entry, uint64_t *end)
{
	uint8_t magic[4];
	struct stat st;

	if (fstat(fd, &st) < 0)
		return mb_error(path, strerror(errno));
	if (h->flags & MB_HF_ADDRESSES)
		return load_kludge(vm, fd, path, h, hoff, st.st_size, entry, end);
	if (pread(fd, magic, 4, 0) != 4 || !vx_elf_is_elf(magic, 4))
		return mb_error(path, "not ELF and no address fields (flag 16)");
	return load_elf(vm, fd, path, entry, end);
}

/* The multiboot information: command line, loader name, map, modules. */
static int write_info(struct vx_vm *vm, const struct vx_boot *b, uint64_t end)
{
	const char *cmdline = b->cmdline ? b->cmdline : "";
	uint64_t strings = MB_STRINGS_GPA;
	struct mb_info *mbi;
	char *cl;
	int r;

	mbi = vx_gpa(vm, MB_INFO_GPA, sizeof(*mbi));
	cl = vx_gpa(vm, MB_CMDLINE_GPA, MB_STRINGS_GPA - MB_CMDLINE_GPA);
	if (!mbi || !cl)
		return vx_fail(EINVAL, "guest memory too small for the multiboot information");
	memset(mbi, 0, sizeof(*mbi));
	if (strlen(cmdline) >= MB_STRINGS_GPA - MB_CMDLINE_GPA)
		return vx_fail(E2BIG, "command line too long (max %d characters)",
			       MB_STRINGS_GPA - MB_CMDLINE_GPA - 1);
	strcpy(cl, cmdline);
	mbi->flags |= MB_IF_CMDLINE;
	mbi->cmdline = MB_CMDLINE_GPA;
	mbi->boot_loader_name = put_string(vm, &strings, MB_STRINGS_END, "vsnixctl");
	mbi->flags |= MB_IF_LOADER_NAME;
	r = write_mmap(vm, mbi);
	return r ? r : load_modules(vm, b, end, mbi, &strings);
}

/* The platform hook, vCPU 0, then the APs, parked by ap_init. */
static int create_vcpus(struct vx_vm *vm, struct vx_boot *b)
{
	unsigned int i, n = b->nr_cpus ?: 1;
	struct vx_vcpu *ap;
	int r;

	if (n > 1 && !b->ap_init)
		return vx_fail(EINVAL, "%u vCPUs: the APs need a start-up hook (in-kernel LAPIC)", n);
	if (n > VX_MAX_VCPUS)
		return vx_fail(EINVAL, "%u vCPUs: at most %d", n, VX_MAX_VCPUS);
	r = b->platform ? b->platform(vm, b->opaque) : 0;
	if (!r)
		r = vx_vcpu_create(vm, 0, &b->vcpu);
	for (i = 1; !r && i < n; i++) {
		r = vx_vcpu_create(vm, i, &ap);
		if (!r)
			r = b->ap_init(ap, b->opaque);
	}
	return r;
}

int vx_multiboot_load(struct vx_vm *vm, int fd, const char *path, long hoff,
		      struct vx_boot *b)
{
	struct vsnix_sregs sregs = { 0 };
	struct vsnix_regs regs = { 0 };
	struct mb_header h;
	uint64_t entry = 0, end = 0;
	int r;

	r = check_header(vm, fd, path, hoff, b, &h);
	if (!r)
		r = load_kernel(vm, fd, path, hoff, &h, &entry, &end);
	if (!r)
		r = write_info(vm, b, end);
	/* Spec 3.2: flat 32-bit segments, CR0.PE=1, paging off, IF=0. */
	if (!r)
		r = vx_write_flat_gdt(vm, MB_GDT_GPA, false, &sregs);
	if (r)
		return r;
	sregs.cr0 = 0x11;		/* PE | ET */
	regs.rip = entry;
	regs.rflags = 0x2;
	regs.rax = MB_BOOT_MAGIC;
	regs.rbx = MB_INFO_GPA;
	regs.rsp = MB_STACK_TOP;	/* undefined by the spec; harmless */

	r = vx_vm_map_ram(vm, NULL);
	if (!r)
		r = create_vcpus(vm, b);
	if (r)
		return r;
	b->default_cpuid = vx_vm_set_cpuid_host_masked(vm, b->cpuid_1_ecx_clear) != 0;
	r = vx_vcpu_set_state(b->vcpu, &regs, &sregs);
	return r ? r : create_devices(vm, b);
}
