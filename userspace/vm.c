// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl: VM set-up on libvsnix for the loaders. Each call prints the
 * library's message on failure and returns -1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "vsnixctl.h"

int report(long r)
{
	if (r >= 0)
		return 0;
	fprintf(stderr, "vsnixctl: %s\n", vx_errmsg());
	return -1;
}

int vm_create(struct vm *vm)
{
	vm->sys_fd = -1;
	if (console_open(vm))
		return -1;
	vm->sys_fd = vx_open();
	if (report(vm->sys_fd))
		return -1;
	return report(vx_vm_create(vm->sys_fd, &vm->vx));
}

int vm_alloc_memory(struct vm *vm, uint64_t size)
{
	return report(vx_vm_alloc_ram(vm->vx, VX_MEM_ANON, size));
}

int vm_map_memory(struct vm *vm)
{
	return report(vx_vm_map_ram(vm->vx, NULL));
}

int vm_map_memory_prot(struct vm *vm, const uint8_t *flags)
{
	return report(vx_vm_map_ram(vm->vx, flags));
}

/* Does vsnix.ko take VSNIX_MEM_NOEXEC? */
bool vm_has_noexec(struct vm *vm)
{
	return vx_check_cap(vm->sys_fd, VSNIX_CAP_NOEXEC_MEM) > 0;
}

int vm_create_vcpu(struct vm *vm)
{
	return report(vx_vcpu_create(vm->vx, 0, &vm->boot_vcpu));
}

int vm_set_cpuid(struct vm *vm)
{
	return report(vx_vm_set_cpuid_host(vm->vx));
}

int vm_create_device(struct vm *vm, struct vsnix_device_config *cfg,
		     const char *what)
{
	if (ioctl(vm->vx->fd, VSNIX_CREATE_DEVICE, cfg) < 0) {
		fprintf(stderr, "vsnixctl: VSNIX_CREATE_DEVICE (%s): %s\n", what,
			strerror(errno));
		return -1;
	}
	return 0;
}

int vm_set_state(struct vm *vm, const struct vsnix_regs *regs,
		 const struct vsnix_sregs *sregs)
{
	return report(vx_vcpu_set_state(vm->boot_vcpu, regs, sregs));
}

/* Output the console file refused (a full non-blocking pipe, EPIPE). */
static void vm_report_console_drops(struct vm *vm)
{
	struct vsnix_vm_status st;

	if (vm->vx && vm->vx->fd >= 0 && !vx_vm_get_status(vm->vx, &st) &&
	    st.console_dropped)
		fprintf(stderr, "vsnixctl: %llu of %llu bytes of console output were dropped: stdout did not take them\n",
			(unsigned long long)st.console_dropped,
			(unsigned long long)st.console_bytes);
}

void vm_destroy(struct vm *vm)
{
	vm_report_console_drops(vm);
	vx_vm_destroy(vm->vx);
	if (vm->sys_fd >= 0)
		close(vm->sys_fd);
	/* The VM and its reference to the console pipe are gone now. */
	console_close(vm);
	memset(vm, 0, sizeof(*vm));
	vm->sys_fd = -1;
}
