// SPDX-License-Identifier: GPL-2.0
/*
 * A pool entry (struct pool_vm) as the `vsnixctl run` command line that
 * runs it: files resolved inside the pool's mount point; a writable disk
 * with "writes": "overlay" or "scratch" runs on a per-VM overlay under
 * --state-dir (overlay.c), so the pool's image stays read-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "vsnixd.h"
#include "vmargs.h"

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static int add(struct vm_args *a, char *s)
{
	if (!s || a->argc >= VM_ARGS_MAX - 1) {
		free(s);
		return -ENOMEM;
	}
	a->argv[a->argc++] = s;
	a->argv[a->argc] = NULL;
	return 0;
}

/*
 * The file a disk runs on: in the pool, or the VM's overlay (overlay.c),
 * kept across starts ("overlay") or made anew and listed in a->scratch
 * for removal at the VM's end ("scratch").
 */
static char *disk_path(struct vm_args *a, const struct vm_args_in *in,
		       const struct pool_disk *dk, char *err, size_t len)
{
	char *src = xprintf("%s/%s", in->mount, dk->file), *ovl;
	bool scratch = dk->writes == POOL_WRITES_SCRATCH;

	if (dk->readonly || dk->writes == POOL_WRITES_POOL || !src)
		return src;
	ovl = xprintf("%s/%s.%s.img", in->overlay_dir, in->name, dk->name);
	if (ovl && overlay_make(src, ovl, scratch, err, len)) {
		free(ovl);
		ovl = NULL;
	}
	free(src);
	if (ovl && scratch)
		a->scratch[a->nr_scratch++] = strdup(ovl);
	return ovl;
}

static int pc_devices(struct vm_args *a, const struct vm_args_in *in,
		      char *err, size_t len)
{
	const struct pool_vm *vm = in->vm;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < vm->nr_disks && !ret; i++) {
		char *p = disk_path(a, in, &vm->disks[i], err, len);

		if (!p)
			return -EIO;
		ret = add(a, strdup(vm->kind == POOL_VM_UNIKERNEL ? "--block" : "--disk"));
		if (!ret && vm->kind == POOL_VM_UNIKERNEL)
			ret = add(a, xprintf("%s=%s", vm->disks[i].name, p));
		else if (!ret)
			ret = add(a, xprintf("%s%s", p, vm->disks[i].readonly ? ",ro" : ""));
		free(p);
	}
	for (i = 0; i < vm->nr_nics && !ret; i++) {
		const struct pool_nic *n = &vm->nics[i];

		ret = add(a, strdup("--net"));
		if (ret)
			break;
		if (vm->kind == POOL_VM_UNIKERNEL)
			ret = add(a, n->mac ? xprintf("%s=%s,%s", n->name, n->tap, n->mac) :
					      xprintf("%s=%s", n->name, n->tap));
		else
			ret = add(a, n->mac ? xprintf("tap=%s,mac=%s", n->tap, n->mac) :
					      xprintf("tap=%s", n->tap));
	}
	return ret;
}

/* Fills a->argv (free with vm_args_free); 0 or -errno with err set. */
int vm_args_build(struct vm_args *a, const struct vm_args_in *in, char *err,
		  size_t len)
{
	const struct pool_vm *vm = in->vm;
	int ret;

	memset(a, 0, sizeof(*a));
	ret = add(a, strdup(in->vmm)) ?: add(a, strdup("run")) ?:
	      add(a, strdup("--kernel")) ?: add(a, xprintf("%s/%s", in->mount, vm->kernel)) ?:
	      add(a, strdup("--mem")) ?:
	      add(a, xprintf("%lluM", (unsigned long long)vm->memory_mib));
	if (!ret && vm->initrd)
		ret = add(a, strdup("--initrd")) ?:
		      add(a, xprintf("%s/%s", in->mount, vm->initrd));
	if (!ret && vm->cmdline)
		ret = add(a, strdup("--cmdline")) ?: add(a, strdup(vm->cmdline));
	/* vsnixd's pipe on stdin: what an attached console client types. */
	if (!ret && vm->kind != POOL_VM_UNIKERNEL)
		ret = add(a, strdup("--cpus")) ?: add(a, xprintf("%u", vm->vcpus)) ?:
		      add(a, strdup("--stdin"));
	if (!ret)
		ret = pc_devices(a, in, err, len);
	if (ret && !err[0])
		snprintf(err, len, "building the command line: %s", strerror(-ret));
	if (ret)
		vm_args_free(a);
	return ret;
}

/* The argv; the scratch overlays too unless the VM took them (vmproc). */
void vm_args_free(struct vm_args *a)
{
	unsigned int j;
	int i;

	for (i = 0; i < a->argc; i++)
		free(a->argv[i]);
	a->argc = 0;
	for (j = 0; j < a->nr_scratch; j++) {
		if (a->scratch[j])
			unlink(a->scratch[j]);
		free(a->scratch[j]);
	}
	a->nr_scratch = 0;
}
