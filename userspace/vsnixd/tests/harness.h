/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host tests' harness (harness.c): vsnixd on a temporary socket and
 * database (tmp), requests as JSON text, TAP lines on stdout.
 */
#ifndef VSNIXD_TEST_HARNESS_H
#define VSNIXD_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sqlite3.h>

#include "proto.h"

extern char tmp[], sock[256], dbfile[256];
extern const char *vsnixd_bin, *vsnixctl_bin;
extern pid_t daemon_pid;
extern const char *daemon_group;
extern int nr, failed;

bool ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void skip(const char *what, const char *why);
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msleep(int ms);
json_object *call(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *str(json_object *o, const char *path);
bool is_ok(json_object *r);
bool err_is(json_object *r, int err, const char *text);
void start_daemon(void);
int stop_daemon(int sig);
int write_file(const char *path, const char *text, mode_t mode);
json_object *wait_state(const char *vm, const char *want);
char *console(const char *vm);
int64_t db_int(sqlite3 *db, const char *sql);
int64_t db_value(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool gone_within(pid_t pid, int ms);
int make_pool(const char *pool, int n, const char *const names[],
	      const char *const cmdlines[], const bool autostart[]);
int cli(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* autostart.c, cli.c, activation.c, disks.c */
void test_autostart(void);
void test_autostart_restart(pid_t old_c_pid);
pid_t autostart_pid(const char *vm);
void test_kill_restart(void);
void test_cli(void);
void test_activation(void);
void test_disks(void);

#endif
