/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the hvt_* and multiboot_* selftests: find vsnixctl and the
 * test guests, run vsnixctl with its stdout and stderr captured, TAP lines.
 * Header-only: each test is one static binary (selftests/README.md).
 */
#ifndef VSNIX_RUN_GUEST_H
#define VSNIX_RUN_GUEST_H

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define RG_OUT_MAX	(64 * 1024)
#define RG_TIMEOUT_S	300	/* Bochs is slow; the rig's own limit is tighter */

#define EXIT_SETUP_ERROR	120	/* userspace/vsnixctl.h */
#define EXIT_VM_ERROR		121

struct rg_result {
	int code;		/* exit code, or 128 + signal */
	double seconds;
	size_t out_len, err_len;
	char out[RG_OUT_MAX + 1];
	char err[RG_OUT_MAX + 1];
};

/* Helpers a test does not call must not warn. */
#define RG_FN static __attribute__((unused))

static int rg_test_nr;
static int rg_failed;

RG_FN void rg_plan(int n)
{
	printf("TAP version 13\n1..%d\n", n);
	fflush(stdout);
}

RG_FN bool rg_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d ", cond ? "ok" : "not ok", ++rg_test_nr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		rg_failed++;
	return cond;
}

RG_FN void rg_skip_rest(int upto, const char *why)
{
	while (rg_test_nr < upto)
		printf("ok %d # SKIP %s\n", ++rg_test_nr, why);
	fflush(stdout);
}

RG_FN int rg_exit(void)
{
	return rg_failed ? 1 : 0;
}

RG_FN void rg_diag_lines(const char *what, const char *text)
{
	const char *p = text, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		printf("# %s: %.*s\n", what, (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

/* The last n lines of text (all of it when shorter). */
RG_FN const char *rg_tail(const char *text, int n)
{
	const char *p = text + strlen(text);

	if (p > text && p[-1] == '\n')
		p--;
	while (p > text && n) {
		p--;
		if (*p == '\n' && !--n)
			return p + 1;
	}
	return text;
}

/*
 * Prints a result as TAP diagnostics (after a failure): vsnixctl's stderr
 * and the end of a guest's console first, then the whole console. The
 * rig's report shows only the first lines under a failure
 * (scripts/rig/report.awk); the rig log has them all.
 */
RG_FN void rg_diag(const struct rg_result *r)
{
	printf("# exit code %d after %.2f s\n", r->code, r->seconds);
	rg_diag_lines("stderr", r->err);
	rg_diag_lines("stdout, last lines", rg_tail(r->out, 15));
	rg_diag_lines("stdout", r->out);
	fflush(stdout);
}

RG_FN const char *rg_self_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0)
		strcpy(dir, ".");
	else
		dir[n] = '\0';
	return dirname(dir);
}

/* VSNIXCTL, else vsnixctl in the rig's /bin, else the build tree's. */
RG_FN const char *rg_vsnixctl(void)
{
	static char path[PATH_MAX + 64];
	const char *env = getenv("VSNIXCTL");

	if (env)
		return env;
	if (access("/bin/vsnixctl", X_OK) == 0)
		return "/bin/vsnixctl";
	snprintf(path, sizeof(path), "%s/../../userspace/vsnixctl", rg_self_dir());
	return path;
}

RG_FN const char *rg_guest(const char *name)
{
	static char path[4][PATH_MAX + 64];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, PATH_MAX + 64, "%s/guests/%s", rg_self_dir(), name);
	return p;
}

/* A file of the Linux guest (selftests/build/linux-guest/): vmlinuz, initrds. */
RG_FN const char *rg_linux_guest(const char *name)
{
	static char path[4][PATH_MAX + 64];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, PATH_MAX + 64, "%s/linux-guest/%s", rg_self_dir(), name);
	return p;
}

/* True on the Bochs machine (the rig sets VSNIX_RIG_MACHINE). */
RG_FN bool rg_on_vmx(void)
{
	const char *m = getenv("VSNIX_RIG_MACHINE");

	return m && !strcmp(m, "vmx");
}

/* Exits with the kselftest skip code when the test cannot run here. */
RG_FN void rg_require(int nr_tests)
{
	const char *why = NULL;

	if (access("/dev/vsnix", R_OK | W_OK))
		why = "/dev/vsnix not available (vsnix.ko not loaded?)";
	else if (access(rg_vsnixctl(), X_OK))
		why = "vsnixctl not found";
	else if (access(rg_guest("hello.hvt"), R_OK))
		why = "test guests not built (selftests/guests)";
	if (!why)
		return;
	rg_plan(nr_tests);
	rg_skip_rest(nr_tests, why);
	exit(4);
}

RG_FN double rg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

RG_FN void rg_drain(int fd, char *buf, size_t *len, bool *open_)
{
	ssize_t n;
	char scratch[4096];

	if (*len < RG_OUT_MAX)
		n = read(fd, buf + *len, RG_OUT_MAX - *len);
	else
		n = read(fd, scratch, sizeof(scratch));	/* keep draining */
	if (n > 0 && *len < RG_OUT_MAX)
		*len += n;
	else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
		*open_ = false;
	buf[*len] = '\0';
}

/* The next child's stdin (-1: the test's own). */
static int rg_stdin_fd = -1;

/* A vsnixctl child whose output is being collected. */
struct rg_proc {
	pid_t pid;
	int out, err;
	bool out_open, err_open;
	double started;
};

/* Starts vsnixctl with args (NULL-terminated, without argv[0]). */
RG_FN int rg_start(struct rg_proc *p, const char *const *args)
{
	const char *argv[32];
	int out[2], err[2], i;

	argv[0] = rg_vsnixctl();
	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	if (pipe(out) || pipe(err))
		return -1;
	p->started = rg_now();
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (rg_stdin_fd >= 0)
			dup2(rg_stdin_fd, 0);
		close(out[0]);
		close(err[0]);
		execv(argv[0], (char **)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	p->out = out[0];
	p->err = err[0];
	p->out_open = p->err_open = true;
	return 0;
}

/* Collects for up to wait_s seconds (0: until exit); true once both closed. */
RG_FN bool rg_collect(struct rg_proc *p, struct rg_result *r, double wait_s)
{
	double deadline = rg_now() + (wait_s > 0 ? wait_s : RG_TIMEOUT_S);

	while (p->out_open || p->err_open) {
		struct pollfd fds[2] = {
			{ p->out_open ? p->out : -1, POLLIN, 0 },
			{ p->err_open ? p->err : -1, POLLIN, 0 },
		};

		if (rg_now() > deadline) {
			if (wait_s > 0)
				return false;
			kill(p->pid, SIGKILL);
			break;
		}
		if (poll(fds, 2, 100) <= 0)
			continue;
		if (fds[0].revents)
			rg_drain(p->out, r->out, &r->out_len, &p->out_open);
		if (fds[1].revents)
			rg_drain(p->err, r->err, &r->err_len, &p->err_open);
	}
	return true;
}

RG_FN void rg_finish(struct rg_proc *p, struct rg_result *r)
{
	int status;

	rg_collect(p, r, 0);
	close(p->out);
	close(p->err);
	waitpid(p->pid, &status, 0);
	r->seconds = rg_now() - p->started;
	r->code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs vsnixctl with args to the end, output captured. */
RG_FN void rg_run(struct rg_result *r, const char *const *args)
{
	struct rg_proc p;

	memset(r, 0, sizeof(*r));
	if (rg_start(&p, args)) {
		r->code = -1;
		return;
	}
	rg_finish(&p, r);
}

RG_FN bool rg_has(const char *text, const char *needle)
{
	return strstr(text, needle) != NULL;
}

/* Each whole line of out that holds tag (a guest's /init lines), as TAP diagnostics. */
RG_FN void rg_show_lines(const char *out, const char *tag)
{
	const char *p = out, *nl, *bol;

	while ((p = strstr(p, tag))) {
		for (bol = p; bol > out && bol[-1] != '\n'; bol--)
			;
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		printf("# %.*s\n", (int)(nl - bol), bol);
		p = nl;
	}
	fflush(stdout);
}

/* system() of a formatted command: its exit status, 128 if it did not exit. */
RG_FN __attribute__((format(printf, 1, 2))) int rg_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#endif /* VSNIX_RUN_GUEST_H */
