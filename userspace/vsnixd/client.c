// SPDX-License-Identifier: GPL-2.0
/*
 * The client side of the vsnixd protocol (proto.h), for vsnixctl and the
 * tests: connect, one request line out, one reply line in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "proto.h"

#define REPLY_MAX	(4 << 20)

const char *vsnixd_socket_path(void)
{
	const char *env = getenv(VSNIXD_SOCKET_ENV);

	return env && *env ? env : VSNIXD_DEFAULT_SOCKET;
}

/* A connected fd, or -errno (-ENOENT/-ECONNREFUSED: no daemon). */
int vsnixd_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int vsnixd_send(int fd, json_object *req)
{
	const char *s;
	size_t n;
	ssize_t w;

	if (!json_object_object_get(req, "version"))
		json_object_object_add(req, "version",
				       json_object_new_int(VSNIXD_PROTO_VERSION));
	s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	n = strlen(s);
	while (n) {
		w = send(fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EPIPE;
		s += w;
		n -= w;
	}
	return send(fd, "\n", 1, MSG_NOSIGNAL) == 1 ? 0 : -EPIPE;
}

/*
 * One reply line, read a byte at a time so nothing after it (a console's
 * bytes) is consumed. -EPROTO: not JSON; -ECONNRESET: closed.
 */
int vsnixd_recv(int fd, json_object **reply)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	*reply = NULL;
	while (buf) {
		n = read(fd, buf + len, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return -ECONNRESET;
		}
		if (buf[len] == '\n')
			break;
		if (++len == cap) {
			cap *= 2;
			buf = cap > REPLY_MAX ? (free(buf), NULL) : realloc(buf, cap);
		}
	}
	if (!buf)
		return -E2BIG;
	buf[len] = '\0';
	*reply = json_tokener_parse(buf);
	free(buf);
	return *reply ? 0 : -EPROTO;
}

/* Connect, send, receive; fd_out: keep the connection (console). */
int vsnixd_call(const char *path, json_object *req, json_object **reply,
		int *fd_out)
{
	int fd = vsnixd_connect(path), ret;

	*reply = NULL;
	if (fd < 0)
		return fd;
	/*
	 * A refused peer gets its error line before the daemon reads the
	 * request: the send can fail (EPIPE) while the reply waits unread.
	 */
	ret = vsnixd_send(fd, req);
	if (!vsnixd_recv(fd, reply))
		ret = 0;
	if (fd_out && !ret)
		*fd_out = fd;
	else
		close(fd);
	return ret;
}
