// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixd's listening socket: the one systemd passes (vsnixd.socket, socket
 * activation), else its own at --socket.
 *
 * systemd's protocol (sd_listen_fds(3)): LISTEN_PID names the process the
 * sockets are for, LISTEN_FDS how many, passed from fd 3 on (without
 * FD_CLOEXEC); LISTEN_FDNAMES may name them. It is read here rather than
 * through libsystemd because vsnixd is a static binary (the rig's
 * initramfs runs it) and Debian ships libsystemd as a shared library only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "vsnixd.h"

#define LISTEN_FDS_START	3	/* sd_listen_fds(3): SD_LISTEN_FDS_START */

/* fd is a listening AF_UNIX stream socket; its path into d->socket_path. */
static bool unix_listener(struct vsnixd *d, int fd)
{
	struct sockaddr_un sa = { };
	socklen_t len = sizeof(int);
	int type = 0, listening = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_STREAM)
		return false;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) || !listening)
		return false;
	len = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &len) || sa.sun_family != AF_UNIX)
		return false;
	if (len > offsetof(struct sockaddr_un, sun_path) && sa.sun_path[0])
		snprintf(d->socket_path, sizeof(d->socket_path), "%.*s",
			 (int)(len - offsetof(struct sockaddr_un, sun_path)), sa.sun_path);
	else
		snprintf(d->socket_path, sizeof(d->socket_path), "(unnamed)");
	return true;
}

/*
 * The socket systemd passed: 1 when taken, 0 when none is for us, -EINVAL
 * when what was passed is not one listening Unix stream socket. The
 * variables are removed, so that the VMs' vsnixctl children do not see them.
 */
static int inherited_socket(struct vsnixd *d)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	long n;

	if (!pid || !fds || strtol(pid, &end, 10) != getpid() || *end)
		return 0;
	n = strtol(fds, &end, 10);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (*end || n != 1) {
		fprintf(stderr, "vsnixd: LISTEN_FDS=%s: one socket expected (vsnixd.socket)\n",
			fds);
		return -EINVAL;
	}
	if (!unix_listener(d, LISTEN_FDS_START)) {
		fprintf(stderr, "vsnixd: LISTEN_FDS: fd %d is not a listening Unix stream socket\n",
			LISTEN_FDS_START);
		return -EINVAL;
	}
	fcntl(LISTEN_FDS_START, F_SETFD, FD_CLOEXEC);
	d->listen_fd = LISTEN_FDS_START;
	d->inherited = true;
	d->opt.socket = d->socket_path;
	return 1;
}

/* Its own socket: mode 0660, group --group, so SO_PEERCRED is the second gate. */
static int own_socket(struct vsnixd *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(d->opt.socket) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vsnixd: %s: path too long\n", d->opt.socket);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, d->opt.socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(d->opt.socket);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64)) {
		err = errno;
		fprintf(stderr, "vsnixd: %s: %s\n", d->opt.socket, strerror(err));
		close(fd);
		return -err;
	}
	if (chmod(d->opt.socket, 0660) ||
	    (d->group_gid != (gid_t)-1 && chown(d->opt.socket, -1, d->group_gid)))
		fprintf(stderr, "vsnixd: %s: permissions: %s\n", d->opt.socket,
			strerror(errno));
	d->listen_fd = fd;
	return 0;
}

int listen_socket(struct vsnixd *d)
{
	int ret = inherited_socket(d);

	if (ret)
		return ret < 0 ? ret : 0;
	return own_socket(d);
}
