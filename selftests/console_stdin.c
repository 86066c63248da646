// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl forwards stdin to the guest's 16550 (VSNIX_DEVICE_INPUT): with
 * --stdin from a pipe; from a terminal (a pty here) in raw mode, where
 * Ctrl-] Ctrl-] sends one Ctrl-] and Ctrl-] q stops the VM (exit code
 * 123); the terminal's settings come back after the run, also when a
 * signal stops it. A guest without a console input device refuses
 * --stdin. The multiboot test guest (echo=1) prints "ready", then echoes
 * what it reads up to a '.'.
 */
#define _GNU_SOURCE
#include <sys/mount.h>
#include <termios.h>
#include "guests/run_guest.h"

#define NR_TESTS	8

/* Starts vsnixctl on the echo guest with stdin from in_fd; waits for "ready". */
static bool start_echo(struct rg_proc *p, struct rg_result *r, int in_fd, bool force)
{
	const char *args[] = { "run", "--kernel", rg_guest("mbtest.elf"), "--mem", "64M",
			       "--cmdline", "echo=1 exit=5", force ? "--stdin" : NULL, NULL };
	double deadline = rg_now() + 120;

	memset(r, 0, sizeof(*r));
	rg_stdin_fd = in_fd;
	if (rg_start(p, args))
		return false;
	rg_stdin_fd = -1;
	while (!rg_has(r->out, "ready\n") && rg_now() < deadline && (p->out_open || p->err_open))
		rg_collect(p, r, 0.2);
	return rg_has(r->out, "ready\n");
}

static bool write_all(int fd, const char *s, size_t len)
{
	return write(fd, s, len) == (ssize_t)len;
}

/* A pty pair; mounts devpts first where /dev/pts is not there. */
static int open_pty(int *slave)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);

	if (m < 0) {
		mkdir("/dev/pts", 0755);
		mount("devpts", "/dev/pts", "devpts", 0, "ptmxmode=0666");
		if (access("/dev/ptmx", F_OK))
			symlink("pts/ptmx", "/dev/ptmx");
		m = posix_openpt(O_RDWR | O_NOCTTY);
	}
	if (m < 0 || grantpt(m) || unlockpt(m))
		return -1;
	*slave = open(ptsname(m), O_RDWR | O_NOCTTY);
	return *slave < 0 ? -1 : m;
}

static bool tty_cooked(int fd)
{
	struct termios t;

	return !tcgetattr(fd, &t) && (t.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG);
}

static void pipe_case(void)
{
	struct rg_proc p;
	static struct rg_result r;
	int in[2];
	bool ok;

	if (pipe(in)) {
		rg_ok(false, "pipe");
		return;
	}
	ok = start_echo(&p, &r, in[0], true);
	close(in[0]);
	ok = ok && write_all(in[1], "hello world.", 12);
	close(in[1]);
	rg_finish(&p, &r);
	if (!rg_ok(ok && r.code == 5 && rg_has(r.out, "echo=[hello world]\n"),
		   "--stdin from a pipe: the guest reads 'hello world' in order"))
		rg_diag(&r);
}

static void tty_cases(void)
{
	static struct rg_result r;
	struct rg_proc p;
	int m, s;
	bool ok;

	m = open_pty(&s);
	if (m < 0) {
		rg_ok(false, "a pty (posix_openpt): %s", strerror(errno));
		rg_skip_rest(NR_TESTS - 1, "no pty");
		return;
	}
	rg_ok(tty_cooked(s), "the pty starts in canonical mode with echo");

	/* Ctrl-] Ctrl-] is one Ctrl-]; no --stdin needed for a terminal. */
	ok = start_echo(&p, &r, s, false);
	ok = ok && write_all(m, "ab\x1d\x1d" "c.", 6);
	rg_finish(&p, &r);
	if (!rg_ok(ok && r.code == 5 && rg_has(r.out, "echo=[ab?c]\n"),
		   "terminal: forwarded raw, Ctrl-] Ctrl-] arrives as one Ctrl-] (ab?c)"))
		rg_diag(&r);
	rg_ok(tty_cooked(s), "terminal settings restored after the guest ended");

	/* Ctrl-] q stops the VM while the guest still waits for input. */
	ok = start_echo(&p, &r, s, false);
	ok = ok && write_all(m, "xy\x1dq", 4);
	rg_finish(&p, &r);
	if (!rg_ok(ok && r.code == 123 && rg_has(r.err, "stopped from the console") &&
		   !rg_has(r.out, "echo=["),
		   "Ctrl-] q stops the VM: exit code %d (123)", r.code))
		rg_diag(&r);
	rg_ok(tty_cooked(s), "terminal settings restored after Ctrl-] q");

	/* A stop signal takes the normal way out: settings restored too. */
	ok = start_echo(&p, &r, s, false);
	ok = ok && !kill(p.pid, SIGTERM);
	rg_finish(&p, &r);
	if (!rg_ok(ok && r.code == 128 + SIGTERM && tty_cooked(s),
		   "SIGTERM: exit code %d, terminal settings restored", r.code))
		rg_diag(&r);
	close(s);
	close(m);
}

int main(void)
{
	static struct rg_result r;
	int in[2];

	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);
	pipe_case();
	tty_cases();

	/* hvt guests have no console input: --stdin is a setup error. */
	if (pipe(in) == 0) {
		rg_stdin_fd = in[0];
		rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest("hello.hvt"),
					     "--stdin", NULL });
		rg_stdin_fd = -1;
		close(in[0]);
		close(in[1]);
	}
	if (!rg_ok(r.code == 120 && rg_has(r.err, "no console input device"),
		   "--stdin with an hvt guest: exit code %d (120), says why", r.code))
		rg_diag(&r);
	return rg_exit();
}
