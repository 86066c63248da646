// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl's vsnixd commands: list, create, start, stop, kill, restart,
 * status, show, delete, console, logs, audit, autostart and `pool
 * --daemon load|unload|list`, each one request on the daemon's socket
 * (vsnixd/proto.h, Documentation/vsnixd.rst, vsnixctl(1)).
 * $VSNIXD_SOCKET names another socket than /run/vsnix/vsnixd.sock.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "vsnixctl.h"
#include "vsnix/console.h"
#include "vsnixd/proto.h"

struct dopts {
	bool json;
	bool follow;
	bool attach;
	bool no_wait;
	int autostart;		/* create: -1 the entry's, 0 off, 1 on */
	const char *vm;
	long long since;
};

static int usage(const char *cmd)
{
	command_help(stderr, cmd);
	return EXIT_SETUP_ERROR;
}

/* Which of parse()'s options each command takes. */
static const struct {
	const char *cmd, *opts;
} cmd_opts[] = {
	{ "list", "j" }, { "create", "jAN" }, { "start", "j" }, { "stop", "jn" },
	{ "kill", "jn" }, { "restart", "j" }, { "status", "j" }, { "show", "j" },
	{ "delete", "j" }, { "console", "fa" }, { "logs", "jf" }, { "autostart", "j" },
	{ "audit", "jvs" },
};

/* An option this command does not take: one line that names both. */
static bool takes(const char *cmd, int c, const struct option *lo, int idx)
{
	size_t i;

	for (i = 0; i < sizeof(cmd_opts) / sizeof(cmd_opts[0]); i++)
		if (!strcmp(cmd_opts[i].cmd, cmd) && strchr(cmd_opts[i].opts, c))
			return true;
	if (idx >= 0)
		fprintf(stderr, "vsnixctl %s: --%s is not an option of %s\n", cmd,
			lo[idx].name, cmd);
	else
		fprintf(stderr, "vsnixctl %s: -%c is not an option of %s\n", cmd, c, cmd);
	return false;
}

/* The common options; the positional arguments stay in argv[optind..]. */
static int parse(const char *cmd, int argc, char **argv, struct dopts *o)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "follow", no_argument, NULL, 'f' },
		{ "attach", no_argument, NULL, 'a' },
		{ "no-wait", no_argument, NULL, 'n' },
		{ "vm", required_argument, NULL, 'v' },
		{ "since", required_argument, NULL, 's' },
		{ "autostart", no_argument, NULL, 'A' },
		{ "no-autostart", no_argument, NULL, 'N' },
		{ }
	};
	int c, idx = -1;
	char *end;

	memset(o, 0, sizeof(*o));
	o->autostart = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jf", lo, &idx)) != -1) {
		if (c != '?' && !takes(cmd, c, lo, idx))
			return usage(cmd);
		idx = -1;
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'f':
			o->follow = true;
			break;
		case 'a':
			o->attach = true;
			break;
		case 'n':
			o->no_wait = true;
			break;
		case 'v':
			o->vm = optarg;
			break;
		case 's':
			o->since = strtoll(optarg, &end, 10);
			if (*end || end == optarg) {
				fprintf(stderr, "vsnixctl %s: --since %s: Unix seconds expected\n",
					cmd, optarg);
				return usage(cmd);
			}
			break;
		case 'A':
		case 'N':
			o->autostart = c == 'A';
			break;
		default:
			return usage(cmd);
		}
	}
	return 0;
}

/* One request; the reply when ok, else NULL after a one-line error. */
static json_object *request(json_object *req, int *fd_out)
{
	const char *path = vsnixd_socket_path();
	const char *op = json_object_get_string(json_object_object_get(req, "op"));
	json_object *reply = NULL;
	int ret = vsnixd_call(path, req, &reply, fd_out);

	json_object_put(req);
	if (ret == -ENOENT || ret == -ECONNREFUSED) {
		fprintf(stderr, "vsnixctl: vsnixd is not running (nothing listens on %s;"
			" `systemctl start vsnixd`, or set %s)\n", path, VSNIXD_SOCKET_ENV);
		return NULL;
	}
	if (ret) {
		fprintf(stderr, "vsnixctl: %s: %s\n", path, strerror(-ret));
		return NULL;
	}
	if (!json_object_get_boolean(json_object_object_get(reply, "ok"))) {
		fprintf(stderr, "vsnixctl: %s: %s\n", op, json_object_get_string(
				json_object_object_get(reply, "error")));
		json_object_put(reply);
		if (fd_out && *fd_out >= 0)
			close(*fd_out);
		return NULL;
	}
	return reply;
}

static json_object *req_new(const char *op, const char *k1, const char *v1,
			    const char *k2, const char *v2)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "op", json_object_new_string(op));
	if (k1 && v1)
		json_object_object_add(r, k1, json_object_new_string(v1));
	if (k2 && v2)
		json_object_object_add(r, k2, json_object_new_string(v2));
	return r;
}

static int done(json_object *reply, bool json)
{
	if (!reply)
		return EXIT_SETUP_ERROR;
	if (json)
		printf("%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(reply);
	return 0;
}

static const char *field(json_object *o, const char *key)
{
	json_object *v = json_object_object_get(o, key);

	return v ? json_object_get_string(v) : "-";
}

int cmd_list(int argc, char **argv)
{
	json_object *r, *vms;
	struct dopts o;
	size_t i;

	if (parse("list", argc, argv, &o) || optind != argc)
		return usage("list");
	r = request(req_new("vm.list", NULL, NULL, NULL, NULL), NULL);
	if (!r || o.json)
		return done(r, o.json);
	vms = json_object_object_get(r, "vms");
	printf("%-20s %-16s %-9s %7s %5s  %s\n", "NAME", "POOL", "STATE", "PID",
	       "EXIT", "REASON");
	for (i = 0; i < json_object_array_length(vms); i++) {
		json_object *v = json_object_array_get_idx(vms, i);

		printf("%-20s %-16s %-9s %7s %5s  %s\n", field(v, "name"),
		       field(v, "pool"), field(v, "state"), field(v, "pid"),
		       field(v, "exit_code"), field(v, "reason"));
	}
	return done(r, false);
}

/* A waited stop's or kill's end, in one line: NAME: stopped, REASON (exit N). */
static int print_end(json_object *r)
{
	json_object *vm = json_object_object_get(r, "vm");

	if (!r)
		return EXIT_SETUP_ERROR;
	if (vm)
		printf("%s: %s, %s (exit code %s)\n", field(vm, "name"), field(vm, "state"),
		       field(vm, "reason"), field(vm, "exit_code"));
	return done(r, false);
}

/*
 * create POOL VM [NAME], start NAME, show NAME, delete NAME, stop NAME,
 * kill NAME: one request each.
 */
static int simple(const char *cmd, const char *op, int argc, char **argv,
		  int nargs)
{
	bool ends = !strcmp(op, "vm.stop") || !strcmp(op, "vm.kill");
	json_object *req;
	struct dopts o;
	char **a;

	if (parse(cmd, argc, argv, &o) || argc - optind < nargs ||
	    argc - optind > (nargs == 2 ? 3 : nargs))
		return usage(cmd);
	a = argv + optind;
	req = nargs == 2 ? req_new(op, "pool", a[0], "vm", a[1]) :
			   req_new(op, "name", a[0], NULL, NULL);
	if (nargs == 2 && argc - optind == 3)
		json_object_object_add(req, "name", json_object_new_string(a[2]));
	if (nargs == 2 && o.autostart >= 0)
		json_object_object_add(req, "autostart", json_object_new_boolean(o.autostart));
	if (ends)
		json_object_object_add(req, "wait", json_object_new_boolean(!o.no_wait));
	if (ends && !o.json)
		return print_end(request(req, NULL));
	return done(request(req, NULL), o.json || !strcmp(op, "vm.show"));
}

int cmd_create(int argc, char **argv)
{
	return simple("create", "vm.create", argc, argv, 2);
}

int cmd_start(int argc, char **argv)
{
	return simple("start", "vm.start", argc, argv, 1);
}

int cmd_stop(int argc, char **argv)
{
	return simple("stop", "vm.stop", argc, argv, 1);
}

int cmd_kill(int argc, char **argv)
{
	return simple("kill", "vm.kill", argc, argv, 1);
}

int cmd_show(int argc, char **argv)
{
	return simple("show", "vm.show", argc, argv, 1);
}

int cmd_delete(int argc, char **argv)
{
	return simple("delete", "vm.delete", argc, argv, 1);
}

/* restart NAME: stop (if it runs), wait for its end, start; the new pid. */
int cmd_restart(int argc, char **argv)
{
	json_object *r;
	struct dopts o;

	if (parse("restart", argc, argv, &o) || argc - optind != 1)
		return usage("restart");
	r = request(req_new("vm.restart", "name", argv[optind], NULL, NULL), NULL);
	if (r && !o.json)
		printf("%s: running, pid %s\n", argv[optind], field(r, "pid"));
	return done(r, o.json);
}

/* autostart NAME on|off */
int cmd_autostart(int argc, char **argv)
{
	json_object *req;
	struct dopts o;
	const char *v;

	if (parse("autostart", argc, argv, &o) || argc - optind != 2)
		return usage("autostart");
	v = argv[optind + 1];
	if (strcmp(v, "on") && strcmp(v, "off")) {
		fprintf(stderr, "vsnixctl autostart %s: '%s': on or off expected\n",
			argv[optind], v);
		return EXIT_SETUP_ERROR;
	}
	req = req_new("vm.autostart", "name", argv[optind], NULL, NULL);
	json_object_object_add(req, "autostart", json_object_new_boolean(!strcmp(v, "on")));
	return done(request(req, NULL), o.json);
}

/* vm.console: the connection that carries its bytes, or -1. */
static int console_fd(const char *name, bool follow, bool input, bool *running)
{
	json_object *req, *r;
	int fd = -1;

	req = req_new("vm.console", "name", name, NULL, NULL);
	json_object_object_add(req, "follow", json_object_new_boolean(follow));
	if (input)
		json_object_object_add(req, "input", json_object_new_boolean(true));
	r = request(req, &fd);
	if (!r)
		return -1;
	*running = json_object_get_boolean(json_object_object_get(r, "running"));
	json_object_put(r);
	return fd;
}

static bool write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= w;
	}
	return true;
}

/*
 * Attached: the console's bytes to stdout, stdin's to the VM, until the VM
 * ends (vsnixd closes), Ctrl-] q (detach: the VM runs on) or stdin's end.
 * A terminal is raw meanwhile (keys go as typed); its output is as it was.
 */
static int attach(const char *name, int fd)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
			       { .fd = 0, .events = POLLIN } };
	struct vx_console_escape esc = { };
	bool tty = isatty(0), quit = false;
	struct termios saved, raw;
	const char *why = NULL;
	char buf[4096];
	ssize_t n;

	if (tty && !tcgetattr(0, &saved)) {
		raw = saved;
		cfmakeraw(&raw);
		raw.c_oflag = saved.c_oflag;
		tcsetattr(0, TCSAFLUSH, &raw);
	}
	fprintf(stderr, "vsnixctl: attached to %s's console; Ctrl-] q detaches\r\n", name);
	while (!why) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				why = "the VM ended";
			else if (!write_all(1, buf, n))
				why = "stdout closed";
		}
		if (!why && p[1].revents) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				why = "end of input";
				continue;
			}
			n = vx_console_escape(&esc, (uint8_t *)buf, n, &quit);
			if (!write_all(fd, buf, n))
				why = "the VM ended";
			else if (quit)
				why = "detached";
		}
	}
	if (tty)
		tcsetattr(0, TCSAFLUSH, &saved);
	close(fd);
	fprintf(stderr, "\r\nvsnixctl: %s: %s\n", name, why ? why : strerror(errno));
	return why ? 0 : EXIT_SETUP_ERROR;
}

static int copy_out(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, n, stdout) != (size_t)n)
			break;
	fflush(stdout);
	close(fd);
	return 0;
}

/*
 * From a terminal (or with --attach), attached to the running VM: its
 * history, its live output and your input. Otherwise the ring's bytes,
 * then (--follow) the live output until the VM ends.
 */
int cmd_console(int argc, char **argv)
{
	struct dopts o;
	bool running, input;
	json_object *r;
	int fd;

	if (parse("console", argc, argv, &o) || argc - optind != 1)
		return usage("console");
	input = o.attach;
	if (!input && isatty(0)) {
		/* A terminal attaches to a running VM; a stopped one shows its log. */
		r = request(req_new("vm.status", "name", argv[optind], NULL, NULL), NULL);
		if (!r)
			return EXIT_SETUP_ERROR;
		input = !strcmp(json_object_get_string(json_object_object_get(
			json_object_object_get(r, "vm"), "state")), "running");
		json_object_put(r);
	}
	fd = console_fd(argv[optind], o.follow, input, &running);
	if (fd < 0)
		return EXIT_SETUP_ERROR;
	return input ? attach(argv[optind], fd) : copy_out(fd);
}

/* { "name", "running", "log" }: the ring's bytes as one JSON string. */
static int logs_json(const char *name, int fd, bool running)
{
	size_t len = 0, cap = 64 * 1024 + 4096;
	char *buf = malloc(cap);
	json_object *o;
	ssize_t n;

	while (buf && len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += n;
	close(fd);
	if (!buf)
		return EXIT_SETUP_ERROR;
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "running", json_object_new_boolean(running));
	json_object_object_add(o, "log", json_object_new_string_len(buf, len));
	free(buf);
	return done(o, true);
}

/* A VM's console history (the last 64 KiB), as text or JSON. */
int cmd_logs(int argc, char **argv)
{
	struct dopts o;
	bool running;
	int fd;

	if (parse("logs", argc, argv, &o) || argc - optind != 1)
		return usage("logs");
	if (o.json && o.follow) {
		fprintf(stderr, "vsnixctl logs: --json and --follow do not go together\n");
		return EXIT_SETUP_ERROR;
	}
	fd = console_fd(argv[optind], o.follow, false, &running);
	if (fd < 0)
		return EXIT_SETUP_ERROR;
	return o.json ? logs_json(argv[optind], fd, running) : copy_out(fd);
}

static void print_time(const char *label, json_object *o, const char *key)
{
	json_object *v = json_object_object_get(o, key);
	char when[32];
	time_t t;

	if (!v)
		return;
	t = json_object_get_int64(v);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	printf("%s%s", label, when);
}

static void print_status(json_object *vm)
{
	json_object *runs = json_object_object_get(vm, "runs");
	size_t i;

	printf("%s: %s", field(vm, "name"), field(vm, "state"));
	if (json_object_object_get(vm, "pid"))
		printf(", pid %s", field(vm, "pid"));
	if (json_object_object_get(vm, "reason"))
		printf(", %s (exit code %s)", field(vm, "reason"), field(vm, "exit_code"));
	printf("\n  pool %s, entry %s, autostart %s, console %s bytes\n",
	       field(vm, "pool"), field(vm, "entry"),
	       json_object_get_int(json_object_object_get(vm, "autostart")) ? "on" : "off",
	       field(vm, "console_bytes"));
	for (i = 0; i < json_object_array_length(runs); i++) {
		json_object *r = json_object_array_get_idx(runs, i);

		printf("  run %s:", field(r, "id"));
		print_time(" ", r, "started_at");
		print_time(" - ", r, "stopped_at");
		printf(" (%s) %s\n", field(r, "cause"), json_object_object_get(r, "reason") ?
		       field(r, "reason") : "running");
	}
}

/* status NAME: exit 0 while the VM runs, 3 when it does not (as LSB's status). */
int cmd_status(int argc, char **argv)
{
	json_object *r, *vm;
	struct dopts o;
	int ret;

	if (parse("status", argc, argv, &o) || argc - optind != 1)
		return usage("status");
	r = request(req_new("vm.status", "name", argv[optind], NULL, NULL), NULL);
	if (!r)
		return EXIT_SETUP_ERROR;
	vm = json_object_object_get(r, "vm");
	ret = strcmp(field(vm, "state"), "running") ? 3 : 0;
	if (!o.json)
		print_status(vm);
	done(r, o.json);
	return ret;
}

int cmd_audit(int argc, char **argv)
{
	json_object *req, *r, *rows;
	struct dopts o;
	char when[32];
	size_t i;

	if (parse("audit", argc, argv, &o) || optind != argc)
		return usage("audit");
	req = req_new("audit.list", "object", o.vm, NULL, NULL);
	json_object_object_add(req, "since", json_object_new_int64(o.since));
	r = request(req, NULL);
	if (!r || o.json)
		return done(r, o.json);
	rows = json_object_object_get(r, "audit");
	for (i = 0; i < json_object_array_length(rows); i++) {
		json_object *a = json_object_array_get_idx(rows, i);
		time_t t = json_object_get_int64(json_object_object_get(a, "time"));

		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		printf("%s uid=%s pid=%s %s %s: %s\n", when, field(a, "uid"),
		       field(a, "pid"), field(a, "action"), field(a, "object"),
		       field(a, "result"));
	}
	return done(r, false);
}

/* pool --daemon load NAME | unload NAME | list */
int vsnixd_pool_cmd(const char *sub, bool json, int argc, char **argv)
{
	char op[32];

	if (strcmp(sub, "load") && strcmp(sub, "unload") && strcmp(sub, "list"))
		return usage("pool");
	if (argc != (strcmp(sub, "list") ? 1 : 0))
		return usage("pool");
	snprintf(op, sizeof(op), "pool.%s", sub);
	return done(request(req_new(op, "name", argc ? argv[0] : NULL, NULL, NULL),
			    NULL), json || !strcmp(sub, "list") || !strcmp(sub, "load"));
}
