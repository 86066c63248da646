// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk over PCI (VSNIX_DEV_VIRTIO_BLK), driven by a guest through
 * the transport with hand-made chains: read, write, flush, get-id,
 * discard and write-zeroes checked against the backing file from the
 * host, eight requests in flight, a second queue, a read-only disk, and
 * malformed requests (unknown type, past the end, a length not a multiple
 * of 512, a short header). The hostile rings are in virtio_blk_hostile.c.
 */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "vsnix_util.h"
#include "virtio_blk_test.h"

#define NR_TESTS	19

static void check_stage(struct ucall *uc, uint64_t want)
{
	TEST_ASSERT(uc->args[0] == want, "guest at stage %lu, not %lu",
		    (unsigned long)uc->args[0], (unsigned long)want);
}

static bool file_is(int fd, off_t off, const uint8_t *want, size_t len)
{
	uint8_t buf[VBT_BUF];

	return len <= sizeof(buf) && pread(fd, buf, len, off) == (ssize_t)len &&
	       !memcmp(buf, want, len);
}

static bool file_is_byte(int fd, off_t off, uint8_t v, size_t len)
{
	uint8_t want[VBT_BUF];

	memset(want, v, len);
	return file_is(fd, off, want, len);
}

static void guest_main(uint64_t base, uint64_t nr_queues)
{
	struct vg_dev d;
	uint64_t f;
	uint8_t st, st2;
	uint32_t used = 0;
	int i;

	GUEST_ASSERT(vg_find(&d, VBT_ID_BLOCK, 0) == 0);
	f = vg_init(&d, VBT_WANT);
	GUEST_ASSERT(f);
	GUEST_ASSERT(vbt_queues(&d, base, nr_queues) == 0);
	GUEST_SYNC3(1, f, vg_num_queues(&d));
	GUEST_SYNC3(2, vbt_capacity(&d), 0);

	st = vbt_rw(&d, 0, base, VBT_T_IN, 0, vbt_data(base, 0), 4096, &used);
	GUEST_SYNC3(3, st, used);

	vbt_fill((void *)vbt_data(base, 1), 4096, 4);
	st = vbt_rw(&d, 0, base, VBT_T_OUT, 8, vbt_data(base, 1), 4096, &used);
	GUEST_SYNC3(4, st, used);

	st = vbt_rw(&d, 0, base, VBT_T_FLUSH, 0, 0, 0, &used);
	GUEST_SYNC3(5, st, used);

	st = vbt_rw(&d, 0, base, VBT_T_GET_ID, 0, vbt_data(base, 2), 512, &used);
	GUEST_SYNC3(6, st, used);

	st = vbt_zero(&d, base, VBT_T_DISCARD, 8, 8, 0);
	/* Linux sets the unmap bit on discards; a reserved bit: UNSUPP. */
	st2 = vbt_zero(&d, base, VBT_T_DISCARD, 8, 8, 1);
	i = vbt_zero(&d, base, VBT_T_WRITE_ZEROES, 8, 8, 2);
	GUEST_SYNC3(7, st, st2 | i << 8);
	st = vbt_zero(&d, base, VBT_T_WRITE_ZEROES, 16, 8, 0);
	GUEST_SYNC2(8, st);

	GUEST_SYNC2(9, vbt_many(&d, base, 8));

	st = vbt_rw(&d, nr_queues > 1, base, VBT_T_IN, 32, vbt_data(base, 3),
		    4096, &used);
	GUEST_SYNC3(10, st, used);

	st = vbt_rw(&d, 0, base, 99, 0, vbt_data(base, 4), 512, &used);
	GUEST_SYNC2(11, st);

	st = vbt_rw(&d, 0, base, VBT_T_IN, VBT_SECTORS - 4, vbt_data(base, 4),
		    4096, &used);
	st2 = vbt_rw(&d, 0, base, VBT_T_OUT, ~0ull, vbt_data(base, 4), 512,
		     &used);
	GUEST_SYNC3(12, st, st2);

	st = vbt_rw(&d, 0, base, VBT_T_IN, 0, vbt_data(base, 4), 100, &used);
	GUEST_SYNC2(13, st);
	st = vbt_short_header(&d, base);
	GUEST_SYNC2(14, st);

	/* The host truncated the file: a read past its new end fails. */
	st = vbt_rw(&d, 0, base, VBT_T_IN, 64, vbt_data(base, 4), 4096, &used);
	GUEST_SYNC2(15, st);

	/* The read-only disk, the second virtio-blk function. */
	GUEST_ASSERT(vg_find(&d, VBT_ID_BLOCK, 1) == 0);
	f = vg_init(&d, VBT_WANT);
	GUEST_ASSERT(vbt_queues(&d, base, 1) == 0);
	vbt_fill((void *)vbt_data(base, 5), 512, 16);
	st = vbt_rw(&d, 0, base, VBT_T_OUT, 0, vbt_data(base, 5), 512, &used);
	st2 = vbt_rw(&d, 0, base, VBT_T_IN, 0, vbt_data(base, 5), 512, &used);
	i = vbt_zero(&d, base, VBT_T_WRITE_ZEROES, 0, 8, 0);
	GUEST_SYNC3(16, (f >> VBT_F_RO) & 1, st | st2 << 8 | i << 16);

	/* A sparse disk on a full tmpfs: writes into holes fail (ENOSPC). */
	GUEST_ASSERT(vg_find(&d, VBT_ID_BLOCK, 2) == 0);
	GUEST_ASSERT(vg_init(&d, VBT_WANT));
	GUEST_ASSERT(vbt_queues(&d, base, 1) == 0);
	for (i = 0, st2 = 0; i < 4; i++) {
		st = vbt_rw(&d, 0, base, VBT_T_OUT, 64 * i, vbt_data(base, 5),
			    4096, &used);
		if (st == VBT_S_IOERR)
			st2++;
		else if (st != VBT_S_OK)
			st2 = 100;
	}
	GUEST_SYNC2(17, st2);
}

static int make_disk(const char *dir, const char *name, size_t size,
		     int flags)
{
	char path[256];
	uint8_t buf[VBT_BUF];
	size_t off;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	TEST_ASSERT(fd >= 0, "create %s: %s", path, strerror(errno));
	for (off = 0; off < size; off += sizeof(buf)) {
		vbt_fill(buf, sizeof(buf), (uint8_t)(off >> 12));
		TEST_ASSERT(pwrite(fd, buf, sizeof(buf), off) == sizeof(buf),
			    "fill %s", path);
	}
	close(fd);
	fd = open(path, flags);
	TEST_ASSERT(fd >= 0, "reopen %s", path);
	return fd;
}

/* A 1 MiB sparse file on a tmpfs of one page. */
static int full_disk(const char *dir)
{
	char sub[256], path[300];
	int fd;

	snprintf(sub, sizeof(sub), "%s/full", dir);
	TEST_ASSERT(mkdir(sub, 0700) == 0 &&
		    mount("tmpfs", sub, "tmpfs", 0, "size=4k") == 0,
		    "a small tmpfs at %s: %s", sub, strerror(errno));
	snprintf(path, sizeof(path), "%s/disk", sub);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	TEST_ASSERT(fd >= 0 && ftruncate(fd, 1 << 20) == 0, "sparse file");
	return fd;
}

static void run_checks(struct vsnix_test_vcpu *vcpu, uint64_t base, int fd)
{
	struct vsnix_test_vm *vm = vcpu->vm;
	uint8_t want[VBT_BUF];
	struct ucall uc;
	uint64_t f;
	int i;

	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 1);
	f = uc.args[1];
	tap_ok((f & VBT_NEED) == VBT_NEED && uc.args[2] == 2,
	       "features 0x%lx offered, 2 queues", (unsigned long)f);
	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 2);
	tap_ok(uc.args[1] == VBT_SECTORS, "capacity %lu sectors",
	       (unsigned long)uc.args[1]);

	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 3);
	vbt_fill(want, 4096, 0);
	tap_ok(uc.args[1] == 0 && uc.args[2] == 4097 &&
	       !memcmp(gpa2hva(vm, vbt_data(base, 0), 4096), want, 4096),
	       "read: the file's data, 4097 bytes used");

	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 4);
	vbt_fill(want, 4096, 4);
	tap_ok(uc.args[1] == 0 && file_is(fd, 8 * 512, want, 4096),
	       "write: the data is in the file");
	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 5);
	tap_ok(uc.args[1] == 0 && uc.args[2] == 1, "flush: OK");

	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 6);
	tap_ok(uc.args[1] == 0 && uc.args[2] == 21 &&
	       !memcmp(gpa2hva(vm, vbt_data(base, 2), 20), VBT_SERIAL, 20),
	       "get-id: the serial, 21 bytes used");

	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 7);
	tap_ok(uc.args[1] == 0 && uc.args[2] == (VBT_S_OK | VBT_S_UNSUPP << 8) &&
	       file_is_byte(fd, 8 * 512, 0, 4096),
	       "discard (also with the unmap bit): zeroes in the file; a reserved flag: UNSUPP");
	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 8);
	tap_ok(uc.args[1] == 0 && file_is_byte(fd, 16 * 512, 0, 4096),
	       "write-zeroes: the range is zero in the file");

	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 9);
	for (i = 0; i < 8; i++) {
		vbt_fill(want, 4096, 100 + i);
		if (!file_is(fd, (32 + 8 * i) * 512, want, 4096))
			break;
	}
	tap_ok(uc.args[1] == 8 && i == 8,
	       "8 writes in flight at once: %lu OK, %d in the file",
	       (unsigned long)uc.args[1], i);

	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 10);
	vbt_fill(want, 4096, 100);
	tap_ok(uc.args[1] == 0 &&
	       !memcmp(gpa2hva(vm, vbt_data(base, 3), 4096), want, 4096),
	       "a read on queue 1 sees queue 0's write");

	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 11);
	tap_ok(uc.args[1] == VBT_S_UNSUPP, "unknown type: UNSUPP (%lu)",
	       (unsigned long)uc.args[1]);
	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 12);
	tap_ok(uc.args[1] == VBT_S_IOERR && uc.args[2] == VBT_S_IOERR,
	       "past the end and a huge sector: IOERR (%lu, %lu)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 13);
	tap_ok(uc.args[1] == VBT_S_IOERR, "100-byte read: IOERR");
	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 14);
	tap_ok(uc.args[1] == VBT_S_IOERR, "8-byte header: IOERR");
	TEST_ASSERT(ftruncate(fd, 16 * 1024) == 0, "truncate");

	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 15);
	tap_ok(uc.args[1] == VBT_S_IOERR,
	       "read past the truncated file's end: IOERR (%lu)",
	       (unsigned long)uc.args[1]);
	TEST_ASSERT(ftruncate(fd, VBT_SECTORS * 512) == 0, "truncate back");
}

int main(void)
{
	char dir[] = "/tmp/vsnix-vblk-XXXXXX";
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	uint8_t want[VBT_BUF];
	uint64_t base, *canary;
	struct ucall uc;
	bool mounted;
	int fd, rofd, fullfd;

	vsnix_dev_fd();
	if (!(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_VIRTIO_BLK)) ||
	    !(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_PCI_HOST)))
		tap_skip_all("no virtio-blk or PCI host device");
	tap_plan(NR_TESTS);
	TEST_ASSERT(mkdtemp(dir), "mkdtemp");
	/* tmpfs: punching holes works there (discard, write-zeroes). */
	mounted = !mount("tmpfs", dir, "tmpfs", 0, "size=16m");

	fd = make_disk(dir, "disk", VBT_SECTORS * 512, O_RDWR);
	rofd = make_disk(dir, "rodisk", 64 * 1024, O_RDWR);
	fullfd = full_disk(dir);

	vm = vm_create_long(VBT_AREA + 0x10000);
	base = vm_alloc(vm, VBT_AREA + 0x1000);
	base = (base + 0xfff) & ~0xfffull;
	canary = gpa2hva(vm, base + VBT_AREA - 4096, 4096);
	memset(canary, 0x5a, 4096);
	vbt_pci_host(vm);
	TEST_ASSERT(vbt_blk(vm, fd, 0, 2, 1) > 0, "virtio-blk: %s",
		    strerror(errno));
	TEST_ASSERT(vbt_blk(vm, rofd, VSNIX_VIRTIO_BLK_RO, 1, 2) > 0,
		    "read-only virtio-blk: %s", strerror(errno));
	TEST_ASSERT(vbt_blk(vm, fullfd, 0, 1, 3) > 0, "third virtio-blk: %s",
		    strerror(errno));
	vcpu = vcpu_create_long(vm, 0, guest_main);
	vcpu_set_args(vcpu, 2, base, 2ul);

	run_checks(vcpu, base, fd);

	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 16);
	vbt_fill(want, 512, 0);
	tap_ok(uc.args[1] == 1 &&
	       uc.args[2] == (VBT_S_IOERR | VBT_S_OK << 8 | VBT_S_IOERR << 16) &&
	       file_is(rofd, 0, want, 512),
	       "read-only disk: RO offered, write IOERR, read OK, file intact (0x%lx)",
	       (unsigned long)uc.args[2]);
	vcpu_run_ucall(vcpu, &uc);
	check_stage(&uc, 17);
	tap_ok(uc.args[1] >= 1 && uc.args[1] <= 4,
	       "writes to a full filesystem: %lu of 4 IOERR, the others OK",
	       (unsigned long)uc.args[1]);
	tap_ok(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE, "guest done");
	memset(want, 0x5a, 4096);
	tap_ok(!memcmp(canary, want, 4096) && kernel_healthy(),
	       "guest memory past the buffers untouched, kernel healthy");

	vm_destroy(vm);
	close(fd);
	close(rofd);
	close(fullfd);
	{
		char sub[256];

		snprintf(sub, sizeof(sub), "%s/full", dir);
		umount(sub);
		rmdir(sub);
	}
	if (mounted) {
		umount(dir);
	} else {
		char path[64];

		snprintf(path, sizeof(path), "%s/disk", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/rodisk", dir);
		unlink(path);
	}
	rmdir(dir);
	tap_finish();
}
