/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libvsnix: the VMM side of /dev/vsnix, shared by vsnixctl, the selftests
 * (selftests/lib) and vsnixd. Documentation/design.rst, "Userspace".
 *
 * Conventions:
 * - Names start with vx_; objects are struct vx_vm and struct vx_vcpu,
 *   allocated by the library and freed by vx_vm_destroy().
 * - A call that can fail returns -errno (or a value >= 0 on success) and
 *   leaves a one-line message for vx_errmsg() in the calling thread.
 * - Nothing prints: the caller decides where messages go.
 */
#ifndef VSNIX_LIBVSNIX_H
#define VSNIX_LIBVSNIX_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/vsnix.h>

#define VX_DEV_PATH		"/dev/vsnix"
/* VSNIX_MAX_VCPUS of vsnix.ko; VSNIX_CAP_NR_VCPUS tells the real limit. */
#define VX_MAX_VCPUS		64
#define VX_PAGE_SIZE		4096ull
#define VX_HUGE_PAGE_SIZE	(2ull << 20)

/* ------------------------------------------------------------ errors */

/* The message of the last failed call in this thread ("" if none). */
const char *vx_errmsg(void);
/* Sets that message (printf-style) and returns -err: for callers' own layers. */
int __attribute__((format(printf, 2, 3))) vx_fail(int err, const char *fmt, ...);

/* -------------------------------------------------------- /dev/vsnix */

/* Opens /dev/vsnix and checks its API version; the fd, or -errno. */
int vx_open(void);
/* VSNIX_CHECK_EXTENSION: the capability's value (>= 0), or -errno. */
long vx_check_cap(int sys_fd, unsigned int cap);

/* ------------------------------------------------------ guest memory */

enum vx_mem_kind {
	VX_MEM_ANON,		/* private anonymous, MAP_NORESERVE */
	VX_MEM_MEMFD,		/* shared memfd (shmem): another process may map it */
	VX_MEM_HUGETLB,		/* shared memfd of 2 MiB huge pages */
};

/* A host mapping that backs guest memory. */
struct vx_mem {
	uint8_t *hva;
	uint64_t size;
	int fd;			/* the memfd, -1 for VX_MEM_ANON */
	enum vx_mem_kind kind;
};

/* size is rounded up to the page size of the kind. */
int vx_mem_alloc(struct vx_mem *mem, enum vx_mem_kind kind, uint64_t size);
void vx_mem_free(struct vx_mem *mem);

/* ---------------------------------------------------------------- VM */

struct vx_vcpu;

struct vx_vm {
	int fd;			/* the VM fd; -1 once closed */
	int sys_fd;		/* /dev/vsnix, not owned by the VM */
	/* Guest RAM at GPA 0 (slot 0 or the slots of vx_vm_map_ram()). */
	uint8_t *mem;
	uint64_t mem_size;
	int mem_fd;		/* its memfd, or -1 */
	/* vx_vm_alloc(): next free GPA of a bump allocator, 0 when unused. */
	uint64_t alloc_next;
	unsigned int nr_vcpus;
	struct vx_vcpu *vcpus[VX_MAX_VCPUS];
	/*
	 * Readable (eventfd) once a vCPU thread has ended: poll it. Made by
	 * the first vx_vcpu_thread_start(), -1 before.
	 */
	int done_fd;
};

/* VSNIX_CREATE_VM on sys_fd; *out is freed by vx_vm_destroy(). */
int vx_vm_create(int sys_fd, struct vx_vm **out);
/* Stops and joins vCPU threads, closes the vCPUs and the VM, frees RAM. */
void vx_vm_destroy(struct vx_vm *vm);

/* Raw VSNIX_SET_MEMORY_REGION (size 0 deletes the slot). */
int vx_vm_set_region(struct vx_vm *vm, uint32_t slot, uint32_t flags,
		     uint64_t gpa, uint64_t size, void *hva);
/* Allocates guest RAM (vm->mem) without telling the kernel yet. */
int vx_vm_alloc_ram(struct vx_vm *vm, enum vx_mem_kind kind, uint64_t size);
/*
 * Maps vm->mem at GPA 0: one slot per run of pages with equal VSNIX_MEM_*
 * flags (page_flags[i] for page i), or one slot 0 when page_flags is NULL.
 */
int vx_vm_map_ram(struct vx_vm *vm, const uint8_t *page_flags);
/* vx_vm_alloc_ram() + vx_vm_map_ram(vm, NULL). */
int vx_vm_add_ram(struct vx_vm *vm, enum vx_mem_kind kind, uint64_t size);
/* The one bounds check for host access to guest RAM: NULL if outside. */
void *vx_gpa(struct vx_vm *vm, uint64_t gpa, uint64_t len);
/* Zeroed guest RAM from the bump allocator; its GPA, or 0 when full. */
uint64_t vx_vm_alloc(struct vx_vm *vm, uint64_t size, uint64_t align);

/* Gives the guest the CPUID that VSNIX_GET_SUPPORTED_CPUID reports. */
int vx_vm_set_cpuid_host(struct vx_vm *vm);
/* The same, with CPUID.1:ECX bits cleared (e.g. 1 << 21: no x2APIC). */
int vx_vm_set_cpuid_host_masked(struct vx_vm *vm, uint32_t l1_ecx_clear);
int vx_vm_create_device(struct vx_vm *vm, struct vsnix_device_config *cfg);
int vx_vm_get_status(struct vx_vm *vm, struct vsnix_vm_status *st);

/*
 * virtio-net on a tap (virtio_net.c). vx_tap_open_queues: nr queues of tap
 * ifname (made if missing), IFF_VNET_HDR with a 12-byte header, and
 * IFF_MULTI_QUEUE when nr > 1; fds[nr] filled. vx_virtio_net_create: the
 * device on the PCI host bridge (which must exist) at where.
 */
int vx_tap_open_queues(const char *ifname, unsigned int nr, int *fds);
void vx_tap_close_queues(int *fds, unsigned int nr);
int vx_virtio_net_create(struct vx_vm *vm, const int *fds, unsigned int nr,
			 const uint8_t mac[6],
			 const struct vsnix_pci_placement *where);

/* -------------------------------------------------------------- vCPU */

typedef int (*vx_exit_fn)(struct vx_vcpu *vcpu, void *opaque);

struct vx_vcpu {
	struct vx_vm *vm;
	int fd;
	uint32_t id;
	struct vsnix_run *run;
	size_t run_size;
	/* The vCPU thread (vx_vcpu_thread_*); see vcpu_thread.c. */
	pthread_t thread;
	bool thread_live;	/* started, not yet joined */
	int stop;		/* atomic: a stop was requested */
	int done;		/* atomic: the thread has ended */
	int result;		/* what vx_vcpu_thread_join() returns */
	uint64_t nr_runs;	/* RUN calls of the thread (for tests) */
	vx_exit_fn on_exit;
	/*
	 * Optional, set before the thread starts: called in the thread after
	 * its stop check, right before each RUN (e.g. to prepare the run
	 * area). Its return value is ignored.
	 */
	vx_exit_fn pre_run;
	void *opaque;
};

/* VSNIX_CREATE_VCPU and the mmap of its run area; added to vm->vcpus. */
int vx_vcpu_create(struct vx_vm *vm, uint32_t id, struct vx_vcpu **out);
/* One VSNIX_RUN: 0, or -errno (-EINTR: a signal or immediate_exit). */
int vx_vcpu_run(struct vx_vcpu *vcpu);

int vx_vcpu_get_regs(struct vx_vcpu *vcpu, struct vsnix_regs *regs);
int vx_vcpu_set_regs(struct vx_vcpu *vcpu, const struct vsnix_regs *regs);
int vx_vcpu_get_sregs(struct vx_vcpu *vcpu, struct vsnix_sregs *sregs);
int vx_vcpu_set_sregs(struct vx_vcpu *vcpu, const struct vsnix_sregs *sregs);
/* SREGS first, then REGS (a mode change may clear register state). */
int vx_vcpu_set_state(struct vx_vcpu *vcpu, const struct vsnix_regs *regs,
		      const struct vsnix_sregs *sregs);
/* One MSR: the number the kernel handled (0 or 1), or -errno. */
int vx_vcpu_get_msr(struct vx_vcpu *vcpu, uint32_t index, uint64_t *data);
int vx_vcpu_set_msr(struct vx_vcpu *vcpu, uint32_t index, uint64_t data);
/* The data of the last I/O exit, or NULL when it lies outside the run area. */
void *vx_vcpu_io_data(struct vx_vcpu *vcpu);

/* ------------------------------------------------------- vCPU threads */

/*
 * One pthread per vCPU runs RUN in a loop and calls on_exit(vcpu, opaque)
 * after each exit that is not an interruption: on_exit returns 0 to run
 * again, or a value > 0 that ends the thread with it.
 *
 * Stopping: vx_vcpu_thread_stop() sets the stop flag and run->immediate_exit,
 * then sends VX_KICK_SIGNAL to the thread (a no-op handler installed
 * without SA_RESTART). A thread in the guest or in RUN gets -EINTR from the
 * signal; a thread between its check of the flag and RUN gets -EINTR from
 * immediate_exit at once. No stop is lost, whatever the timing.
 */
#define VX_KICK_SIGNAL		SIGUSR2

/* Installs the kick handler (idempotent; thread_start calls it). */
int vx_kick_signal_init(void);
int vx_vcpu_thread_start(struct vx_vcpu *vcpu, vx_exit_fn on_exit, void *opaque);
/* Asks the thread to stop; does not wait. Safe on an ended thread. */
void vx_vcpu_thread_stop(struct vx_vcpu *vcpu);
/*
 * Waits for the thread: on_exit's value (> 0), 0 when stopped by
 * vx_vcpu_thread_stop(), or -errno of a failed RUN.
 */
int vx_vcpu_thread_join(struct vx_vcpu *vcpu);
bool vx_vcpu_thread_done(struct vx_vcpu *vcpu);
/* Every vCPU of the VM: start all (stops those started on failure). */
int vx_vm_threads_start(struct vx_vm *vm, vx_exit_fn on_exit, void *opaque);
void vx_vm_threads_stop(struct vx_vm *vm);
/* Joins every started thread (their results stay in vcpu->result). */
void vx_vm_threads_join(struct vx_vm *vm);
/* Blocks until a vCPU thread has ended (or timeout_ms, -1: forever). */
int vx_vm_wait_done(struct vx_vm *vm, int timeout_ms);

/* ------------------------------------------------------ x86 helpers */

/* A flat (base 0, 4 GiB) code or data segment; long_mode sets L. */
void vx_segment_flat(struct vsnix_segment *s, uint16_t selector, bool code,
		     bool long_mode);
/*
 * Writes a null/code/data GDT at gdt_gpa and fills the segment registers,
 * GDTR, IDTR (empty), TR and LDTR of sregs to match.
 */
int vx_write_flat_gdt(struct vx_vm *vm, uint64_t gdt_gpa, bool long_mode,
		      struct vsnix_sregs *sregs);
/* The GDT descriptor of a segment (Intel SDM Vol 3A, 3.4.5). */
uint64_t vx_gdt_descriptor(const struct vsnix_segment *s);
/* The host TSC rate in Hz (measured over 20 ms): the guest's TSC rate. */
uint64_t vx_tsc_hz(void);
/*
 * The guest TSC rate in kHz that vsnix.ko tells guests (CPUID 0x40000010
 * EAX of VSNIX_GET_SUPPORTED_CPUID), or 0 when it has no such leaf.
 */
uint32_t vx_guest_tsc_khz(int sys_fd);
/* Names of VSNIX_EXIT_* and VSNIX_INTERNAL_*, for messages. */
const char *vx_exit_reason_str(uint32_t reason);
const char *vx_internal_reason_str(uint32_t suberror);

#endif /* VSNIX_LIBVSNIX_H */
