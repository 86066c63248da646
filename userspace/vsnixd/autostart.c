// SPDX-License-Identifier: GPL-2.0
/*
 * autostart (Documentation/vsnixd.rst): a VM whose autostart flag is set
 * is started by vsnixd itself when its pool loads and when vsnixd starts
 * (after a crash or a reboot, once the pools are back). A pool entry with
 * "autostart": true becomes a VM of the entry's name at its pool's load,
 * unless a VM of that name exists. Each start, or why not, is one audit
 * row under the action "autostart" with vsnixd's own uid and pid; the
 * run's cause is "autostart".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vsnixd.h"
#include "../pool/pool.h"

static void start_one(struct vsnixd *d, const char *name, json_object *started)
{
	char err[POOL_ERR_LEN];
	int pid;

	pid = vm_start(d, NULL, "autostart", name, err, sizeof(err));
	if (pid > 0 && started)
		json_object_array_add(started, json_object_new_string(name));
	if (pid < 0)
		fprintf(stderr, "vsnixd: %s\n", err);
}

/*
 * The autostart VMs of the pool (or, NULL, of every pool) that do not run;
 * one whose pool's reload failed is audited, not started.
 */
static void start_flagged(struct vsnixd *d, const char *pool, json_object *started)
{
	json_object *rows, *row;
	char why[POOL_ERR_LEN];
	const char *name, *state;
	size_t i;

	rows = db_query(d, "SELECT vms.name, vms.pool, pools.state, pools.error FROM vms"
			" JOIN pools ON vms.pool = pools.name WHERE vms.autostart = 1"
			" AND (?1 = '' OR vms.pool = ?1) ORDER BY vms.name", "s",
			pool ? pool : "");
	for (i = 0; rows && i < json_object_array_length(rows); i++) {
		row = json_object_array_get_idx(rows, i);
		name = json_object_get_string(json_object_object_get(row, "name"));
		if (vmproc_running(d, name))
			continue;
		state = json_object_get_string(json_object_object_get(row, "state"));
		if (!strcmp(state, "loaded"))
			start_one(d, name, started);
		if (strcmp(state, "error"))
			continue;	/* an unloaded pool's VMs wait for its load */
		snprintf(why, sizeof(why), "refused: pool %s is not loaded%s%s",
			 json_object_get_string(json_object_object_get(row, "pool")),
			 json_object_object_get(row, "error") ? ": " : "",
			 json_object_get_string(json_object_object_get(row, "error")) ?: "");
		db_audit(d, NULL, "autostart", name, why);
	}
	json_object_put(rows);
}

/*
 * pool.load: the entries marked autostart become VMs (where no VM has
 * their name), then the pool's autostart VMs start; started: their names.
 */
void autostart_pool(struct vsnixd *d, const struct pool_vm *vms, unsigned int nr,
		    const char *pool, json_object *started)
{
	char err[POOL_ERR_LEN];
	json_object *old;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		if (!vms[i].autostart)
			continue;
		old = db_row(d, "SELECT pool FROM vms WHERE name = ?", "s", vms[i].name);
		if (old) {
			json_object_put(old);
			continue;	/* its own flag decides */
		}
		if (vm_create(d, NULL, pool, vms[i].name, vms[i].name, 1, err, sizeof(err)))
			fprintf(stderr, "vsnixd: autostart: %s\n", err);
	}
	start_flagged(d, pool, started);
}

/* At vsnixd's start, after the pools are back. */
void autostart_all(struct vsnixd *d)
{
	start_flagged(d, NULL, NULL);
}
