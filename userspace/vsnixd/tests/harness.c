// SPDX-License-Identifier: GPL-2.0
/*
 * The host tests' harness (vsnixd_host): TAP lines, a daemon on a
 * temporary socket and database, requests and their replies.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"
#include "../pool/pool.h"

char tmp[] = "/tmp/vsnixd-test-XXXXXX";
char sock[256], dbfile[256];
const char *vsnixd_bin, *vsnixctl_bin;
pid_t daemon_pid;
const char *daemon_group = "no-such-group-vsnixd";
int nr, failed;

bool ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d ", cond ? "ok" : "not ok", ++nr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	failed += !cond;
	return cond;
}

void skip(const char *what, const char *why)
{
	printf("ok %d %s # SKIP %s\n", ++nr, what, why);
}

int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A request from JSON text; the reply (caller puts it), never NULL. */
json_object *call(const char *fmt, ...)
{
	json_object *req, *reply = NULL;
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	req = json_tokener_parse(text);
	if (!req || vsnixd_call(sock, req, &reply, NULL))
		reply = json_object_new_object();
	json_object_put(req);
	return reply;
}

const char *str(json_object *o, const char *path)
{
	char key[64], *dot;
	const char *p = path;

	while (o && (dot = strchr(p, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - p), p);
		o = json_object_object_get(o, key);
		p = dot + 1;
	}
	o = o ? json_object_object_get(o, p) : NULL;
	return o ? json_object_get_string(o) : "";
}

bool is_ok(json_object *r)
{
	return !strcmp(str(r, "ok"), "true");
}

/* The reply is an error with this errno and text. */
bool err_is(json_object *r, int err, const char *text)
{
	char want[16];

	snprintf(want, sizeof(want), "%d", err);
	return !is_ok(r) && !strcmp(str(r, "errno"), want) &&
	       strstr(str(r, "error"), text);
}

void start_daemon(void)
{
	char pools[300], mnt[300], state[300], vmm[300];
	int i, fd;

	snprintf(pools, sizeof(pools), "%s/pools", tmp);
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmp);
	snprintf(state, sizeof(state), "%s/vms", tmp);
	snprintf(vmm, sizeof(vmm), "%s/fakevmm", tmp);
	daemon_pid = fork();
	if (daemon_pid == 0) {
		execl(vsnixd_bin, vsnixd_bin, "--socket", sock, "--db", dbfile,
		      "--pools", pools, "--mount-dir", mnt, "--state-dir", state,
		      "--vmm", vmm, "--group", daemon_group, "--mounted",
		      (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		fd = vsnixd_connect(sock);
		if (fd >= 0) {
			close(fd);
			return;
		}
		msleep(50);
	}
}

int stop_daemon(int sig)
{
	int st = 0;

	kill(daemon_pid, sig);
	waitpid(daemon_pid, &st, 0);
	return st;
}

int write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	fclose(f);
	return chmod(path, mode);
}

/* Polls vm.show until the state is want (5 s at most); the last reply. */
json_object *wait_state(const char *vm, const char *want)
{
	json_object *r = NULL;
	int i;

	for (i = 0; i < 100; i++) {
		json_object_put(r);
		r = call("{ \"op\": \"vm.show\", \"name\": \"%s\" }", vm);
		if (!strcmp(str(r, "vm.state"), want))
			break;
		msleep(50);
	}
	return r;
}

char *console(const char *vm)
{
	static char buf[8192];
	json_object *req, *r = NULL;
	ssize_t n, len = 0;
	int fd = -1;

	buf[0] = '\0';
	req = json_tokener_parse("{ \"op\": \"vm.console\" }");
	json_object_object_add(req, "name", json_object_new_string(vm));
	if (!vsnixd_call(sock, req, &r, &fd) && is_ok(r)) {
		while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += n;
		buf[len] = '\0';
	}
	if (fd >= 0)
		close(fd);
	json_object_put(req);
	json_object_put(r);
	return buf;
}

int64_t db_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

bool gone_within(pid_t pid, int ms)
{
	for (; ms > 0; ms -= 50) {
		if (kill(pid, 0) && errno == ESRCH)
			return true;
		msleep(50);
	}
	return false;
}


/* One value from the daemon's database, read beside it (WAL). */
int64_t db_value(const char *fmt, ...)
{
	char sql[512];
	sqlite3 *db;
	va_list ap;
	int64_t v;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (sqlite3_open_v2(dbfile, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 2000);
	v = db_int(db, sql);
	sqlite3_close(db);
	return v;
}

/*
 * vsnixctl ARGS on the test's socket; its stdout and stderr in out (up to
 * len - 1 bytes), its exit status returned (-1: it could not run).
 */
int cli(char *out, size_t len, const char *fmt, ...)
{
	char args[1024], cmd[1536];
	size_t n = 0;
	va_list ap;
	FILE *f;
	int st;

	out[0] = '\0';
	if (!vsnixctl_bin)
		return -1;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "VSNIXD_SOCKET=%s %s %s 2>&1", sock, vsnixctl_bin, args);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (n < len - 1 && !feof(f) && !ferror(f))
		n += fread(out + n, 1, len - 1 - n, f);
	out[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int write_vmcfg(const char *root, const char *name, const char *hash,
		       const char *cmdline, bool autostart)
{
	char path[400], text[1024];

	snprintf(path, sizeof(path), "%s/%s_vmcfg.cfg", root, hash);
	snprintf(text, sizeof(text),
		 "{ \"format\": 1, \"name\": \"%s\", \"hash\": \"%s\","
		 " \"kind\": \"unikernel\", \"kernel\": \"kernels/%s.vmLinuz\","
		 " \"cmdline\": \"%s\", \"memory_mib\": 32, \"vcpus\": 1,"
		 " \"autostart\": %s, \"disks\": [], \"nics\": [] }",
		 name, hash, hash, cmdline, autostart ? "true" : "false");
	if (write_file(path, text, 0644))
		return -1;
	snprintf(path, sizeof(path), "%s/kernels/%s.vmLinuz", root, hash);
	return write_file(path, "not a kernel\n", 0644);
}

/* A mounted pool's tree at tmp/mnt/POOL: n unikernel entries. */
int make_pool(const char *pool, int n, const char *const names[],
	      const char *const cmdlines[], const bool autostart[])
{
	char root[300], path[400], text[2048], hash[POOL_HASH_LEN + 1];
	size_t len;
	int i;

	snprintf(root, sizeof(root), "%s/mnt/%s", tmp, pool);
	if (sh("mkdir -p %s/kernels", root))
		return -1;
	len = snprintf(text, sizeof(text), "{ \"format\": 1, \"pool\": \"%s\", \"vms\": [",
		       pool);
	for (i = 0; i < n; i++) {
		pool_hash_name(names[i], hash);
		if (write_vmcfg(root, names[i], hash, cmdlines[i], autostart[i]))
			return -1;
		len += snprintf(text + len, sizeof(text) - len,
				"%s { \"name\": \"%s\", \"hash\": \"%s\","
				" \"config\": \"%s_vmcfg.cfg\" }", i ? "," : "",
				names[i], hash, hash);
	}
	snprintf(text + len, sizeof(text) - len, " ] }");
	snprintf(path, sizeof(path), "%s/vms.json", root);
	return write_file(path, text, 0644);
}
