// SPDX-License-Identifier: GPL-2.0
/*
 * The VM requests beyond create/start: stop and kill (one path, the
 * signal differs), restart (stop, wait for the end, start: the reply comes
 * with the new pid), status (the row, its last runs, the console's size)
 * and the autostart flag. Each state change leaves one audit row.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vsnixd.h"
#include "../pool/pool.h"

#define STATUS_RUNS	5	/* runs in a vm.status reply, newest first */

static bool arg_bool(json_object *req, const char *key)
{
	json_object *v = json_object_object_get(req, key);

	return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/*
 * vm.stop (SIGTERM, SIGKILL after the grace time) and vm.kill (SIGKILL at
 * once). With "wait", conn_vm_ended() replies when the VM has ended.
 */
json_object *vm_stop_req(struct vsnixd *d, struct conn *c, json_object *req,
			 bool kill_now)
{
	const char *action = kill_now ? "vm.kill" : "vm.stop";
	const char *name = arg_name(req, "name");
	struct vmproc *v;
	json_object *row;

	if (!name)
		return reply_err(EINVAL, "%s: \"name\": a VM name expected", action);
	v = vmproc_running(d, name);
	if (!v) {
		row = db_row(d, "SELECT name FROM vms WHERE name = ?", "s", name);
		db_audit(d, c, action, name, row ? "refused: not running" :
			 "refused: no such VM");
		if (!row)
			return reply_err(ENOENT, "no VM named %s", name);
		json_object_put(row);
		return reply_err(ESRCH, "VM %s is not running", name);
	}
	if (kill_now)
		vmproc_kill(d, v);
	else
		vmproc_stop(d, v);
	db_exec(d, "UPDATE vms SET state = 'stopping' WHERE name = ?", "s", name);
	db_audit(d, c, action, name, "ok");
	if (!arg_bool(req, "wait"))
		return reply_ok();
	snprintf(c->waits_stop, sizeof(c->waits_stop), "%s", name);
	return NULL;	/* conn_vm_ended() replies */
}

json_object *op_vm_kill(struct vsnixd *d, struct conn *c, json_object *req)
{
	return vm_stop_req(d, c, req, true);
}

static json_object *started(int pid)
{
	json_object *r = reply_ok();

	json_object_object_add(r, "pid", json_object_new_int(pid));
	return r;
}

/* A stopped VM starts at once; a running one once its stop has ended. */
json_object *op_vm_restart(struct vsnixd *d, struct conn *c, json_object *req)
{
	const char *name = arg_name(req, "name");
	char err[POOL_ERR_LEN];
	struct vmproc *v;
	int pid;

	if (!name)
		return reply_err(EINVAL, "vm.restart: \"name\": a VM name expected");
	v = vmproc_running(d, name);
	if (!v) {
		pid = vm_start(d, c, "vm.restart", name, err, sizeof(err));
		return pid < 0 ? reply_err(-pid, "%s", err) : started(pid);
	}
	vmproc_stop(d, v);
	db_exec(d, "UPDATE vms SET state = 'stopping' WHERE name = ?", "s", name);
	snprintf(c->waits_stop, sizeof(c->waits_stop), "%s", name);
	c->restart = true;
	return NULL;	/* vm_restart_done() replies */
}

/* The restarting VM ended (conn_vm_ended): start it again, reply. */
json_object *vm_restart_done(struct vsnixd *d, struct conn *c, const char *name)
{
	char err[POOL_ERR_LEN];
	int pid;

	c->restart = false;
	if (d->quit) {
		db_audit(d, c, "vm.restart", name, "refused: vsnixd is stopping");
		return reply_err(ECANCELED, "vm.restart %s: vsnixd is stopping", name);
	}
	pid = vm_start(d, c, "vm.restart", name, err, sizeof(err));
	return pid < 0 ? reply_err(-pid, "%s", err) : started(pid);
}

/* The row, the last runs (newest first), the console bytes ever written. */
json_object *op_vm_status(struct vsnixd *d, struct conn *c, json_object *req)
{
	const char *name = arg_name(req, "name");
	json_object *row, *runs, *r;
	struct vmproc *v;

	(void)c;
	if (!name)
		return reply_err(EINVAL, "vm.status: \"name\": a VM name expected");
	row = db_row(d, "SELECT name, pool, entry, state, pid, exit_code, reason,"
		     " autostart, created_at, started_at, stopped_at FROM vms"
		     " WHERE name = ?", "s", name);
	if (!row)
		return reply_err(ENOENT, "no VM named %s", name);
	runs = db_query(d, "SELECT id, cause, pid, started_at, stopped_at, exit_code,"
			" reason FROM runs WHERE vm = ? ORDER BY id DESC LIMIT ?", "si",
			name, (int64_t)STATUS_RUNS);
	if (!runs) {
		json_object_put(row);
		return reply_err(EIO, "vm.status %s: database error", name);
	}
	v = vmproc_find(d, name);
	json_object_object_add(row, "console_bytes",
			       json_object_new_int64(v ? (int64_t)v->ring.total : 0));
	json_object_object_add(row, "runs", runs);
	r = reply_ok();
	json_object_object_add(r, "vm", row);
	return r;
}

json_object *op_vm_autostart(struct vsnixd *d, struct conn *c, json_object *req)
{
	const char *name = arg_name(req, "name");
	json_object *on = json_object_object_get(req, "autostart");

	if (!name)
		return reply_err(EINVAL, "vm.autostart: \"name\": a VM name expected");
	if (!json_object_is_type(on, json_type_boolean))
		return reply_err(EINVAL, "vm.autostart %s: \"autostart\": true or false expected",
				 name);
	if (db_exec(d, "UPDATE vms SET autostart = ? WHERE name = ?", "is",
		    (int64_t)json_object_get_boolean(on), name)) {
		db_audit(d, c, "vm.autostart", name, "database error");
		return reply_err(EIO, "vm.autostart %s: database error", name);
	}
	if (!sqlite3_changes(d->db)) {
		db_audit(d, c, "vm.autostart", name, "refused: no such VM");
		return reply_err(ENOENT, "no VM named %s", name);
	}
	db_audit(d, c, "vm.autostart", name, json_object_get_boolean(on) ? "ok: on" :
		 "ok: off");
	return reply_ok();
}
