/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsnixd: the service that owns VMs (Documentation/vsnixd.rst). One
 * single-threaded poll loop serves a Unix socket (one JSON object per
 * line), keeps its state and audit log in SQLite, and runs each VM as a
 * `vsnixctl run` child whose console it keeps in a ring buffer.
 */
#ifndef VSNIXD_H
#define VSNIXD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>
#include <sqlite3.h>

#include "proto.h"

struct pool_vm;

#define VSNIXD_RING_SIZE	(64 * 1024)	/* console bytes kept per VM */
#define VSNIXD_LINE_MAX		(64 * 1024)	/* longest request line */
#define VSNIXD_STOP_GRACE_S	5		/* SIGTERM, then SIGKILL */
#define VSNIXD_NAME_MAX		63
#define VSNIXD_RECOVER_REASON	"vsnixd restarted while it ran"
#define VSNIXD_MAX_SCRATCH	8	/* = POOL_MAX_DISKS */

struct vsnixd_opts {
	const char *socket;	/* --socket */
	const char *db;		/* --db */
	const char *pools_dir;	/* --pools: NAME.img + NAME.json */
	const char *mount_dir;	/* --mount-dir: pools mounted at DIR/NAME */
	const char *state_dir;	/* --state-dir: per-VM overlay copies */
	const char *vmm;	/* --vmm: the vsnixctl binary run per VM */
	const char *group;	/* --group: allowed besides root */
	bool mounted;		/* --mounted: pools are mounted already */
};

struct ring {
	char buf[VSNIXD_RING_SIZE];
	size_t head;		/* next byte written */
	uint64_t total;		/* bytes ever written */
};

/*
 * A VM that ran in this daemon's life: its vsnixctl child and console pipe
 * while it runs, its console ring until it starts again or is deleted.
 */
struct vmproc {
	char name[VSNIXD_NAME_MAX + 1];
	bool running;
	pid_t pid;
	int con_fd;		/* -1 once the pipe hit EOF */
	int in_fd;		/* its stdin (console input); -1: none */
	bool stopping;
	bool killed;		/* vm.kill: SIGKILL at once */
	int64_t kill_at;	/* monotonic ms of the SIGKILL; 0: none */
	char *scratch[VSNIXD_MAX_SCRATCH];	/* removed at its end */
	unsigned int nr_scratch;
	struct ring ring;
	struct vmproc *next;
};

/* A client connection. */
struct conn {
	int fd;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char buf[VSNIXD_LINE_MAX];
	size_t len;
	char console[VSNIXD_NAME_MAX + 1];	/* following this VM's console */
	char input[VSNIXD_NAME_MAX + 1];	/* its bytes are this VM's input */
	char waits_stop[VSNIXD_NAME_MAX + 1];	/* reply when this VM ends */
	bool restart;				/* ... and start it again */
	bool dead;
	struct conn *next;
};

struct vsnixd {
	struct vsnixd_opts opt;
	int listen_fd;
	bool inherited;		/* listen_fd came from systemd (LISTEN_FDS) */
	char socket_path[108];	/* an inherited socket's own path */
	int signal_fd;
	gid_t group_gid;	/* (gid_t)-1: no such group */
	bool quit;
	sqlite3 *db;
	struct conn *conns;
	struct vmproc *vms;
};

/* db.c */
int db_open(struct vsnixd *d);
void db_close(struct vsnixd *d);
int db_recover(struct vsnixd *d);
void db_audit(struct vsnixd *d, const struct conn *c, const char *action,
	      const char *object, const char *result);
int db_exec(struct vsnixd *d, const char *sql, const char *fmt, ...);
json_object *db_query(struct vsnixd *d, const char *sql, const char *fmt, ...);
json_object *db_row(struct vsnixd *d, const char *sql, const char *fmt, ...);

/* ops.c */
json_object *ops_dispatch(struct vsnixd *d, struct conn *c, json_object *req);
const char *arg_name(json_object *req, const char *key);
int vm_create(struct vsnixd *d, const struct conn *c, const char *pool,
	      const char *entry, const char *name, int autostart,
	      char *err, size_t len);
int vm_start(struct vsnixd *d, const struct conn *c, const char *action,
	     const char *name, char *err, size_t len);
json_object *vm_restart_done(struct vsnixd *d, struct conn *c, const char *name);

/* ops_vm.c */
json_object *op_vm_kill(struct vsnixd *d, struct conn *c, json_object *req);
json_object *op_vm_restart(struct vsnixd *d, struct conn *c, json_object *req);
json_object *op_vm_status(struct vsnixd *d, struct conn *c, json_object *req);
json_object *op_vm_autostart(struct vsnixd *d, struct conn *c, json_object *req);
json_object *vm_stop_req(struct vsnixd *d, struct conn *c, json_object *req,
			 bool kill_now);

/* autostart.c */
void autostart_pool(struct vsnixd *d, const struct pool_vm *vms, unsigned int nr,
		    const char *pool, json_object *started);
void autostart_all(struct vsnixd *d);
json_object *reply_err(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
json_object *reply_ok(void);

/* ops_pool.c */
json_object *op_pool_load(struct vsnixd *d, struct conn *c, json_object *req);
json_object *op_pool_unload(struct vsnixd *d, struct conn *c, json_object *req);
json_object *op_pool_list(struct vsnixd *d, struct conn *c, json_object *req);
int pools_recover(struct vsnixd *d);
int pool_mount_of(struct vsnixd *d, const char *pool, char *mnt, size_t len);

/* vmproc.c */
int vmproc_start(struct vsnixd *d, const char *name, char *const argv[],
		 bool input, char *err, size_t errlen);
void vmproc_take_scratch(struct vsnixd *d, const char *name, char **paths,
			 unsigned int *nr);
struct vmproc *vmproc_find(struct vsnixd *d, const char *name);
struct vmproc *vmproc_running(struct vsnixd *d, const char *name);
void vmproc_forget(struct vsnixd *d, const char *name);
int vmproc_stop(struct vsnixd *d, struct vmproc *v);
int vmproc_kill(struct vsnixd *d, struct vmproc *v);
void vmproc_read(struct vsnixd *d, struct vmproc *v);
void vmproc_reap(struct vsnixd *d);
void vmproc_tick(struct vsnixd *d, int64_t now_ms);
void vmproc_kill_all(struct vsnixd *d);
void ring_put(struct ring *r, const char *p, size_t n);
size_t ring_get(const struct ring *r, char *out, size_t len);

/* overlay.c */
int overlay_make(const char *src, const char *dst, bool fresh, char *err,
		 size_t len);
int overlay_path(char *buf, size_t len, const char *dir, const char *name,
		 const char *disk);
void overlay_remove_all(struct vsnixd *d, const char *name, json_object *config);

/* listen.c */
int listen_socket(struct vsnixd *d);

/* conn.c */
void conn_accept(struct vsnixd *d);
void conn_read(struct vsnixd *d, struct conn *c);
int conn_send(struct conn *c, const void *p, size_t n);
int conn_reply(struct conn *c, json_object *reply);
void conn_console(struct vsnixd *d, const char *vm, const char *p, size_t n);
void conn_flush_input(struct vsnixd *d, struct conn *c);
bool conn_wants_read(const struct conn *c);
void conn_vm_ended(struct vsnixd *d, const char *vm);
void conn_reap(struct vsnixd *d);

int64_t now_ms(void);
bool vsnixd_name_ok(const char *s);

#endif
