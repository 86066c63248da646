// SPDX-License-Identifier: GPL-2.0
/*
 * Root mode handed back and forth between vsnix and KVM: rounds of vsnix
 * VMs with a vCPU pinned to every CPU, then kvm_amd/kvm_intel is loaded, a
 * KVM guest executes HLT on every CPU, and the module is unloaded; all of
 * it several cycles over. Anything vsnix leaves on a CPU after its last VM
 * (EFER.SVME, GIF=0, VM_HSAVE_PA, CR4.VMXE, a live VMCS) makes KVM's
 * enable fail or its guest misbehave here; on SVM the MSRs are also read
 * directly after each batch of rounds.
 *
 * Counts per vendor (svm, the debug kernel's svm-debug-kvm included: 50
 * rounds x 3 cycles; vmx, slow Bochs: 5 x 1), overridden by
 * VSNIX_HANDOFF_ROUNDS and VSNIX_HANDOFF_CYCLES.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vsnix_util.h"

#define MAX_CPUS	8
#define KVM_MEM_SIZE	0x10000

static int nr_cpus;

static void guest_done(void)
{
	GUEST_DONE();
}

static bool pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0;
}

struct vsnix_thread {
	struct vsnix_test_vcpu *vcpu;
	int cpu;
	bool ok;
};

static void *vsnix_vcpu_fn(void *arg)
{
	struct vsnix_thread *t = arg;
	struct ucall uc;

	t->ok = pin_to(t->cpu) && vcpu_run_ucall_soft(t->vcpu, &uc) == UCALL_DONE;
	return NULL;
}

/* One VM with a vCPU on each CPU; destroying it turns root mode off. */
static bool vsnix_round(void)
{
	struct vsnix_thread t[MAX_CPUS];
	pthread_t tid[MAX_CPUS];
	struct vsnix_test_vm *vm = vm_create_long(0);
	bool ok = true;
	int i;

	for (i = 0; i < nr_cpus; i++) {
		t[i].vcpu = vcpu_create_long(vm, i, guest_done);
		t[i].cpu = i;
		t[i].ok = false;
		TEST_ASSERT(!pthread_create(&tid[i], NULL, vsnix_vcpu_fn, &t[i]),
			    "pthread_create");
	}
	for (i = 0; i < nr_cpus; i++) {
		pthread_join(tid[i], NULL);
		ok &= t[i].ok;
	}
	vm_destroy(vm);
	return ok;
}

/* A real-mode KVM guest that executes HLT at 0:0 on this CPU. */
static bool kvm_hlt_guest(int kvm, int cpu)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };
	struct kvm_run *run;
	int vm, vcpu = -1, size;
	bool ok = false;
	uint8_t *mem;

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		tap_diag("CPU %d: KVM_CREATE_VM: %s", cpu, strerror(errno));
		return false;
	}
	mem = mmap(NULL, KVM_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(mem != MAP_FAILED, "mmap");
	mem[0] = 0xf4;	/* hlt */
	region.memory_size = KVM_MEM_SIZE;
	region.userspace_addr = (uintptr_t)mem;
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (!ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region))
		vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0 || size <= 0) {
		tap_diag("CPU %d: KVM VM setup: %s", cpu, strerror(errno));
		goto out;
	}
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	TEST_ASSERT(run != MAP_FAILED, "mmap kvm_run");
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) == 0) {
		sregs.cs.base = 0;
		sregs.cs.selector = 0;
		if (!ioctl(vcpu, KVM_SET_SREGS, &sregs) &&
		    !ioctl(vcpu, KVM_SET_REGS, &regs) && !ioctl(vcpu, KVM_RUN, 0))
			ok = run->exit_reason == KVM_EXIT_HLT;
	}
	if (!ok)
		tap_diag("CPU %d: KVM guest: exit reason %u (%s)", cpu,
			 run->exit_reason, strerror(errno));
	munmap(run, size);
out:
	if (vcpu >= 0)
		close(vcpu);
	close(vm);
	munmap(mem, KVM_MEM_SIZE);
	return ok;
}

#define MSR_EFER		0xc0000080
#define EFER_SVME		(1ull << 12)
#define MSR_VM_HSAVE_PA		0xc0010117

static bool read_msr(int cpu, uint32_t msr, uint64_t *val)
{
	char path[64];
	bool ok;
	int fd;

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ok = pread(fd, val, sizeof(*val), msr) == sizeof(*val);
	close(fd);
	return ok;
}

/*
 * SVM: after the last VM, no CPU keeps EFER.SVME or a host save area
 * (AMD APM Vol 2, 15.30.4): KVM would find SVM "in use", or VMRUN would
 * save the host into a page vsnix may have freed. Skipped without msr.ko.
 */
static void check_svm_left(int cycle)
{
	uint64_t efer, hsave;
	int cpu;

	if (!vsnix_is_svm()) {
		tap_skip("SVM only", "cycle %d: no SVM state left behind", cycle);
		return;
	}
	if (access("/dev/cpu/0/msr", R_OK) && system("modprobe msr >/dev/null 2>&1"))
		tap_diag("modprobe msr failed");
	for (cpu = 0; cpu < nr_cpus; cpu++) {
		if (!read_msr(cpu, MSR_EFER, &efer) ||
		    !read_msr(cpu, MSR_VM_HSAVE_PA, &hsave)) {
			tap_skip("no /dev/cpu/N/msr", "cycle %d: no SVM state left behind",
				 cycle);
			return;
		}
		if ((efer & EFER_SVME) || hsave) {
			tap_ok(false, "cycle %d: CPU %d keeps EFER 0x%llx, VM_HSAVE_PA 0x%llx",
			       cycle, cpu, (unsigned long long)efer,
			       (unsigned long long)hsave);
			return;
		}
	}
	tap_ok(true, "cycle %d: no CPU keeps EFER.SVME or VM_HSAVE_PA", cycle);
}

static int env_count(const char *name, int svm, int vmx)
{
	const char *v = getenv(name);

	if (v && atoi(v) > 0)
		return atoi(v);
	return vsnix_is_svm() ? svm : vmx;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	const char *module, *unload;
	int rounds, cycles, c, r, i, kvm;
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	double t0;
	bool ok;

	vsnix_dev_fd();
	nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (nr_cpus > MAX_CPUS)
		nr_cpus = MAX_CPUS;
	module = vsnix_is_svm() ? "kvm_amd" : "kvm_intel";
	rounds = env_count("VSNIX_HANDOFF_ROUNDS", 50, 5);
	cycles = env_count("VSNIX_HANDOFF_CYCLES", 3, 1);
	if (access("/dev/kvm", F_OK) == 0)
		tap_skip_all("KVM is already loaded: this test loads and unloads it");
	/* Probe that the module can be loaded at all before the plan. */
	unload = kvm_module_load(module);
	kvm_module_unload(module, unload);
	tap_plan(cycles * 4 + 2);

	for (c = 1; c <= cycles; c++) {
		t0 = now_s();
		for (r = 0, ok = true; r < rounds && ok; r++)
			ok = vsnix_round();
		tap_ok(ok, "cycle %d: %d rounds of vsnix VMs on %d CPUs (%d done, %.1f s)",
		       c, rounds, nr_cpus, r, now_s() - t0);
		check_svm_left(c);

		t0 = now_s();
		unload = kvm_module_load(module);
		kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		ok = kvm >= 0;
		for (i = 0; i < nr_cpus && ok; i++)
			ok = pin_to(i) && kvm_hlt_guest(kvm, i);
		pin_to(0);
		if (kvm >= 0)
			close(kvm);
		tap_ok(ok, "cycle %d: %s loaded, a KVM guest runs HLT on each CPU (%.1f s)",
		       c, module, now_s() - t0);
		tap_ok(kvm_module_unload(module, unload) &&
		       access("/dev/kvm", F_OK) != 0,
		       "cycle %d: %s unloaded", c, module);
	}

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_done);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE,
	       "a vsnix VM runs after the last KVM unload");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
