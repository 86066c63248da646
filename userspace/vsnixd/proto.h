/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vsnixd wire protocol (Documentation/vsnixd.rst), shared by the
 * daemon and its clients (vsnixctl, the tests): one JSON object per line,
 * each way. A request is { "version": 1, "op": "...", args... }; a reply
 * is { "version": 1, "ok": true, ... } or { "version": 1, "ok": false,
 * "errno": N, "error": "..." }. After a successful "vm.console" reply the
 * connection carries the console's raw bytes.
 */
#ifndef VSNIXD_PROTO_H
#define VSNIXD_PROTO_H

#include <json-c/json.h>

#define VSNIXD_PROTO_VERSION	1
#define VSNIXD_DEFAULT_SOCKET	"/run/vsnix/vsnixd.sock"
#define VSNIXD_SOCKET_ENV	"VSNIXD_SOCKET"

/* client.c */
const char *vsnixd_socket_path(void);
int vsnixd_connect(const char *path);
int vsnixd_send(int fd, json_object *req);
int vsnixd_recv(int fd, json_object **reply);
int vsnixd_call(const char *path, json_object *req, json_object **reply,
		int *fd_out);

#endif
