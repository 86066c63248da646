// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl: the VM's life around libvsnix (create with the console,
 * destroy with the console's last bytes) and report() for its messages.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
