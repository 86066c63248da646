/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsnixctl: declarations shared by its parts (VM plumbing, loaders, boot
 * protocols).
 */
#ifndef VSNIXCTL_H
#define VSNIXCTL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/vsnix.h>

/*
 * Exit codes of `vsnixctl run`. A guest's own status is passed through
 * (masked to 8 bits by the OS); these mark failures of vsnixctl or the VM.
 */
#define EXIT_SETUP_ERROR	120	/* bad arguments, image or host setup */
#define EXIT_VM_ERROR		121	/* triple fault, internal error, ... */
#define EXIT_SIGNAL_BASE	128	/* 128 + signal that stopped the run */

/* A Solo5 manifest has 63 device entries (VSNIX_HVT_MAX_HANDLE). */
#define MAX_BLOCK		VSNIX_HVT_MAX_HANDLE
#define MAX_NET			VSNIX_HVT_MAX_HANDLE
#define MAX_MODULES		16
#define MAX_CMDLINE		8192
#define MAX_CPUS		64	/* VSNIX_CAP_NR_VCPUS */

enum guest_kind {
	GUEST_HVT,
	GUEST_MULTIBOOT,
};

struct attach_spec {
	char name[VSNIX_DEV_NAME_LEN];
	const char *path;	/* block: file; net: tap interface */
	uint8_t mac[6];
	bool has_mac;
	uint32_t sector_size;	/* block: 0 means 512 */
};

struct module_spec {
	const char *path;
	const char *args;	/* module command line, may be NULL */
};

struct run_options {
	const char *kernel;
	uint64_t mem_size;
	const char *cmdline;
	struct attach_spec block[MAX_BLOCK];
	unsigned int nr_block;
	struct attach_spec net[MAX_NET];
	unsigned int nr_net;
	struct module_spec module[MAX_MODULES];
	unsigned int nr_modules;
	/* --block-sector-size NAME=N, applied once all options are read */
	const char *sector_arg[MAX_BLOCK];
	unsigned int nr_sector_args;
	bool verbose;
	unsigned int nr_cpus;	/* --cpus, 1 if not given */
};

/* The VM being built and run. */
struct vm {
	int sys_fd;
	int vm_fd;
	int vcpu_fd;
	struct vsnix_run *run;
	size_t run_size;
	uint8_t *mem;		/* host mapping of guest RAM at GPA 0 */
	uint64_t mem_size;
	enum guest_kind kind;
	bool verbose;
	unsigned int nr_cpus;
	/* vCPUs 1.. (APs): fds and run areas; they wait for INIT/SIPI. */
	int ap_fd[MAX_CPUS];
	struct vsnix_run *ap_run[MAX_CPUS];
	int console_fd;		/* stdout, or a pipe console_copier reads */
	bool console_copier;
	pthread_t console_thread;
};

/* vm.c */
int vm_create(struct vm *vm);
int vm_alloc_memory(struct vm *vm, uint64_t size);
int vm_map_memory(struct vm *vm);
int vm_map_memory_prot(struct vm *vm, const uint8_t *flags);
bool vm_has_noexec(struct vm *vm);
int vm_create_vcpu(struct vm *vm);
int vm_create_lapic(struct vm *vm);
int vm_create_aps(struct vm *vm);
int vm_set_cpuid(struct vm *vm);
int vm_create_device(struct vm *vm, struct vsnix_device_config *cfg,
		     const char *what);
int vm_set_state(struct vm *vm, const struct vsnix_regs *regs,
		 const struct vsnix_sregs *sregs);
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);
/* The one bounds check for host access to guest memory: NULL if outside. */
void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len);
uint64_t tsc_frequency_hz(void);

/* elf_load.c */
struct elf_image {
	int fd;
	const char *path;
	uint64_t file_size;
	bool is64;
	uint16_t machine;
	uint64_t entry;
	unsigned int phnum;
	struct elf_segment *seg;	/* all program headers, widened */
};

struct elf_segment {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align;
};

/* Is this file an ELF (any class)? Reads only the magic. */
bool elf_is_elf(const uint8_t *head, size_t len);
int elf_open(struct elf_image *img, int fd, const char *path);
void elf_close(struct elf_image *img);
/*
 * Finds the note (name, type) in the PT_NOTE segments and copies its
 * descriptor (after desc_align padding) into buf. Returns the descriptor
 * size, 0 when absent, -1 on a malformed note (message printed).
 */
ssize_t elf_find_note(struct elf_image *img, const char *name, uint32_t type,
		      size_t desc_align, void *buf, size_t buf_size);
/*
 * Loads every PT_LOAD at its physical address into [min_addr, vm->mem_size)
 * and returns the end of the highest segment in *end.
 */
int elf_load_segments(struct elf_image *img, struct vm *vm, uint64_t min_addr,
		      uint64_t *end);

/* x86_setup.c */
void x86_segment_flat(struct vsnix_segment *s, uint16_t selector, bool code,
		      bool long_mode);
int x86_write_flat_gdt(struct vm *vm, uint64_t gdt_gpa, bool long_mode,
		       struct vsnix_sregs *sregs);

/* hvt_boot.c */
bool hvt_is_hvt_elf(struct elf_image *img);
int hvt_setup(struct vm *vm, struct elf_image *img,
	      const struct run_options *opt);

/* multiboot.c */
/* Offset of a valid multiboot v1 header in the first 8 KiB, or -1. */
long multiboot_find_header(const uint8_t *head, size_t len);
int multiboot_setup(struct vm *vm, int fd, const struct run_options *opt,
		    long header_offset);

/* attach.c */
/* The console fd the devices get: stdout, or a pipe copied to stdout. */
int console_open(struct vm *vm);
void console_close(struct vm *vm);
int block_open(const char *path, uint64_t *size);
int tap_open(const char *ifname);
int parse_mac(const char *s, uint8_t mac[6]);
void random_mac(uint8_t mac[6]);

/* util */
int parse_size(const char *s, uint64_t *out);

#endif /* VSNIXCTL_H */
