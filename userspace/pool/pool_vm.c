// SPDX-License-Identifier: GPL-2.0
/*
 * One VM of a pool: the object of a pool description (host files) or a
 * <HASH>_vmcfg.cfg inside the image (files under their hashed names).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_int.h"

static const struct field desc_vm_fields[] = {
	{ "name", json_type_string, true },
	{ "kind", json_type_string, true },
	{ "kernel", json_type_string, true },
	{ "initrd", json_type_string, false },
	{ "cmdline", json_type_string, false },
	{ "memory_mib", json_type_int, true },
	{ "vcpus", json_type_int, false },
	{ "autostart", json_type_boolean, false },
	{ "disks", json_type_array, false },
	{ "nics", json_type_array, false },
	{ }
};

/* The vmcfg: the description's fields plus format and hash. */
static const struct field cfg_vm_fields[] = {
	{ "format", json_type_int, true },
	{ "name", json_type_string, true },
	{ "hash", json_type_string, true },
	{ "kind", json_type_string, true },
	{ "kernel", json_type_string, true },
	{ "initrd", json_type_string, false },
	{ "cmdline", json_type_string, false },
	{ "memory_mib", json_type_int, true },
	{ "vcpus", json_type_int, true },
	{ "autostart", json_type_boolean, true },
	{ "disks", json_type_array, true },
	{ "nics", json_type_array, true },
	{ }
};

static const struct field desc_disk_fields[] = {
	{ "name", json_type_string, true },
	{ "source", json_type_string, true },
	{ "readonly", json_type_boolean, false },
	{ "writes", json_type_string, false },
	{ }
};

static const struct field cfg_disk_fields[] = {
	{ "name", json_type_string, true },
	{ "file", json_type_string, true },
	{ "readonly", json_type_boolean, true },
	{ "writes", json_type_string, true },
	{ }
};

static const struct field nic_fields[] = {
	{ "name", json_type_string, true },
	{ "tap", json_type_string, true },
	{ "mac", json_type_string, false },
	{ }
};

static int parse_kind(struct pool_vm *vm, json_object *o, const char *file,
		      struct pool_err *e)
{
	const char *s = json_object_get_string(get(o, "kind"));
	int i;

	for (i = POOL_VM_LINUX; i <= POOL_VM_UNIKERNEL; i++) {
		if (!strcmp(s, pool_kind_name(i))) {
			vm->kind = i;
			return 0;
		}
	}
	pool_error(e, "%s: vm '%s'.kind: '%s' is not linux, multiboot or unikernel",
		   file, vm->name, s);
	return -EINVAL;
}

/* In the image a file's name is fixed by the VM's hash. */
static int check_hashed(const char *got, const char *want, const char *root,
			const char *file, const char *ctx, struct pool_err *e)
{
	if (strcmp(got, want)) {
		pool_error(e, "%s: %s: '%s', expected '%s' (name/hash mismatch)",
			   file, ctx, got, want);
		return -EINVAL;
	}
	return file_exists(root, got, file, ctx, e);
}

static int parse_disk(struct pool_vm *vm, struct pool_disk *d, json_object *o,
		      bool in_image, const char *root, const char *file,
		      struct pool_err *e)
{
	char ctx[160], want[160];
	json_object *v;
	const char *w;
	unsigned int i;

	snprintf(ctx, sizeof(ctx), "vm '%s'.disks[%u]", vm->name, vm->nr_disks);
	if (check_fields(o, in_image ? cfg_disk_fields : desc_disk_fields, file,
			 ctx, e) || get_name(o, "name", d->name, file, ctx, e))
		return -EINVAL;
	for (i = 0; i < vm->nr_disks; i++) {
		if (!strcmp(vm->disks[i].name, d->name)) {
			pool_error(e, "%s: %s.name: duplicate disk '%s'", file, ctx,
				   d->name);
			return -EINVAL;
		}
	}
	v = get(o, "readonly");
	d->readonly = v && json_object_get_boolean(v);
	w = json_object_get_string(get(o, "writes"));
	if (!w || !strcmp(w, "overlay")) {
		d->writes = POOL_WRITES_OVERLAY;
	} else if (!strcmp(w, "pool")) {
		d->writes = POOL_WRITES_POOL;
	} else if (!strcmp(w, "scratch")) {
		d->writes = POOL_WRITES_SCRATCH;
	} else {
		pool_error(e, "%s: %s.writes: '%s' is not overlay, scratch or pool", file,
			   ctx, w);
		return -EINVAL;
	}
	if (!in_image) {
		d->source = get_str(o, "source");
		return file_exists(root, d->source, file, ctx, e);
	}
	d->file = get_str(o, "file");
	snprintf(want, sizeof(want), "blocks/%s.%s.img", vm->hash, d->name);
	strcat(ctx, ".file");
	return check_hashed(d->file, want, root, file, ctx, e);
}

static int parse_nic(struct pool_vm *vm, struct pool_nic *n, json_object *o,
		     const char *file, struct pool_err *e)
{
	char ctx[160];
	unsigned int b[6];
	char c;

	snprintf(ctx, sizeof(ctx), "vm '%s'.nics[%u]", vm->name, vm->nr_nics);
	if (check_fields(o, nic_fields, file, ctx, e) ||
	    get_name(o, "name", n->name, file, ctx, e))
		return -EINVAL;
	n->tap = get_str(o, "tap");
	n->mac = get_str(o, "mac");
	if (n->mac && sscanf(n->mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1],
			     &b[2], &b[3], &b[4], &b[5], &c) != 6) {
		pool_error(e, "%s: %s.mac: '%s' is not xx:xx:xx:xx:xx:xx", file,
			   ctx, n->mac);
		return -EINVAL;
	}
	return 0;
}

static int parse_arrays(struct pool_vm *vm, json_object *o, bool in_image,
			const char *root, const char *file, struct pool_err *e)
{
	json_object *a = get(o, "disks");
	size_t i, n = a ? json_object_array_length(a) : 0;

	if (n > POOL_MAX_DISKS || (get(o, "nics") &&
	    json_object_array_length(get(o, "nics")) > POOL_MAX_NICS)) {
		pool_error(e, "%s: vm '%s': more than %d disks or %d nics", file,
			   vm->name, POOL_MAX_DISKS, POOL_MAX_NICS);
		return -EINVAL;
	}
	for (i = 0; i < n; i++, vm->nr_disks++)
		if (parse_disk(vm, &vm->disks[i], json_object_array_get_idx(a, i),
			       in_image, root, file, e))
			return -EINVAL;
	a = get(o, "nics");
	n = a ? json_object_array_length(a) : 0;
	for (i = 0; i < n; i++, vm->nr_nics++)
		if (parse_nic(vm, &vm->nics[i], json_object_array_get_idx(a, i),
			      file, e))
			return -EINVAL;
	return 0;
}

/* Kernel and initrd: host files (description) or hashed names (image). */
static int parse_boot_files(struct pool_vm *vm, json_object *o, bool in_image,
			    const char *root, const char *file,
			    struct pool_err *e)
{
	char want[160], ctx[160];

	vm->kernel = get_str(o, "kernel");
	vm->initrd = get_str(o, "initrd");
	vm->cmdline = get_str(o, "cmdline");
	snprintf(ctx, sizeof(ctx), "vm '%s'.kernel", vm->name);
	if (!in_image) {
		if (file_exists(root, vm->kernel, file, ctx, e))
			return -ENOENT;
		snprintf(ctx, sizeof(ctx), "vm '%s'.initrd", vm->name);
		return vm->initrd ? file_exists(root, vm->initrd, file, ctx, e) : 0;
	}
	snprintf(want, sizeof(want), "kernels/%s.vmLinuz", vm->hash);
	if (check_hashed(vm->kernel, want, root, file, ctx, e))
		return -EINVAL;
	if (!vm->initrd)
		return 0;
	snprintf(ctx, sizeof(ctx), "vm '%s'.initrd", vm->name);
	snprintf(want, sizeof(want), "kernels/%s.initrd.img", vm->hash);
	return check_hashed(vm->initrd, want, root, file, ctx, e);
}

int pool_parse_vm(struct pool_vm *vm, json_object *o, bool in_image,
		  const char *root, const char *file, struct pool_err *e)
{
	const char *h;
	int64_t v;

	memset(vm, 0, sizeof(*vm));
	if (check_fields(o, in_image ? cfg_vm_fields : desc_vm_fields, file,
			 "vm", e) || get_name(o, "name", vm->name, file, "vm", e))
		return -EINVAL;
	pool_hash_name(vm->name, vm->hash);
	if (in_image) {
		if (get_int(o, "format", POOL_FORMAT, POOL_FORMAT, 0, &v, file,
			    "vm", e))
			return -EINVAL;
		h = json_object_get_string(get(o, "hash"));
		if (strcmp(h, vm->hash)) {
			pool_error(e, "%s: vm '%s'.hash: '%s' does not match the name (sha256 prefix %s)",
				   file, vm->name, h, vm->hash);
			return -EINVAL;
		}
	}
	if (parse_kind(vm, o, file, e))
		return -EINVAL;
	if (get_int(o, "memory_mib", 1, 65536, 0, &v, file, vm->name, e))
		return -EINVAL;
	vm->memory_mib = v;
	if (get_int(o, "vcpus", 1, 64, 1, &v, file, vm->name, e))
		return -EINVAL;
	vm->vcpus = v;
	vm->autostart = get(o, "autostart") &&
			json_object_get_boolean(get(o, "autostart"));
	if (parse_boot_files(vm, o, in_image, root, file, e))
		return -EINVAL;
	return parse_arrays(vm, o, in_image, root, file, e);
}
