// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk on a slow disk: a vCPU that notifies never waits for the
 * disk. The backing is a device-mapper "delay" target (3 s on flushes)
 * over a loop device over a tmpfs file. The guest sends a FLUSH and reads
 * the used index right after its notify: the request must still be in
 * flight there (before the fix, the notifying vCPU served it inline and
 * sat in fsync for the whole delay), and must end OK no sooner than the
 * delay. A write and a read through the same disk (direct I/O, which the
 * vCPU may still submit itself) must round-trip.
 */
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include "vsnix_util.h"
#include "virtio_blk_test.h"

#define NR_TESTS	5
#define FLUSH_DELAY_MS	3000
#define DM_NAME		"vsnix-blk-slow"

/* ------------------------------------------------------------ guest */

static void guest_main(uint64_t base)
{
	volatile uint16_t *used_idx;
	struct vg_used_elem e;
	struct vg_dev d;
	uint32_t used = 0;
	uint16_t before;
	uint8_t st, st2;

	GUEST_ASSERT(vg_find(&d, VBT_ID_BLOCK, 0) == 0);
	GUEST_ASSERT(vg_init(&d, VBT_NEED));
	GUEST_ASSERT(vbt_queues(&d, base, 1) == 0);
	used_idx = (volatile uint16_t *)(d.q[0].used + 2);
	GUEST_SYNC2(1, vbt_capacity(&d));

	/* A FLUSH: header, status; the used index just after the notify. */
	vbt_hdr(base, 0, VBT_T_FLUSH, 0);
	vg_set_desc(&d, 0, 0, base + 0x8000, 16, VG_DESC_F_NEXT, 2);
	vg_set_desc(&d, 0, 2, base + 0x9000, 1, VG_DESC_F_WRITE, 0);
	before = *used_idx;
	vg_post(&d, 0, 0);
	vg_kick(&d, 0);
	GUEST_SYNC3(2, before, *used_idx);
	while (!vg_wait_used(&d, 0, &e))
		GUEST_SYNC2(3, 0);
	GUEST_SYNC3(4, vbt_status(base, 0), e.id);

	vbt_fill((void *)vbt_data(base, 0), 4096, 9);
	st = vbt_rw(&d, 0, base, VBT_T_OUT, 16, vbt_data(base, 0), 4096, &used);
	vg_memset((void *)vbt_data(base, 1), 0, 4096);
	st2 = vbt_rw(&d, 0, base, VBT_T_IN, 16, vbt_data(base, 1), 4096, &used);
	GUEST_SYNC3(5, st | st2 << 8, used);
	GUEST_DONE();
}

/* ------------------------------------------------------------ host */

static int dm_call(int ctl, unsigned long cmd, struct dm_ioctl *io)
{
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = 0;
	io->version[2] = 0;
	snprintf(io->name, sizeof(io->name), "%s", DM_NAME);
	return ioctl(ctl, cmd, io);
}

/*
 * The delay target over the loop device: reads and writes at once,
 * flushes after FLUSH_DELAY_MS (dm-delay's table with three classes).
 * The new device's dev_t, or 0.
 */
static dev_t dm_delay_create(int ctl, const char *under, uint64_t sectors)
{
	struct {
		struct dm_ioctl io;
		struct dm_target_spec spec;
		char params[256];
	} t = { 0 };
	struct dm_ioctl io = { .data_size = sizeof(io) };

	if (dm_call(ctl, DM_DEV_CREATE, &io))
		return 0;
	t.io.data_size = sizeof(t);
	t.io.data_start = offsetof(typeof(t), spec);
	t.io.target_count = 1;
	t.spec.length = sectors;
	t.spec.next = 0;
	snprintf(t.spec.target_type, sizeof(t.spec.target_type), "delay");
	snprintf(t.params, sizeof(t.params), "%s 0 0 %s 0 0 %s 0 %d",
		 under, under, under, FLUSH_DELAY_MS);
	if (dm_call(ctl, DM_TABLE_LOAD, &t.io))
		return 0;
	memset(&io, 0, sizeof(io));
	io.data_size = sizeof(io);
	/* DM_DEV_SUSPEND without DM_SUSPEND_FLAG: resume, the table goes live. */
	if (dm_call(ctl, DM_DEV_SUSPEND, &io))
		return 0;
	return io.dev;
}

static void dm_remove(int ctl)
{
	struct dm_ioctl io = { .data_size = sizeof(io) };

	if (dm_call(ctl, DM_DEV_REMOVE, &io))
		printf("# dm remove: %s\n", strerror(errno));
}

/* /dev/mapper/control and the modules, or why not. */
static const char *slow_disk_prerequisites(int *ctl)
{
	net_sh("modprobe -a loop dm-mod dm-delay");
	*ctl = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (*ctl < 0)
		return "no device-mapper (/dev/mapper/control)";
	if (access("/dev/loop-control", R_OK | W_OK))
		return "no loop devices (/dev/loop-control)";
	return NULL;
}

static void run_guest(struct vsnix_test_vm *vm, struct vsnix_test_vcpu *vcpu,
		      uint64_t base)
{
	struct ucall uc;
	double kicked, answered;
	uint8_t want[VBT_BUF];
	int waits = 0;

	vcpu_run_ucall(vcpu, &uc);
	TEST_ASSERT(uc.args[0] == 1, "guest stage %lu", (unsigned long)uc.args[0]);
	tap_ok(uc.args[1] == VBT_SECTORS, "virtio-blk on dm-delay over a loop device (%lu sectors)",
	       (unsigned long)uc.args[1]);
	kicked = monotonic_s();
	vcpu_run_ucall(vcpu, &uc);
	TEST_ASSERT(uc.args[0] == 2, "guest stage %lu", (unsigned long)uc.args[0]);
	tap_ok(uc.args[1] == uc.args[2] && monotonic_s() - kicked < FLUSH_DELAY_MS / 1000.0,
	       "the notifying vCPU came back before the flush ended (used index %lu -> %lu, %.2f s)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2], monotonic_s() - kicked);
	while (vcpu_run_ucall(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 3)
		waits++;
	answered = monotonic_s();
	TEST_ASSERT(uc.args[0] == 4, "guest stage %lu", (unsigned long)uc.args[0]);
	tap_ok(uc.args[1] == VBT_S_OK && answered - kicked >= FLUSH_DELAY_MS / 1000.0 - 0.1,
	       "the flush answered OK after the disk's delay (status %lu, %.2f s, %d polls)",
	       (unsigned long)uc.args[1], answered - kicked, waits);
	vcpu_run_ucall(vcpu, &uc);
	TEST_ASSERT(uc.args[0] == 5, "guest stage %lu", (unsigned long)uc.args[0]);
	vbt_fill(want, 4096, 9);
	tap_ok(uc.args[1] == 0 && uc.args[2] == 4097 &&
	       !memcmp(want, gpa2hva(vm, vbt_data(base, 1), 4096), 4096),
	       "a write and a read back through the slow disk (0x%lx, %lu)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
}

int main(void)
{
	char dir[] = "/tmp/vsnix-blkslow-XXXXXX", path[300], loopdev[64];
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	int ctl, loopfd, fd;
	const char *why;
	uint64_t base;
	dev_t dev;

	vsnix_dev_fd();
	if (!(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_VIRTIO_BLK)) ||
	    !(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_PCI_HOST)))
		tap_skip_all("no virtio-blk or PCI host device");
	why = slow_disk_prerequisites(&ctl);
	if (why)
		tap_skip_all("%s", why);
	tap_plan(NR_TESTS);
	TEST_ASSERT(mkdtemp(dir), "mkdtemp");
	TEST_ASSERT(!mount("tmpfs", dir, "tmpfs", 0, "size=4m"), "tmpfs: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/disk", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	TEST_ASSERT(fd >= 0 && !ftruncate(fd, VBT_SECTORS * 512), "disk file");
	close(fd);
	loopfd = loop_attach(path, loopdev, sizeof(loopdev));
	TEST_ASSERT(loopfd >= 0, "loop device over %s", path);
	dev = dm_delay_create(ctl, loopdev, VBT_SECTORS);
	TEST_ASSERT(dev, "dm-delay over %s: %s", loopdev, strerror(errno));
	snprintf(path, sizeof(path), "%s/dm", dir);
	TEST_ASSERT(!mknod(path, S_IFBLK | 0600, dev), "mknod: %s", strerror(errno));
	fd = open(path, O_RDWR | O_CLOEXEC);
	TEST_ASSERT(fd >= 0, "open the dm device: %s", strerror(errno));

	base = vbt_one_disk_vm(&vm, &vcpu, fd, guest_main);
	run_guest(vm, vcpu, base);
	tap_ok(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE && kernel_healthy(),
	       "guest done, kernel healthy");

	vm_destroy(vm);
	close(fd);
	dm_remove(ctl);
	close(ctl);
	loop_detach(loopfd);
	umount(dir);
	rmdir(dir);
	tap_finish();
}
