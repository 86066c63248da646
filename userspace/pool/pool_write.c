// SPDX-License-Identifier: GPL-2.0
/* The vmcfg as JSON (json-c), as written into the image and shown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_int.h"

static void add_str(json_object *o, const char *key, const char *s)
{
	if (s)
		json_object_object_add(o, key, json_object_new_string(s));
}

static json_object *disk_json(const struct pool_vm *vm,
			      const struct pool_disk *d)
{
	json_object *o = json_object_new_object();
	char file[160];

	snprintf(file, sizeof(file), "blocks/%s.%s.img", vm->hash, d->name);
	add_str(o, "name", d->name);
	add_str(o, "file", file);
	json_object_object_add(o, "readonly", json_object_new_boolean(d->readonly));
	add_str(o, "writes", d->writes == POOL_WRITES_POOL ? "pool" :
		d->writes == POOL_WRITES_SCRATCH ? "scratch" : "overlay");
	return o;
}

static json_object *nic_json(const struct pool_nic *n)
{
	json_object *o = json_object_new_object();

	add_str(o, "name", n->name);
	add_str(o, "tap", n->tap);
	add_str(o, "mac", n->mac);
	return o;
}

/* The vmcfg of vm, its files under their hashed names; free() the result. */
char *pool_vm_to_json(const struct pool_vm *vm)
{
	json_object *o = json_object_new_object(), *a;
	char path[160];
	unsigned int i;
	char *s;

	json_object_object_add(o, "format", json_object_new_int(POOL_FORMAT));
	add_str(o, "name", vm->name);
	add_str(o, "hash", vm->hash);
	add_str(o, "kind", pool_kind_name(vm->kind));
	snprintf(path, sizeof(path), "kernels/%s.vmLinuz", vm->hash);
	add_str(o, "kernel", path);
	snprintf(path, sizeof(path), "kernels/%s.initrd.img", vm->hash);
	add_str(o, "initrd", vm->initrd ? path : NULL);
	add_str(o, "cmdline", vm->cmdline);
	json_object_object_add(o, "memory_mib", json_object_new_int64(vm->memory_mib));
	json_object_object_add(o, "vcpus", json_object_new_int(vm->vcpus));
	json_object_object_add(o, "autostart", json_object_new_boolean(vm->autostart));
	a = json_object_new_array();
	for (i = 0; i < vm->nr_disks; i++)
		json_object_array_add(a, disk_json(vm, &vm->disks[i]));
	json_object_object_add(o, "disks", a);
	a = json_object_new_array();
	for (i = 0; i < vm->nr_nics; i++)
		json_object_array_add(a, nic_json(&vm->nics[i]));
	json_object_object_add(o, "nics", a);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}
