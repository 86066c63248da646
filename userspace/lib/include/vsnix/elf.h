/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libvsnix: the ELF reader for guest images (lib/elf.c). Functions that
 * fail return -errno with a "PATH: invalid ELF: why" message (vx_errmsg).
 */
#ifndef VSNIX_LIBVSNIX_ELF_H
#define VSNIX_LIBVSNIX_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vx_vm;

struct vx_elf_segment {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align;
};

struct vx_elf_image {
	int fd;			/* not owned */
	const char *path;	/* for messages */
	uint64_t file_size;
	bool is64;
	uint16_t machine;
	uint64_t entry;
	unsigned int phnum;
	struct vx_elf_segment *seg;	/* all program headers, widened */
};

/* Is this file an ELF (any class)? Reads only the magic. */
bool vx_elf_is_elf(const uint8_t *head, size_t len);
/* Reads and checks the ELF and program headers (x86 executables only). */
int vx_elf_open(struct vx_elf_image *img, int fd, const char *path);
void vx_elf_close(struct vx_elf_image *img);
/*
 * Finds the note (name, type) in the PT_NOTE segments and copies its
 * descriptor (after desc_align padding) into buf. Returns the descriptor
 * size, 0 when absent, -errno on a malformed note.
 */
ssize_t vx_elf_find_note(struct vx_elf_image *img, const char *name, uint32_t type,
			 size_t desc_align, void *buf, size_t buf_size);
/*
 * Loads every PT_LOAD at its physical address into [min_addr, vm->mem_size)
 * and returns the end of the highest segment in *end.
 */
int vx_elf_load_segments(struct vx_elf_image *img, struct vx_vm *vm,
			 uint64_t min_addr, uint64_t *end);

#endif /* VSNIX_LIBVSNIX_ELF_H */
