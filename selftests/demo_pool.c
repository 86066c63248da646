// SPDX-License-Identifier: GPL-2.0
/*
 * `make demo` in the rig: scripts/demo/demo-run.sh, as make demo runs it,
 * on the files selftests/Makefile made (build/demo: the busybox root disk
 * and the Linux VM's initramfs). vsnixctl pool create makes the pool,
 * vsnixd loads it and runs a Linux VM (busybox root disk on virtio-blk,
 * writes to a per-VM overlay) and a Solo5 unikernel; both end by
 * themselves with exit 0, their consoles kept by vsnixd show their work,
 * the pool's disk is unchanged while the VM's write is in its overlay,
 * and nothing stays mounted or attached.
 */
#include "guests/run_guest.h"

#define NR_TESTS	6

static char out[65536];

/* One list row (vsnixctl list: NAME POOL STATE PID EXIT REASON) of vm. */
static bool row_exited_0(const char *vm)
{
	char name[64], pool[64], state[16], pid[16], code[16], reason[64];
	const char *p = out;

	while ((p = strstr(p, "\n    "))) {
		p += 5;
		if (sscanf(p, "%63s %63s %15s %15s %15s %63[^\n]", name, pool, state, pid,
			   code, reason) == 6 && !strcmp(name, vm) &&
		    !strcmp(state, "stopped") && !strcmp(code, "0") &&
		    !strcmp(reason, "exited with 0"))
			return true;
	}
	return false;
}

int main(void)
{
	char data[] = "/tmp/vsnix-demo-data-XXXXXX", log[PATH_MAX];
	const char *self = rg_self_dir();
	double t0 = rg_now();
	FILE *f;
	size_t n;
	int rc;

	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);
	if (access("/bin/vsnixd", X_OK) || !mkdtemp(data)) {
		rg_ok(false, "/bin/vsnixd and a temporary folder");
		rg_skip_rest(NR_TESTS, "cannot run the demo");
		return 1;
	}
	/* demo-run.sh takes one folder: links to where the build put each file. */
	rg_sh("ln -s %s/demo/root.ext4 %s/demo/initrd.cpio.gz %s/linux-guest/vmlinuz"
	      " %s/guests/ticker.hvt %s/", self, self, self, self, data);
	snprintf(log, sizeof(log), "%s/out", data);
	rc = rg_sh("sh %s/demo/demo-run.sh %s %s /bin/vsnixd >%s 2>&1", self, data,
		   rg_vsnixctl(), log);
	f = fopen(log, "r");
	n = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
	out[n] = '\0';
	if (f)
		fclose(f);
	if (!rg_ok(rc == 0 && rg_has(out, "Demo done"), "demo-run.sh exits 0 (%.1f s)",
		   rg_now() - t0))
		rg_diag_lines("demo", out);
	rg_ok(row_exited_0("lin") && row_exited_0("uni"),
	      "vsnixctl list: lin and uni stopped, both exited with 0");
	rg_ok(rg_has(out, "Hello from vSnix demo root disk") &&
	      rg_has(out, "root disk: /dev/vda (virtio-blk), ext4") &&
	      rg_has(out, "boot count on this disk: 1"),
	      "lin's console (from vsnixd): its busybox root disk on virtio-blk, mounted, written");
	rg_ok(rg_has(out, "Hello from a Solo5 hvt unikernel") && rg_has(out, "tick 6\n") &&
	      rg_has(out, "unikernel: done, exit 0"),
	      "uni's console (from vsnixd): the unikernel ticked 6 times and ended");
	rg_ok(rg_has(out, "=> unchanged in the pool; the VM's changes are in its overlay"),
	      "the pool's root disk is unchanged; lin's write is in its overlay");
	rg_ok(rg_sh("grep -q ' /tmp/vsnix-demo' /proc/mounts") &&
	      rg_sh("cat /sys/block/loop*/loop/backing_file 2>/dev/null | grep -q vsnix-demo") &&
	      rg_sh("ls -d /tmp/vsnix-demo.* 2>/dev/null | grep -q ."),
	      "cleaned up: nothing mounted, no loop device, the demo's folder removed");
	rg_sh("rm -rf %s", data);
	return rg_exit();
}
