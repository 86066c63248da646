// SPDX-License-Identifier: GPL-2.0
/*
 * VSNIX_DEV_HVT2: one hvt device with a block device for every manifest
 * handle, 1..63 (Solo5's limit; the first config stops at 4 block
 * devices). The guest writes a sector to handle 63 and reads handle 1;
 * bad device lists fail with the errno the API documents.
 */
#define _GNU_SOURCE
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "vsnix_util.h"

#define HVT_PORT	0x500
#define HC_BLOCK_WRITE	4
#define HC_BLOCK_READ	5
#define NDEV		VSNIX_HVT_MAX_HANDLE
#define DISK_SIZE	4096

struct hc_block { uint64_t handle, offset, data, len; int ret; };

static struct hc_block g_blk;
static uint8_t g_sector[512];

static void guest_code(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(g_sector); i++)
		g_sector[i] = (uint8_t)(i * 7 + 1);
	g_blk = (struct hc_block){ .handle = NDEV, .offset = 512,
				   .data = (uintptr_t)g_sector, .len = 512 };
	guest_outl(HVT_PORT + HC_BLOCK_WRITE, (uint32_t)(uintptr_t)&g_blk);
	GUEST_SYNC2(1, g_blk.ret);
	g_blk = (struct hc_block){ .handle = 1, .offset = 0,
				   .data = (uintptr_t)g_sector, .len = 512 };
	guest_outl(HVT_PORT + HC_BLOCK_READ, (uint32_t)(uintptr_t)&g_blk);
	GUEST_SYNC3(2, g_blk.ret, g_sector[0]);
	g_blk.handle = NDEV + 1;
	guest_outl(HVT_PORT + HC_BLOCK_READ, (uint32_t)(uintptr_t)&g_blk);
	GUEST_SYNC2(3, g_blk.ret);
}

static int create_hvt2(struct vsnix_test_vm *vm, struct vsnix_hvt_dev *devs, uint32_t n,
		       uint64_t addr)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_HVT2, .console_fd = -1 };

	c.hvt2.devices = addr ? addr : (uintptr_t)devs;
	c.hvt2.nr_devices = n;
	return ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c);
}

static bool bad(struct vsnix_hvt_dev *devs, uint32_t n, uint64_t addr, int err,
		const char *what)
{
	struct vsnix_test_vm *vm = vm_create(0x10000);
	bool ok = expect_errno(create_hvt2(vm, devs, n, addr), err, what);

	vm_destroy(vm);
	return ok;
}

int main(void)
{
	static struct vsnix_hvt_dev devs[NDEV + 1];
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	uint8_t buf[512];
	struct ucall uc;
	bool ok;
	int i;

	vsnix_dev_fd();
	tap_plan(9);
	tap_ok(vsnix_cap(VSNIX_CAP_HVT_MAX_DEVICES) == NDEV &&
	       (vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_HVT2)),
	       "VSNIX_CAP_HVT_MAX_DEVICES is %d, VSNIX_DEV_HVT2 offered", NDEV);
	for (i = 0; i <= NDEV; i++) {
		devs[i].kind = VSNIX_HVT_DEV_BLOCK;
		devs[i].fd = memfd_create("disk", 0);
		TEST_ASSERT(devs[i].fd >= 0 && ftruncate(devs[i].fd, DISK_SIZE) == 0, "memfd");
		devs[i].handle = i + 1;
		snprintf(devs[i].name, sizeof(devs[i].name), "storage%d", i);
	}
	memset(buf, 0xee, sizeof(buf));
	TEST_ASSERT(pwrite(devs[0].fd, buf, sizeof(buf), 0) == sizeof(buf), "pwrite");

	ok = bad(devs, NDEV + 1, 0, EINVAL, "64 devices");
	ok &= bad(devs, 1, 16, EFAULT, "device list at address 16");
	devs[5].handle = 3;
	ok &= bad(devs, NDEV, 0, EINVAL, "handle given twice");
	devs[5].handle = 6;
	devs[7].kind = 9;
	ok &= bad(devs, NDEV, 0, EINVAL, "unknown kind");
	devs[7].kind = VSNIX_HVT_DEV_BLOCK;
	devs[9].reserved[1] = 1;
	ok &= bad(devs, NDEV, 0, EINVAL, "reserved set");
	devs[9].reserved[1] = 0;
	tap_ok(ok, "bad device lists: EINVAL (64, twice, kind, reserved), EFAULT");

	vm = vm_create_long(0);
	tap_ok(create_hvt2(vm, devs, NDEV, 0) == 0, "VSNIX_DEV_HVT2 with %d block devices", NDEV);
	vcpu = vcpu_create_long(vm, 0, guest_code);
	tap_ok(vcpu_run_sync_is(vcpu, &uc, 1) && uc.args[1] == 0, "BLOCK_WRITE to handle %d: SOLO5_R_OK",
	       NDEV);
	TEST_ASSERT(pread(devs[NDEV - 1].fd, buf, sizeof(buf), 512) == sizeof(buf), "pread");
	tap_ok(buf[0] == 1 && buf[1] == 8 && buf[511] == (uint8_t)(511 * 7 + 1),
	       "the sector landed in device %d at offset 512", NDEV);
	TEST_ASSERT(pread(devs[NDEV - 2].fd, buf, sizeof(buf), 512) == sizeof(buf), "pread");
	tap_ok(buf[0] == 0 && buf[511] == 0, "device %d untouched", NDEV - 1);
	tap_ok(vcpu_run_sync_is(vcpu, &uc, 2) && uc.args[1] == 0 && uc.args[2] == 0xee,
	       "BLOCK_READ from handle 1 reads device 1");
	tap_ok(vcpu_run_sync_is(vcpu, &uc, 3) && uc.args[1] == 2, "handle %d: SOLO5_R_EINVAL", NDEV + 1);
	vm_destroy(vm);
	for (i = 0; i <= NDEV; i++)
		close(devs[i].fd);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
