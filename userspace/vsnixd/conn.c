// SPDX-License-Identifier: GPL-2.0
/*
 * Client connections: SO_PEERCRED decides who may talk (root, vsnixd's own
 * uid, or a member of the --group, "vsnix" by default); everyone else gets
 * one error line, an audit row, and the door. Requests are read a line at
 * a time and parsed by json-c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "vsnixd.h"

#define SEND_TIMEOUT_S	2	/* a client that reads slower is dropped */
#define MAX_PEER_GROUPS	256

static bool peer_in_group(const struct vsnixd *d, int fd, gid_t gid)
{
	gid_t groups[MAX_PEER_GROUPS];
	socklen_t len = sizeof(groups);
	unsigned int i;

	if (d->group_gid == (gid_t)-1)
		return false;
	if (gid == d->group_gid)
		return true;
	/* The peer's supplementary groups as they were at connect(). */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
		return false;
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == d->group_gid)
			return true;
	return false;
}

static void refuse(struct vsnixd *d, struct conn *c)
{
	char why[256];
	json_object *r;

	snprintf(why, sizeof(why),
		 "permission denied: uid %u (pid %d) is neither root nor in group '%s'",
		 (unsigned int)c->uid, (int)c->pid, d->opt.group);
	db_audit(d, c, "connect", "", "refused: not root nor in the group");
	r = reply_err(EACCES, "%s", why);
	conn_reply(c, r);
	c->dead = true;
}

void conn_accept(struct vsnixd *d)
{
	struct timeval tv = { SEND_TIMEOUT_S, 0 };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct conn *c;
	int fd;

	fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		close(fd);
		free(c);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->fd = fd;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	c->next = d->conns;
	d->conns = c;
	if (c->uid != 0 && c->uid != geteuid() && !peer_in_group(d, fd, c->gid))
		refuse(d, c);
}

int conn_send(struct conn *c, const void *p, size_t n)
{
	ssize_t w;

	while (n && !c->dead) {
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			c->dead = true;
			return -EPIPE;
		}
		p = (const char *)p + w;
		n -= w;
	}
	return c->dead ? -EPIPE : 0;
}

/* Sends one reply line and drops the reference. */
int conn_reply(struct conn *c, json_object *reply)
{
	const char *s;
	int ret;

	json_object_object_add(reply, "version",
			       json_object_new_int(VSNIXD_PROTO_VERSION));
	s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE);
	ret = conn_send(c, s, strlen(s));
	if (!ret)
		ret = conn_send(c, "\n", 1);
	json_object_put(reply);
	return ret;
}

static void request(struct vsnixd *d, struct conn *c, const char *line)
{
	enum json_tokener_error jerr;
	json_object *req, *reply;

	req = json_tokener_parse_verbose(line, &jerr);
	if (!req || !json_object_is_type(req, json_type_object)) {
		db_audit(d, c, "invalid", "", "bad JSON");
		reply = reply_err(EINVAL, "bad JSON: %s", req ? "not an object" :
				  json_tokener_error_desc(jerr));
		json_object_put(req);
		conn_reply(c, reply);
		return;
	}
	reply = ops_dispatch(d, c, req);
	json_object_put(req);
	if (reply)
		conn_reply(c, reply);
}

/*
 * An attached client's bytes into its VM's stdin pipe, as much as the
 * pipe takes now; the rest waits in c->buf (the poll loop retries and
 * stops reading the client while c->buf is full). A VM that ended or has
 * no input drops them.
 */
void conn_flush_input(struct vsnixd *d, struct conn *c)
{
	struct vmproc *v = vmproc_running(d, c->input);
	ssize_t w;

	while (c->len) {
		if (!v || v->in_fd < 0) {
			c->len = 0;
			return;
		}
		w = write(v->in_fd, c->buf, c->len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {	/* EPIPE: the VMM closed its stdin */
			c->len = 0;
			return;
		}
		memmove(c->buf, c->buf + w, c->len - w);
		c->len -= w;
	}
}

/* Whether the poll loop should read the client: not while its input waits. */
bool conn_wants_read(const struct conn *c)
{
	return !c->input[0] || c->len < sizeof(c->buf) - 1;
}

/* Whatever the peer sent: each complete line is one request. */
void conn_read(struct vsnixd *d, struct conn *c)
{
	char *nl, *start;
	ssize_t n;

	if (!conn_wants_read(c)) {
		conn_flush_input(d, c);
		/* Still full: only an end of the client matters now. */
		if (!conn_wants_read(c) &&
		    recv(c->fd, &n, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
			c->dead = true;
		return;
	}
	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0) {
		c->dead = true;
		return;
	}
	c->len += n;
	c->buf[c->len] = '\0';
	start = c->buf;
	while (!c->dead && !c->input[0] && (nl = strchr(start, '\n'))) {
		*nl = '\0';
		if (nl > start)
			request(d, c, start);
		start = nl + 1;
	}
	c->len -= start - c->buf;
	memmove(c->buf, start, c->len);
	/* Attached (vm.console with input): the rest is the VM's input. */
	if (c->input[0]) {
		conn_flush_input(d, c);
		return;
	}
	if (c->len == sizeof(c->buf) - 1) {
		db_audit(d, c, "invalid", "", "request line too long");
		conn_reply(c, reply_err(E2BIG, "request longer than %d bytes",
					VSNIXD_LINE_MAX - 1));
		c->dead = true;
	}
}

void conn_console(struct vsnixd *d, const char *vm, const char *p, size_t n)
{
	struct conn *c;

	for (c = d->conns; c; c = c->next)
		if (!c->dead && !strcmp(c->console, vm))
			conn_send(c, p, n);
}

/*
 * The VM ended: console followers are done, stop waiters get their reply,
 * restarts start it again (vm may be gone after that: callers pass a copy).
 */
void conn_vm_ended(struct vsnixd *d, const char *vm)
{
	json_object *row, *r;
	struct conn *c;

	for (c = d->conns; c; c = c->next) {
		if (c->dead)
			continue;
		if (!strcmp(c->console, vm))
			c->dead = true;
		if (strcmp(c->waits_stop, vm))
			continue;
		c->waits_stop[0] = '\0';
		if (c->restart) {
			conn_reply(c, vm_restart_done(d, c, vm));
			continue;
		}
		row = db_row(d, "SELECT name, state, exit_code, reason FROM vms"
			     " WHERE name = ?", "s", vm);
		r = reply_ok();
		json_object_object_add(r, "vm", row);
		conn_reply(c, r);
	}
}

void conn_reap(struct vsnixd *d)
{
	struct conn **pp = &d->conns, *c;

	while ((c = *pp)) {
		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		close(c->fd);
		free(c);
	}
}
