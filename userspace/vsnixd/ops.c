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

const char *arg_name(json_object *req, const char *key)
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

/*
 * A VM from the pool's entry, its autostart flag the request's (0, 1) or,
 * at -1, the entry's; one audit row. -errno, err says why.
 */
int vm_create(struct vsnixd *d, const struct conn *c, const char *pool,
	      const char *entry, const char *name, int autostart,
	      char *err, size_t len)
{
	const struct pool_vm *vm;
	struct pool_err e = { };
	char mnt[PATH_MAX], *cfg;
	json_object *old;
	struct pool p;
	int ret = 0;

	old = db_row(d, "SELECT pool FROM vms WHERE name = ?", "s", name);
	if (old) {
		snprintf(err, len, "a VM named %s exists (from pool %s)", name,
			 json_object_get_string(json_object_object_get(old, "pool")));
		json_object_put(old);
		db_audit(d, c, "vm.create", name, "refused: exists");
		return -EEXIST;
	}
	if (pool_entry(d, pool, entry, &p, &vm, mnt, sizeof(mnt), &e)) {
		snprintf(err, len, "%s", e.msg);
		db_audit(d, c, "vm.create", name, e.msg);
		return -ENOENT;
	}
	if (autostart < 0)
		autostart = vm->autostart;
	cfg = pool_vm_to_json(vm);
	if (!cfg || db_exec(d, "INSERT INTO vms (name, pool, entry, config, state,"
			    " created_at, autostart) VALUES (?, ?, ?, ?, 'created', ?, ?)",
			    "ssssii", name, pool, entry, cfg, (int64_t)time(NULL),
			    (int64_t)autostart)) {
		snprintf(err, len, "vm.create %s: database error", name);
		ret = -EIO;
	}
	free(cfg);
	pool_free(&p);
	db_audit(d, c, "vm.create", name, ret ? "database error" : "ok");
	return ret;
}

static json_object *op_vm_create(struct vsnixd *d, struct conn *c, json_object *req)
{
	const char *pool = arg_name(req, "pool"), *entry = arg_name(req, "vm");
	const char *name = arg_name(req, "name");
	json_object *as = json_object_object_get(req, "autostart");
	char err[POOL_ERR_LEN];
	int ret;

	if (!pool || !entry)
		return reply_err(EINVAL, "vm.create: \"pool\" and \"vm\": names expected");
	if (json_object_object_get_ex(req, "name", NULL) && !name)
		return reply_err(EINVAL, "vm.create: \"name\": a VM name expected");
	if (as && !json_object_is_type(as, json_type_boolean))
		return reply_err(EINVAL, "vm.create: \"autostart\": true or false expected");
	ret = vm_create(d, c, pool, entry, name ? name : entry,
			as ? json_object_get_boolean(as) : -1, err, sizeof(err));
	return ret ? reply_err(-ret, "%s", err) : reply_ok();
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
	bool input;
	int pid;

	if (pool_entry(d, pool, entry, &p, &vm, mnt, sizeof(mnt), &e)) {
		snprintf(err, len, "%s", e.msg);
		return -ENOENT;
	}
	in = (struct vm_args_in){ .vmm = d->opt.vmm, .name = name, .mount = mnt,
				  .overlay_dir = d->opt.state_dir, .vm = vm };
	pid = vm_args_build(&a, &in, err, len);
	/* Solo5's hvt has no console input; a PC's COM1 and multiboot's do. */
	input = vm->kind != POOL_VM_UNIKERNEL;
	pool_free(&p);
	if (pid)
		return pid;
	pid = vmproc_start(d, name, a.argv, input, err, len);
	if (pid > 0)
		vmproc_take_scratch(d, name, a.scratch, &a.nr_scratch);
	vm_args_free(&a);
	return pid;
}

/* The VM's row and its open run, in one transaction. */
static void record_start(struct vsnixd *d, const struct conn *c,
			 const char *action, const char *name, int pid)
{
	char cause[64];
	int64_t now = time(NULL);

	if (c)
		snprintf(cause, sizeof(cause), "%s by uid %u", action, (unsigned int)c->uid);
	else
		snprintf(cause, sizeof(cause), "%s", action);
	db_exec(d, "BEGIN IMMEDIATE", NULL);
	db_exec(d, "UPDATE vms SET state = 'running', pid = ?, exit_code = NULL,"
		" reason = NULL, started_at = ?, stopped_at = NULL WHERE name = ?",
		"iis", (int64_t)pid, now, name);
	db_exec(d, "INSERT INTO runs (vm, cause, pid, started_at) VALUES (?, ?, ?, ?)",
		"ssii", name, cause, (int64_t)pid, now);
	db_exec(d, "COMMIT", NULL);
}

/*
 * Starts the VM: its child's pid, or -errno with err set. One audit row
 * under action (vm.start, vm.restart, autostart).
 */
int vm_start(struct vsnixd *d, const struct conn *c, const char *action,
	     const char *name, char *err, size_t len)
{
	char why[POOL_ERR_LEN] = "";
	json_object *row;
	int pid;

	row = db_row(d, "SELECT pool, entry, state FROM vms WHERE name = ?", "s", name);
	if (!row) {
		snprintf(err, len, "no VM named %s", name);
		db_audit(d, c, action, name, "refused: no such VM");
		return -ENOENT;
	}
	if (vmproc_running(d, name)) {
		json_object_put(row);
		snprintf(err, len, "VM %s is running", name);
		db_audit(d, c, action, name, "refused: running");
		return -EBUSY;
	}
	pid = spawn(d, name, row, why, sizeof(why));
	json_object_put(row);
	if (pid < 0) {
		snprintf(err, len, "%s %s: %s", action, name, why);
		db_audit(d, c, action, name, why);
		return pid;
	}
	record_start(d, c, action, name, pid);
	db_audit(d, c, action, name, "ok");
	return pid;
}

static json_object *op_vm_start(struct vsnixd *d, struct conn *c, json_object *req)
{
	const char *name = arg_name(req, "name");
	char err[POOL_ERR_LEN] = "";
	json_object *r;
	int pid;

	if (!name)
		return reply_err(EINVAL, "vm.start: \"name\": a VM name expected");
	pid = vm_start(d, c, "vm.start", name, err, sizeof(err));
	if (pid < 0)
		return reply_err(-pid, "%s", err);
	r = reply_ok();
	json_object_object_add(r, "pid", json_object_new_int(pid));
	return r;
}

static json_object *op_vm_stop(struct vsnixd *d, struct conn *c, json_object *req)
{
	return vm_stop_req(d, c, req, false);
}

static json_object *op_vm_delete(struct vsnixd *d, struct conn *c, json_object *req)
{
	const char *name = arg_name(req, "name");
	json_object *row, *cfg;

	if (!name)
		return reply_err(EINVAL, "vm.delete: \"name\": a VM name expected");
	if (vmproc_running(d, name)) {
		db_audit(d, c, "vm.delete", name, "refused: running");
		return reply_err(EBUSY, "VM %s is running", name);
	}
	row = db_row(d, "SELECT config FROM vms WHERE name = ?", "s", name);
	if (!row || db_exec(d, "DELETE FROM vms WHERE name = ?", "s", name) ||
	    !sqlite3_changes(d->db)) {
		json_object_put(row);
		return reply_err(ENOENT, "no VM named %s", name);
	}
	/* Its overlays go with it: a new VM of that name starts afresh. */
	cfg = json_tokener_parse(json_object_get_string(
					 json_object_object_get(row, "config")));
	overlay_remove_all(d, name, cfg);
	json_object_put(cfg);
	json_object_put(row);
	vmproc_forget(d, name);
	db_audit(d, c, "vm.delete", name, "ok");
	return reply_ok();
}

#define VM_COLUMNS "name, pool, entry, state, pid, exit_code, reason," \
		   " autostart, created_at, started_at, stopped_at"

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

/* Another client's input is attached to the VM's console. */
static const struct conn *input_attached(struct vsnixd *d, const char *name)
{
	const struct conn *o;

	for (o = d->conns; o; o = o->next)
		if (!o->dead && !strcmp(o->input, name))
			return o;
	return NULL;
}

/* vm.console's "input": may this client attach its input? 0 or -errno. */
static int input_check(struct vsnixd *d, const struct vmproc *v,
		       const char *name, char *why, size_t len)
{
	const struct conn *o;

	if (!v || !v->running) {
		snprintf(why, len, "VM %s is not running", name);
		return -ESRCH;
	}
	if (v->in_fd < 0) {
		snprintf(why, len, "VM %s has no console input (a Solo5 unikernel)", name);
		return -EOPNOTSUPP;
	}
	o = input_attached(d, name);
	if (o) {
		snprintf(why, len, "VM %s's console input is attached (uid %u, pid %d)",
			 name, (unsigned int)o->uid, (int)o->pid);
		return -EBUSY;
	}
	return 0;
}

/*
 * The reply line, then the ring's bytes, then (follow) the live output.
 * With input (vsnixctl console attached), the client's bytes after its
 * request line go to the VM's stdin until it closes the connection.
 */
static json_object *op_vm_console(struct vsnixd *d, struct conn *c, json_object *req)
{
	const char *name = arg_name(req, "name");
	bool input = arg_bool(req, "input");
	static char buf[VSNIXD_RING_SIZE];
	char why[128];
	struct vmproc *v;
	json_object *row;
	size_t n = 0;
	int err;

	if (!name)
		return reply_err(EINVAL, "vm.console: \"name\": a VM name expected");
	row = db_row(d, "SELECT name FROM vms WHERE name = ?", "s", name);
	if (!row)
		return reply_err(ENOENT, "no VM named %s", name);
	json_object_put(row);
	v = vmproc_find(d, name);
	err = input ? input_check(d, v, name, why, sizeof(why)) : 0;
	db_audit(d, c, input ? "vm.attach" : "vm.console", name, err ? why : "ok");
	if (err)
		return reply_err(-err, "%s", why);
	row = reply_ok();
	json_object_object_add(row, "running", json_object_new_boolean(v && v->running));
	if (conn_reply(c, row))
		return NULL;
	if (v)
		n = ring_get(&v->ring, buf, sizeof(buf));
	conn_send(c, buf, n);
	if (v && v->running && (input || arg_bool(req, "follow")))
		snprintf(c->console, sizeof(c->console), "%s", name);
	else
		c->dead = true;
	if (input)
		snprintf(c->input, sizeof(c->input), "%s", name);
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
	{ "vm.kill", op_vm_kill },
	{ "vm.restart", op_vm_restart },
	{ "vm.status", op_vm_status },
	{ "vm.autostart", op_vm_autostart },
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
