// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixd_host: autostart (pool p2's entry "c" is marked autostart, "d" is
 * not), the runs table, vm.kill, vm.restart and vm.status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

pid_t autostart_pid(const char *vm)
{
	json_object *r = wait_state(vm, "running");
	pid_t pid = atoi(str(r, "vm.pid"));

	json_object_put(r);
	return pid;
}

static bool has(json_object *r, const char *text)
{
	return strstr(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN), text);
}

/* Every open run belongs to a running VM, one each; closed runs have a reason. */
static bool runs_consistent(void)
{
	return db_value("SELECT count(*) FROM runs WHERE stopped_at IS NULL") ==
	       db_value("SELECT count(*) FROM vms WHERE state IN ('running', 'stopping')") &&
	       db_value("SELECT count(*) FROM vms WHERE state = 'running' AND"
			" (SELECT count(*) FROM runs WHERE vm = vms.name AND"
			"  stopped_at IS NULL) != 1") == 0 &&
	       db_value("SELECT count(*) FROM runs WHERE stopped_at IS NOT NULL AND"
			" (reason IS NULL OR reason = '')") == 0;
}

static void test_autostart_flag(void)
{
	json_object *r;

	r = call("{ \"op\": \"vm.create\", \"pool\": \"p2\", \"vm\": \"d\", \"autostart\": true }");
	ok(is_ok(r), "vm.create d with autostart true (the entry says false)");
	json_object_put(r);
	r = call("{ \"op\": \"vm.show\", \"name\": \"d\" }");
	ok(!strcmp(str(r, "vm.state"), "created") && !strcmp(str(r, "vm.autostart"), "1"),
	   "d: created, not started by its creation, autostart 1");
	json_object_put(r);
	r = call("{ \"op\": \"vm.autostart\", \"name\": \"d\", \"autostart\": false }");
	json_object_put(r);
	r = call("{ \"op\": \"vm.show\", \"name\": \"d\" }");
	ok(!strcmp(str(r, "vm.autostart"), "0"), "vm.autostart d false: autostart 0");
	json_object_put(r);
	r = call("{ \"op\": \"vm.autostart\", \"name\": \"zz\", \"autostart\": true }");
	ok(err_is(r, ENOENT, "no VM named zz"), "vm.autostart of no VM: ENOENT, named");
	json_object_put(r);
	r = call("{ \"op\": \"vm.autostart\", \"name\": \"d\", \"autostart\": \"yes\" }");
	ok(err_is(r, EINVAL, "vm.autostart d: \"autostart\": true or false"),
	   "vm.autostart with a string: EINVAL, the VM and the field named");
	json_object_put(r);
	r = call("{ \"op\": \"vm.create\", \"pool\": \"p2\", \"vm\": \"d\", \"name\": \"d2\","
		 " \"autostart\": 1 }");
	ok(err_is(r, EINVAL, "\"autostart\": true or false"), "vm.create, autostart 1: EINVAL");
	json_object_put(r);
	r = call("{ \"op\": \"vm.create\", \"pool\": \"p2\", \"vm\": \"c\" }");
	ok(err_is(r, EEXIST, "a VM named c exists (from pool p2)"),
	   "vm.create c again: EEXIST, naming the pool it came from");
	json_object_put(r);
}

/* pool.load p2: c is created from its autostart entry and started. */
void test_autostart(void)
{
	json_object *r;

	r = call("{ \"op\": \"pool.load\", \"name\": \"p2\" }");
	ok(is_ok(r) && has(r, "\"started\":[\"c\"]"),
	   "pool.load p2: its autostart entry c is started (%s)", str(r, "started"));
	json_object_put(r);
	r = wait_state("c", "running");
	ok(!strcmp(str(r, "vm.state"), "running") && !strcmp(str(r, "vm.autostart"), "1") &&
	   !strcmp(str(r, "vm.entry"), "c"), "c: running, autostart 1, from entry c");
	json_object_put(r);
	r = call("{ \"op\": \"vm.show\", \"name\": \"d\" }");
	ok(err_is(r, ENOENT, "no VM named d"), "d (not autostart) was not created by the load");
	json_object_put(r);
	ok(db_value("SELECT count(*) FROM runs WHERE vm = 'c' AND stopped_at IS NULL"
		    " AND cause = 'autostart'") == 1, "runs: c's open run, cause autostart");
	ok(db_value("SELECT count(*) FROM audit WHERE action = 'autostart' AND object = 'c'"
		    " AND result = 'ok'") == 1, "audit: autostart c ok");
	test_autostart_flag();
	ok(runs_consistent(), "runs: one open run per running VM, every closed run has a reason");
}

/* After the SIGKILL of vsnixd and its restart: c runs again, a new run. */
void test_autostart_restart(pid_t old_pid)
{
	pid_t pid;

	ok(old_pid > 0 && gone_within(old_pid, 3000), "c's first process ended with the daemon");
	pid = autostart_pid("c");
	ok(pid > 0 && pid != old_pid, "after the restart: autostart c runs again (pid %d, was %d)",
	   pid, old_pid);
	ok(db_value("SELECT count(*) FROM runs WHERE vm = 'c' AND stopped_at IS NOT NULL"
		    " AND reason = 'vsnixd restarted while it ran' AND exit_code IS NULL") == 1 &&
	   db_value("SELECT count(*) FROM runs WHERE vm = 'c' AND stopped_at IS NULL") == 1,
	   "runs: c's first run closed, 'vsnixd restarted while it ran'; one open run");
	ok(db_value("SELECT count(*) FROM runs WHERE vm = 'a' AND stopped_at IS NULL") == 0,
	   "runs: a (not autostart) has no open run");
	ok(db_value("SELECT count(*) FROM audit WHERE action = 'autostart' AND object = 'c'"
		    " AND result = 'ok'") == 2, "audit: autostart c, twice");
	ok(db_value("SELECT count(*) FROM vms WHERE name = 'd' AND state = 'stopped'"
		    " AND autostart = 0") == 1, "d (autostart off) stays stopped");
	ok(runs_consistent(), "runs consistent after the crash and the restart");
}

static void test_kill(void)
{
	json_object *r;

	json_object_put(call("{ \"op\": \"vm.start\", \"name\": \"d\" }"));
	json_object_put(wait_state("d", "running"));
	r = call("{ \"op\": \"vm.kill\", \"name\": \"d\", \"wait\": true }");
	ok(is_ok(r) && !strcmp(str(r, "vm.state"), "stopped") &&
	   !strcmp(str(r, "vm.reason"), "killed") && !strcmp(str(r, "vm.exit_code"), "137"),
	   "vm.kill d (wait): stopped, reason killed, exit code 137 (SIGKILL)");
	json_object_put(r);
	ok(db_value("SELECT count(*) FROM runs WHERE vm = 'd' AND reason = 'killed'"
		    " AND exit_code = 137") == 1, "runs: d's run closed as killed");
	r = call("{ \"op\": \"vm.kill\", \"name\": \"d\" }");
	ok(err_is(r, ESRCH, "VM d is not running"), "vm.kill of a stopped VM: ESRCH");
	json_object_put(r);
	r = call("{ \"op\": \"vm.kill\", \"name\": \"zz\" }");
	ok(err_is(r, ENOENT, "no VM named zz"), "vm.kill of no VM: ENOENT");
	json_object_put(r);
}

/* vm.status once the VM's first console bytes are in (5 s at most). */
static json_object *status_with_console(const char *vm)
{
	json_object *r = NULL;
	int i;

	for (i = 0; i < 100; i++) {
		json_object_put(r);
		r = call("{ \"op\": \"vm.status\", \"name\": \"%s\" }", vm);
		if (atoi(str(r, "vm.console_bytes")) > 0)
			break;
		msleep(50);
	}
	return r;
}

void test_kill_restart(void)
{
	json_object *r;
	pid_t pid;

	test_kill();
	r = call("{ \"op\": \"vm.restart\", \"name\": \"d\" }");
	pid = atoi(str(r, "pid"));
	ok(is_ok(r) && pid > 0, "vm.restart of a stopped d: started, pid %d", pid);
	json_object_put(r);
	json_object_put(wait_state("d", "running"));
	r = call("{ \"op\": \"vm.restart\", \"name\": \"d\" }");
	ok(is_ok(r) && atoi(str(r, "pid")) > 0 && atoi(str(r, "pid")) != pid,
	   "vm.restart of a running d: a new pid once the old one ended");
	json_object_put(r);
	ok(gone_within(pid, 3000), "the old process is gone");
	ok(db_value("SELECT count(*) FROM runs WHERE vm = 'd' AND cause LIKE 'vm.restart by uid %%'")
	   == 2 && db_value("SELECT count(*) FROM runs WHERE vm = 'd' AND reason = 'stopped'") == 1,
	   "runs: two restarts by our uid, the first closed as stopped");
	r = call("{ \"op\": \"vm.restart\", \"name\": \"zz\" }");
	ok(err_is(r, ENOENT, "no VM named zz"), "vm.restart of no VM: ENOENT");
	json_object_put(r);
	r = status_with_console("d");
	ok(is_ok(r) && !strcmp(str(r, "vm.state"), "running") &&
	   json_object_array_length(json_object_object_get(json_object_object_get(r, "vm"),
							   "runs")) == 3 &&
	   atoi(str(r, "vm.console_bytes")) > 0,
	   "vm.status d: running, its 3 runs, console bytes");
	json_object_put(r);
	r = call("{ \"op\": \"vm.status\", \"name\": \"zz\" }");
	ok(err_is(r, ENOENT, "no VM named zz"), "vm.status of no VM: ENOENT");
	json_object_put(r);
	r = call("{ \"op\": \"vm.stop\", \"name\": \"d\", \"wait\": true }");
	ok(is_ok(r) && runs_consistent(), "vm.stop d; runs consistent");
	json_object_put(r);
}
