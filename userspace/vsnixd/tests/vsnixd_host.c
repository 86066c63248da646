// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of vsnixd (make check): the daemon on a temporary socket and
 * database, without /dev/vsnix. Its --vmm is a shell script standing in
 * for vsnixctl, so VMs "run" as processes the daemon really forks, stops
 * and reaps; pools are read with --mounted from a tree made here. Covers
 * protocol errors, the SO_PEERCRED refusal (as root), the audit rows, the
 * database's schema and append-only log, and the state after SIGKILL and
 * a restart. TAP on stdout.
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sqlite3.h>

#include "harness.h"
#include "../pool/pool.h"

/*
 * The VMM vsnixd runs (as it would run vsnixctl): "forever" runs until a
 * signal; "writedisk" adds one to the digit at byte 4096 of its --disk
 * (disks.c), says the new count and ends (or, with "hold", runs on);
 * "echo" answers each line of its stdin; anything else exits 3.
 */
#define FAKE_VMM "#!/bin/sh\necho \"FAKE-VM $*\"\n"					\
	"case \"$*\" in\n"								\
	"*'--cmdline writedisk'*)\n"						\
	"	prev=; for a; do [ \"$prev\" = --disk ] && disk=${a%,ro}; prev=$a; done\n" \
	"	n=$(dd if=\"$disk\" bs=1 skip=4096 count=1 2>/dev/null | tr -cd 0-9)\n" \
	"	n=$((${n:-0} + 1))\n"							\
	"	printf %s $n | dd of=\"$disk\" bs=1 seek=4096 conv=notrunc 2>/dev/null\n" \
	"	echo \"DISK-COUNT $n\"\n"						\
	"	case \"$*\" in *hold*) exec sleep 1000 ;; esac\n"			\
	"	exit 0 ;;\n"								\
	"*'--cmdline echo'*)\n"							\
	"	echo READY\n"								\
	"	while read -r l; do echo \"GOT: $l\"; done\n"			\
	"	echo STDIN-EOF; exec sleep 1000 ;;\n"					\
	"*forever*) exec sleep 1000 ;;\n"						\
	"esac\nexit 3\n"

/*
 * mnt/p1: unikernel VMs "a" (runs) and "b" (exits 3); mnt/p2: "c" (runs,
 * autostart) and "d" (runs). The fake VMM runs "forever" until a signal.
 */
static int make_pools(void)
{
	static const char *const p1[] = { "a", "b" }, *const p1_cmd[] = { "forever", "exit3" };
	static const char *const p2[] = { "c", "d" }, *const p2_cmd[] = { "forever", "forever" };
	static const bool p1_auto[] = { false, false }, p2_auto[] = { true, false };
	char path[300];

	if (sh("mkdir -p %s/pools %s/vms", tmp, tmp) ||
	    make_pool("p1", 2, p1, p1_cmd, p1_auto) || make_pool("p2", 2, p2, p2_cmd, p2_auto))
		return -1;
	snprintf(path, sizeof(path), "%s/fakevmm", tmp);
	return write_file(path, FAKE_VMM, 0755);
}

static void test_protocol(void)
{
	json_object *r;
	int fd;

	r = call("{ \"op\": \"ping\" }");
	ok(is_ok(r) && !strcmp(str(r, "server"), "vsnixd") &&
	   !strcmp(str(r, "version"), "1"), "ping: ok, protocol version 1");
	json_object_put(r);
	fd = vsnixd_connect(sock);
	r = NULL;
	if (fd >= 0 && write(fd, "{ \"op\": \n", 9) == 9)
		vsnixd_recv(fd, &r);
	ok(r && err_is(r, EINVAL, "bad JSON"), "a truncated JSON line: EINVAL, bad JSON");
	json_object_put(r);
	r = NULL;
	if (fd >= 0 && write(fd, "[1, 2]\n", 7) == 7)
		vsnixd_recv(fd, &r);
	ok(r && err_is(r, EINVAL, "not an object"),
	   "a JSON array on the same connection: EINVAL, not an object");
	json_object_put(r);
	if (fd >= 0)
		close(fd);
	r = call("{ \"version\": 7, \"op\": \"ping\" }");
	ok(err_is(r, EPROTO, "version"), "protocol version 7: EPROTO");
	json_object_put(r);
	r = call("{ \"op\": \"vm.frobnicate\" }");
	ok(err_is(r, EOPNOTSUPP, "unknown op 'vm.frobnicate'"), "unknown op: EOPNOTSUPP");
	json_object_put(r);
	r = call("{ \"op\": \"vm.start\", \"name\": \"../etc\" }");
	ok(err_is(r, EINVAL, "a VM name expected"), "a name with a slash: EINVAL");
	json_object_put(r);
	r = call("{ \"op\": \"vm.start\", \"name\": 5 }");
	ok(err_is(r, EINVAL, "a VM name expected"), "a name that is a number: EINVAL");
	json_object_put(r);
}

static void test_pool(void)
{
	json_object *r;

	r = call("{ \"op\": \"pool.load\", \"name\": \"p1\" }");
	ok(is_ok(r) && strstr(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN), "[\"a\",\"b\"]"),
	   "pool.load p1: its VMs a and b");
	json_object_put(r);
	r = call("{ \"op\": \"pool.load\", \"name\": \"p1\" }");
	ok(err_is(r, EBUSY, "already loaded"), "pool.load p1 again: EBUSY");
	json_object_put(r);
	r = call("{ \"op\": \"pool.load\", \"name\": \"nope\" }");
	ok(err_is(r, EINVAL, "vms.json"), "pool.load of a pool that is not there: the file named");
	json_object_put(r);
	r = call("{ \"op\": \"vm.create\", \"pool\": \"p1\", \"vm\": \"a\" }");
	ok(is_ok(r), "vm.create a from p1");
	json_object_put(r);
	r = call("{ \"op\": \"vm.create\", \"pool\": \"p1\", \"vm\": \"a\" }");
	ok(err_is(r, EEXIST, "exists"), "vm.create a again: EEXIST");
	json_object_put(r);
	r = call("{ \"op\": \"vm.create\", \"pool\": \"p1\", \"vm\": \"zz\" }");
	ok(err_is(r, ENOENT, "has no VM 'zz'"), "vm.create of an entry not in the pool: ENOENT");
	json_object_put(r);
	r = call("{ \"op\": \"vm.create\", \"pool\": \"p1\", \"vm\": \"b\", \"name\": \"b1\" }");
	ok(is_ok(r), "vm.create b1 from entry b");
	json_object_put(r);
	r = call("{ \"op\": \"vm.show\", \"name\": \"b1\" }");
	ok(is_ok(r) && !strcmp(str(r, "vm.state"), "created") &&
	   !strcmp(str(r, "vm.config.cmdline"), "exit3"),
	   "vm.show b1: created, its config from the pool");
	json_object_put(r);
}

static void test_vms(void)
{
	json_object *r;

	r = call("{ \"op\": \"vm.start\", \"name\": \"a\" }");
	ok(is_ok(r) && atoi(str(r, "pid")) > 0, "vm.start a: a pid");
	json_object_put(r);
	r = call("{ \"op\": \"vm.start\", \"name\": \"a\" }");
	ok(err_is(r, EBUSY, "is running"), "vm.start a again: EBUSY");
	json_object_put(r);
	r = wait_state("a", "running");
	ok(!strcmp(str(r, "vm.state"), "running"), "vm.show a: running");
	json_object_put(r);
	msleep(200);
	ok(strstr(console("a"), "FAKE-VM run --kernel ") &&
	   strstr(console("a"), "/mnt/p1/kernels/") && strstr(console("a"), "--cmdline forever"),
	   "vm.console a: the VMM's output, run with the pool's kernel and command line");
	r = call("{ \"op\": \"pool.unload\", \"name\": \"p1\" }");
	ok(err_is(r, EBUSY, "running VMs"), "pool.unload while a VM runs: EBUSY");
	json_object_put(r);
	r = call("{ \"op\": \"vm.start\", \"name\": \"b1\" }");
	json_object_put(r);
	r = wait_state("b1", "stopped");
	ok(!strcmp(str(r, "vm.exit_code"), "3") && !strcmp(str(r, "vm.reason"), "exited with 3"),
	   "b1 ends on its own: stopped, exit code 3 recorded");
	json_object_put(r);
	ok(strstr(console("b1"), "--cmdline exit3") != NULL,
	   "vm.console b1 after its end: its console is kept");
	r = call("{ \"op\": \"vm.stop\", \"name\": \"a\", \"wait\": true }");
	ok(is_ok(r) && !strcmp(str(r, "vm.state"), "stopped") &&
	   !strcmp(str(r, "vm.reason"), "stopped") && !strcmp(str(r, "vm.exit_code"), "143"),
	   "vm.stop a (wait): stopped by SIGTERM, exit code 143");
	json_object_put(r);
	r = call("{ \"op\": \"vm.stop\", \"name\": \"a\" }");
	ok(err_is(r, ESRCH, "not running"), "vm.stop of a stopped VM: ESRCH");
	json_object_put(r);
	r = call("{ \"op\": \"vm.list\" }");
	ok(is_ok(r) && json_object_array_length(json_object_object_get(r, "vms")) == 2,
	   "vm.list: a and b1");
	json_object_put(r);
}

/*
 * vm.list as uid 65534 with gid and (if >= 0) one supplementary group, on
 * a socket made world-writable so that only SO_PEERCRED decides; the reply.
 */
static json_object *peer_call(gid_t gid, long supp)
{
	gid_t groups[1] = { (gid_t)supp };
	char buf[8192] = "";
	json_object *r;
	int p[2], st;
	ssize_t n;
	pid_t pid;

	chmod(tmp, 0755);
	chmod(sock, 0666);
	if (pipe(p))
		return NULL;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (setgroups(supp >= 0, groups) || setgid(gid) || setuid(65534))
			_exit(1);
		r = json_tokener_parse("{ \"op\": \"vm.list\" }");
		if (vsnixd_call(sock, r, &r, NULL) || !r)
			_exit(2);
		n = strlen(json_object_to_json_string(r));
		_exit(write(p[1], json_object_to_json_string(r), n) == n ? 0 : 3);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		printf("# the uid 65534 client failed: status 0x%x\n", st);
	chmod(tmp, 0700);
	return json_tokener_parse(buf);
}

static void test_refusal(void)
{
	json_object *r;

	if (geteuid()) {
		skip("a peer outside root and the group is refused", "needs root to setuid");
		return;
	}
	r = peer_call(65534, -1);
	ok(r && err_is(r, EACCES, "permission denied: uid 65534"),
	   "uid 65534, not in the group: refused, EACCES, with why (%s)",
	   r ? json_object_to_json_string(r) : "no reply");
	json_object_put(r);
}

/* With --group nogroup: its members are served, by gid or supplementary. */
static void test_group(void)
{
	struct group *g = getgrnam(daemon_group);
	json_object *r;

	if (geteuid() || !g) {
		skip("members of the group are served", "needs root and a 'nogroup' group");
		skip("members of the group are served", "needs root and a 'nogroup' group");
		skip("others are refused", "needs root and a 'nogroup' group");
		return;
	}
	r = peer_call(g->gr_gid + 1, -1);
	ok(r && err_is(r, EACCES, "in group 'nogroup'"),
	   "uid 65534 with another group than %s: refused", daemon_group);
	json_object_put(r);
	r = peer_call(g->gr_gid, -1);
	ok(r && is_ok(r), "uid 65534 with primary group %s: served", daemon_group);
	json_object_put(r);
	r = peer_call(g->gr_gid + 1, g->gr_gid);
	ok(r && is_ok(r), "uid 65534 with %s as a supplementary group (SO_PEERGROUPS): served",
	   daemon_group);
	json_object_put(r);
}

static void test_db(void)
{
	char sql[256], *msg = NULL;
	sqlite3 *db;

	if (!ok(sqlite3_open_v2(dbfile, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK,
		"%s opens", dbfile))
		return;
	ok(db_int(db, "PRAGMA user_version") == 2, "schema version (user_version) 2");
	ok(db_int(db, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'") == 1,
	   "journal mode WAL");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = 'vm.start'"
		 " AND object = 'a' AND result = 'ok' AND uid = %u", (unsigned int)getuid());
	ok(db_int(db, sql) == 3, "audit: the three vm.start a, ok, by our uid");
	ok(db_int(db, "SELECT count(*) FROM audit WHERE action = 'vm.start' AND object = 'a'"
		  " AND result LIKE 'refused%'") == 1, "audit: the refused second vm.start a");
	ok(db_int(db, "SELECT count(*) FROM audit WHERE action = 'pool.load' AND object = 'p1'"
		  " AND result = 'ok' AND time > 0 AND pid > 0") == 1,
	   "audit: pool.load p1 with time and pid");
	ok(db_int(db, "SELECT count(*) FROM audit WHERE action = 'invalid'") >= 4,
	   "audit: the protocol errors");
	if (!geteuid())
		ok(db_int(db, "SELECT count(*) FROM audit WHERE action = 'connect' AND uid = 65534"
			  " AND result LIKE 'refused%'") == 1 + (getgrnam("nogroup") != NULL),
		   "audit: uid 65534's refused connections, one row each");
	ok(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, &msg) != SQLITE_OK &&
	   msg && strstr(msg, "append-only"), "the audit log refuses DELETE (append-only)");
	sqlite3_free(msg);
	msg = NULL;
	ok(sqlite3_exec(db, "UPDATE audit SET result = 'x'", NULL, NULL, &msg) != SQLITE_OK,
	   "the audit log refuses UPDATE");
	sqlite3_free(msg);
	sqlite3_close(db);
}

/* SIGKILL while a runs: its VMM dies too; after a restart a is "stopped". */
static void test_restart(void)
{
	json_object *r;
	pid_t vm_pid, c_pid = autostart_pid("c");
	int st;

	r = call("{ \"op\": \"vm.start\", \"name\": \"a\" }");
	vm_pid = atoi(str(r, "pid"));
	json_object_put(r);
	json_object_put(wait_state("a", "running"));
	st = stop_daemon(SIGKILL);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "vsnixd killed with SIGKILL");
	ok(vm_pid > 0 && gone_within(vm_pid, 3000),
	   "the running VM's process ends with the daemon (PR_SET_PDEATHSIG)");
	start_daemon();
	r = call("{ \"op\": \"vm.show\", \"name\": \"a\" }");
	ok(!strcmp(str(r, "vm.state"), "stopped") &&
	   strstr(str(r, "vm.reason"), "vsnixd restarted while it ran"),
	   "after the restart: a is stopped, reason 'vsnixd restarted while it ran'");
	json_object_put(r);
	r = call("{ \"op\": \"vm.show\", \"name\": \"b1\" }");
	ok(!strcmp(str(r, "vm.exit_code"), "3"), "b1's exit code survived the restart");
	json_object_put(r);
	test_autostart_restart(c_pid);
	r = call("{ \"op\": \"pool.list\" }");
	ok(strstr(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN), "\"name\":\"p1\",\"state\":\"loaded\""),
	   "pool p1 is loaded again");
	json_object_put(r);
	r = call("{ \"op\": \"audit.list\", \"object\": \"a\" }");
	ok(strstr(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN), "\"action\":\"vm.recover\""),
	   "audit.list --vm a: the recovery is in the log");
	json_object_put(r);
	/* SIGTERM: a clean stop of the daemon stops its VMs. */
	json_object_put(call("{ \"op\": \"vm.start\", \"name\": \"a\" }"));
	json_object_put(wait_state("a", "running"));
	st = stop_daemon(SIGTERM);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && access(sock, F_OK),
	   "SIGTERM: vsnixd exits 0 and removes its socket");
}

/* p2's tree is gone at the restart: its autostart VM is not started, and why. */
static void test_pool_gone(void)
{
	json_object *r;

	r = call("{ \"op\": \"vm.show\", \"name\": \"c\" }");
	ok(!strcmp(str(r, "vm.state"), "stopped"), "c is not started while its pool is gone");
	json_object_put(r);
	ok(db_value("SELECT count(*) FROM pools WHERE name = 'p2' AND state = 'error'"
		    " AND error LIKE '%%vms.json%%'") == 1 &&
	   db_value("SELECT count(*) FROM audit WHERE action = 'autostart' AND object = 'c'"
		    " AND result LIKE 'refused: pool p2 is not loaded: %%vms.json%%'") == 1,
	   "p2 in error naming vms.json; audit: autostart c refused, with the pool's error");
	sh("mv %s/mnt/p2.gone %s/mnt/p2", tmp, tmp);
	r = call("{ \"op\": \"pool.load\", \"name\": \"p2\" }");
	ok(is_ok(r) && strstr(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN),
			      "\"started\":[\"c\"]"),
	   "pool.load p2 once it is back: c started");
	json_object_put(r);
	json_object_put(wait_state("c", "running"));
	r = call("{ \"op\": \"vm.stop\", \"name\": \"c\", \"wait\": true }");
	json_object_put(r);
	r = call("{ \"op\": \"pool.unload\", \"name\": \"p2\" }");
	ok(is_ok(r), "pool.unload p2 once c is stopped");
	json_object_put(r);
}

static void test_after_term(void)
{
	json_object *r;

	daemon_group = "nogroup";
	sh("mv %s/mnt/p2 %s/mnt/p2.gone", tmp, tmp);
	start_daemon();
	test_group();
	test_pool_gone();
	r = call("{ \"op\": \"vm.show\", \"name\": \"a\" }");
	ok(!strcmp(str(r, "vm.state"), "stopped") && !strcmp(str(r, "vm.reason"), "stopped"),
	   "a was stopped by the daemon's SIGTERM, not lost");
	json_object_put(r);
	r = call("{ \"op\": \"pool.unload\", \"name\": \"p1\" }");
	ok(is_ok(r), "pool.unload p1 once nothing runs");
	json_object_put(r);
	stop_daemon(SIGTERM);
}

/* Version 1's tables as vsnixd of that version made them (db.c's schema_v1). */
static const char v1_db[] =
	"CREATE TABLE pools (name TEXT PRIMARY KEY, dir TEXT NOT NULL, mount TEXT NOT NULL,"
	" state TEXT NOT NULL, nr_vms INTEGER NOT NULL DEFAULT 0, error TEXT,"
	" loaded_at INTEGER, unloaded_at INTEGER);"
	"CREATE TABLE vms (name TEXT PRIMARY KEY, pool TEXT NOT NULL REFERENCES pools(name),"
	" entry TEXT NOT NULL, config TEXT NOT NULL, state TEXT NOT NULL,"
	" pid INTEGER, exit_code INTEGER, reason TEXT,"
	" created_at INTEGER NOT NULL, started_at INTEGER, stopped_at INTEGER);"
	"CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL,"
	" uid INTEGER NOT NULL, pid INTEGER NOT NULL, action TEXT NOT NULL, object TEXT,"
	" result TEXT NOT NULL);"
	"INSERT INTO pools VALUES ('old', '/nowhere', '/nowhere/old', 'unloaded', 1,"
	" NULL, 1, 2);"
	"INSERT INTO vms VALUES ('v', 'old', 'v', '{}', 'running', 4242, NULL, NULL, 1, 2, NULL);"
	"PRAGMA user_version = 1;";

/* A version 1 database migrates to 2; a newer one than vsnixd's is refused. */
static void test_migration(void)
{
	sqlite3 *db;
	int st;

	snprintf(dbfile, sizeof(dbfile), "%s/v1.db", tmp);
	if (sqlite3_open(dbfile, &db) || sqlite3_exec(db, v1_db, NULL, NULL, NULL)) {
		ok(false, "a version 1 database: %s", sqlite3_errmsg(db));
		sqlite3_close(db);
		return;
	}
	sqlite3_close(db);
	start_daemon();
	stop_daemon(SIGTERM);
	ok(db_value("PRAGMA user_version") == 2 &&
	   db_value("SELECT count(*) FROM vms WHERE name = 'v' AND autostart = 0 AND"
		    " state = 'stopped' AND reason = 'vsnixd restarted while it ran'") == 1 &&
	   db_value("SELECT count(*) FROM runs") == 0,
	   "a version 1 database migrates to 2: autostart 0, the running VM recovered");
	sqlite3_open(dbfile, &db);
	sqlite3_exec(db, "PRAGMA user_version = 3", NULL, NULL, NULL);
	sqlite3_close(db);
	st = sh("%s --socket %s --db %s --group nogroup --mounted 2>%s/v3.log; test $? = 1 &&"
		" grep -q 'schema version 3 is newer than this vsnixd' %s/v3.log",
		vsnixd_bin, sock, dbfile, tmp, tmp);
	ok(st == 0, "a database of schema version 3: vsnixd refuses it, exit 1, says why");
}

int main(int argc, char **argv)
{
	vsnixd_bin = argc > 1 ? argv[1] : "./vsnixd";
	vsnixctl_bin = argc > 2 ? argv[2] : NULL;
	printf("TAP version 13\n");
	if (!mkdtemp(tmp)) {
		printf("1..0 # SKIP no temporary folder\n");
		return 4;
	}
	snprintf(sock, sizeof(sock), "%s/vsnixd.sock", tmp);
	snprintf(dbfile, sizeof(dbfile), "%s/state.db", tmp);
	if (make_pools()) {
		printf("Bail out! cannot make the test pool in %s\n", tmp);
		return 1;
	}
	start_daemon();
	test_protocol();
	test_pool();
	test_vms();
	test_autostart();
	test_kill_restart();
	test_cli();
	test_disks();
	test_refusal();
	test_restart();
	test_after_term();
	test_db();
	test_migration();
	test_activation();
	printf("1..%d\n", nr);
	sh("rm -rf %s", tmp);
	return failed ? 1 : 0;
}
