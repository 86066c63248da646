// SPDX-License-Identifier: GPL-2.0
/*
 * Pool requests on the pool library (userspace/pool, pools.rst): load
 * mounts DIR/NAME.img at MOUNT_DIR/NAME through pool_load() (or, with
 * --mounted, reads a pool an administrator mounted there), unload
 * unmounts it once no VM of the pool runs.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "vsnixd.h"
#include "../pool/pool.h"

int pool_mount_of(struct vsnixd *d, const char *pool, char *mnt, size_t len)
{
	json_object *row = db_row(d, "SELECT mount FROM pools WHERE name = ?"
				  " AND state = 'loaded'", "s", pool);

	if (!row)
		return -ENOENT;
	snprintf(mnt, len, "%s", json_object_get_string(
			 json_object_object_get(row, "mount")));
	json_object_put(row);
	return 0;
}

/* Mounts (or, --mounted, reads) the pool; p is filled. */
static int load(struct vsnixd *d, const char *name, struct pool *p,
		char *mnt, size_t len, struct pool_err *e)
{
	snprintf(mnt, len, "%s/%s", d->opt.mount_dir, name);
	mkdir(d->opt.mount_dir, 0755);
	if (d->opt.mounted) {
		memset(p, 0, sizeof(*p));
		return pool_read_mounted(p, mnt, e);
	}
	if (mkdir(mnt, 0755) && errno != EEXIST) {
		pool_error(e, "%s: %s", mnt, strerror(errno));
		return -errno;
	}
	return pool_load(p, d->opt.pools_dir, name, mnt, e);
}

static int record(struct vsnixd *d, const char *name, const char *mnt,
		  unsigned int nr_vms)
{
	return db_exec(d, "INSERT INTO pools (name, dir, mount, state, nr_vms,"
		       " loaded_at) VALUES (?, ?, ?, 'loaded', ?, ?)"
		       " ON CONFLICT (name) DO UPDATE SET dir = excluded.dir,"
		       " mount = excluded.mount, state = 'loaded', error = NULL,"
		       " nr_vms = excluded.nr_vms, loaded_at = excluded.loaded_at",
		       "sssii", name, d->opt.pools_dir, mnt, (int64_t)nr_vms,
		       (int64_t)time(NULL));
}

json_object *op_pool_load(struct vsnixd *d, struct conn *c, json_object *req)
{
	const char *name = arg_name(req, "name");
	struct pool_err e = { };
	char mnt[PATH_MAX];
	json_object *r, *vms, *started;
	struct pool p;
	unsigned int i;

	if (!name)
		return reply_err(EINVAL, "pool.load: \"name\": a pool name expected");
	if (!pool_mount_of(d, name, mnt, sizeof(mnt))) {
		db_audit(d, c, "pool.load", name, "refused: already loaded");
		return reply_err(EBUSY, "pool %s is already loaded at %s", name, mnt);
	}
	if (load(d, name, &p, mnt, sizeof(mnt), &e)) {
		db_audit(d, c, "pool.load", name, e.msg);
		return reply_err(EINVAL, "%s", e.msg);
	}
	record(d, name, mnt, p.nr_vms);
	db_audit(d, c, "pool.load", name, "ok");
	r = reply_ok();
	vms = json_object_new_array();
	for (i = 0; i < p.nr_vms; i++)
		json_object_array_add(vms, json_object_new_string(p.vms[i].name));
	json_object_object_add(r, "mount", json_object_new_string(mnt));
	json_object_object_add(r, "vms", vms);
	started = json_object_new_array();
	autostart_pool(d, p.vms, p.nr_vms, name, started);
	json_object_object_add(r, "started", started);
	pool_free(&p);
	return r;
}

json_object *op_pool_unload(struct vsnixd *d, struct conn *c, json_object *req)
{
	const char *name = arg_name(req, "name");
	struct pool_err e = { };
	json_object *busy;
	char mnt[PATH_MAX];

	if (!name)
		return reply_err(EINVAL, "pool.unload: \"name\": a pool name expected");
	if (pool_mount_of(d, name, mnt, sizeof(mnt)))
		return reply_err(ENOENT, "pool %s is not loaded", name);
	busy = db_row(d, "SELECT name FROM vms WHERE pool = ? AND state IN"
		      " ('running', 'stopping')", "s", name);
	if (busy) {
		json_object_put(busy);
		db_audit(d, c, "pool.unload", name, "refused: VMs run");
		return reply_err(EBUSY, "pool %s has running VMs", name);
	}
	if (!d->opt.mounted && pool_unload(mnt, &e)) {
		db_audit(d, c, "pool.unload", name, e.msg);
		return reply_err(EIO, "%s", e.msg);
	}
	db_exec(d, "UPDATE pools SET state = 'unloaded', unloaded_at = ? WHERE name = ?",
		"is", (int64_t)time(NULL), name);
	db_audit(d, c, "pool.unload", name, "ok");
	return reply_ok();
}

json_object *op_pool_list(struct vsnixd *d, struct conn *c, json_object *req)
{
	json_object *rows, *r;

	(void)c;
	(void)req;
	rows = db_query(d, "SELECT name, state, mount, nr_vms, error, loaded_at,"
			" unloaded_at FROM pools ORDER BY name", NULL);
	if (!rows)
		return reply_err(EIO, "database error");
	r = reply_ok();
	json_object_object_add(r, "pools", rows);
	return r;
}

static bool is_mounted(const char *mnt)
{
	char line[PATH_MAX * 2], want[PATH_MAX + 2];
	bool found = false;
	FILE *f = fopen("/proc/self/mounts", "r");

	snprintf(want, sizeof(want), " %s ", mnt);
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, want) != NULL;
	if (f)
		fclose(f);
	return found;
}

/* At start: the pools the database says are loaded are loaded again. */
int pools_recover(struct vsnixd *d)
{
	json_object *rows = db_query(d, "SELECT name, mount FROM pools WHERE"
				     " state = 'loaded'", NULL);
	char mnt[PATH_MAX];
	struct pool_err e;
	struct pool p;
	size_t i;

	for (i = 0; rows && i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i);
		const char *name = json_object_get_string(json_object_object_get(row, "name"));
		const char *old = json_object_get_string(json_object_object_get(row, "mount"));

		memset(&e, 0, sizeof(e));
		if (!d->opt.mounted && is_mounted(old))
			continue;	/* it outlived the daemon */
		if (load(d, name, &p, mnt, sizeof(mnt), &e)) {
			db_exec(d, "UPDATE pools SET state = 'error', error = ?"
				" WHERE name = ?", "ss", e.msg, name);
			db_audit(d, NULL, "pool.recover", name, e.msg);
			continue;
		}
		record(d, name, mnt, p.nr_vms);
		db_audit(d, NULL, "pool.recover", name, "ok");
		pool_free(&p);
	}
	json_object_put(rows);
	return rows ? 0 : -EIO;
}
