// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl: the VM plumbing over /dev/vsnix (create, memory, vCPU, devices)
 * and the run loop that turns exits into an exit code.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vsnixctl.h"

#define VSNIX_DEV_PATH	"/dev/vsnix"

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

int vm_create(struct vm *vm)
{
	int version;

	vm->vm_fd = -1;
	vm->vcpu_fd = -1;
	if (console_open(vm))
		return -1;
	vm->sys_fd = open(VSNIX_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (vm->sys_fd < 0) {
		fprintf(stderr, "vsnixctl: cannot open %s: %s%s\n", VSNIX_DEV_PATH,
			strerror(errno), errno == ENOENT ?
			" (is vsnix.ko loaded? `insmod kmod/vsnix.ko`)" : "");
		return -1;
	}
	version = ioctl(vm->sys_fd, VSNIX_GET_API_VERSION, 0);
	if (version != VSNIX_API_VERSION) {
		fprintf(stderr, "vsnixctl: %s speaks API version %d, expected %d\n",
			VSNIX_DEV_PATH, version, VSNIX_API_VERSION);
		return -1;
	}
	vm->vm_fd = ioctl(vm->sys_fd, VSNIX_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		fprintf(stderr, "vsnixctl: VSNIX_CREATE_VM: %s%s\n", strerror(errno),
			errno == EBUSY ?
			" (another hypervisor holds VMX/SVM: unload kvm_intel/kvm_amd, or load kvm with enable_virt_at_load=0; see dmesg)" :
			"");
		return -1;
	}
	return 0;
}

int vm_alloc_memory(struct vm *vm, uint64_t size)
{
	void *p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "vsnixctl: cannot allocate %llu bytes of guest memory: %s\n",
			(unsigned long long)size, strerror(errno));
		return -1;
	}
	vm->mem = p;
	vm->mem_size = size;
	return 0;
}

int vm_map_memory(struct vm *vm)
{
	struct vsnix_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = vm->mem_size,
		.userspace_addr = (uintptr_t)vm->mem,
	};

	if (ioctl(vm->vm_fd, VSNIX_SET_MEMORY_REGION, &region) < 0) {
		fprintf(stderr, "vsnixctl: VSNIX_SET_MEMORY_REGION (%llu MiB): %s\n",
			(unsigned long long)(vm->mem_size >> 20), strerror(errno));
		return -1;
	}
	return 0;
}

/* The VSNIX_MAX_MEMSLOTS of vsnix.ko (VSNIX_CAP_NR_MEMSLOTS tells). */
static int vm_nr_slots(struct vm *vm)
{
	int n = ioctl(vm->sys_fd, VSNIX_CHECK_EXTENSION, VSNIX_CAP_NR_MEMSLOTS);

	return n > 0 ? n : 1;
}

/*
 * Maps guest RAM as one slot per run of pages with the same VSNIX_MEM_*
 * flags (flags[i] for page i), so that the TDP tables, not the guest's
 * own page tables, enforce what the VMM allows.
 */
int vm_map_memory_prot(struct vm *vm, const uint8_t *flags)
{
	uint64_t npages = vm->mem_size >> 12, start = 0, i;
	int slot = 0, max = vm_nr_slots(vm);

	for (i = 1; i <= npages; i++) {
		struct vsnix_memory_region r;

		if (i < npages && flags[i] == flags[start])
			continue;
		if (slot == max) {
			fprintf(stderr, "vsnixctl: guest memory needs more than the %d slots of vsnix.ko"
				" (too many segments with distinct permissions)\n", max);
			return -1;
		}
		r = (struct vsnix_memory_region) {
			.slot = slot++,
			.flags = flags[start],
			.guest_phys_addr = start << 12,
			.memory_size = (i - start) << 12,
			.userspace_addr = (uintptr_t)vm->mem + (start << 12),
		};
		if (ioctl(vm->vm_fd, VSNIX_SET_MEMORY_REGION, &r) < 0) {
			fprintf(stderr, "vsnixctl: VSNIX_SET_MEMORY_REGION [%#llx, +%#llx) flags %#x: %s\n",
				(unsigned long long)r.guest_phys_addr,
				(unsigned long long)r.memory_size, r.flags,
				strerror(errno));
			return -1;
		}
		start = i;
	}
	return 0;
}

/* Does vsnix.ko take VSNIX_MEM_NOEXEC? */
bool vm_has_noexec(struct vm *vm)
{
	return ioctl(vm->sys_fd, VSNIX_CHECK_EXTENSION, VSNIX_CAP_NOEXEC_MEM) > 0;
}

/*
 * The in-kernel local APIC, before any vCPU. Without VSNIX_CAP_LAPIC a
 * single vCPU runs as before; more need it (IPIs, INIT/SIPI).
 */
int vm_create_lapic(struct vm *vm)
{
	if (ioctl(vm->sys_fd, VSNIX_CHECK_EXTENSION, VSNIX_CAP_LAPIC) <= 0) {
		if (vm->nr_cpus <= 1)
			return 0;
		fprintf(stderr, "vsnixctl: --cpus %u needs the in-kernel LAPIC (VSNIX_CAP_LAPIC)\n",
			vm->nr_cpus);
		return -1;
	}
	if (ioctl(vm->vm_fd, VSNIX_CREATE_LAPIC, 0) < 0) {
		fprintf(stderr, "vsnixctl: VSNIX_CREATE_LAPIC: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* vCPUs 1..nr_cpus-1, each waiting for INIT/SIPI (SDM Vol 3, 8.4). */
int vm_create_aps(struct vm *vm)
{
	struct vsnix_vcpu_events ev;
	unsigned int i;
	long size = ioctl(vm->sys_fd, VSNIX_GET_VCPU_MMAP_SIZE, 0);

	for (i = 1; i < vm->nr_cpus; i++) {
		void *run;
		int fd = ioctl(vm->vm_fd, VSNIX_CREATE_VCPU, i);

		if (fd < 0) {
			fprintf(stderr, "vsnixctl: VSNIX_CREATE_VCPU %u: %s\n", i, strerror(errno));
			return -1;
		}
		vm->ap_fd[i] = fd;
		run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (run == MAP_FAILED) {
			fprintf(stderr, "vsnixctl: mmap of vCPU %u: %s\n", i, strerror(errno));
			return -1;
		}
		vm->ap_run[i] = run;
		if (ioctl(fd, VSNIX_GET_VCPU_EVENTS, &ev) < 0)
			goto err_events;
		ev.mp_state = VSNIX_MP_WAIT_FOR_SIPI;
		if (ioctl(fd, VSNIX_SET_VCPU_EVENTS, &ev) < 0)
			goto err_events;
	}
	return 0;

err_events:
	fprintf(stderr, "vsnixctl: vCPU %u: wait-for-SIPI state: %s\n", i, strerror(errno));
	return -1;
}

int vm_create_vcpu(struct vm *vm)
{
	long size;
	void *run;

	vm->vcpu_fd = ioctl(vm->vm_fd, VSNIX_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0) {
		fprintf(stderr, "vsnixctl: VSNIX_CREATE_VCPU: %s\n", strerror(errno));
		return -1;
	}
	size = ioctl(vm->sys_fd, VSNIX_GET_VCPU_MMAP_SIZE, 0);
	if (size < (long)sizeof(struct vsnix_run)) {
		fprintf(stderr, "vsnixctl: VSNIX_GET_VCPU_MMAP_SIZE gave %ld: %s\n",
			size, size < 0 ? strerror(errno) : "too small");
		return -1;
	}
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (run == MAP_FAILED) {
		fprintf(stderr, "vsnixctl: mmap of the vCPU run area: %s\n",
			strerror(errno));
		return -1;
	}
	vm->run = run;
	vm->run_size = size;
	return 0;
}

/* Give the guest everything the host supports (as Solo5's tender does). */
int vm_set_cpuid(struct vm *vm)
{
	size_t len = sizeof(struct vsnix_cpuid) +
		     VSNIX_MAX_CPUID_ENTRIES * sizeof(struct vsnix_cpuid_entry);
	struct vsnix_cpuid *cpuid = calloc(1, len);
	int ret = -1;

	if (!cpuid) {
		fprintf(stderr, "vsnixctl: out of memory\n");
		return -1;
	}
	cpuid->nent = VSNIX_MAX_CPUID_ENTRIES;
	if (ioctl(vm->sys_fd, VSNIX_GET_SUPPORTED_CPUID, cpuid) < 0)
		fprintf(stderr, "vsnixctl: VSNIX_GET_SUPPORTED_CPUID: %s\n",
			strerror(errno));
	else if (ioctl(vm->vm_fd, VSNIX_SET_CPUID, cpuid) < 0)
		fprintf(stderr, "vsnixctl: VSNIX_SET_CPUID: %s\n", strerror(errno));
	else
		ret = 0;
	free(cpuid);
	return ret;
}

int vm_create_device(struct vm *vm, struct vsnix_device_config *cfg,
		     const char *what)
{
	if (ioctl(vm->vm_fd, VSNIX_CREATE_DEVICE, cfg) < 0) {
		fprintf(stderr, "vsnixctl: VSNIX_CREATE_DEVICE (%s): %s\n", what,
			strerror(errno));
		return -1;
	}
	return 0;
}

int vm_set_state(struct vm *vm, const struct vsnix_regs *regs,
		 const struct vsnix_sregs *in)
{
	struct vsnix_sregs cur, sregs = *in;

	/*
	 * The loaders leave apic_base 0, which would turn the in-kernel LAPIC
	 * off: keep the reset value (enabled at 0xfee00000) instead.
	 */
	if (!sregs.apic_base && ioctl(vm->vcpu_fd, VSNIX_GET_SREGS, &cur) == 0)
		sregs.apic_base = cur.apic_base;
	if (ioctl(vm->vcpu_fd, VSNIX_SET_SREGS, &sregs) < 0) {
		fprintf(stderr, "vsnixctl: VSNIX_SET_SREGS: %s\n", strerror(errno));
		return -1;
	}
	if (ioctl(vm->vcpu_fd, VSNIX_SET_REGS, regs) < 0) {
		fprintf(stderr, "vsnixctl: VSNIX_SET_REGS: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa > vm->mem_size || len > vm->mem_size - gpa)
		return NULL;
	return vm->mem + gpa;
}

/* Output the console file refused (a full non-blocking pipe, EPIPE). */
static void vm_report_console_drops(struct vm *vm)
{
	struct vsnix_vm_status st = { 0 };

	if (vm->vm_fd >= 0 && !ioctl(vm->vm_fd, VSNIX_GET_VM_STATUS, &st) &&
	    st.console_dropped)
		fprintf(stderr, "vsnixctl: %llu of %llu bytes of console output were dropped: stdout did not take them\n",
			(unsigned long long)st.console_dropped,
			(unsigned long long)st.console_bytes);
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	vm_report_console_drops(vm);
	for (i = 1; i < vm->nr_cpus && i < MAX_CPUS; i++) {
		if (vm->ap_run[i])
			munmap(vm->ap_run[i], vm->run_size);
		if (vm->ap_fd[i] > 0)
			close(vm->ap_fd[i]);
	}
	if (vm->run)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->sys_fd >= 0)
		close(vm->sys_fd);
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	/* The VM and its reference to the console pipe are gone now. */
	console_close(vm);
	memset(vm, 0, sizeof(*vm));
	vm->sys_fd = vm->vm_fd = vm->vcpu_fd = -1;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * The guest reads the host TSC (plus an offset, no scaling), so its rate is
 * the host's. Linux does not export tsc_khz to userspace: measure it.
 */
uint64_t tsc_frequency_hz(void)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	uint64_t t0, c0, t1, c1;

	t0 = now_ns();
	c0 = rdtsc();
	nanosleep(&pause, NULL);
	t1 = now_ns();
	c1 = rdtsc();
	if (t1 <= t0 || c1 <= c0)
		return 1000000000ULL;
	return (uint64_t)((double)(c1 - c0) * 1e9 / (double)(t1 - t0));
}

static void dump_regs(struct vm *vm)
{
	struct vsnix_regs r;
	struct vsnix_sregs s;

	if (ioctl(vm->vcpu_fd, VSNIX_GET_REGS, &r) < 0 ||
	    ioctl(vm->vcpu_fd, VSNIX_GET_SREGS, &s) < 0)
		return;
	fprintf(stderr,
		"  rip=%#llx rsp=%#llx rflags=%#llx rax=%#llx rdi=%#llx\n"
		"  cr0=%#llx cr3=%#llx cr4=%#llx efer=%#llx cs=%#x\n",
		(unsigned long long)r.rip, (unsigned long long)r.rsp,
		(unsigned long long)r.rflags, (unsigned long long)r.rax,
		(unsigned long long)r.rdi, (unsigned long long)s.cr0,
		(unsigned long long)s.cr3, (unsigned long long)s.cr4,
		(unsigned long long)s.efer, s.cs.selector);
}

static const char *internal_reason(uint32_t suberror)
{
	switch (suberror) {
	case VSNIX_INTERNAL_EMULATION:
		return "instruction could not be emulated";
	case VSNIX_INTERNAL_UNHANDLED_EXIT:
		return "unhandled exit";
	case VSNIX_INTERNAL_GUEST_FAULT:
		return "bad guest argument to a device (e.g. a pointer outside guest memory)";
	case VSNIX_INTERNAL_DEVICE_ERROR:
		return "host I/O error in a device";
	default:
		return "unknown";
	}
}

/*
 * Port I/O nobody claimed. hvt guests only speak hypercalls, so anything
 * else is a bug in the guest (Solo5's tender also stops there). Multiboot
 * kernels may probe legacy hardware: reads float high, writes are dropped.
 */
static int handle_stray_io(struct vm *vm)
{
	struct vsnix_run *run = vm->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint64_t bytes = (uint64_t)run->io.size * run->io.count;

	if (vm->kind == GUEST_HVT) {
		fprintf(stderr, "vsnixctl: guest error: %s of port %#x is not an hvt hypercall\n",
			run->io.direction == VSNIX_EXIT_IO_OUT ? "write" : "read",
			run->io.port);
		return -1;
	}
	if (run->io.data_offset < sizeof(*run) || run->io.data_offset > vm->run_size ||
	    bytes > vm->run_size - run->io.data_offset) {
		fprintf(stderr, "vsnixctl: VSNIX_EXIT_IO data outside the run area\n");
		return -1;
	}
	if (vm->verbose)
		fprintf(stderr, "vsnixctl: unclaimed %s port %#x size %u\n",
			run->io.direction == VSNIX_EXIT_IO_OUT ? "OUT" : "IN",
			run->io.port, run->io.size);
	if (run->io.direction == VSNIX_EXIT_IO_IN)
		memset(data, 0xff, bytes);
	return 0;
}

/*
 * The TDP tables refused an access to guest RAM: a write to a read-only
 * slot (an MMIO exit inside RAM) or a fetch from a no-execute one.
 */
static void report_memory_fault(struct vm *vm, const char *what, uint64_t gpa)
{
	struct vsnix_regs r;
	unsigned long long rip = 0;

	if (ioctl(vm->vcpu_fd, VSNIX_GET_REGS, &r) == 0)
		rip = r.rip;
	fprintf(stderr, "vsnixctl: guest error: host/guest translation fault: %s"
		" guest-physical %#llx, rip=%#llx\n", what,
		(unsigned long long)gpa, rip);
}

static int handle_stray_mmio(struct vm *vm)
{
	struct vsnix_run *run = vm->run;

	if (run->mmio.phys_addr < vm->mem_size) {
		report_memory_fault(vm, run->mmio.is_write ?
				    "write to read-only" : "read of", run->mmio.phys_addr);
		return -1;
	}
	if (vm->kind == GUEST_HVT) {
		fprintf(stderr, "vsnixctl: guest error: %s of unmapped guest-physical address %#llx\n",
			run->mmio.is_write ? "write" : "read",
			(unsigned long long)run->mmio.phys_addr);
		return -1;
	}
	if (vm->verbose)
		fprintf(stderr, "vsnixctl: unclaimed MMIO %s at %#llx\n",
			run->mmio.is_write ? "write" : "read",
			(unsigned long long)run->mmio.phys_addr);
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	return 0;
}

/* Prints why the VM stopped; returns the process exit code. */
static int report_exit(struct vm *vm)
{
	struct vsnix_run *run = vm->run;

	switch (run->exit_reason) {
	case VSNIX_EXIT_GUEST_EXIT:
		if (vm->verbose)
			fprintf(stderr, "vsnixctl: guest exited with status %d (%s)\n",
				run->guest_exit.status,
				run->guest_exit.source == VSNIX_GUEST_EXIT_HVT_HALT ?
				"hvt halt" : "exit port");
		return run->guest_exit.status & 0xff;
	case VSNIX_EXIT_HLT:
		fprintf(stderr, "vsnixctl: guest error: HLT with nothing to wake it (vCPU stopped)\n");
		break;
	case VSNIX_EXIT_SHUTDOWN:
		fprintf(stderr, "vsnixctl: guest error: shutdown (triple fault), exit code %#llx\n",
			(unsigned long long)run->shutdown.data[0]);
		break;
	case VSNIX_EXIT_FAIL_ENTRY:
		fprintf(stderr, "vsnixctl: VM entry failed: hardware reason %#llx on CPU %u\n",
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			run->fail_entry.cpu);
		break;
	case VSNIX_EXIT_INTERNAL_ERROR:
		fprintf(stderr, "vsnixctl: VM internal error %u: %s",
			run->internal.suberror,
			internal_reason(run->internal.suberror));
		if (run->internal.ndata > 0)
			fprintf(stderr, " (data[0]=%#llx)",
				(unsigned long long)run->internal.data[0]);
		fputc('\n', stderr);
		break;
	case VSNIX_EXIT_DEBUG:
		fprintf(stderr, "vsnixctl: guest error: debug exception %u at %#llx\n",
			run->debug.exception, (unsigned long long)run->debug.pc);
		break;
	case VSNIX_EXIT_MEMORY_FAULT:
		report_memory_fault(vm, run->memory_fault.access & VSNIX_MEMORY_FAULT_EXEC ?
				    "instruction fetch from no-execute" : "access to",
				    run->memory_fault.gpa);
		break;
	default:
		fprintf(stderr, "vsnixctl: VM stopped with unexpected exit reason %u\n",
			run->exit_reason);
		break;
	}
	dump_regs(vm);
	return EXIT_VM_ERROR;
}

/* Set when vCPU 0 is done: the AP threads return. */
static volatile sig_atomic_t vcpus_stop;

static void on_kick_signal(int sig)
{
}

/* Runs one vCPU (vm->vcpu_fd, vm->run) until the guest ends. */
static int vcpu_loop(struct vm *vm)
{
	struct vsnix_run *run = vm->run;

	for (;;) {
		if (vcpus_stop)
			return 0;
		if (stop_signal) {
			fprintf(stderr, "vsnixctl: stopped by signal %d\n",
				(int)stop_signal);
			return EXIT_SIGNAL_BASE + stop_signal;
		}
		if (ioctl(vm->vcpu_fd, VSNIX_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "vsnixctl: VSNIX_RUN: %s\n", strerror(errno));
			dump_regs(vm);
			return EXIT_VM_ERROR;
		}
		switch (run->exit_reason) {
		case VSNIX_EXIT_INTR:
			continue;
		case VSNIX_EXIT_IO:
			if (handle_stray_io(vm) < 0) {
				dump_regs(vm);
				return EXIT_VM_ERROR;
			}
			continue;
		case VSNIX_EXIT_MMIO:
			if (handle_stray_mmio(vm) < 0) {
				dump_regs(vm);
				return EXIT_VM_ERROR;
			}
			continue;
		default:
			return report_exit(vm);
		}
	}
}

struct ap_thread {
	struct vm vm;		/* a copy with this AP's fd and run area */
	pthread_t thread;
	bool started;
};

static void *ap_main(void *arg)
{
	struct ap_thread *ap = arg;
	sigset_t set;

	/* Stop signals are for vCPU 0's thread; SIGUSR1 kicks this one. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	vcpu_loop(&ap->vm);
	return NULL;
}

/* Runs every vCPU, one thread each, until the guest ends (vCPU 0 decides). */
int vm_run(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	struct sigaction kick = { .sa_handler = on_kick_signal };
	static struct ap_thread aps[MAX_CPUS];
	unsigned int i;
	int code;

	/* No SA_RESTART: RUN must come back with EINTR so we can stop. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&kick.sa_mask);
	sigaction(SIGUSR1, &kick, NULL);

	for (i = 1; i < vm->nr_cpus && i < MAX_CPUS; i++) {
		aps[i].vm = *vm;
		aps[i].vm.vcpu_fd = vm->ap_fd[i];
		aps[i].vm.run = vm->ap_run[i];
		aps[i].started = !pthread_create(&aps[i].thread, NULL, ap_main, &aps[i]);
		if (!aps[i].started)
			fprintf(stderr, "vsnixctl: vCPU %u: no thread\n", i);
	}
	code = vcpu_loop(vm);
	vcpus_stop = 1;
	for (i = 1; i < vm->nr_cpus && i < MAX_CPUS; i++) {
		if (!aps[i].started)
			continue;
		while (pthread_tryjoin_np(aps[i].thread, NULL)) {
			pthread_kill(aps[i].thread, SIGUSR1);
			usleep(1000);
		}
	}
	return code;
}
