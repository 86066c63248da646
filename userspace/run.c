// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl: running the VM. One libvsnix thread per vCPU turns exits into
 * an exit code; the main thread waits for the first vCPU to end, or for a
 * stop signal, and then stops the others.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>

#include "vsnixctl.h"

/* A thread's result: > 0 ends it, so an exit code c is stored as c + 1. */
#define CODE_RESULT(c)	((c) + 1)
#define RESULT_CODE(r)	((r) - 1)

static void dump_regs(struct vx_vcpu *vcpu)
{
	struct vsnix_regs r;
	struct vsnix_sregs s;

	if (vx_vcpu_get_regs(vcpu, &r) || vx_vcpu_get_sregs(vcpu, &s))
		return;
	fprintf(stderr,
		"  vCPU %u: rip=%#llx rsp=%#llx rflags=%#llx rax=%#llx rdi=%#llx\n"
		"  cr0=%#llx cr3=%#llx cr4=%#llx efer=%#llx cs=%#x\n",
		vcpu->id, (unsigned long long)r.rip, (unsigned long long)r.rsp,
		(unsigned long long)r.rflags, (unsigned long long)r.rax,
		(unsigned long long)r.rdi, (unsigned long long)s.cr0,
		(unsigned long long)s.cr3, (unsigned long long)s.cr4,
		(unsigned long long)s.efer, s.cs.selector);
}

/* QEMU's pc-testdev: OUT of a byte to 0x2000 + n sets GSI n to it. */
#define TESTDEV_IRQ_PORT	0x2000
#define TESTDEV_IRQ_LINES	24

static bool testdev_irq(struct vm *vm, struct vsnix_run *run, const uint8_t *data)
{
	struct vsnix_irq_level l;

	if (!vm->testdev || run->io.direction != VSNIX_EXIT_IO_OUT ||
	    run->io.size != 1 || run->io.count != 1 ||
	    run->io.port < TESTDEV_IRQ_PORT ||
	    run->io.port >= TESTDEV_IRQ_PORT + TESTDEV_IRQ_LINES)
		return false;
	l = (struct vsnix_irq_level){ .gsi = run->io.port - TESTDEV_IRQ_PORT,
				      .level = data[0] != 0 };
	if (ioctl(vm->vx->fd, VSNIX_IRQ_LINE, &l) < 0 && vm->verbose)
		fprintf(stderr, "vsnixctl: testdev IRQ line %u: %s\n", l.gsi,
			strerror(errno));
	return true;
}

/*
 * Port I/O nobody claimed. hvt guests only speak hypercalls, so anything
 * else is a bug in the guest (Solo5's tender also stops there). Multiboot
 * kernels may probe legacy hardware: reads float high, writes are dropped.
 */
static int handle_stray_io(struct vm *vm, struct vx_vcpu *vcpu)
{
	struct vsnix_run *run = vcpu->run;
	uint64_t bytes = (uint64_t)run->io.size * run->io.count;
	uint8_t *data;

	if (vm->kind == GUEST_HVT) {
		fprintf(stderr, "vsnixctl: guest error: %s of port %#x is not an hvt hypercall\n",
			run->io.direction == VSNIX_EXIT_IO_OUT ? "write" : "read",
			run->io.port);
		return -1;
	}
	data = vx_vcpu_io_data(vcpu);
	if (!data)
		return report(-EPROTO);
	if (testdev_irq(vm, run, data))
		return 0;
	/*
	 * The keyboard controller's pulse of the reset line (8042 command
	 * 0xfe): Linux's reboot tries it when the ACPI reset register fails.
	 */
	if (run->io.direction == VSNIX_EXIT_IO_OUT && run->io.port == 0x64 &&
	    run->io.size == 1 && data[0] == 0xfe)
		return 1;
	if (vm->verbose)
		fprintf(stderr, "vsnixctl: unclaimed %s port %#x size %u\n",
			run->io.direction == VSNIX_EXIT_IO_OUT ? "OUT" : "IN",
			run->io.port, run->io.size);
	if (run->io.direction == VSNIX_EXIT_IO_IN)
		memset(data, 0xff, bytes);
	return 0;
}

/* Every data word the module gave with an internal error. */
static void print_internal_data(const struct vsnix_run *run)
{
	uint32_t i, n = run->internal.ndata;

	if (n > sizeof(run->internal.data) / sizeof(run->internal.data[0]))
		n = sizeof(run->internal.data) / sizeof(run->internal.data[0]);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%sdata[%u]=%#llx%s", i ? " " : " (", i,
			(unsigned long long)run->internal.data[i], i + 1 == n ? ")" : "");
}

/*
 * The TDP tables refused an access to guest RAM: a write to a read-only
 * slot (an MMIO exit inside RAM) or a fetch from a no-execute one.
 */
static void report_memory_fault(struct vx_vcpu *vcpu, const char *what, uint64_t gpa)
{
	struct vsnix_regs r;
	unsigned long long rip = 0;

	if (!vx_vcpu_get_regs(vcpu, &r))
		rip = r.rip;
	fprintf(stderr, "vsnixctl: guest error: host/guest translation fault: %s"
		" guest-physical %#llx, rip=%#llx\n", what,
		(unsigned long long)gpa, rip);
}

/* Is gpa guest RAM? A PC guest's RAM above 3 GiB starts at 4 GiB. */
static bool in_ram(struct vm *vm, uint64_t gpa)
{
	uint64_t size = vm->vx->mem_size, low = 0xc0000000ull;

	if (vm->kind != GUEST_LINUX || size <= low)
		return gpa < size;
	return gpa < low || (gpa >= (1ull << 32) && gpa - (1ull << 32) < size - low);
}

static int handle_stray_mmio(struct vm *vm, struct vx_vcpu *vcpu)
{
	struct vsnix_run *run = vcpu->run;

	if (in_ram(vm, run->mmio.phys_addr)) {
		report_memory_fault(vcpu, run->mmio.is_write ?
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

static const char *guest_exit_source(uint32_t source)
{
	switch (source) {
	case VSNIX_GUEST_EXIT_HVT_HALT:
		return "hvt halt";
	case VSNIX_GUEST_EXIT_PORT:
		return "exit port";
	case VSNIX_GUEST_EXIT_POWEROFF:
		return "ACPI power off";
	default:
		return "unknown source";
	}
}

/* A reset (reboot): cmd_run restarts the VM or exits with EXIT_REBOOT. */
static int guest_reset(struct vm *vm, const char *how)
{
	__atomic_store_n(&vm->reset, 1, __ATOMIC_RELEASE);
	if (vm->verbose)
		fprintf(stderr, "vsnixctl: guest reset (%s)\n", how);
	return EXIT_REBOOT;
}

/* Prints why the VM stopped; returns the process exit code. */
static int report_exit(struct vm *vm, struct vx_vcpu *vcpu)
{
	struct vsnix_run *run = vcpu->run;

	switch (run->exit_reason) {
	case VSNIX_EXIT_GUEST_EXIT:
		if (run->guest_exit.source == VSNIX_GUEST_EXIT_RESET)
			return guest_reset(vm, "ACPI reset register");
		if (vm->verbose)
			fprintf(stderr, "vsnixctl: guest exited with status %d (%s)\n",
				run->guest_exit.status,
				guest_exit_source(run->guest_exit.source));
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
			vx_internal_reason_str(run->internal.suberror));
		print_internal_data(run);
		fputc('\n', stderr);
		break;
	case VSNIX_EXIT_DEBUG:
		fprintf(stderr, "vsnixctl: guest error: debug exception %u at %#llx\n",
			run->debug.exception, (unsigned long long)run->debug.pc);
		break;
	case VSNIX_EXIT_MEMORY_FAULT:
		report_memory_fault(vcpu, run->memory_fault.access & VSNIX_MEMORY_FAULT_EXEC ?
				    "instruction fetch from no-execute" : "access to",
				    run->memory_fault.gpa);
		break;
	default:
		fprintf(stderr, "vsnixctl: VM stopped with unexpected exit reason %u\n",
			run->exit_reason);
		break;
	}
	dump_regs(vcpu);
	return EXIT_VM_ERROR;
}

/* Called by a vCPU's thread after each exit: 0 to run again. */
static int vcpu_exit(struct vx_vcpu *vcpu, void *opaque)
{
	struct vm *vm = opaque;
	int r;

	switch (vcpu->run->exit_reason) {
	case VSNIX_EXIT_IO:
		r = handle_stray_io(vm, vcpu);
		if (r == 1)
			return CODE_RESULT(guest_reset(vm, "keyboard controller"));
		break;
	case VSNIX_EXIT_MMIO:
		r = handle_stray_mmio(vm, vcpu);
		break;
	default:
		return CODE_RESULT(report_exit(vm, vcpu));
	}
	if (r == 0)
		return 0;
	dump_regs(vcpu);
	return CODE_RESULT(EXIT_VM_ERROR);
}

/* The exit code of the first vCPU thread that ended on its own, or -1. */
static int first_result(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->vx->nr_vcpus; i++) {
		struct vx_vcpu *vcpu = vm->vx->vcpus[i];
		int r;

		/* done (acquire) first: then result is the thread's last word. */
		if (!vx_vcpu_thread_done(vcpu))
			continue;
		r = vcpu->result;
		if (r == 0)
			continue;
		if (r > 0)
			return RESULT_CODE(r);
		fprintf(stderr, "vsnixctl: VSNIX_RUN on vCPU %u: %s\n", vcpu->id,
			strerror(-r));
		dump_regs(vcpu);
		return EXIT_VM_ERROR;
	}
	return -1;
}

/* Waits for a vCPU thread to end or a stop signal; the exit code. */
static int wait_vcpus(struct vm *vm, int sig_fd)
{
	struct pollfd p[3] = {
		{ .fd = sig_fd, .events = POLLIN },
		{ .fd = vm->vx->done_fd, .events = POLLIN },
		/* Ctrl-] q on the console (poll skips a negative fd). */
		{ .fd = vm->cin.running ? vm->cin.event_fd : -1, .events = POLLIN },
	};
	struct signalfd_siginfo si;
	uint64_t n;
	int code;

	for (;;) {
		if (poll(p, 3, -1) < 0 && errno != EINTR) {
			fprintf(stderr, "vsnixctl: poll: %s\n", strerror(errno));
			return EXIT_VM_ERROR;
		}
		if (p[0].revents && read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
			fprintf(stderr, "vsnixctl: stopped by signal %u\n", si.ssi_signo);
			return EXIT_SIGNAL_BASE + si.ssi_signo;
		}
		if (p[2].revents) {
			fprintf(stderr, "\r\nvsnixctl: stopped from the console (Ctrl-] q)\n");
			return EXIT_CONSOLE_QUIT;
		}
		if (p[1].revents && read(vm->vx->done_fd, &n, sizeof(n)) < 0 &&
		    errno != EAGAIN)
			return EXIT_VM_ERROR;
		code = first_result(vm);
		if (code >= 0)
			return code;
	}
}

int vm_run(struct vm *vm, const sigset_t *stop_signals)
{
	int sig_fd, code;

	sig_fd = signalfd(-1, stop_signals, SFD_CLOEXEC);
	if (sig_fd < 0) {
		fprintf(stderr, "vsnixctl: signalfd: %s\n", strerror(errno));
		return EXIT_SETUP_ERROR;
	}
	if (report(vx_vm_threads_start(vm->vx, vcpu_exit, vm))) {
		close(sig_fd);
		return EXIT_SETUP_ERROR;
	}
	code = wait_vcpus(vm, sig_fd);
	vx_vm_threads_stop(vm->vx);
	vx_vm_threads_join(vm->vx);
	close(sig_fd);
	return code;
}
