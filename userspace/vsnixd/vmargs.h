/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VSNIXD_VMARGS_H
#define VSNIXD_VMARGS_H

#include "../pool/pool.h"

#define VM_ARGS_MAX	(16 + 3 * POOL_MAX_DISKS + 2 * POOL_MAX_NICS)

struct vm_args {
	int argc;
	char *argv[VM_ARGS_MAX];
	char *scratch[POOL_MAX_DISKS];	/* overlays to remove at the VM's end */
	unsigned int nr_scratch;
};

struct vm_args_in {
	const char *vmm;		/* vsnixctl */
	const char *name;		/* the VM's name in vsnixd */
	const char *mount;		/* the pool's mount point */
	const char *overlay_dir;	/* where overlay copies live */
	const struct pool_vm *vm;	/* the pool entry */
};

int vm_args_build(struct vm_args *a, const struct vm_args_in *in, char *err,
		  size_t len);
void vm_args_free(struct vm_args *a);

#endif
