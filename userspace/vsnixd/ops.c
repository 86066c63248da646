// SPDX-License-Identifier: GPL-2.0
/*
 * The request table and the VM requests. Every state-changing request
 * leaves one audit row with its result, refused or not.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vsnixd.h"
#include "vmargs.h"
#include "../pool/pool.h"

json_object *reply_ok(void)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(1));
	return r;
}

json_object *reply_err(int err, const char *fmt, ...)
{
	json_object *r = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "errno", json_object_new_int(err));
	json_object_object_add(r, "error", json_object_new_string(msg));
	return r;
}

static const char *arg_name(json_object *req, const char *key)
{
	json_object *v = json_object_object_get(req, key);
	const char *s = json_object_is_type(v, json_type_string) ?
			json_object_get_string(v) : NULL;

	return s && vsnixd_name_ok(s) ? s : NULL;
}

static bool arg_bool(json_object *req, const char *key)
{
	json_object *v = json_object_object_get(req, key);

	return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* The pool's entry NAME, read from its mount point now. */
static int pool_entry(struct vsnixd *d, const char *pool, const char *entry,
		      struct pool *p, const struct pool_vm **vm, char *mnt,
		      size_t len, struct pool_err *e)
{
	unsigned int i;

	memset(p, 0, sizeof(*p));
	if (pool_mount_of(d, pool, mnt, len)) {
		pool_error(e, "pool %s is not loaded", pool);
		return -ENOENT;
	}
	if (pool_read_mounted(p, mnt, e))
		return -EINVAL;
	for (i = 0; i < p->nr_vms; i++)
		if (!strcmp(p->vms[i].name, entry)) {
			*vm = &p->vms[i];
			return 0;
		}
	pool_error(e, "pool %s has no VM '%s'", pool, entry);
	pool_free(p);
	return -ENOENT;
}

static json_object *op_vm_create(struct vsnixd *d, struct conn *c, json_object *req)
{
	const char *pool = arg_name(req, "pool"), *entry = arg_name(req, "vm");
	const char *name = arg_name(req, "name");
	const struct pool_vm *vm;
	struct pool_err e = { };
	char mnt[PATH_MAX], *cfg;
	json_object *old;
	struct pool p;

	if (!pool || !entry)
		return reply_err(EINVAL, "vm.create: \"pool\" and \"vm\": names expected");
	if (!name)
		name = entry;
	old = db_row(d, "SELECT name FROM vms WHERE name = ?", "s", name);
	if (old) {
		json_object_put(old);
		db_audit(d, c, "vm.create", name, "refused: exists");
		return reply_err(EEXIST, "a VM named %s exists", name);
	}
	if (pool_entry(d, pool, entry, &p, &vm, mnt, sizeof(mnt), &e)) {
		db_audit(d, c, "vm.create", name, e.msg);
		return reply_err(ENOENT, "%s", e.msg);
	}
	cfg = pool_vm_to_json(vm);
	if (!cfg || db_exec(d, "INSERT INTO vms (name, pool, entry, config, state,"
			    " created_at) VALUES (?, ?, ?, ?, 'created', ?)", "ssssi",
			    name, pool, entry, cfg, (int64_t)time(NULL))) {
		free(cfg);
		pool_free(&p);
		db_audit(d, c, "vm.create", name, "database error");
		return reply_err(EIO, "vm.create %s: database error", name);
	}
	free(cfg);
	pool_free(&p);
	db_audit(d, c, "vm.create", name, "ok");
	return reply_ok();
}

static int spawn(struct vsnixd *d, const char *name, json_object *row,
		 char *err, size_t len)
{
	const char *pool = json_object_get_string(json_object_object_get(row, "pool"));
	const char *entry = json_object_get_string(json_object_object_get(row, "entry"));
	const struct pool_vm *vm;
	struct pool_err e = { };
	struct vm_args_in in;
	struct vm_args a;
	char mnt[PATH_MAX];
	struct pool p;
	int pid;

	if (pool_entry(d, pool, entry, &p, &vm, mnt, sizeof(mnt), &e)) {
		snprintf(err, len, "%s", e.msg);
		return -ENOENT;
	}
	in = (struct vm_args_in){ .vmm = d->opt.vmm, .name = name, .mount = mnt,
				  .overlay_dir = d->opt.state_dir, .vm = vm };
	pid = vm_args_build(&a, &in, err, len);
	pool_free(&p);
	if (pid)
		return pid;
	pid = vmproc_start(d, name, a.argv, err, len);
	vm_args_free(&a);
	return pid;
}

static json_object *op_vm_start(struct vsnixd *d, struct conn *c, json_object *req)
{
	const char *name = arg_name(req, "name");
	char err[POOL_ERR_LEN] = "";
	json_object *row;
	int pid;

	if (!name)
		return reply_err(EINVAL, "vm.start: \"name\": a VM name expected");
	row = db_row(d, "SELECT pool, entry, state FROM vms WHERE name = ?", "s", name);
	if (!row)
		return reply_err(ENOENT, "no VM named %s", name);
	if (vmproc_running(d, name)) {
		json_object_put(row);
		db_audit(d, c, "vm.start", name, "refused: running");
		return reply_err(EBUSY, "VM %s is running", name);
	}
	pid = spawn(d, name, row, err, sizeof(err));
	json_object_put(row);
	if (pid < 0) {
		db_audit(d, c, "vm.start", name, err);
		return reply_err(-pid, "vm.start %s: %s", name, err);
	}
	db_exec(d, "UPDATE vms SET state = 'running', pid = ?, exit_code = NULL,"
		" reason = NULL, started_at = ?, stopped_at = NULL WHERE name = ?",
		"iis", (int64_t)pid, (int64_t)time(NULL), name);
	db_audit(d, c, "vm.start", name, "ok");
	row = reply_ok();
	json_object_object_add(row, "pid", json_object_new_int(pid));
	return row;
}

static json_object *op_vm_stop(struct vsnixd *d, struct conn *c, json_object *req)
{
	const char *name = arg_name(req, "name");
	struct vmproc *v;

	if (!name)
		return reply_err(EINVAL, "vm.stop: \"name\": a VM name expected");
	v = vmproc_running(d, name);
	if (!v) {
		db_audit(d, c, "vm.stop", name, "refused: not running");
		return reply_err(ESRCH, "VM %s is not running", name);
	}
	vmproc_stop(d, v);
	db_exec(d, "UPDATE vms SET state = 'stopping' WHERE name = ?", "s", name);
	db_audit(d, c, "vm.stop", name, "ok");
	if (!arg_bool(req, "wait"))
		return reply_ok();
	snprintf(c->waits_stop, sizeof(c->waits_stop), "%s", name);
	return NULL;	/* conn_vm_ended() replies */
}

static json_object *op_vm_delete(struct vsnixd *d, struct conn *c, json_object *req)
{
	const char *name = arg_name(req, "name");

	if (!name)
		return reply_err(EINVAL, "vm.delete: \"name\": a VM name expected");
	if (vmproc_running(d, name)) {
		db_audit(d, c, "vm.delete", name, "refused: running");
		return reply_err(EBUSY, "VM %s is running", name);
	}
	if (db_exec(d, "DELETE FROM vms WHERE name = ?", "s", name) ||
	    !sqlite3_changes(d->db))
		return reply_err(ENOENT, "no VM named %s", name);
	vmproc_forget(d, name);
	db_audit(d, c, "vm.delete", name, "ok");
	return reply_ok();
}

#define VM_COLUMNS "name, pool, entry, state, pid, exit_code, reason," \
		   " created_at, started_at, stopped_at"

static json_object *op_vm_list(struct vsnixd *d, struct conn *c, json_object *req)
{
	json_object *rows, *r;

	(void)c;
	(void)req;
	rows = db_query(d, "SELECT " VM_COLUMNS " FROM vms ORDER BY name", NULL);
	if (!rows)
		return reply_err(EIO, "database error");
	r = reply_ok();
	json_object_object_add(r, "vms", rows);
	return r;
}

static json_object *op_vm_show(struct vsnixd *d, struct conn *c, json_object *req)
{
	const char *name = arg_name(req, "name");
	json_object *row, *r, *cfg;

	(void)c;
	if (!name)
		return reply_err(EINVAL, "vm.show: \"name\": a VM name expected");
	row = db_row(d, "SELECT " VM_COLUMNS ", config FROM vms WHERE name = ?",
		     "s", name);
	if (!row)
		return reply_err(ENOENT, "no VM named %s", name);
	cfg = json_tokener_parse(json_object_get_string(
					 json_object_object_get(row, "config")));
	json_object_object_add(row, "config", cfg);
	r = reply_ok();
	json_object_object_add(r, "vm", row);
	return r;
}

/* The reply line, then the ring's bytes, then (follow) the live output. */
static json_object *op_vm_console(struct vsnixd *d, struct conn *c, json_object *req)
{
	const char *name = arg_name(req, "name");
	static char buf[VSNIXD_RING_SIZE];
	struct vmproc *v;
	json_object *row;
	size_t n = 0;

	if (!name)
		return reply_err(EINVAL, "vm.console: \"name\": a VM name expected");
	row = db_row(d, "SELECT name FROM vms WHERE name = ?", "s", name);
	if (!row)
		return reply_err(ENOENT, "no VM named %s", name);
	json_object_put(row);
	v = vmproc_find(d, name);
	db_audit(d, c, "vm.console", name, "ok");
	row = reply_ok();
	json_object_object_add(row, "running", json_object_new_boolean(v && v->running));
	if (conn_reply(c, row))
		return NULL;
	if (v)
		n = ring_get(&v->ring, buf, sizeof(buf));
	conn_send(c, buf, n);
	if (v && v->running && arg_bool(req, "follow"))
		snprintf(c->console, sizeof(c->console), "%s", name);
	else
		c->dead = true;
	return NULL;
}

static json_object *op_audit(struct vsnixd *d, struct conn *c, json_object *req)
{
	json_object *obj = json_object_object_get(req, "object");
	json_object *since = json_object_object_get(req, "since");
	json_object *rows, *r;

	(void)c;
	rows = db_query(d, "SELECT id, time, uid, pid, action, object, result FROM audit"
			" WHERE (?1 = '' OR object = ?1) AND time >= ?2 ORDER BY id",
			"si", obj ? json_object_get_string(obj) : "",
			(int64_t)(since ? json_object_get_int64(since) : 0));
	if (!rows)
		return reply_err(EIO, "database error");
	r = reply_ok();
	json_object_object_add(r, "audit", rows);
	return r;
}

static json_object *op_ping(struct vsnixd *d, struct conn *c, json_object *req)
{
	json_object *r = reply_ok();

	(void)d;
	(void)req;
	json_object_object_add(r, "server", json_object_new_string("vsnixd"));
	json_object_object_add(r, "uid", json_object_new_int64(c->uid));
	return r;
}

static const struct op {
	const char *name;
	json_object *(*fn)(struct vsnixd *d, struct conn *c, json_object *req);
} ops[] = {
	{ "ping", op_ping },
	{ "pool.load", op_pool_load },
	{ "pool.unload", op_pool_unload },
	{ "pool.list", op_pool_list },
	{ "vm.create", op_vm_create },
	{ "vm.start", op_vm_start },
	{ "vm.stop", op_vm_stop },
	{ "vm.delete", op_vm_delete },
	{ "vm.list", op_vm_list },
	{ "vm.show", op_vm_show },
	{ "vm.console", op_vm_console },
	{ "audit.list", op_audit },
};

json_object *ops_dispatch(struct vsnixd *d, struct conn *c, json_object *req)
{
	json_object *ver = json_object_object_get(req, "version");
	json_object *op = json_object_object_get(req, "op");
	const char *name;
	size_t i;

	if (!json_object_is_type(ver, json_type_int) ||
	    json_object_get_int(ver) != VSNIXD_PROTO_VERSION) {
		db_audit(d, c, "invalid", "", "bad protocol version");
		return reply_err(EPROTO, "\"version\": %d expected", VSNIXD_PROTO_VERSION);
	}
	if (!json_object_is_type(op, json_type_string)) {
		db_audit(d, c, "invalid", "", "no op");
		return reply_err(EINVAL, "\"op\": a string expected");
	}
	name = json_object_get_string(op);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(ops[i].name, name))
			return ops[i].fn(d, c, req);
	db_audit(d, c, "invalid", name, "unknown op");
	return reply_err(EOPNOTSUPP, "unknown op '%s'", name);
}
