// SPDX-License-Identifier: GPL-2.0
/*
 * Console output reaches any writable console_fd the kernel accepts:
 * /dev/null, a pipe, a regular file (at its position, or at its end when
 * O_APPEND). What a file refuses (a full non-blocking pipe) is dropped and
 * counted in VSNIX_GET_VM_STATUS.console_dropped, logged once per VM, never
 * once per write. And `vsnixctl run` with stdout on /dev/null or a pipe
 * logs no "console write failed", the pipe getting all of the output, and
 * with stdout on an AF_UNIX socket (refused as a console) still gets it all.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "vsnix_util.h"

#define NR_TESTS	10
#define COM1		0x3f8
#define NR_LINES	200
#define LINE		"console line of thirty-two byte\n"
#define LINE_LEN	(sizeof(LINE) - 1)
#define TOTAL		(NR_LINES * LINE_LEN)
#define FAILED_MSG	"console write failed"

static void guest_print(void)
{
	static const char line[] = LINE;
	int i, j;

	for (i = 0; i < NR_LINES; i++)
		for (j = 0; j < (int)LINE_LEN; j++)
			guest_outb(COM1, line[j]);
}

/* Lines of the kernel log holding FAILED_MSG. */
static int klog_failures(void)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf, *p;
	int n, count = 0;

	TEST_ASSERT(size > 0, "klogctl size");
	buf = calloc(1, size + 1);
	TEST_ASSERT(buf, "calloc");
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	TEST_ASSERT(n >= 0, "klogctl read");
	for (p = buf; (p = strstr(p, FAILED_MSG)); p++)
		count++;
	free(buf);
	return count;
}

/* Runs guest_print with a UART on console; returns the VM's status. */
static bool run_guest(int console, struct vsnix_vm_status *st)
{
	struct vsnix_test_vm *vm = vm_create_long(0);
	struct vsnix_test_vcpu *vcpu = vcpu_create_long(vm, 0, guest_print);
	struct vsnix_device_config c = { .type = VSNIX_DEV_UART16550, .console_fd = console,
					 .uart.base = COM1 };
	struct ucall uc;
	bool ok;

	TEST_ASSERT(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c) == 0, "CREATE_DEVICE: %s",
		    strerror(errno));
	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE;
	if (!ok)
		tap_diag("guest: %s", vcpu_exit_str(vcpu));
	memset(st, 0, sizeof(*st));
	TEST_ASSERT(ioctl(vm->fd, VSNIX_GET_VM_STATUS, st) == 0, "GET_VM_STATUS");
	vm_destroy(vm);
	return ok && st->console_bytes == TOTAL;
}

static bool all_lines(const char *buf, size_t len)
{
	size_t i;

	if (len != TOTAL)
		return false;
	for (i = 0; i < NR_LINES; i++)
		if (memcmp(buf + i * LINE_LEN, LINE, LINE_LEN))
			return false;
	return true;
}

static void test_dev_null(void)
{
	struct vsnix_vm_status st;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int before = klog_failures();
	bool ok = run_guest(fd, &st);

	tap_ok(ok && st.console_dropped == 0 && klog_failures() == before,
	       "/dev/null: %llu bytes taken, %llu dropped, no \"" FAILED_MSG "\" logged",
	       (unsigned long long)st.console_bytes, (unsigned long long)st.console_dropped);
	close(fd);
}

static void test_pipe(void)
{
	static char buf[TOTAL + 1];
	struct vsnix_vm_status st;
	int p[2];
	ssize_t n;
	bool ok;

	TEST_ASSERT(pipe2(p, O_CLOEXEC) == 0 && fcntl(p[0], F_SETPIPE_SZ, 64 * 1024) > 0,
		    "pipe");
	ok = run_guest(p[1], &st);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf));
	tap_ok(ok && st.console_dropped == 0 && n > 0 && all_lines(buf, n),
	       "pipe: all %zu bytes arrive in order (%zd read)", TOTAL, n);
	close(p[0]);
}

static void test_file(bool append)
{
	static char buf[TOTAL + 16];
	struct vsnix_vm_status st;
	int fd = memfd_create("console", MFD_CLOEXEC);
	ssize_t n;
	bool ok;

	TEST_ASSERT(fd >= 0 && write(fd, "start\n", 6) == 6, "memfd");
	if (append) {
		/* O_APPEND through /proc: the memfd itself cannot get it. */
		char path[64];
		int afd;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		afd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		TEST_ASSERT(afd >= 0, "reopen O_APPEND");
		TEST_ASSERT(lseek(afd, 0, SEEK_SET) == 0, "lseek");
		ok = run_guest(afd, &st);
		close(afd);
	} else {
		ok = run_guest(fd, &st);
	}
	n = pread(fd, buf, sizeof(buf), 0);
	ok = ok && st.console_dropped == 0 && n == 6 + (ssize_t)TOTAL &&
	     !memcmp(buf, "start\n", 6) && all_lines(buf + 6, n - 6);
	tap_ok(ok, "regular file%s: the output follows what was there (%zd bytes)",
	       append ? " opened O_APPEND, positioned at 0" : "", n);
	close(fd);
}

/* A full non-blocking pipe nobody reads: dropped, counted, logged once. */
static void test_full_pipe(void)
{
	struct vsnix_vm_status st;
	int p[2], queued = -1, before;
	bool ok;

	TEST_ASSERT(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
	TEST_ASSERT(fcntl(p[0], F_SETPIPE_SZ, 4096) >= 4096, "F_SETPIPE_SZ");
	before = klog_failures();
	ok = run_guest(p[1], &st);
	TEST_ASSERT(ioctl(p[0], FIONREAD, &queued) == 0, "FIONREAD");
	ok = ok && queued > 0 && queued < (int)TOTAL &&
	     st.console_dropped == TOTAL - queued;
	tap_ok(ok, "full non-blocking pipe: %d bytes queued, %llu counted as dropped (want %zu)",
	       queued, (unsigned long long)st.console_dropped, TOTAL - queued);
	tap_ok(klog_failures() - before <= 1, "... and logged at most once (%d lines)",
	       klog_failures() - before);
	close(p[0]);
	close(p[1]);
}

static const char *vsnixctl_path(void)
{
	return access("/bin/vsnixctl", X_OK) == 0 ? "/bin/vsnixctl" : "../userspace/vsnixctl";
}

/* vsnixctl run hello.hvt with stdout on out_fd; returns its exit code. */
static int run_hello(int out_fd)
{
	char self[256], guest[300];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int status;
	pid_t pid;

	TEST_ASSERT(n > 0, "readlink");
	self[n] = 0;
	*strrchr(self, '/') = 0;
	snprintf(guest, sizeof(guest), "%s/guests/hello.hvt", self);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (!pid) {
		dup2(out_fd, 1);
		execl(vsnixctl_path(), "vsnixctl", "run", "--kernel", guest, "--mem", "32M",
		      "--cmdline", "exit=0", (char *)NULL);
		_exit(127);
	}
	TEST_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_vsnixctl(void)
{
	static char buf[4096];
	int fd, p[2], before, code;
	ssize_t n, len = 0;

	if (access(vsnixctl_path(), X_OK)) {
		tap_skip("vsnixctl not found", "vsnixctl run > /dev/null");
		tap_skip("vsnixctl not found", "vsnixctl run | pipe");
		tap_skip("vsnixctl not found", "vsnixctl run > AF_UNIX socket");
		return;
	}
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	before = klog_failures();
	code = run_hello(fd);
	close(fd);
	tap_ok(code == 0 && klog_failures() == before,
	       "vsnixctl run > /dev/null: exit %d, no \"" FAILED_MSG "\" logged", code);

	/* hello prints far less than a pipe holds: read it all afterwards. */
	TEST_ASSERT(pipe2(p, O_CLOEXEC) == 0, "pipe");
	code = run_hello(p[1]);
	close(p[1]);
	while ((n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
	close(p[0]);
	tap_ok(code == 0 && klog_failures() == before &&
	       strstr(buf, "Hello from a vsnix hvt unikernel\n") &&
	       strstr(buf, "mem_size=33554432\n"),
	       "vsnixctl run | pipe: exit %d, greeting through its last line (%zd bytes)",
	       code, len);

	/* The kernel refuses an AF_UNIX console: vsnixctl copies through a pipe. */
	TEST_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) == 0, "socketpair");
	code = run_hello(p[1]);
	close(p[1]);
	len = 0;
	while ((n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
	close(p[0]);
	tap_ok(code == 0 && strstr(buf, "Hello from a vsnix hvt unikernel\n") &&
	       strstr(buf, "mem_size=33554432\n"),
	       "vsnixctl run > AF_UNIX socket (journald's kind): exit %d, all output (%zd bytes)",
	       code, len);
}

int main(void)
{
	vsnix_dev_fd();
	tap_plan(NR_TESTS);
	/* First: the message is ratelimited, later tests would mask it. */
	test_vsnixctl();
	test_dev_null();
	test_pipe();
	test_file(false);
	test_file(true);
	test_full_pipe();
	tap_ok(kernel_healthy(), "no oops or WARN");
	tap_finish();
}
