// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixd end to end in the rig: a pool made by `vsnixctl pool create`
 * (the host's mkfs.ext4 through hostrun) with a Linux VM (the stock
 * kernel and the self-checking initramfs of linux_boot) and a unikernel
 * that runs until stopped; vsnixd loads it (loop device, read-only ext4),
 * vsnixctl creates, starts, lists and stops VMs through the daemon, the
 * Linux VM boots from the pool and powers off on its own (exit 0, its
 * console kept by vsnixd), the unikernel marked autostart runs again
 * after vsnixd is killed with SIGKILL and restarted, a peer outside root
 * and the vsnix group is refused, the audit log holds the calls, and
 * unloading leaves nothing mounted.
 */
#include <grp.h>
#include <sys/stat.h>
#include "guests/run_guest.h"

#define NR_TESTS	20
#define BOOT_LIMIT_S	180

static char dir[] = "/tmp/vsnix-vsnixd-XXXXXX";
static char sock[PATH_MAX], mnt[PATH_MAX];
static pid_t daemon_pid;

static const char *vsnixd_bin(void)
{
	static char path[PATH_MAX + 64];

	if (access("/bin/vsnixd", X_OK) == 0)
		return "/bin/vsnixd";
	snprintf(path, sizeof(path), "%s/../../userspace/vsnixd/vsnixd", rg_self_dir());
	return path;
}

/* Pool p1: "lin" (Linux, powers off by itself), "spin" (runs until stopped). */
static int create_pool(void)
{
	if (rg_sh("cp %s %s/vsnixctl && cp %s %s/spin.hvt && cp %s %s/vmlinuz && cp %s %s/initrd.gz",
	       rg_vsnixctl(), dir, rg_guest("bench.hvt"), dir, rg_linux_guest("vmlinuz"),
	       dir, rg_linux_guest("initrd.cpio.gz"), dir))
		return -1;
	if (rg_sh("printf '%s' > %s/d.json",
	       "{ \"name\": \"p1\", \"vms\": ["
	       " { \"name\": \"lin\", \"kind\": \"linux\", \"kernel\": \"vmlinuz\","
	       " \"initrd\": \"initrd.gz\", \"memory_mib\": 256,"
	       " \"cmdline\": \"console=ttyS0 quiet panic=-1 vsnix.cpus=1 vsnix.mem=256\" },"
	       " { \"name\": \"spin\", \"kind\": \"unikernel\", \"kernel\": \"spin.hvt\","
	       " \"cmdline\": \"iters=4000000000\", \"memory_mib\": 32 } ] }", dir))
		return -1;
	return rg_sh("hostrun %s/vsnixctl pool --dir %s create %s/d.json >/dev/null",
		  dir, dir, dir);
}

static bool start_daemon(void)
{
	char db[PATH_MAX + 16], mdir[PATH_MAX + 16], sdir[PATH_MAX + 16], log[PATH_MAX + 16];
	int i;

	snprintf(db, sizeof(db), "%s/state.db", dir);
	snprintf(mdir, sizeof(mdir), "%s/mnt", dir);
	snprintf(sdir, sizeof(sdir), "%s/vms", dir);
	snprintf(log, sizeof(log), "%s/vsnixd.log", dir);
	daemon_pid = fork();
	if (daemon_pid == 0) {
		freopen(log, "w", stderr);
		execl(vsnixd_bin(), "vsnixd", "--socket", sock, "--db", db, "--pools", dir,
		      "--mount-dir", mdir, "--state-dir", sdir, "--vmm", rg_vsnixctl(),
		      (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		if (!access(sock, F_OK))
			return true;
		usleep(100 * 1000);
	}
	return false;
}

static bool ctl(struct rg_result *r, const char *const *args, int code, const char *want)
{
	rg_run(r, args);
	if (r->code == code && (!want || rg_has(r->out, want) || rg_has(r->err, want)))
		return true;
	rg_diag(r);
	return false;
}

/* Polls `vsnixctl show NAME` until its state is stopped; the last output. */
static bool wait_stopped(struct rg_result *r, const char *name, int limit_s)
{
	double end = rg_now() + limit_s;

	while (rg_now() < end) {
		rg_run(r, (const char *[]){ "show", name, NULL });
		if (rg_has(r->out, "\"state\":\"stopped\""))
			return true;
		usleep(500 * 1000);
	}
	return false;
}

static void vms(void)
{
	static struct rg_result r;
	double t0;
	bool ok;

	ok = ctl(&r, (const char *[]){ "create", "p1", "lin", NULL }, 0, NULL) &&
	     ctl(&r, (const char *[]){ "create", "p1", "spin", NULL }, 0, NULL);
	rg_ok(ok, "vsnixctl create: lin and spin from the pool's entries");
	ok = ctl(&r, (const char *[]){ "start", "spin", NULL }, 0, NULL) &&
	     ctl(&r, (const char *[]){ "list", NULL }, 0, "running");
	rg_ok(ok && rg_has(r.out, "spin "), "start spin: vsnixctl list shows it running");
	usleep(500 * 1000);
	ok = ctl(&r, (const char *[]){ "stop", "--json", "spin", NULL }, 0,
		 "\"state\":\"stopped\"");
	rg_ok(ok && rg_has(r.out, "\"exit_code\":143"),
	      "stop spin: stopped, vsnixctl ended by SIGTERM (143)");
	t0 = rg_now();
	rg_ok(ctl(&r, (const char *[]){ "start", "lin", NULL }, 0, NULL),
	      "start lin: the Linux VM of the pool");
	ok = wait_stopped(&r, "lin", BOOT_LIMIT_S);
	if (!rg_ok(ok && rg_has(r.out, "\"exit_code\":0"),
		   "lin boots from the pool's kernel and initrd and powers off: exit 0 (%.1f s)",
		   rg_now() - t0))
		rg_diag(&r);
	ok = ctl(&r, (const char *[]){ "console", "lin", NULL }, 0, "VSNIX-LINUX: PASS");
	rg_ok(ok, "vsnixctl console lin: vsnixd kept the guest's console (its checks passed)");
	ok = ctl(&r, (const char *[]){ "list", NULL }, 0, "exited with 0");
	rg_ok(ok, "vsnixctl list: lin stopped, exited with 0");
}

/* `vsnixctl status NAME` until it exits 0 (the VM runs), limit_s at most. */
static bool wait_running(struct rg_result *r, const char *name, int limit_s)
{
	double end = rg_now() + limit_s;

	while (rg_now() < end) {
		rg_run(r, (const char *[]){ "status", name, NULL });
		if (r->code == 0)
			return true;
		usleep(200 * 1000);
	}
	return false;
}

/* spin, marked autostart, runs again after vsnixd's SIGKILL and restart. */
static void crash(void)
{
	static struct rg_result r;
	bool ok;
	int st;

	ok = ctl(&r, (const char *[]){ "autostart", "spin", "on", NULL }, 0, NULL) &&
	     ctl(&r, (const char *[]){ "start", "spin", NULL }, 0, NULL) &&
	     wait_running(&r, "spin", 10);
	kill(daemon_pid, SIGKILL);
	waitpid(daemon_pid, &st, 0);
	unlink(sock);	/* a killed vsnixd leaves its socket file */
	rg_ok(ok && WIFSIGNALED(st) && start_daemon(),
	      "autostart spin on, spin runs, vsnixd killed (SIGKILL) and started again");
	ok = wait_running(&r, "spin", 20);
	if (!rg_ok(ok && rg_has(r.out, "(autostart) running") &&
		   rg_has(r.out, "vsnixd restarted while it ran"),
		   "after the restart spin runs again (autostart), its old run closed with why"))
		rg_diag(&r);
	ok = ctl(&r, (const char *[]){ "kill", "spin", NULL }, 0,
		 "spin: stopped, killed (exit code 137)");
	rg_ok(ok && !rg_sh("grep -q ' %s ext4 ro' /proc/mounts", mnt),
	      "kill spin: stopped, exit 137; the pool stayed mounted");
}

/* uid 65534, no groups: the daemon refuses it even on an open socket. */
static void refused(void)
{
	static struct rg_result r;
	int st = 0;
	pid_t pid;

	chmod(dir, 0755);
	chmod(sock, 0666);
	pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(2);
		rg_run(&r, (const char *[]){ "list", NULL });
		if (r.code == EXIT_SETUP_ERROR && rg_has(r.err, "permission denied: uid 65534"))
			_exit(0);
		rg_diag(&r);
		_exit(1);
	}
	waitpid(pid, &st, 0);
	rg_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "uid 65534 outside the vsnix group: refused (SO_PEERCRED), with the reason");
	chmod(dir, 0700);
}

static void audit(void)
{
	static struct rg_result r;
	bool ok;

	ok = ctl(&r, (const char *[]){ "audit", "--vm", "lin", NULL }, 0, "vm.create lin: ok");
	rg_ok(ok && rg_has(r.out, "uid=0") && rg_has(r.out, "vm.start lin: ok") &&
	      rg_has(r.out, "vm.exit lin: exited with 0"),
	      "audit --vm lin: create, start (uid 0) and the exit");
	ok = ctl(&r, (const char *[]){ "audit", NULL }, 0, "uid=65534");
	rg_ok(ok && rg_has(r.out, "connect : refused") && rg_has(r.out, "vm.stop spin: ok") &&
	      rg_has(r.out, "pool.load p1: ok"),
	      "audit: pool.load, vm.stop and the refused connection");
}

int main(void)
{
	static struct rg_result r;
	int st = 0;

	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);
	if (!mkdtemp(dir)) {
		rg_skip_rest(NR_TESTS, "no temporary folder");
		return 1;
	}
	snprintf(sock, sizeof(sock), "%s/vsnixd.sock", dir);
	snprintf(mnt, sizeof(mnt), "%s/mnt/p1", dir);
	setenv("VSNIXD_SOCKET", sock, 1);
	/* As in pool_load: ext4 needs crc32c, which the guest cannot modprobe. */
	rg_sh("for m in loop crc32c_generic ext4; do modprobe $m 2>/dev/null || hostrun modprobe $m; done >/dev/null 2>&1");
	rg_ok(ctl(&r, (const char *[]){ "list", NULL }, EXIT_SETUP_ERROR,
		  "vsnixd is not running"), "vsnixctl list without a daemon: says so, exit 120");
	if (!rg_ok(!create_pool(), "pool create (host mkfs.ext4 -d, via hostrun)") ||
	    !rg_ok(start_daemon(), "vsnixd listens on %s", sock)) {
		rg_skip_rest(NR_TESTS, "no pool or no daemon");
		rg_sh("cat %s/vsnixd.log; rm -rf %s", dir, dir);
		return 1;
	}
	rg_ok(ctl(&r, (const char *[]){ "pool", "--daemon", "load", "p1", NULL }, 0,
		  "\"vms\":[\"lin\",\"spin\"]"), "pool --daemon load p1: vsnixd mounts it");
	rg_ok(!rg_sh("grep -q ' %s ext4 ro' /proc/mounts", mnt), "/proc/mounts: ext4, read-only");
	vms();
	crash();
	refused();
	audit();
	ctl(&r, (const char *[]){ "pool", "--daemon", "unload", "p1", NULL }, 0, NULL);
	rg_ok(r.code == 0 && rg_sh("grep -q ' %s ' /proc/mounts", mnt) &&
	      rg_sh("cat /sys/block/loop*/loop/backing_file 2>/dev/null | grep -q '^%s/'", dir),
	      "pool --daemon unload p1: nothing mounted, no loop device left");
	kill(daemon_pid, SIGTERM);
	waitpid(daemon_pid, &st, 0);
	rg_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "vsnixd exits 0 on SIGTERM");
	if (rg_failed)
		rg_sh("sed 's/^/# vsnixd: /' %s/vsnixd.log", dir);
	rg_sh("rm -rf %s", dir);
	return rg_exit();
}
