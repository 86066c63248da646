// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixd's state in SQLite: pools, VMs and the append-only audit log.
 * The schema is versioned with PRAGMA user_version; the database runs in
 * WAL mode so a crash never leaves it half-written and readers (sqlite3,
 * `vsnixctl audit`) do not block the daemon.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vsnixd.h"

#define SCHEMA_VERSION	2

static const char schema_v1[] =
	"CREATE TABLE pools ("
	" name TEXT PRIMARY KEY,"
	" dir TEXT NOT NULL,"
	" mount TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('loaded', 'unloaded', 'error')),"
	" nr_vms INTEGER NOT NULL DEFAULT 0,"
	" error TEXT,"
	" loaded_at INTEGER, unloaded_at INTEGER);"
	"CREATE TABLE vms ("
	" name TEXT PRIMARY KEY,"
	" pool TEXT NOT NULL REFERENCES pools(name),"
	" entry TEXT NOT NULL,"
	" config TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN"
	"  ('created', 'running', 'stopping', 'stopped')),"
	" pid INTEGER, exit_code INTEGER, reason TEXT,"
	" created_at INTEGER NOT NULL, started_at INTEGER, stopped_at INTEGER);"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time INTEGER NOT NULL,"
	" uid INTEGER NOT NULL, pid INTEGER NOT NULL,"
	" action TEXT NOT NULL, object TEXT, result TEXT NOT NULL);"
	"CREATE INDEX audit_object ON audit(object, time);"
	/* Append-only: the database itself refuses edits of the log. */
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"PRAGMA user_version = 1;";

/*
 * Version 2: a VM's autostart flag, and one row per run of a VM (kept
 * after the VM is deleted): a run is open (stopped_at NULL) exactly while
 * its VM runs; every closed run has a reason.
 */
static const char schema_v2[] =
	"ALTER TABLE vms ADD COLUMN autostart INTEGER NOT NULL DEFAULT 0"
	" CHECK (autostart IN (0, 1));"
	"CREATE TABLE runs ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" vm TEXT NOT NULL,"
	" cause TEXT NOT NULL,"
	" pid INTEGER,"
	" started_at INTEGER NOT NULL, stopped_at INTEGER,"
	" exit_code INTEGER, reason TEXT,"
	" CHECK ((stopped_at IS NULL) = (reason IS NULL)));"
	"CREATE INDEX runs_vm ON runs(vm, id);"
	"PRAGMA user_version = 2;";

/* The steps from version i to i + 1. */
static const char *const migrations[SCHEMA_VERSION] = { schema_v1, schema_v2 };

static int bind_args(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	int i, rc = SQLITE_OK;

	for (i = 0; fmt && fmt[i] && rc == SQLITE_OK; i++) {
		switch (fmt[i]) {
		case 's':
			rc = sqlite3_bind_text(st, i + 1, va_arg(ap, const char *),
					       -1, SQLITE_TRANSIENT);
			break;
		case 'i':
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		default:
			rc = SQLITE_MISUSE;
		}
	}
	return rc;
}

static sqlite3_stmt *prepare(struct vsnixd *d, const char *sql,
			     const char *fmt, va_list ap)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "vsnixd: sqlite: %s: %s\n", sql, sqlite3_errmsg(d->db));
		return NULL;
	}
	if (bind_args(st, fmt, ap) != SQLITE_OK) {
		fprintf(stderr, "vsnixd: sqlite bind: %s\n", sqlite3_errmsg(d->db));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* One statement, no rows; 0 or -EIO. fmt: 's' text, 'i' int64 per '?'. */
int db_exec(struct vsnixd *d, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	st = prepare(d, sql, fmt, ap);
	va_end(ap);
	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		fprintf(stderr, "vsnixd: sqlite: %s: %s\n", sql, sqlite3_errmsg(d->db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

static json_object *column(sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		return json_object_new_int64(sqlite3_column_int64(st, i));
	case SQLITE_NULL:
		return NULL;
	default:
		return json_object_new_string((const char *)sqlite3_column_text(st, i));
	}
}

static json_object *vquery(struct vsnixd *d, const char *sql, const char *fmt,
			   va_list ap)
{
	json_object *rows, *row;
	sqlite3_stmt *st;
	int i, rc;

	st = prepare(d, sql, fmt, ap);
	if (!st)
		return NULL;
	rows = json_object_new_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row = json_object_new_object();
		for (i = 0; i < sqlite3_column_count(st); i++)
			json_object_object_add(row, sqlite3_column_name(st, i),
					       column(st, i));
		json_object_array_add(rows, row);
	}
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "vsnixd: sqlite: %s: %s\n", sql, sqlite3_errmsg(d->db));
		json_object_put(rows);
		rows = NULL;
	}
	sqlite3_finalize(st);
	return rows;
}

/* The rows as a JSON array of objects (column: value); NULL on error. */
json_object *db_query(struct vsnixd *d, const char *sql, const char *fmt, ...)
{
	json_object *rows;
	va_list ap;

	va_start(ap, fmt);
	rows = vquery(d, sql, fmt, ap);
	va_end(ap);
	return rows;
}

/* The first row as a JSON object, or NULL when there is none. */
json_object *db_row(struct vsnixd *d, const char *sql, const char *fmt, ...)
{
	json_object *rows, *row = NULL;
	va_list ap;

	va_start(ap, fmt);
	rows = vquery(d, sql, fmt, ap);
	va_end(ap);
	if (rows && json_object_array_length(rows))
		row = json_object_get(json_object_array_get_idx(rows, 0));
	json_object_put(rows);
	return row;
}

/* Who (the peer's SO_PEERCRED, or vsnixd itself), what, when, result. */
void db_audit(struct vsnixd *d, const struct conn *c, const char *action,
	      const char *object, const char *result)
{
	int64_t uid = c ? (int64_t)c->uid : (int64_t)getuid();
	int64_t pid = c ? (int64_t)c->pid : (int64_t)getpid();

	if (db_exec(d, "INSERT INTO audit (time, uid, pid, action, object, result)"
		    " VALUES (?, ?, ?, ?, ?, ?)", "iiisss", (int64_t)time(NULL),
		    uid, pid, action, object ? object : "", result))
		fprintf(stderr, "vsnixd: audit row lost: %s %s %s\n", action,
			object ? object : "", result);
}

/* From version to SCHEMA_VERSION, step by step, in one transaction. */
static int migrate(struct vsnixd *d, int version)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(d->db, "BEGIN IMMEDIATE;", NULL, NULL, &msg);
	for (; !rc && version < SCHEMA_VERSION; version++)
		rc = sqlite3_exec(d->db, migrations[version], NULL, NULL, &msg);
	if (!rc)
		rc = sqlite3_exec(d->db, "COMMIT;", NULL, NULL, &msg);
	if (!rc)
		return 0;
	fprintf(stderr, "vsnixd: %s: schema version %d: %s\n", d->opt.db,
		version + 1, msg ? msg : sqlite3_errmsg(d->db));
	sqlite3_free(msg);
	sqlite3_exec(d->db, "ROLLBACK;", NULL, NULL, NULL);
	return -EIO;
}

static int schema(struct vsnixd *d)
{
	sqlite3_stmt *st;
	int version;

	if (sqlite3_prepare_v2(d->db, "PRAGMA user_version", -1, &st, NULL))
		return -EIO;
	sqlite3_step(st);
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version == SCHEMA_VERSION)
		return 0;
	if (version > SCHEMA_VERSION || version < 0) {
		fprintf(stderr, "vsnixd: %s: schema version %d is newer than this vsnixd's (%d)\n",
			d->opt.db, version, SCHEMA_VERSION);
		return -EPROTO;
	}
	return migrate(d, version);
}

int db_open(struct vsnixd *d)
{
	char *msg = NULL;

	if (sqlite3_open_v2(d->opt.db, &d->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL)) {
		fprintf(stderr, "vsnixd: %s: %s\n", d->opt.db, sqlite3_errmsg(d->db));
		return -EIO;
	}
	sqlite3_busy_timeout(d->db, 5000);
	if (sqlite3_exec(d->db, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
			 " PRAGMA synchronous = NORMAL;", NULL, NULL, &msg)) {
		fprintf(stderr, "vsnixd: %s: %s\n", d->opt.db, msg);
		sqlite3_free(msg);
		return -EIO;
	}
	return schema(d);
}

void db_close(struct vsnixd *d)
{
	sqlite3_close(d->db);
	d->db = NULL;
}

/*
 * At start: a VM the database says runs has lost its vsnixctl child (it
 * dies with the daemon: PR_SET_PDEATHSIG), so it is stopped, and why; so
 * is every run still open.
 */
int db_recover(struct vsnixd *d)
{
	json_object *rows = db_query(d, "SELECT name FROM vms WHERE state IN"
				     " ('running', 'stopping')", NULL);
	int64_t now = time(NULL);
	size_t i;

	if (!rows || db_exec(d, "BEGIN IMMEDIATE", NULL)) {
		json_object_put(rows);
		return -EIO;
	}
	for (i = 0; i < json_object_array_length(rows); i++) {
		const char *name = json_object_get_string(json_object_object_get(
			json_object_array_get_idx(rows, i), "name"));

		db_exec(d, "UPDATE vms SET state = 'stopped', pid = NULL,"
			" reason = '" VSNIXD_RECOVER_REASON "', stopped_at = ?"
			" WHERE name = ?", "is", now, name);
		db_audit(d, NULL, "vm.recover", name, "stopped: " VSNIXD_RECOVER_REASON);
	}
	db_exec(d, "UPDATE runs SET stopped_at = ?, reason = '" VSNIXD_RECOVER_REASON "'"
		" WHERE stopped_at IS NULL", "i", now);
	json_object_put(rows);
	return db_exec(d, "COMMIT", NULL);
}
