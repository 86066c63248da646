// SPDX-License-Identifier: GPL-2.0
/*
 * hvt block device: a read of the host's data, a write the host then finds
 * in the file, and out-of-range requests refused with SOLO5_R_EINVAL.
 */
#include "guests/run_guest.h"

#define NR_TESTS 4
#define DISK_SIZE (64 * 1024)

int main(void)
{
	static struct rg_result r;
	char path[] = "/tmp/vsnix-blk-XXXXXX";
	char attach[64];
	uint8_t disk[DISK_SIZE];
	struct stat st;
	bool written = true;
	int fd, i;

	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);

	fd = mkstemp(path);
	memset(disk, 0xee, sizeof(disk));
	for (i = 0; i < 512; i++)
		disk[i] = (uint8_t)(i * 7 + 3);
	if (fd < 0 || write(fd, disk, sizeof(disk)) != sizeof(disk)) {
		rg_ok(false, "create the backing file: %s", strerror(errno));
		rg_skip_rest(NR_TESTS, "no backing file");
		return 1;
	}
	snprintf(attach, sizeof(attach), "storage=%s", path);

	rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest("blk.hvt"),
				     "--mem", "32M", "--block", attach, NULL });
	if (!rg_ok(r.code == 0 && rg_has(r.out, "BLK PASS\n") &&
		   rg_has(r.out, "capacity=65536\n"),
		   "guest reads the host's sector and reads back its own write"))
		rg_diag(&r);

	if (pread(fd, disk, sizeof(disk), 0) != sizeof(disk))
		written = false;
	for (i = 0; written && i < 512; i++)
		if (disk[512 + i] != (uint8_t)(255 - i))
			written = false;
	rg_ok(written, "the guest's write of sector 1 is in the host file");

	if (!rg_ok(rg_has(r.out, "read_at_capacity_ret=2\n") &&
		   rg_has(r.out, "write_past_end_ret=2\n") &&
		   rg_has(r.out, "bad_handle_ret=2\n"),
		   "out-of-range and bad-handle requests give SOLO5_R_EINVAL"))
		rg_diag(&r);

	rg_ok(fstat(fd, &st) == 0 && st.st_size == DISK_SIZE &&
	      pread(fd, disk, 512, DISK_SIZE - 512) == 512 && disk[0] == 0xee,
	      "no write landed past the end of the backing file");
	close(fd);
	unlink(path);
	return rg_exit();
}
