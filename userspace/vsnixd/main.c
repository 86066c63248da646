// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixd: options, the listening socket and the poll loop
 * (Documentation/vsnixd.rst).
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "vsnixd.h"

#define MAX_POLL	1024
#define TICK_MS		500

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Pool and VM names: 1-63 of [A-Za-z0-9._-], not starting with . or -. */
bool vsnixd_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n > VSNIXD_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-", s[i]))
			return false;
	return true;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vsnixd [options]\n"
		"  --socket PATH     the Unix socket (default " VSNIXD_DEFAULT_SOCKET ")\n"
		"  --db FILE         the SQLite state (default /var/lib/vsnix/state.db)\n"
		"  --pools DIR       the pools' folder (default /var/lib/vsnix/pools)\n"
		"  --mount-dir DIR   pools are mounted at DIR/NAME (default /run/vsnix/pools)\n"
		"  --state-dir DIR   per-VM overlay disks (default /var/lib/vsnix/vms)\n"
		"  --vmm FILE        the vsnixctl run per VM (default /usr/local/bin/vsnixctl)\n"
		"  --group NAME      who may connect besides root (default vsnix)\n"
		"  --mounted         pools are mounted at DIR/NAME already: read, not mounted\n"
		"A socket passed by systemd (LISTEN_FDS, vsnixd.socket) replaces --socket.\n"
		"Documentation/vsnixd.rst describes the protocol and the database.\n");
}

static int parse_opts(struct vsnixd_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "db", required_argument, NULL, 'd' },
		{ "pools", required_argument, NULL, 'p' },
		{ "mount-dir", required_argument, NULL, 'm' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "vmm", required_argument, NULL, 'v' },
		{ "group", required_argument, NULL, 'g' },
		{ "mounted", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int ch;

	*o = (struct vsnixd_opts){ VSNIXD_DEFAULT_SOCKET, "/var/lib/vsnix/state.db",
		"/var/lib/vsnix/pools", "/run/vsnix/pools", "/var/lib/vsnix/vms",
		"/usr/local/bin/vsnixctl", "vsnix", false };
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->socket = optarg;
			break;
		case 'd':
			o->db = optarg;
			break;
		case 'p':
			o->pools_dir = optarg;
			break;
		case 'm':
			o->mount_dir = optarg;
			break;
		case 'S':
			o->state_dir = optarg;
			break;
		case 'v':
			o->vmm = optarg;
			break;
		case 'g':
			o->group = optarg;
			break;
		case 'M':
			o->mounted = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

/*
 * The group's gid from /etc/group through fgetgrent(): a static binary's
 * getgrnam() would dlopen the host's NSS modules, which it cannot use.
 */
static gid_t group_gid(const char *name)
{
	FILE *f = fopen("/etc/group", "re");
	gid_t gid = (gid_t)-1;
	struct group *g;

	while (f && (g = fgetgrent(f)))
		if (!strcmp(g->gr_name, name)) {
			gid = g->gr_gid;
			break;
		}
	if (f)
		fclose(f);
	return gid;
}

static int setup(struct vsnixd *d)
{
	sigset_t set;

	d->group_gid = group_gid(d->opt.group);
	if (d->group_gid == (gid_t)-1)
		fprintf(stderr, "vsnixd: no group '%s': only root may connect\n",
			d->opt.group);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->signal_fd < 0)
		return -errno;
	/* The socket first: a vsnixd that cannot serve changes nothing. */
	if (listen_socket(d))
		return -EINVAL;
	mkdir(d->opt.state_dir, 0700);
	if (db_open(d) || db_recover(d) || pools_recover(d))
		return -EIO;
	db_audit(d, NULL, "daemon.start", "", "ok");
	autostart_all(d);
	return 0;
}

static void on_signal(struct vsnixd *d)
{
	struct signalfd_siginfo si;

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			vmproc_reap(d);
		else
			d->quit = true;
	}
}

/* Fills pfd: the socket, the signals, the consoles, the clients. */
static int poll_set(struct vsnixd *d, struct pollfd *pfd, void **who)
{
	struct vmproc *v;
	struct conn *c;
	int n = 0;

	pfd[n++] = (struct pollfd){ .fd = d->listen_fd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = d->signal_fd, .events = POLLIN };
	for (v = d->vms; v && n < MAX_POLL; v = v->next)
		if (v->con_fd >= 0) {
			who[n] = v;
			pfd[n++] = (struct pollfd){ .fd = v->con_fd, .events = POLLIN };
		}
	for (c = d->conns; c && n < MAX_POLL; c = c->next)
		if (!c->dead) {
			who[n] = c;
			pfd[n++] = (struct pollfd){ .fd = c->fd,
				.events = conn_wants_read(c) ? POLLIN : 0 };
		}
	return n;
}

static void loop(struct vsnixd *d)
{
	static struct pollfd pfd[MAX_POLL];
	static void *who[MAX_POLL];
	int i, n, nr_vm_fds;
	struct vmproc *v;
	struct conn *c;

	while (!d->quit) {
		n = poll_set(d, pfd, who);
		nr_vm_fds = 2;
		for (v = d->vms; v; v = v->next)
			nr_vm_fds += v->con_fd >= 0;
		if (poll(pfd, n, TICK_MS) < 0 && errno != EINTR)
			break;
		/* Consoles first: a VM's last output lands before its end. */
		for (i = 2; i < n; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (i < nr_vm_fds)
				vmproc_read(d, who[i]);
			else if (!((struct conn *)who[i])->dead)
				conn_read(d, who[i]);
		}
		if (pfd[1].revents & POLLIN)
			on_signal(d);
		if (pfd[0].revents & POLLIN)
			conn_accept(d);
		vmproc_tick(d, now_ms());
		for (c = d->conns; c; c = c->next)
			if (c->input[0] && c->len && !c->dead)
				conn_flush_input(d, c);
		conn_reap(d);
	}
}

int main(int argc, char **argv)
{
	struct vsnixd d = { .listen_fd = -1, .signal_fd = -1 };

	if (parse_opts(&d.opt, argc, argv)) {
		usage(stderr);
		return 2;
	}
	if (setup(&d)) {
		if (d.listen_fd >= 0 && !d.inherited)
			unlink(d.opt.socket);
		return 1;
	}
	fprintf(stderr, "vsnixd: listening on %s%s, state in %s\n", d.opt.socket,
		d.inherited ? " (from systemd)" : "", d.opt.db);
	loop(&d);
	d.quit = true;	/* no restart starts a VM from here on */
	vmproc_kill_all(&d);
	db_audit(&d, NULL, "daemon.stop", "", "ok");
	while (d.conns) {
		d.conns->dead = true;
		conn_reap(&d);
	}
	if (!d.inherited)
		unlink(d.opt.socket);	/* systemd owns an inherited one */
	close(d.listen_fd);
	db_close(&d);
	return 0;
}
