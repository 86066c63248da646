// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixd_host: socket activation. vsnixd takes the listening socket
 * systemd passes (fd 3, LISTEN_PID, LISTEN_FDS: sd_listen_fds(3)) instead
 * of binding --socket, leaves the socket file to systemd at exit, ignores
 * variables meant for another process and refuses an fd 3 that is not a
 * listening Unix socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "harness.h"

/* A listening socket at path, as systemd's vsnixd.socket makes it. */
static int listener(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * vsnixd with fd on fd 3 and LISTEN_FDS=1; LISTEN_PID its own pid, or
 * pid_delta away from it. --socket names a folder that does not exist: a
 * vsnixd that binds it fails. Its stderr goes to tmp/act.log.
 */
static pid_t spawn(int fd, int pid_delta, const char *own_socket)
{
	char pid[32], db[300], log[300];
	pid_t child = fork();

	if (child)
		return child;
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + pid_delta);
	snprintf(db, sizeof(db), "%s/act.db", tmp);
	snprintf(log, sizeof(log), "%s/act.log", tmp);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	if (dup2(fd, 3) < 0 || !freopen(log, "w", stderr))
		_exit(126);
	execl(vsnixd_bin, vsnixd_bin, "--socket", own_socket, "--db", db,
	      "--group", "nogroup", "--mounted", (char *)NULL);
	_exit(127);
}

static bool ping(const char *path)
{
	json_object *req = json_tokener_parse("{ \"op\": \"ping\" }"), *r = NULL;
	bool served = false;
	int i;

	for (i = 0; i < 100 && !served; i++) {
		if (!vsnixd_call(path, req, &r, NULL))
			served = is_ok(r);
		json_object_put(r);
		r = NULL;
		if (!served)
			msleep(50);
	}
	json_object_put(req);
	return served;
}

static int end(pid_t pid)
{
	int st = 0;

	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	return st;
}

void test_activation(void)
{
	char path[300], own[300];
	int fd, st;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/act.sock", tmp);
	snprintf(own, sizeof(own), "%s/no-such-dir/vsnixd.sock", tmp);
	fd = listener(path);
	if (!ok(fd >= 0, "a listening socket for vsnixd (as vsnixd.socket)"))
		return;
	pid = spawn(fd, 0, own);
	close(fd);	/* vsnixd's alone: a vsnixd that died refuses connections */
	ok(ping(path), "LISTEN_FDS=1 for vsnixd's pid: it serves the socket on fd 3");
	st = end(pid);
	ok(WIFEXITED(st) && !WEXITSTATUS(st) && !access(path, F_OK) &&
	   !sh("grep -q 'listening on %s (from systemd)' %s/act.log", path, tmp),
	   "SIGTERM: exit 0, the socket file left to systemd; the log says where it came from");
	snprintf(own, sizeof(own), "%s/own.sock", tmp);
	fd = listener(path);
	pid = spawn(fd, 1, own);
	close(fd);
	ok(fd >= 0 && ping(own), "LISTEN_PID of another process: ignored, vsnixd binds --socket");
	end(pid);
	fd = open("/dev/null", O_RDONLY);
	pid = spawn(fd, 0, own);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 1 &&
	   !sh("grep -q 'fd 3 is not a listening Unix stream socket' %s/act.log", tmp),
	   "fd 3 not a socket: vsnixd exits 1 and says so");
	close(fd);
}
