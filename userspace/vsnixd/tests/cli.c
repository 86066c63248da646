// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixd_host: vsnixctl's vsnixd commands run as a user would, on the
 * test's socket: --help on each, --json output that json-c parses, the
 * exit codes and one clear error per bad input. Skipped without the
 * vsnixctl binary (the second argument).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define NR_CLI_TESTS	19
#define OUT_LEN		(80 * 1024)

static char out[OUT_LEN];

static const char *const commands[] = {
	"list", "create", "start", "stop", "kill", "restart", "status", "show",
	"delete", "console", "logs", "autostart", "audit", "pool",
};

static bool help_all(void)
{
	char want[64];
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		snprintf(want, sizeof(want), "usage: vsnixctl %s", commands[i]);
		if (cli(out, OUT_LEN, "%s --help", commands[i]) || !strstr(out, want)) {
			printf("# %s --help: %s\n", commands[i], out);
			return false;
		}
	}
	return true;
}

/* vsnixctl ARGS --json: exit 0 and one JSON object; NULL otherwise. */
static json_object *cli_json(const char *args)
{
	json_object *o;

	if (cli(out, OUT_LEN, "%s", args))
		return NULL;
	o = json_tokener_parse(out);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static size_t array_len(json_object *o, const char *key)
{
	return json_object_array_length(json_object_object_get(o, key));
}

static void test_cli_json(void)
{
	json_object *o;

	o = cli_json("list --json");
	ok(o && array_len(o, "vms") == 4, "list --json: the 4 VMs");
	json_object_put(o);
	o = cli_json("status --json c");
	ok(o && !strcmp(str(o, "vm.state"), "running") &&
	   json_object_is_type(json_object_object_get(json_object_object_get(o, "vm"), "runs"),
			       json_type_array), "status --json c: running, its runs");
	json_object_put(o);
	o = cli_json("show --json b1");
	ok(o && !strcmp(str(o, "vm.config.cmdline"), "exit3"), "show --json b1: its config");
	json_object_put(o);
	o = cli_json("logs --json b1");
	ok(o && !strcmp(str(o, "name"), "b1") && !strcmp(str(o, "running"), "false") &&
	   strstr(str(o, "log"), "FAKE-VM run") && strstr(str(o, "log"), "--cmdline exit3"),
	   "logs --json b1: name, running false, its console history");
	json_object_put(o);
	o = cli_json("audit --json --vm d");
	ok(o && strstr(json_object_to_json_string(o), "\"vm.kill\""),
	   "audit --json --vm d: the rows, vm.kill among them");
	json_object_put(o);
}

static bool one_line(const char *s)
{
	const char *nl = strchr(s, '\n');

	return nl && !nl[1];
}

static void test_cli_vm(void)
{
	int rc;

	rc = cli(out, OUT_LEN, "status c");
	ok(rc == 0 && strstr(out, "c: running, pid ") && strstr(out, "autostart on") &&
	   strstr(out, "(autostart) running"), "status c: running, exit 0, its open run");
	rc = cli(out, OUT_LEN, "status d");
	ok(rc == 3 && strstr(out, "d: stopped"), "status d: stopped, exit 3");
	rc = cli(out, OUT_LEN, "status zz");
	ok(rc == 120 && strstr(out, "vm.status: no VM named zz") && one_line(out),
	   "status zz: exit 120, one line naming the VM");
	rc = cli(out, OUT_LEN, "logs b1");
	ok(rc == 0 && strstr(out, "--cmdline exit3"), "logs b1: its console");
	rc = cli(out, OUT_LEN, "kill d");
	ok(rc == 120 && strstr(out, "VM d is not running"), "kill d (stopped): exit 120, why");
	rc = cli(out, OUT_LEN, "restart d");
	ok(rc == 0 && strstr(out, "d: running, pid "), "restart d: running, its pid");
	rc = cli(out, OUT_LEN, "kill d");
	ok(rc == 0 && strstr(out, "d: stopped, killed (exit code 137)"),
	   "kill d: stopped, killed, exit code 137");
	rc = cli(out, OUT_LEN, "autostart d maybe");
	ok(rc == 120 && strstr(out, "autostart d: 'maybe': on or off expected"),
	   "autostart d maybe: exit 120, on or off expected");
	rc = cli(out, OUT_LEN, "autostart d on") || cli(out, OUT_LEN, "status d") != 3 ||
	     !strstr(out, "autostart on") || cli(out, OUT_LEN, "autostart d off");
	ok(!rc, "autostart d on, status shows it, autostart d off");
	rc = cli(out, OUT_LEN, "logs --json --follow d");
	ok(rc == 120 && strstr(out, "--json and --follow"), "logs --json --follow: refused");
	rc = cli(out, OUT_LEN, "list --autostart");
	ok(rc == 120 && strstr(out, "vsnixctl list: --autostart is not an option of list"),
	   "list --autostart: exit 120, the option and the command named");
	rc = cli(out, OUT_LEN, "audit --since yesterday");
	ok(rc == 120 && strstr(out, "--since yesterday: Unix seconds expected"),
	   "audit --since yesterday: exit 120, Unix seconds expected");
}

void test_cli(void)
{
	int i;

	if (!vsnixctl_bin || access(vsnixctl_bin, X_OK)) {
		for (i = 0; i < NR_CLI_TESTS; i++)
			skip("vsnixctl's vsnixd commands", "no vsnixctl binary given");
		return;
	}
	ok(help_all(), "--help on every vsnixd command: its usage, exit 0");
	ok(cli(out, OUT_LEN, "status") == 120 && strstr(out, "usage: vsnixctl status"),
	   "status without a NAME: exit 120, its usage");
	test_cli_json();
	test_cli_vm();
}
