// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix: a strict ELF reader for guest images. Every header field is
 * checked before use: the image is as untrusted as the guest it carries.
 * Errors: -EINVAL (-EIO for a failed read) and "PATH: invalid ELF: why".
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "vsnix/libvsnix.h"
#include "vsnix/elf.h"

#define MAX_PHNUM	512
#define MAX_NOTES_SIZE	(1 << 20)

static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

static int bad(struct vx_elf_image *img, const char *msg)
{
	return vx_fail(EINVAL, "%s: invalid ELF: %s", img->path, msg);
}

bool vx_elf_is_elf(const uint8_t *head, size_t len)
{
	return len >= SELFMAG && memcmp(head, ELFMAG, SELFMAG) == 0;
}

/* True when [off, off + len) lies inside the file. */
static bool in_file(struct vx_elf_image *img, uint64_t off, uint64_t len)
{
	return off <= img->file_size && len <= img->file_size - off;
}

static int read_phdrs64(struct vx_elf_image *img, const Elf64_Ehdr *eh)
{
	Elf64_Phdr ph;
	unsigned int i;

	if (eh->e_phentsize != sizeof(ph))
		return bad(img, "e_phentsize is not sizeof(Elf64_Phdr)");
	if (!in_file(img, eh->e_phoff, (uint64_t)img->phnum * sizeof(ph)))
		return bad(img, "program headers outside the file");
	for (i = 0; i < img->phnum; i++) {
		if (pread_full(img->fd, &ph, sizeof(ph), eh->e_phoff + i * sizeof(ph)))
			return bad(img, "cannot read a program header");
		img->seg[i] = (struct vx_elf_segment) {
			.type = ph.p_type, .flags = ph.p_flags,
			.offset = ph.p_offset, .vaddr = ph.p_vaddr,
			.paddr = ph.p_paddr, .filesz = ph.p_filesz,
			.memsz = ph.p_memsz, .align = ph.p_align,
		};
	}
	return 0;
}

static int read_phdrs32(struct vx_elf_image *img, const Elf32_Ehdr *eh)
{
	Elf32_Phdr ph;
	unsigned int i;

	if (eh->e_phentsize != sizeof(ph))
		return bad(img, "e_phentsize is not sizeof(Elf32_Phdr)");
	if (!in_file(img, eh->e_phoff, (uint64_t)img->phnum * sizeof(ph)))
		return bad(img, "program headers outside the file");
	for (i = 0; i < img->phnum; i++) {
		if (pread_full(img->fd, &ph, sizeof(ph), eh->e_phoff + i * sizeof(ph)))
			return bad(img, "cannot read a program header");
		img->seg[i] = (struct vx_elf_segment) {
			.type = ph.p_type, .flags = ph.p_flags,
			.offset = ph.p_offset, .vaddr = ph.p_vaddr,
			.paddr = ph.p_paddr, .filesz = ph.p_filesz,
			.memsz = ph.p_memsz, .align = ph.p_align,
		};
	}
	return 0;
}

/* Reads and checks the ELF and program headers (x86 only, executables). */
int vx_elf_open(struct vx_elf_image *img, int fd, const char *path)
{
	union {
		Elf64_Ehdr e64;
		Elf32_Ehdr e32;
	} eh;
	struct stat st;
	int ret;

	memset(img, 0, sizeof(*img));
	img->fd = fd;
	img->path = path;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return bad(img, "not a regular file");
	img->file_size = st.st_size;
	if (img->file_size < sizeof(eh.e32) ||
	    pread_full(fd, &eh, img->file_size < sizeof(eh) ? sizeof(eh.e32) :
		       sizeof(eh), 0))
		return bad(img, "file too short for an ELF header");
	if (memcmp(eh.e64.e_ident, ELFMAG, SELFMAG))
		return bad(img, "no ELF magic");
	if (eh.e64.e_ident[EI_DATA] != ELFDATA2LSB)
		return bad(img, "not little-endian");
	if (eh.e64.e_ident[EI_VERSION] != EV_CURRENT)
		return bad(img, "unknown ELF version");

	switch (eh.e64.e_ident[EI_CLASS]) {
	case ELFCLASS64:
		if (img->file_size < sizeof(eh.e64))
			return bad(img, "file too short for an ELF64 header");
		if (eh.e64.e_ehsize != sizeof(eh.e64))
			return bad(img, "e_ehsize is not sizeof(Elf64_Ehdr)");
		if (eh.e64.e_machine != EM_X86_64)
			return bad(img, "machine is not x86-64 (EM_X86_64)");
		if (eh.e64.e_type != ET_EXEC)
			return bad(img, "not an executable (ET_EXEC); PIE/relocatable images are not supported");
		img->is64 = true;
		img->machine = eh.e64.e_machine;
		img->entry = eh.e64.e_entry;
		img->phnum = eh.e64.e_phnum;
		break;
	case ELFCLASS32:
		if (eh.e32.e_ehsize != sizeof(eh.e32))
			return bad(img, "e_ehsize is not sizeof(Elf32_Ehdr)");
		if (eh.e32.e_machine != EM_386)
			return bad(img, "machine is not i386 (EM_386)");
		if (eh.e32.e_type != ET_EXEC)
			return bad(img, "not an executable (ET_EXEC)");
		img->machine = eh.e32.e_machine;
		img->entry = eh.e32.e_entry;
		img->phnum = eh.e32.e_phnum;
		break;
	default:
		return bad(img, "unknown ELF class");
	}
	if (img->phnum == 0 || img->phnum > MAX_PHNUM)
		return bad(img, "no program headers, or too many");
	img->seg = calloc(img->phnum, sizeof(*img->seg));
	if (!img->seg)
		return bad(img, "out of memory");
	ret = img->is64 ? read_phdrs64(img, &eh.e64) : read_phdrs32(img, &eh.e32);
	if (ret)
		vx_elf_close(img);
	return ret;
}

void vx_elf_close(struct vx_elf_image *img)
{
	free(img->seg);
	img->seg = NULL;
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Walks the notes of one PT_NOTE segment (ELF gABI "Note Section"). */
static ssize_t find_in_segment(struct vx_elf_image *img, const uint8_t *notes,
			       size_t size, const char *name, uint32_t type,
			       size_t desc_align, void *buf, size_t buf_size)
{
	size_t name_len = strlen(name) + 1;
	size_t pos = 0;

	while (size - pos >= 12) {
		uint32_t namesz, descsz, ntype;
		size_t name_off = pos + 12, desc_off, pad, end;

		memcpy(&namesz, notes + pos, 4);
		memcpy(&descsz, notes + pos + 4, 4);
		memcpy(&ntype, notes + pos + 8, 4);
		if (namesz > size - name_off)
			return bad(img, "note name runs past its segment");
		desc_off = align_up(name_off + namesz, 4);
		if (descsz > size || desc_off > size - descsz)
			return bad(img, "note descriptor runs past its segment");
		end = align_up(desc_off + descsz, 4);
		if (namesz == name_len && ntype == type &&
		    memcmp(notes + name_off, name, name_len) == 0) {
			/*
			 * Solo5 notes pad their descriptor to the content's
			 * alignment and count the pad in n_descsz.
			 */
			pad = align_up(desc_off, desc_align) - desc_off;
			if (descsz <= pad || descsz - pad > buf_size)
				return bad(img, "Solo5 note has a bad size");
			memcpy(buf, notes + desc_off + pad, descsz - pad);
			return descsz - pad;
		}
		if (end <= pos)
			break;
		pos = end;
	}
	return 0;
}

ssize_t vx_elf_find_note(struct vx_elf_image *img, const char *name, uint32_t type,
		      size_t desc_align, void *buf, size_t buf_size)
{
	unsigned int i;

	for (i = 0; i < img->phnum; i++) {
		struct vx_elf_segment *s = &img->seg[i];
		uint8_t *notes;
		ssize_t ret;

		if (s->type != PT_NOTE)
			continue;
		if (s->filesz > MAX_NOTES_SIZE || !in_file(img, s->offset, s->filesz))
			return bad(img, "PT_NOTE segment outside the file or too large");
		notes = malloc(s->filesz ? s->filesz : 1);
		if (!notes)
			return bad(img, "out of memory");
		if (pread_full(img->fd, notes, s->filesz, s->offset)) {
			free(notes);
			return bad(img, "cannot read a PT_NOTE segment");
		}
		ret = find_in_segment(img, notes, s->filesz, name, type,
				      desc_align, buf, buf_size);
		free(notes);
		if (ret != 0)
			return ret;
	}
	return 0;
}
/*
 * Zero a BSS. Guest RAM is fresh anonymous memory, already zero, and vsnix
 * backs it on demand: writing zeros would allocate every page of the BSS
 * (2 MiB for a Solo5 unikernel) that the guest may never touch. Reading
 * untouched memory costs nothing (the zero page), so only non-zero bytes
 * are written.
 */
static void zero_fill(uint8_t *p, uint64_t len)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			p[i] = 0;
}


int vx_elf_load_segments(struct vx_elf_image *img, struct vx_vm *vm, uint64_t min_addr,
		      uint64_t *end)
{
	uint64_t highest = 0, prev_end = 0;
	bool entry_ok = false;
	unsigned int i;
	char msg[160];

	for (i = 0; i < img->phnum; i++) {
		struct vx_elf_segment *s = &img->seg[i];
		uint8_t *dst;

		if (s->type != PT_LOAD || s->memsz == 0)
			continue;
		if (s->filesz > s->memsz)
			return bad(img, "segment with p_filesz > p_memsz");
		if (!in_file(img, s->offset, s->filesz))
			return bad(img, "segment data outside the file");
		if (s->paddr < min_addr) {
			snprintf(msg, sizeof(msg),
				 "segment %u at %#llx overlaps the boot area below %#llx",
				 i, (unsigned long long)s->paddr,
				 (unsigned long long)min_addr);
			return bad(img, msg);
		}
		dst = vx_gpa(vm, s->paddr, s->memsz);
		if (!dst) {
			snprintf(msg, sizeof(msg),
				 "segment %u [%#llx, +%#llx) outside guest memory (%llu MiB)",
				 i, (unsigned long long)s->paddr,
				 (unsigned long long)s->memsz,
				 (unsigned long long)(vm->mem_size >> 20));
			return bad(img, msg);
		}
		/* The ELF spec sorts PT_LOAD by address; also forbid overlap. */
		if (s->paddr < prev_end)
			return bad(img, "PT_LOAD segments overlap or are not sorted");
		prev_end = s->paddr + s->memsz;
		if (pread_full(img->fd, dst, s->filesz, s->offset))
			return bad(img, "cannot read segment data");
		zero_fill(dst + s->filesz, s->memsz - s->filesz);
		if (prev_end > highest)
			highest = prev_end;
		/*
		 * The entry point is an address in a loaded segment: virtual,
		 * or physical (Linux's vmlinux has e_entry = startup_64's
		 * physical address).
		 */
		if ((img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz) ||
		    (img->entry >= s->paddr && img->entry - s->paddr < s->memsz))
			entry_ok = true;
	}
	if (!highest)
		return bad(img, "no loadable segment");
	if (!entry_ok)
		return bad(img, "entry point is not inside a loaded segment");
	*end = highest;
	return 0;
}
