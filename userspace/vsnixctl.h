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
#include <stdio.h>
#include <sys/types.h>
#include <linux/vsnix.h>

#include "vsnix/libvsnix.h"
#include "vsnix/elf.h"
#include "vsnix/boot.h"
#include "vsnix/console.h"

/*
 * Exit codes of `vsnixctl run`. A guest's own status is passed through
 * (masked to 8 bits by the OS); these mark failures of vsnixctl or the VM.
 */
#define EXIT_SETUP_ERROR	120	/* bad arguments, image or host setup */
#define EXIT_VM_ERROR		121	/* triple fault, internal error, ... */
#define EXIT_REBOOT		122	/* the guest reset itself (--on-reboot exit) */
#define EXIT_CONSOLE_QUIT	123	/* the user typed Ctrl-] q */
#define EXIT_SIGNAL_BASE	128	/* 128 + signal that stopped the run */

/* A Solo5 manifest has 63 device entries (VSNIX_HVT_MAX_HANDLE). */
#define MAX_BLOCK		VSNIX_HVT_MAX_HANDLE
#define MAX_NET			VSNIX_HVT_MAX_HANDLE
#define MAX_MODULES		VX_MAX_MODULES
#define MAX_CMDLINE		8192

enum guest_kind {
	GUEST_HVT,
	GUEST_MULTIBOOT,
	GUEST_LINUX,		/* bzImage or PVH ELF on the PC platform */
};

struct attach_spec {
	char name[VSNIX_DEV_NAME_LEN];
	const char *path;	/* block: file; net: tap interface */
	uint8_t mac[6];
	bool has_mac;
	uint32_t sector_size;	/* block: 0 means 512 */
};

/* --net tap=NAME[,mac=M][,queues=Q]: virtio-net for PC guests (net_pc.c). */
#define MAX_VNET		4

struct vnet_spec {
	const char *tap;
	uint8_t mac[6];
	bool has_mac;
	unsigned int queues;	/* 0: one per vCPU */
};

struct module_spec {
	const char *path;
	const char *args;	/* module command line, may be NULL */
};

/* --boot: how a bzImage is booted (kunpack.c). */
enum boot_mode {
	BOOT_BZIMAGE,		/* the bzImage's 64-bit entry, its decompressor */
	BOOT_AUTO,		/* PVH from its payload when it has the note */
	BOOT_PVH,		/* PVH from its payload, or fail */
};

struct run_options {
	const char *kernel;
	enum boot_mode boot;	/* --boot, default auto */
	bool no_cache;		/* --no-cache: unpack the payload every time */
	uint64_t mem_size;
	const char *cmdline;
	const char *initrd;	/* --initrd, Linux and PVH guests */
	struct attach_spec block[MAX_BLOCK];
	unsigned int nr_block;
	struct attach_spec net[MAX_NET];
	unsigned int nr_net;
	struct vnet_spec vnet[MAX_VNET];
	unsigned int nr_vnet;
	struct module_spec module[MAX_MODULES];
	unsigned int nr_modules;
	/* --block-sector-size NAME=N, applied once all options are read */
	const char *sector_arg[MAX_BLOCK];
	unsigned int nr_sector_args;
	bool verbose;
	unsigned int nr_cpus;	/* --cpus; 0 means 1 */
	bool stdin_fwd;		/* --stdin: forward stdin even if not a tty */
	/* Linux guests: --disk PATH[,ro][,serial=S], --console virtio|serial */
	struct vx_disk disk[VX_MAX_DISKS];
	unsigned int nr_disk;
	bool virtio_console;
	bool virtio_rng;	/* --rng */
	bool on_reboot_restart;	/* --on-reboot restart (default: exit) */
	bool no_x2apic;		/* --no-x2apic */
	bool testdev;		/* --testdev */
	const char *dumpcore_dir;	/* --dumpcore DIR */
};

/* The PC devices of a Linux guest from the options (--disk, --console). */
void pc_devices(const struct run_options *opt, struct vx_boot *b);

/* The VM being built and run. */
struct vm {
	int sys_fd;
	struct vx_vm *vx;
	struct vx_vcpu *boot_vcpu;	/* vCPU 0, set up by the loader */
	enum guest_kind kind;
	bool verbose;
	bool testdev;		/* pc-testdev IRQ lines (multiboot) */
	int console_fd;		/* stdout, or a pipe console_copier reads */
	bool console_copier;
	pthread_t console_thread;
	uint32_t console_id;	/* device taking console input, 0: none */
	struct vx_console_in cin;	/* stdin -> console_id */
	int reset;		/* atomic: the guest asked for a reset */
};

/* vm.c. report(): for r < 0, prints "vsnixctl: <vx_errmsg()>", -1; else 0. */
int report(long r);
int vm_create(struct vm *vm);
void vm_destroy(struct vm *vm);
/* run.c: one thread per vCPU until the guest ends; the exit code. */
int vm_run(struct vm *vm, const sigset_t *stop_signals);

/* boot.c: the command line's guest to libvsnix's loaders */
bool hvt_is_hvt_elf(struct vx_elf_image *img);
int hvt_setup(struct vm *vm, struct vx_elf_image *img,
	      const struct run_options *opt);

int multiboot_setup(struct vm *vm, int fd, const struct run_options *opt,
		    long header_offset);
/* A bzImage (img NULL) or a PVH ELF (img set) on the PC platform. */
int linux_setup(struct vm *vm, int fd, struct vx_elf_image *img,
		const struct run_options *opt);

/*
 * kunpack.c: the bzImage's payload unpacked (the ELF kernel), from the
 * cache or into it unless !use_cache. An fd of the ELF, or -1 with the
 * reason in why.
 */
int bzimage_unpack(int fd, const char *path, bool use_cache, char *why, size_t why_len);
bool kcache_dir(char *dir, size_t len);
int kcache_open(const char *path, size_t size);
void kcache_prune(const char *dir);

/* attach.c */
/* The console fd the devices get: stdout, or a pipe copied to stdout. */
int console_open(struct vm *vm);
void console_close(struct vm *vm);
/* Forwards stdin to the guest's console: a terminal always, else if forced. */
int console_input_start(struct vm *vm, bool force);
void console_input_stop(struct vm *vm);
int block_open(const char *path, uint64_t *size);
int tap_open(const char *ifname);
int parse_mac(const char *s, uint8_t mac[6]);
void random_mac(uint8_t mac[6]);

/* net_pc.c: --net tap=... for PC guests */
int parse_vnet(const char *arg, struct vnet_spec *v);
/*
 * Before the PC platform: opens each card's tap queues (one per vCPU
 * unless queues=), sets the queue-selection program, fills b->nics.
 */
int vnet_open(const struct run_options *opt, struct vx_boot *b);
/* Once the devices exist: the MACs go into the steering map, if attached. */
void vnet_steer(void);
/* At the end: the steering entries go, the taps close. */
void vnet_release(void);

/* main.c: the command table. */
struct command {
	const char *name;
	/* argv[0] is the command's name; returns the exit code. */
	int (*handler)(int argc, char **argv);
	const char *summary;	/* one line for `vsnixctl help` */
	const char *usage;	/* after "usage: vsnixctl " */
	const char *help;	/* the options, one per line */
};

void command_help(FILE *out, const char *name);
int cmd_run(int argc, char **argv);	/* cmd_run.c */
int cmd_caps(int argc, char **argv);	/* cmd_caps.c */
int cmd_top(int argc, char **argv);	/* cmd_top.c */
int cmd_stats(int argc, char **argv);	/* cmd_top.c */
int cmd_pool(int argc, char **argv);	/* cmd_pool.c */
int cmd_net(int argc, char **argv);	/* cmd_net.c */
/* cmd_vsnixd.c: requests to vsnixd */
int cmd_list(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_restart(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_autostart(int argc, char **argv);
int vsnixd_pool_cmd(const char *sub, bool json, int argc, char **argv);

/* net_bpf.c: the eBPF programs of bpf/ (Documentation/bpf.rst) */
int steer_attach(const char *dev);
int steer_detach(const char *dev);
int steer_add(const uint8_t mac[6], const char *tap, uint32_t ip);
int steer_del(const uint8_t mac[6]);
int steer_show(FILE *out);
int rss_attach_fd(int tun_fd, unsigned int nr_queues);
int rss_attach(const char *ifname, unsigned int nr_queues);

/* dumpcore.c: --dumpcore DIR, an ELF core of a guest that failed */
int dumpcore_check_dir(const char *dir);
void dumpcore(struct vm *vm, const char *dir, int code);

/* util */
int parse_size(const char *s, uint64_t *out);

#endif /* VSNIXCTL_H */
