// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of vsnixd's per-VM overlays and console attach (make check).
 * Pool p3 (mounted tree): "w" writes its root disk through an "overlay"
 * (kept), "s" through a "scratch" one (made at each start, removed at the
 * end), "e" echoes its stdin. The fake VMM (vsnixd_host.c) bumps a counter
 * byte in the disk it was given, so what each run saw is on its console.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"
#include "../pool/pool.h"

#define DISK_MIB	64
#define ATTACH_LIMIT_MS	10000	/* a shell's echo, with room for a loaded host */

static int write_cfg(const char *root, const char *name, const char *cmdline,
		     const char *writes)
{
	char path[400], text[1024], disks[256] = "", hash[POOL_HASH_LEN + 1];

	pool_hash_name(name, hash);
	if (writes)
		snprintf(disks, sizeof(disks),
			 "{ \"name\": \"root\", \"file\": \"blocks/%s.root.img\","
			 " \"readonly\": false, \"writes\": \"%s\" }", hash, writes);
	snprintf(path, sizeof(path), "%s/%s_vmcfg.cfg", root, hash);
	snprintf(text, sizeof(text),
		 "{ \"format\": 1, \"name\": \"%s\", \"hash\": \"%s\", \"kind\": \"linux\","
		 " \"kernel\": \"kernels/%s.vmLinuz\", \"cmdline\": \"%s\","
		 " \"memory_mib\": 32, \"vcpus\": 1, \"autostart\": false,"
		 " \"disks\": [ %s ], \"nics\": [] }", name, hash, hash, cmdline, disks);
	if (write_file(path, text, 0644))
		return -1;
	snprintf(path, sizeof(path), "%s/kernels/%s.vmLinuz", root, hash);
	if (write_file(path, "not a kernel\n", 0644))
		return -1;
	/* A sparse disk: data at 0 and at half its size, holes between. */
	return writes ? sh("f=%s/blocks/%s.root.img && truncate -s %dM $f &&"
			   " printf POOL-DATA-A | dd of=$f conv=notrunc 2>/dev/null &&"
			   " printf POOL-DATA-B | dd of=$f bs=1M seek=%d conv=notrunc 2>/dev/null &&"
			   " cp --sparse=always $f %s/%s.orig", root, hash, DISK_MIB,
			   DISK_MIB / 2, tmp, name) : 0;
}

static int make_p3(void)
{
	char root[300], hw[17], hs[17], he[17], text[1024];

	snprintf(root, sizeof(root), "%s/mnt/p3", tmp);
	if (sh("mkdir -p %s/kernels %s/blocks", root, root) ||
	    write_cfg(root, "w", "writedisk", "overlay") ||
	    write_cfg(root, "s", "writedisk hold", "scratch") ||
	    write_cfg(root, "e", "echo", NULL))
		return -1;
	pool_hash_name("w", hw);
	pool_hash_name("s", hs);
	pool_hash_name("e", he);
	snprintf(text, sizeof(text),
		 "{ \"format\": 1, \"pool\": \"p3\", \"vms\": ["
		 " { \"name\": \"w\", \"hash\": \"%s\", \"config\": \"%s_vmcfg.cfg\" },"
		 " { \"name\": \"s\", \"hash\": \"%s\", \"config\": \"%s_vmcfg.cfg\" },"
		 " { \"name\": \"e\", \"hash\": \"%s\", \"config\": \"%s_vmcfg.cfg\" } ] }",
		 hw, hw, hs, hs, he, he);
	snprintf(root + strlen(root), sizeof(root) - strlen(root), "/vms.json");
	return write_file(root, text, 0644);
}

/* The pool's root disk of entry name is byte for byte what was made. */
static bool pool_disk_unchanged(const char *name)
{
	char hash[POOL_HASH_LEN + 1];

	pool_hash_name(name, hash);
	return sh("cmp -s %s/mnt/p3/blocks/%s.root.img %s/%s.orig", tmp, hash, tmp,
		  name) == 0;
}

static bool overlay_exists(const char *vm)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/vms/%s.root.img", tmp, vm);
	return access(path, F_OK) == 0;
}

/* Polls the VM's console for text (5 s at most). */
static bool console_has(const char *vm, const char *text)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (strstr(console(vm), text))
			return true;
		msleep(50);
	}
	return false;
}

static bool started(const char *vm)
{
	json_object *r = call("{ \"op\": \"vm.start\", \"name\": \"%s\" }", vm);
	bool ret = is_ok(r);

	json_object_put(r);
	return ret;
}

static void test_kept_overlay(void)
{
	char ovl[400], hash[POOL_HASH_LEN + 1], src[400];
	struct stat so, ss;
	json_object *r;
	bool both;

	r = call("{ \"op\": \"vm.create\", \"pool\": \"p3\", \"vm\": \"w\" }");
	json_object_put(r);
	r = started("w") ? wait_state("w", "stopped") : NULL;
	ok(r && !strcmp(str(r, "vm.exit_code"), "0") && console_has("w", "DISK-COUNT 1"),
	   "overlay: w wrote its root disk and exited 0");
	json_object_put(r);
	ok(pool_disk_unchanged("w"), "overlay: the pool's disk file is unchanged");
	snprintf(ovl, sizeof(ovl), "%s/vms/w.root.img", tmp);
	ok(sh("test \"$(dd if=%s bs=1 skip=4096 count=1 2>/dev/null)\" = 1 &&"
	      " dd if=%s bs=1M skip=%d count=1 2>/dev/null | grep -q POOL-DATA-B &&"
	      " head -c 11 %s | grep -q POOL-DATA-A", ovl, ovl, DISK_MIB / 2, ovl) == 0,
	   "overlay: state-dir/w.root.img has the VM's write and the pool's data");
	pool_hash_name("w", hash);
	snprintf(src, sizeof(src), "%s/mnt/p3/blocks/%s.root.img", tmp, hash);
	memset(&so, 0, sizeof(so));
	memset(&ss, 0, sizeof(ss));
	both = !stat(ovl, &so) && !stat(src, &ss);
	ok(both && so.st_size == ss.st_size && so.st_blocks <= ss.st_blocks + 64,
	   "overlay: as large as the disk, its holes kept (%lld KiB allocated of %d MiB)",
	   (long long)so.st_blocks / 2, DISK_MIB);
	r = started("w") ? wait_state("w", "stopped") : NULL;
	ok(r && console_has("w", "DISK-COUNT 2") && pool_disk_unchanged("w"),
	   "overlay: a second run of w sees its first run's write; the pool's file unchanged");
	json_object_put(r);
	r = call("{ \"op\": \"vm.delete\", \"name\": \"w\" }");
	ok(is_ok(r) && !overlay_exists("w"), "vm.delete w: its overlay is removed");
	json_object_put(r);
}

static void test_scratch_overlay(void)
{
	json_object *r;
	int run;

	r = call("{ \"op\": \"vm.create\", \"pool\": \"p3\", \"vm\": \"s\" }");
	json_object_put(r);
	for (run = 1; run <= 2; run++) {
		r = started("s") ? wait_state("s", "running") : NULL;
		ok(r && console_has("s", "DISK-COUNT 1") && overlay_exists("s"),
		   "scratch, run %d: s runs on a fresh overlay (its count starts at 1)", run);
		json_object_put(r);
		r = call("{ \"op\": \"vm.stop\", \"name\": \"s\", \"wait\": true }");
		ok(is_ok(r) && !overlay_exists("s") && pool_disk_unchanged("s"),
		   "scratch, run %d: stopped, its overlay removed, the pool's file unchanged",
		   run);
		json_object_put(r);
	}
}

struct attached {
	pid_t pid;
	int in, out;		/* its stdin (ours to write), stdout+stderr */
	char buf[8192];
	size_t len;
};

static bool attach_start(struct attached *a, const char *vm)
{
	int in[2], out[2];
	char env[300];

	if (pipe(in) || pipe(out))
		return false;
	snprintf(env, sizeof(env), "VSNIXD_SOCKET=%s", sock);
	a->len = 0;
	a->pid = fork();
	if (a->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		putenv(env);
		execl(vsnixctl_bin, vsnixctl_bin, "console", "--attach", vm, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	a->in = in[1];
	a->out = out[0];
	return a->pid > 0;
}

/* Reads its output until text shows (ATTACH_LIMIT_MS at most). */
static bool attach_expect(struct attached *a, const char *text)
{
	struct pollfd p = { .fd = a->out, .events = POLLIN };
	int waited;
	ssize_t n;

	for (waited = 0; waited < ATTACH_LIMIT_MS; waited += 50) {
		a->buf[a->len] = '\0';
		if (strstr(a->buf, text))
			return true;
		if (poll(&p, 1, 50) == 1) {
			n = read(a->out, a->buf + a->len, sizeof(a->buf) - 1 - a->len);
			if (n <= 0)
				return false;
			a->len += n;
		}
	}
	return false;
}

static void test_attach(void)
{
	struct attached a;
	json_object *r;
	int st = -1;

	r = call("{ \"op\": \"vm.create\", \"pool\": \"p3\", \"vm\": \"e\" }");
	json_object_put(r);
	r = call("{ \"op\": \"vm.console\", \"name\": \"e\", \"input\": true }");
	ok(err_is(r, ESRCH, "not running"), "vm.console input of a VM that does not run: ESRCH");
	json_object_put(r);
	r = call("{ \"op\": \"vm.create\", \"pool\": \"p1\", \"vm\": \"a\", \"name\": \"a2\" }");
	json_object_put(r);
	started("a2");
	r = call("{ \"op\": \"vm.console\", \"name\": \"a2\", \"input\": true }");
	ok(err_is(r, EOPNOTSUPP, "no console input"),
	   "vm.console input of a unikernel: EOPNOTSUPP");
	json_object_put(r);
	r = call("{ \"op\": \"vm.kill\", \"name\": \"a2\", \"wait\": true }");
	json_object_put(r);
	if (!vsnixctl_bin) {
		skip("vsnixctl console --attach", "no vsnixctl given");
		return;
	}
	started("e");
	ok(attach_start(&a, "e") && attach_expect(&a, "READY"),
	   "vsnixctl console --attach e: its console so far");
	ok(write(a.in, "hello vsnix\n", 12) == 12 && attach_expect(&a, "GOT: hello vsnix"),
	   "attached: a typed line reaches the VM's stdin, its answer comes back live");
	r = call("{ \"op\": \"vm.console\", \"name\": \"e\", \"input\": true }");
	ok(err_is(r, EBUSY, "is attached"), "a second input attach meanwhile: EBUSY");
	json_object_put(r);
	if (write(a.in, "\x1dq", 2) == 2)
		waitpid(a.pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && attach_expect(&a, "e: detached"),
	   "Ctrl-] q detaches: vsnixctl exits 0");
	close(a.in);
	close(a.out);
	r = wait_state("e", "running");
	ok(!strcmp(str(r, "vm.state"), "running") && !strstr(console("e"), "STDIN-EOF"),
	   "after the detach e runs on, its stdin still open");
	json_object_put(r);
	r = call("{ \"op\": \"vm.console\", \"name\": \"e\", \"input\": true }");
	ok(is_ok(r), "after the detach another client may attach");
	json_object_put(r);
	ok(db_value("SELECT count(*) FROM audit WHERE action = 'vm.attach' AND object = 'e'"
		    " AND result = 'ok'") >= 2, "audit: the attaches of e");
	r = call("{ \"op\": \"vm.stop\", \"name\": \"e\", \"wait\": true }");
	json_object_put(r);
}

void test_disks(void)
{
	json_object *r;

	if (make_p3()) {
		ok(false, "pool p3 for the overlay tests");
		return;
	}
	r = call("{ \"op\": \"pool.load\", \"name\": \"p3\" }");
	ok(is_ok(r), "pool.load p3: VMs with overlay and scratch root disks");
	json_object_put(r);
	test_kept_overlay();
	test_scratch_overlay();
	test_attach();
}
