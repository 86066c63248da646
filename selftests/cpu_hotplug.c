// SPDX-License-Identifier: GPL-2.0
/*
 * CPU hotplug while a VM exists: offlining CPU 1 leaves root mode there,
 * onlining it enters root mode again (the module's cpuhp callbacks), and
 * the vCPU keeps running as it moves between the CPUs. Without the online
 * callback the entry on CPU 1 would fail (no EFER.SVME / VMXON there).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "vsnix_util.h"

#define CPU1_ONLINE	"/sys/devices/system/cpu/cpu1/online"

static void guest_stages(void)
{
	GUEST_SYNC(1);
	GUEST_SYNC(2);
	GUEST_SYNC(3);
}

static bool set_online(int online)
{
	int fd = open(CPU1_ONLINE, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, online ? "1" : "0", 1) == 1;
	close(fd);
	return ok;
}

static bool pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0;
}

/* RUN until the next ucall and check it is SYNC(stage) or DONE (stage 0). */
static bool run_expect(struct vsnix_test_vcpu *vcpu, uint64_t stage)
{
	struct ucall uc;
	uint64_t cmd;

	if (vcpu_run_raw(vcpu)) {
		tap_diag("RUN: %s", strerror(errno));
		return false;
	}
	cmd = vcpu_get_ucall(vcpu, &uc);
	if (stage == 0 ? cmd == UCALL_DONE : cmd == UCALL_SYNC && uc.args[0] == stage)
		return true;
	tap_diag("expected stage %lu, got %s", (unsigned long)stage, vcpu_exit_str(vcpu));
	return false;
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;

	vsnix_dev_fd();
	if (sysconf(_SC_NPROCESSORS_CONF) < 2 || access(CPU1_ONLINE, W_OK))
		tap_skip_all("needs a second CPU that can go offline");
	tap_plan(7);

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_stages);

	tap_ok(pin_to(1) && run_expect(vcpu, 1), "the guest runs on CPU 1");
	tap_ok(pin_to(0) && set_online(0), "CPU 1 goes offline while the VM exists");
	tap_ok(run_expect(vcpu, 2), "the vCPU moved to CPU 0 runs on");
	tap_ok(set_online(1), "CPU 1 comes back online (root mode entered again)");
	tap_ok(pin_to(1) && run_expect(vcpu, 3), "the vCPU runs on CPU 1 again");
	tap_ok(run_expect(vcpu, 0), "the guest finishes");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	set_online(1);
	tap_finish();
}
