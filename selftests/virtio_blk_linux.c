// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk end to end: Debian's stock kernel (the rig's vmlinuz) with
 * its own virtio_pci, virtio_blk and ext4 modules makes ext4 on /dev/vda,
 * writes random data and its sha256, unmounts and exits; a second VM on
 * the same file finds the data intact (scripts/linux-guest/disk-init.sh).
 * The disk is a file given with vsnixctl run --disk, with a serial and
 * one queue per vCPU. 64 MiB on svm; 8 MiB on vmx (Bochs is slow).
 * The second VM also gets a read-only disk (--disk PATH,ro,serial=S, a
 * second --disk) and --console virtio: the guest reports the second
 * disk's serial and read-only flag, its write is refused and the file
 * stays intact, and a line it writes to /dev/hvc0 reaches the output.
 */
#include "guests/run_guest.h"

#define NR_TESTS	8
#define RO_SERIAL	"vsnix-ro-disk"

/* One run; the sha256 the guest reported after tag, or "" */
static const char *run(struct rg_result *r, const char *disk, const char *mode,
		       int mb, char *sum, const char *rodisk)
{
	char cmdline[256], diskarg[PATH_MAX + 64], roarg[PATH_MAX + 64], tag[32];
	const char *at;

	snprintf(cmdline, sizeof(cmdline),
		 "console=ttyS0 quiet panic=-1 vsnix.disk=%s vsnix.mb=%d%s", mode, mb,
		 rodisk ? " vsnix.second=1 vsnix.hvc=1" : "");
	snprintf(diskarg, sizeof(diskarg), "%s,serial=vsnix-e2e-disk", disk);
	snprintf(roarg, sizeof(roarg), "%s,ro,serial=" RO_SERIAL, rodisk ? rodisk : "");
	if (rodisk)
		rg_run(r, (const char *[]){ "run", "--kernel", rg_linux_guest("vmlinuz"),
					    "--initrd", rg_linux_guest("disk-initrd.cpio.gz"),
					    "--mem", "256M", "--cpus", "2",
					    "--disk", diskarg, "--disk", roarg,
					    "--console", "virtio",
					    "--cmdline", cmdline, NULL });
	else
		rg_run(r, (const char *[]){ "run", "--kernel", rg_linux_guest("vmlinuz"),
					    "--initrd", rg_linux_guest("disk-initrd.cpio.gz"),
					    "--mem", "256M", "--cpus", "2",
					    "--disk", diskarg, "--cmdline", cmdline, NULL });
	snprintf(tag, sizeof(tag), "VSNIX-DISK: %s-OK ",
		 strcmp(mode, "write") ? "VERIFY" : "WRITE");
	sum[0] = '\0';
	at = strstr(r->out, tag);
	if (at && sscanf(at + strlen(tag), "%64[0-9a-f]", sum) != 1)
		sum[0] = '\0';
	return sum;
}

int main(void)
{
	char path[] = "/tmp/vsnix-e2e-XXXXXX", ropath[] = "/tmp/vsnix-e2e-ro-XXXXXX";
	char sum1[65], sum2[65];
	static uint8_t ro_want[4096], ro_got[4096];
	static struct rg_result r;
	int mb = rg_on_vmx() ? 8 : 64;
	uint8_t magic[2] = { 0 };
	int fd, rofd;
	size_t i;

	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);
	if (access(rg_linux_guest("vmlinuz"), R_OK) ||
	    access(rg_linux_guest("disk-initrd.cpio.gz"), R_OK)) {
		rg_ok(false, "selftests/build/linux-guest/{vmlinuz,disk-initrd.cpio.gz} present");
		rg_skip_rest(NR_TESTS, "no Linux guest");
		return 1;
	}
	fd = mkstemp(path);
	/* Room for ext4's metadata and journal next to the data. */
	if (fd < 0 || ftruncate(fd, (off_t)(mb * 2 + 32) << 20)) {
		rg_ok(false, "backing file: %s", strerror(errno));
		rg_skip_rest(NR_TESTS, "no backing file");
		return 1;
	}

	/* The read-only disk: 1 MiB, a known pattern in its first block. */
	for (i = 0; i < sizeof(ro_want); i++)
		ro_want[i] = (uint8_t)(i * 7 + 3);
	rofd = mkstemp(ropath);
	if (rofd < 0 || ftruncate(rofd, 1 << 20) ||
	    pwrite(rofd, ro_want, sizeof(ro_want), 0) != sizeof(ro_want)) {
		rg_ok(false, "read-only backing file: %s", strerror(errno));
		rg_skip_rest(NR_TESTS, "no backing file");
		return 1;
	}

	run(&r, path, "write", mb, sum1, NULL);
	if (!rg_ok(r.code == 0 && sum1[0],
		   "first VM: ext4 on /dev/vda, %d MiB written and summed, exit 0 (%.1f s)",
		   mb, r.seconds))
		rg_diag(&r);
	if (!rg_ok(rg_has(r.out, "serial=vsnix-e2e-disk queues=2 "),
		   "the guest sees the serial and 2 queues"))
		rg_diag(&r);
	rg_ok(pread(fd, magic, 2, 1080) == 2 && magic[0] == 0x53 && magic[1] == 0xef,
	      "the host file holds an ext4 superblock (magic 0xef53)");

	run(&r, path, "verify", mb, sum2, ropath);
	if (!rg_ok(r.code == 0 && sum2[0],
		   "second VM on the same file: the checksum verifies (%.1f s)",
		   r.seconds))
		rg_diag(&r);
	rg_ok(sum1[0] && !strcmp(sum1, sum2), "both VMs report the same sha256");
	if (!rg_ok(rg_has(r.out, "vdb serial=" RO_SERIAL " ro=1 write=refused"),
		   "second --disk PATH,ro,serial=S: the guest sees its serial and ro, a write is refused"))
		rg_diag(&r);
	rg_ok(pread(rofd, ro_got, sizeof(ro_got), 0) == sizeof(ro_got) &&
	      !memcmp(ro_got, ro_want, sizeof(ro_got)),
	      "the read-only disk's file is unchanged");
	if (!rg_ok(rg_has(r.out, "VSNIX-HVC: hello over virtio-console"),
		   "--console virtio: the guest's line on /dev/hvc0 is in the output"))
		rg_diag(&r);
	close(fd);
	unlink(path);
	close(rofd);
	unlink(ropath);
	return rg_exit();
}
