// SPDX-License-Identifier: GPL-2.0
/*
 * The pool-level files: the description given to `pool create`, POOL.json
 * (next to the image) and vms.json (inside it), and the vmcfg writer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_int.h"

static const struct field desc_fields[] = {
	{ "name", json_type_string, true },
	{ "size_mib", json_type_int, false },
	{ "vms", json_type_array, true },
	{ }
};

static const struct field meta_fields[] = {
	{ "format", json_type_int, true },
	{ "name", json_type_string, true },
	{ "image", json_type_string, true },
	{ "fstype", json_type_string, true },
	{ "size_mib", json_type_int, true },
	{ "created", json_type_string, true },
	{ "vms", json_type_array, true },
	{ }
};

static const struct field vms_fields[] = {
	{ "format", json_type_int, true },
	{ "pool", json_type_string, true },
	{ "vms", json_type_array, true },
	{ }
};

static const struct field vms_entry_fields[] = {
	{ "name", json_type_string, true },
	{ "hash", json_type_string, true },
	{ "config", json_type_string, true },
	{ }
};

static int check_dup(const struct pool *p, unsigned int n, const char *file,
		     struct pool_err *e)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!strcmp(p->vms[i].name, p->vms[n].name)) {
			pool_error(e, "%s: vms[%u].name: duplicate VM '%s'", file, n,
				   p->vms[n].name);
			return -EINVAL;
		}
	}
	return 0;
}

static int vms_count(json_object *a, const char *file, struct pool_err *e)
{
	size_t n = json_object_array_length(a);

	if (n > POOL_MAX_VMS) {
		pool_error(e, "%s: vms: %zu VMs, at most %d", file, n, POOL_MAX_VMS);
		return -EINVAL;
	}
	return n;
}

/* desc_dir: the folder relative host paths in the description start from. */
int pool_parse_desc(struct pool *p, const char *desc_file, struct pool_err *e)
{
	char dir[4096], *slash;
	json_object *o = read_json(desc_file, e), *a;
	int64_t v;
	int n, ret = -EINVAL;

	memset(p, 0, sizeof(*p));
	if (!o)
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%s", desc_file);
	slash = strrchr(dir, '/');
	strcpy(slash ? slash : dir, slash ? "" : ".");
	if (check_fields(o, desc_fields, desc_file, "pool", e) ||
	    get_name(o, "name", p->name, desc_file, "pool", e) ||
	    get_int(o, "size_mib", 0, 1 << 20, 0, &v, desc_file, "pool", e))
		goto out;
	if (v && v < 8) {
		pool_error(e, "%s: pool.size_mib: %lld, at least 8 (0: sized from the files)",
			   desc_file, (long long)v);
		goto out;
	}
	p->size_mib = v;
	a = get(o, "vms");
	n = vms_count(a, desc_file, e);
	for (p->nr_vms = 0; n > 0 && p->nr_vms < (unsigned int)n; p->nr_vms++) {
		if (pool_parse_vm(&p->vms[p->nr_vms],
				  json_object_array_get_idx(a, p->nr_vms), false,
				  dir, desc_file, e) ||
		    check_dup(p, p->nr_vms, desc_file, e)) {
			p->nr_vms++;
			goto out;
		}
	}
	ret = n < 0 ? n : 0;
out:
	json_object_put(o);
	return ret;
}

/* POOL.json: the pool's name must match its file names. */
int pool_parse_meta(struct pool *p, const char *json_file, struct pool_err *e)
{
	json_object *o = read_json(json_file, e);
	char want[POOL_NAME_MAX + 8];
	const char *s;
	int64_t v;
	int ret = -EINVAL;

	if (!o)
		return -EINVAL;
	if (check_fields(o, meta_fields, json_file, "pool", e) ||
	    get_int(o, "format", POOL_FORMAT, POOL_FORMAT, 0, &v, json_file,
		    "pool", e) ||
	    get_name(o, "name", p->name, json_file, "pool", e) ||
	    get_int(o, "size_mib", 1, 1 << 20, 0, &v, json_file, "pool", e))
		goto out;
	p->size_mib = v;
	snprintf(want, sizeof(want), "%s.img", p->name);
	s = json_object_get_string(get(o, "image"));
	if (strcmp(s, want)) {
		pool_error(e, "%s: pool.image: '%s', expected '%s'", json_file, s,
			   want);
		goto out;
	}
	s = json_object_get_string(get(o, "fstype"));
	if (strcmp(s, "ext4")) {
		pool_error(e, "%s: pool.fstype: '%s', only ext4 is supported",
			   json_file, s);
		goto out;
	}
	free(p->created);
	p->created = get_str(o, "created");
	ret = 0;
out:
	json_object_put(o);
	return ret;
}

static int parse_vms_entry(struct pool *p, json_object *o, const char *root,
			   const char *file, struct pool_err *e)
{
	struct pool_vm *vm = &p->vms[p->nr_vms];
	char name[POOL_NAME_MAX + 1], want[64];
	const char *cfg;

	if (check_fields(o, vms_entry_fields, file, "vms[]", e) ||
	    get_name(o, "name", name, file, "vms[]", e))
		return -EINVAL;
	cfg = json_object_get_string(get(o, "config"));
	pool_hash_name(name, want);
	if (strcmp(json_object_get_string(get(o, "hash")), want)) {
		pool_error(e, "%s: vms '%s'.hash: does not match the name (sha256 prefix %s)",
			   file, name, want);
		return -EINVAL;
	}
	strcat(want, "_vmcfg.cfg");
	if (strcmp(cfg, want)) {
		pool_error(e, "%s: vms '%s'.config: '%s', expected '%s'", file,
			   name, cfg, want);
		return -EINVAL;
	}
	if (pool_parse_vmcfg(vm, root, cfg, e))
		return -EINVAL;
	if (strcmp(vm->name, name)) {
		pool_error(e, "%s/%s: vm.name: '%s', vms.json says '%s'", root, cfg,
			   vm->name, name);
		return -EINVAL;
	}
	return check_dup(p, p->nr_vms, file, e);
}

/* vms.json and every vmcfg it names, in the pool mounted at root. */
int pool_parse_vms(struct pool *p, const char *root, struct pool_err *e)
{
	char file[4096];
	json_object *o, *a;
	int64_t v;
	int n, ret = -EINVAL;

	snprintf(file, sizeof(file), "%s/vms.json", root);
	o = read_json(file, e);
	if (!o)
		return -EINVAL;
	if (check_fields(o, vms_fields, file, "vms.json", e) ||
	    get_int(o, "format", POOL_FORMAT, POOL_FORMAT, 0, &v, file,
		    "vms.json", e))
		goto out;
	if (!p->name[0] &&
	    get_name(o, "pool", p->name, file, "vms.json", e))
		goto out;
	if (strcmp(json_object_get_string(get(o, "pool")), p->name)) {
		pool_error(e, "%s: pool: '%s', POOL.json says '%s'", file,
			   json_object_get_string(get(o, "pool")), p->name);
		goto out;
	}
	a = get(o, "vms");
	n = vms_count(a, file, e);
	for (p->nr_vms = 0; n > 0 && p->nr_vms < (unsigned int)n; p->nr_vms++) {
		if (parse_vms_entry(p, json_object_array_get_idx(a, p->nr_vms),
				    root, file, e)) {
			p->nr_vms++;
			goto out;
		}
	}
	ret = n < 0 ? n : 0;
out:
	json_object_put(o);
	return ret;
}

int pool_parse_vmcfg(struct pool_vm *vm, const char *root, const char *cfg,
		     struct pool_err *e)
{
	char file[4096];
	json_object *o;
	int ret;

	snprintf(file, sizeof(file), "%s/%s", root, cfg);
	o = read_json(file, e);
	if (!o)
		return -EINVAL;
	ret = pool_parse_vm(vm, o, true, root, file, e);
	json_object_put(o);
	return ret;
}

static void free_vm(struct pool_vm *vm)
{
	unsigned int i;

	free(vm->kernel);
	free(vm->initrd);
	free(vm->cmdline);
	for (i = 0; i < vm->nr_disks; i++) {
		free(vm->disks[i].file);
		free(vm->disks[i].source);
	}
	for (i = 0; i < vm->nr_nics; i++) {
		free(vm->nics[i].tap);
		free(vm->nics[i].mac);
	}
	memset(vm, 0, sizeof(*vm));
}

void pool_free(struct pool *p)
{
	unsigned int i;

	for (i = 0; i < p->nr_vms; i++)
		free_vm(&p->vms[i]);
	free(p->created);
	free(p->mount_point);
	p->created = p->mount_point = NULL;
	p->nr_vms = 0;
}
