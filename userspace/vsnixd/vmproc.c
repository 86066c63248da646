// SPDX-License-Identifier: GPL-2.0
/*
 * One process per VM: vsnixd forks `vsnixctl run ...` (libvsnix builds the
 * VM there, one thread per vCPU) with its stdout and stderr on a pipe that
 * the poll loop copies into the VM's console ring. A crashing VMM cannot
 * take the daemon or the other VMs with it, and the daemon stays
 * single-threaded. The child dies with the daemon (PR_SET_PDEATHSIG), so
 * no VM outlives the state that describes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "vsnixd.h"

void ring_put(struct ring *r, const char *p, size_t n)
{
	size_t chunk;

	r->total += n;
	if (n > VSNIXD_RING_SIZE) {
		p += n - VSNIXD_RING_SIZE;
		n = VSNIXD_RING_SIZE;
	}
	while (n) {
		chunk = VSNIXD_RING_SIZE - r->head;
		if (chunk > n)
			chunk = n;
		memcpy(r->buf + r->head, p, chunk);
		r->head = (r->head + chunk) % VSNIXD_RING_SIZE;
		p += chunk;
		n -= chunk;
	}
}

/* The bytes kept, oldest first; how many (at most len). */
size_t ring_get(const struct ring *r, char *out, size_t len)
{
	size_t kept = r->total < VSNIXD_RING_SIZE ? r->total : VSNIXD_RING_SIZE;
	size_t start = (r->head + VSNIXD_RING_SIZE - kept) % VSNIXD_RING_SIZE;
	size_t i;

	if (kept > len) {
		start = (start + kept - len) % VSNIXD_RING_SIZE;
		kept = len;
	}
	for (i = 0; i < kept; i++)
		out[i] = r->buf[(start + i) % VSNIXD_RING_SIZE];
	return kept;
}

struct vmproc *vmproc_find(struct vsnixd *d, const char *name)
{
	struct vmproc *v;

	for (v = d->vms; v; v = v->next)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

struct vmproc *vmproc_running(struct vsnixd *d, const char *name)
{
	struct vmproc *v = vmproc_find(d, name);

	return v && v->running ? v : NULL;
}

/* Drops an ended VM's console (a new start, vm.delete). */
void vmproc_forget(struct vsnixd *d, const char *name)
{
	struct vmproc **pp, *v;

	for (pp = &d->vms; (v = *pp); pp = &v->next)
		if (!v->running && !strcmp(v->name, name)) {
			*pp = v->next;
			free(v);
			return;
		}
}

/* stdin: the console input pipe's read end, or /dev/null (in_r < 0). */
static void child(int pipe_w, int in_r, char *const argv[])
{
	int in = in_r >= 0 ? in_r : open("/dev/null", O_RDONLY);
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)	/* the daemon died before prctl */
		_exit(EXIT_FAILURE);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	if (in < 0 || dup2(in, 0) < 0 || dup2(pipe_w, 1) < 0 || dup2(pipe_w, 2) < 0)
		_exit(EXIT_FAILURE);
	execv(argv[0], argv);
	dprintf(2, "vsnixd: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/*
 * Forks the VM's vsnixctl child; the caller records it in the database.
 * With input, its stdin is a pipe whose write end (v->in_fd) carries what
 * an attached console client types (vsnixctl run --stdin forwards it).
 */
int vmproc_start(struct vsnixd *d, const char *name, char *const argv[],
		 bool input, char *err, size_t errlen)
{
	int p[2], in[2] = { -1, -1 };
	struct vmproc *v;

	v = calloc(1, sizeof(*v));
	if (!v || pipe2(p, O_CLOEXEC)) {
		snprintf(err, errlen, "out of resources: %s", strerror(errno));
		free(v);
		return -ENOMEM;
	}
	if (input && pipe2(in, O_CLOEXEC)) {
		snprintf(err, errlen, "out of resources: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		free(v);
		return -ENOMEM;
	}
	snprintf(v->name, sizeof(v->name), "%s", name);
	vmproc_forget(d, name);
	v->running = true;
	v->pid = fork();
	if (v->pid == 0) {
		close(p[0]);
		child(p[1], in[0], argv);
	}
	close(p[1]);
	if (in[0] >= 0)
		close(in[0]);
	if (v->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		if (in[1] >= 0)
			close(in[1]);
		free(v);
		return -EAGAIN;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	if (in[1] >= 0)
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	v->con_fd = p[0];
	v->in_fd = in[1];
	v->next = d->vms;
	d->vms = v;
	return v->pid;
}

/* The running VM owns the scratch overlays of its start (taken from paths). */
void vmproc_take_scratch(struct vsnixd *d, const char *name, char **paths,
			 unsigned int *nr)
{
	struct vmproc *v = vmproc_running(d, name);
	unsigned int i;

	if (!v)
		return;
	for (i = 0; i < *nr && v->nr_scratch < VSNIXD_MAX_SCRATCH; i++) {
		v->scratch[v->nr_scratch++] = paths[i];
		paths[i] = NULL;
	}
}

static void drop_scratch(struct vmproc *v)
{
	while (v->nr_scratch) {
		char *p = v->scratch[--v->nr_scratch];

		unlink(p);
		free(p);
	}
}

/* SIGTERM now (vsnixctl powers the VM off), SIGKILL after the grace time. */
int vmproc_stop(struct vsnixd *d, struct vmproc *v)
{
	(void)d;
	if (!v->stopping) {
		v->stopping = true;
		v->kill_at = now_ms() + VSNIXD_STOP_GRACE_S * 1000;
	}
	return kill(v->pid, SIGTERM) ? -errno : 0;
}

/* vm.kill: SIGKILL at once, no grace time. */
int vmproc_kill(struct vsnixd *d, struct vmproc *v)
{
	(void)d;
	v->stopping = true;
	v->killed = true;
	v->kill_at = 0;
	return kill(v->pid, SIGKILL) ? -errno : 0;
}

void vmproc_tick(struct vsnixd *d, int64_t now)
{
	struct vmproc *v;

	for (v = d->vms; v; v = v->next)
		if (v->running && v->kill_at && now >= v->kill_at) {
			kill(v->pid, SIGKILL);
			v->kill_at = 0;
		}
}

/* Console bytes from the child: into the ring and to the followers. */
void vmproc_read(struct vsnixd *d, struct vmproc *v)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = read(v->con_fd, buf, sizeof(buf));
		if (n > 0) {
			ring_put(&v->ring, buf, n);
			conn_console(d, v->name, buf, n);
			continue;
		}
		if (n < 0 && (errno == EINTR))
			continue;
		if (n == 0 || errno != EAGAIN) {
			close(v->con_fd);
			v->con_fd = -1;
		}
		return;
	}
}

/* The VM's row and its open run closed, in one transaction. */
static void ended(struct vsnixd *d, struct vmproc *v, int status)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	int64_t now = time(NULL);
	char reason[96];

	if (v->killed)
		snprintf(reason, sizeof(reason), "killed");
	else if (v->stopping)
		snprintf(reason, sizeof(reason), "stopped");
	else if (WIFSIGNALED(status))
		snprintf(reason, sizeof(reason), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(reason, sizeof(reason), "exited with %d", code);
	if (v->con_fd >= 0)
		vmproc_read(d, v);	/* the last words */
	db_exec(d, "BEGIN IMMEDIATE", NULL);
	db_exec(d, "UPDATE vms SET state = 'stopped', pid = NULL, exit_code = ?,"
		" reason = ?, stopped_at = ? WHERE name = ?", "isis", (int64_t)code,
		reason, now, v->name);
	db_exec(d, "UPDATE runs SET stopped_at = ?, exit_code = ?, reason = ?"
		" WHERE vm = ? AND stopped_at IS NULL", "iiss", now, (int64_t)code,
		reason, v->name);
	db_exec(d, "COMMIT", NULL);
	db_audit(d, NULL, "vm.exit", v->name, reason);
}

/*
 * The child ended: the VM is stopped, its console ring stays. The waiters
 * hear of it last: a restart may start the VM again (and free v).
 */
static void gone(struct vsnixd *d, struct vmproc *v, int status)
{
	char name[VSNIXD_NAME_MAX + 1];

	ended(d, v, status);
	drop_scratch(v);
	if (v->con_fd >= 0)
		close(v->con_fd);
	v->con_fd = -1;
	if (v->in_fd >= 0)
		close(v->in_fd);
	v->in_fd = -1;
	v->running = false;
	v->stopping = false;
	v->killed = false;
	v->kill_at = 0;
	v->pid = 0;
	snprintf(name, sizeof(name), "%s", v->name);
	conn_vm_ended(d, name);
}

/* SIGCHLD: every child that ended. */
void vmproc_reap(struct vsnixd *d)
{
	struct vmproc *v;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (v = d->vms; v; v = v->next)
			if (v->running && v->pid == pid) {
				gone(d, v, status);
				break;
			}
}

static bool any_running(struct vsnixd *d)
{
	struct vmproc *v;

	for (v = d->vms; v; v = v->next)
		if (v->running)
			return true;
	return false;
}

/* At exit (SIGTERM to vsnixd): the VMs are stopped, waited for, freed. */
void vmproc_kill_all(struct vsnixd *d)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int64_t deadline = now_ms() + VSNIXD_STOP_GRACE_S * 1000;
	struct vmproc *v;
	int status;

	for (v = d->vms; v; v = v->next)
		if (v->running)
			vmproc_stop(d, v);
	while (any_running(d) && now_ms() < deadline) {
		nanosleep(&ts, NULL);
		vmproc_reap(d);
	}
	while ((v = d->vms)) {
		if (v->running) {
			kill(v->pid, SIGKILL);
			if (waitpid(v->pid, &status, 0) < 0)
				status = SIGKILL;
			gone(d, v, status);
		}
		d->vms = v->next;
		free(v);
	}
}
