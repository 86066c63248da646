// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk on a file of a frozen filesystem (FIFREEZE, as a backup tool
 * or LVM snapshot freezes it): a guest's direct write must wait for the
 * thaw, as every writer does (freeze protection, sb_start_write), and the
 * vCPU that sent it must not wait with it. Before the fix, direct writes
 * skipped freeze protection and landed in the frozen filesystem.
 * The filesystem is ext4 (the host's mkfs.ext4 through hostrun) on a loop
 * device over a tmpfs file.
 */
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "vsnix_util.h"
#include "virtio_blk_test.h"

#define NR_TESTS	5
#define FROZEN_S	1.5

static void guest_main(uint64_t base)
{
	volatile uint16_t *used_idx;
	struct vg_used_elem e;
	struct vg_dev d;
	uint16_t before;

	GUEST_ASSERT(vg_find(&d, VBT_ID_BLOCK, 0) == 0);
	GUEST_ASSERT(vg_init(&d, VBT_NEED));
	GUEST_ASSERT(vbt_queues(&d, base, 1) == 0);
	used_idx = (volatile uint16_t *)(d.q[0].used + 2);
	GUEST_SYNC2(1, vbt_capacity(&d));

	/* The host froze the filesystem: one 4 KiB write at sector 8. */
	vbt_fill((void *)vbt_data(base, 0), 4096, 21);
	vbt_hdr(base, 0, VBT_T_OUT, 8);
	vg_set_desc(&d, 0, 0, base + 0x8000, 16, VG_DESC_F_NEXT, 1);
	vg_set_desc(&d, 0, 1, vbt_data(base, 0), 4096, VG_DESC_F_NEXT, 2);
	vg_set_desc(&d, 0, 2, base + 0x9000, 1, VG_DESC_F_WRITE, 0);
	before = *used_idx;
	vg_post(&d, 0, 0);
	vg_kick(&d, 0);
	GUEST_SYNC3(2, before, *used_idx);
	while (*used_idx == before)
		GUEST_SYNC2(3, 0);
	GUEST_ASSERT(vg_wait_used(&d, 0, &e));
	GUEST_SYNC3(4, vbt_status(base, 0), e.id);
	GUEST_DONE();
}

/*
 * The write is in flight while the filesystem stays frozen (the guest
 * polls); thawed after FROZEN_S. Returns the number of polls while frozen.
 */
static int hold_frozen(struct vsnix_test_vcpu *vcpu, int mnt_fd, struct ucall *uc,
		       bool *completed_frozen)
{
	double until = monotonic_s() + FROZEN_S;
	int polls = 0;

	*completed_frozen = false;
	while (monotonic_s() < until) {
		vcpu_run_ucall(vcpu, uc);
		if (uc->args[0] != 3) {
			*completed_frozen = true;
			break;
		}
		polls++;
	}
	TEST_ASSERT(!ioctl(mnt_fd, FITHAW, 0), "FITHAW: %s", strerror(errno));
	return polls;
}

static void run_guest(struct vsnix_test_vm *vm, struct vsnix_test_vcpu *vcpu,
		      uint64_t base, int mnt_fd, int disk_fd)
{
	uint8_t want[VBT_BUF], got[VBT_BUF];
	bool completed_frozen;
	struct ucall uc;
	int polls;

	vcpu_run_ucall(vcpu, &uc);
	TEST_ASSERT(uc.args[0] == 1, "guest stage %lu", (unsigned long)uc.args[0]);
	tap_ok(uc.args[1] == VBT_SECTORS, "virtio-blk on a file of ext4 (%lu sectors)",
	       (unsigned long)uc.args[1]);
	TEST_ASSERT(!ioctl(mnt_fd, FIFREEZE, 0), "FIFREEZE: %s", strerror(errno));
	vcpu_run_ucall(vcpu, &uc);
	TEST_ASSERT(uc.args[0] == 2, "guest stage %lu", (unsigned long)uc.args[0]);
	tap_ok(uc.args[1] == uc.args[2],
	       "frozen: the vCPU came back from its notify, the write not done (used %lu -> %lu)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	polls = hold_frozen(vcpu, mnt_fd, &uc, &completed_frozen);
	tap_ok(!completed_frozen && polls > 0,
	       "the write waited while the filesystem was frozen (%d guest polls in %.1f s)",
	       polls, FROZEN_S);
	while (uc.args[0] == 3)
		vcpu_run_ucall(vcpu, &uc);
	TEST_ASSERT(uc.args[0] == 4, "guest stage %lu", (unsigned long)uc.args[0]);
	vbt_fill(want, sizeof(want), 21);
	tap_ok(uc.args[1] == VBT_S_OK &&
	       pread(disk_fd, got, sizeof(got), 8 * 512) == sizeof(got) &&
	       !memcmp(got, want, sizeof(got)),
	       "after the thaw: status OK, the data in the file (status %lu)",
	       (unsigned long)uc.args[1]);
	(void)vm;
}

/* ext4 on a loop device, mounted at mnt; the loop fd or why not. */
static const char *make_ext4(const char *dir, const char *mnt, int *loopfd)
{
	char img[300], dev[64];
	int fd;

	snprintf(img, sizeof(img), "%s/ext4.img", dir);
	fd = open(img, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	TEST_ASSERT(fd >= 0 && !ftruncate(fd, 16 << 20), "image file");
	close(fd);
	/* ext4 wants crc32c, which the kernel cannot modprobe in the rig. */
	net_sh("modprobe -a loop crc32c_generic ext4");
	*loopfd = loop_attach(img, dev, sizeof(dev));
	if (*loopfd < 0)
		return "no loop device";
	if (net_sh("mkfs.ext4 -q -F %s", dev))
		return "no mkfs.ext4 (hostrun)";
	if (mount(dev, mnt, "ext4", 0, NULL)) {
		printf("# mount ext4: %s\n", strerror(errno));
		return "cannot mount ext4";
	}
	return NULL;
}

int main(void)
{
	char dir[] = "/tmp/vsnix-blkfrz-XXXXXX", mnt[300], path[340];
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	int loopfd = -1, fd, mnt_fd;
	uint8_t zero[VBT_BUF] = { 0 };
	const char *why;
	struct ucall uc;
	uint64_t base, off;

	vsnix_dev_fd();
	if (!(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_VIRTIO_BLK)) ||
	    !(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_PCI_HOST)))
		tap_skip_all("no virtio-blk or PCI host device");
	TEST_ASSERT(mkdtemp(dir), "mkdtemp");
	TEST_ASSERT(!mount("tmpfs", dir, "tmpfs", 0, "size=24m"), "tmpfs: %s", strerror(errno));
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	TEST_ASSERT(!mkdir(mnt, 0700), "mkdir");
	why = make_ext4(dir, mnt, &loopfd);
	if (why)
		tap_skip_all("%s", why);
	tap_plan(NR_TESTS);
	snprintf(path, sizeof(path), "%s/disk", mnt);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	for (off = 0; fd >= 0 && off < VBT_SECTORS * 512; off += sizeof(zero))
		TEST_ASSERT(pwrite(fd, zero, sizeof(zero), off) == sizeof(zero), "fill");
	TEST_ASSERT(fd >= 0 && !fsync(fd), "disk file on ext4");
	mnt_fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	TEST_ASSERT(mnt_fd >= 0, "open %s", mnt);

	base = vbt_one_disk_vm(&vm, &vcpu, fd, guest_main);
	run_guest(vm, vcpu, base, mnt_fd, fd);
	tap_ok(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE && kernel_healthy(),
	       "guest done, kernel healthy");

	vm_destroy(vm);
	close(fd);
	close(mnt_fd);
	umount(mnt);
	loop_detach(loopfd);
	umount(dir);
	rmdir(dir);
	tap_finish();
}
