// SPDX-License-Identifier: GPL-2.0
/*
 * VM pools (Documentation/pools.rst) end to end in the rig: `vsnixctl pool
 * create` through the host's mkfs.ext4 (hostrun), `pool load` (loop device,
 * read-only ext4 mount), `pool show`, a unikernel started from the pool's
 * hashed kernel with its config's command line, `pool unload` leaving no
 * mount and no loop device; and the loader's refusals: a missing .img or
 * .json, a corrupt POOL.json, an image that will not mount, each leaving
 * nothing mounted.
 */
#include <sys/stat.h>
#include "guests/run_guest.h"

#define NR_TESTS 11

static char dir[] = "/tmp/vsnix-pool-XXXXXX";
static char mnt[PATH_MAX];

/* Is anything mounted on mnt, or a loop device backed by a file in dir? */
static bool leftovers(void)
{
	return !rg_sh("grep -q ' %s ' /proc/mounts", mnt) ||
	       !rg_sh("cat /sys/block/loop*/loop/backing_file 2>/dev/null | grep -q '^%s/'",
		   dir);
}

static void refused(const char *pool, const char *want, const char *what)
{
	static struct rg_result r;

	rg_run(&r, (const char *[]){ "pool", "--dir", dir, "load", pool, mnt,
				     NULL });
	if (!rg_ok(r.code == EXIT_SETUP_ERROR && rg_has(r.err, want) &&
		   !leftovers(), "load refused: %s, nothing left mounted", what))
		rg_diag(&r);
}

static int create_pool(void)
{
	/* The host's mkfs.ext4 runs in a chroot that sees only /tmp of ours. */
	if (rg_sh("cp %s %s/vsnixctl && cp %s %s/hello.hvt", rg_vsnixctl(), dir,
	       rg_guest("hello.hvt"), dir))
		return -1;
	if (rg_sh("printf '%s' > %s/d.json",
	       "{ \"name\": \"p1\", \"vms\": [ { \"name\": \"hello\", \"kind\": \"unikernel\","
	       " \"kernel\": \"hello.hvt\", \"cmdline\": \"from the pool exit=0\","
	       " \"memory_mib\": 32, \"autostart\": true } ] }", dir))
		return -1;
	return rg_sh("hostrun %s/vsnixctl pool --dir %s create %s/d.json >/dev/null",
		  dir, dir, dir);
}

static void load_and_run(void)
{
	static struct rg_result r;
	char kernel[PATH_MAX + 64];

	rg_run(&r, (const char *[]){ "pool", "--dir", dir, "load", "p1", mnt, NULL });
	if (!rg_ok(r.code == 0 && rg_has(r.out, "pool p1 at") &&
		   rg_has(r.out, "hello ") && rg_has(r.out, "read-only"),
		   "pool load mounts the image read-only and lists its VM"))
		rg_diag(&r);
	rg_ok(!rg_sh("grep -q ' %s ext4 ro' /proc/mounts", mnt),
	      "/proc/mounts: ext4, read-only");
	rg_run(&r, (const char *[]){ "pool", "--json", "show", mnt, NULL });
	if (!rg_ok(r.code == 0 && rg_has(r.out, "\"cmdline\":\"from the pool exit=0\""),
		   "pool show gives the VM's config"))
		rg_diag(&r);
	/* HASH of "hello": sha256sum semantics, as pools.rst says. */
	snprintf(kernel, sizeof(kernel), "%s/kernels/%s.vmLinuz", mnt,
		 "2cf24dba5fb0a30e");
	rg_ok(!rg_sh("cmp -s %s %s/hello.hvt", kernel, dir),
	      "the kernel is in the image under its hashed name, byte for byte");
	rg_run(&r, (const char *[]){ "run", "--kernel", kernel, "--mem", "32M",
				     "--cmdline", "from the pool exit=0", NULL });
	if (!rg_ok(r.code == 0 && rg_has(r.out, "cmdline: [from the pool exit=0]"),
		   "the unikernel boots from the mounted pool"))
		rg_diag(&r);
	rg_run(&r, (const char *[]){ "pool", "unload", mnt, NULL });
	rg_ok(r.code == 0 && !leftovers(),
	      "pool unload: nothing mounted, no loop device left");
}

int main(void)
{
	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);
	if (!mkdtemp(dir)) {
		rg_skip_rest(NR_TESTS, "no temporary folder");
		return 1;
	}
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	mkdir(mnt, 0755);
	/*
	 * loop and ext4 are modules of the stock kernel; ext4 asks the crypto
	 * API for crc32c at mount time, which the guest's modprobe cannot load.
	 */
	rg_sh("for m in loop crc32c_generic ext4; do modprobe $m 2>/dev/null || hostrun modprobe $m; done >/dev/null 2>&1");
	if (!rg_ok(!create_pool(), "pool create (host mkfs.ext4 -d, via hostrun)")) {
		rg_skip_rest(NR_TESTS, "no pool to load");
		return 1;
	}
	load_and_run();
	refused("nope", "nope.img: No such file", "no such pool");
	rg_sh("mv %s/p1.json %s/p1.json.bak", dir, dir);
	refused("p1", "p1.json: No such file", "POOL.json missing");
	rg_sh("echo '{ \"format\": 1, ' > %s/p1.json", dir);
	refused("p1", "bad JSON", "corrupt POOL.json");
	rg_sh("mv %s/p1.json.bak %s/p1.json && dd if=/dev/zero of=%s/p1.img bs=1k count=4 conv=notrunc 2>/dev/null",
	   dir, dir, dir);
	refused("p1", "mount on", "an image that will not mount (superblock zeroed)");
	rg_sh("rm -rf %s", dir);
	return rg_exit();
}
