// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk against a hostile driver: descriptors outside guest RAM
 * (past its end, straddling it, on the device's own BAR), a loop in a
 * chain, lengths that overflow, an avail index jump, a head or next out
 * of range, a readable segment after a writable one, no status byte. The
 * device answers IOERR or stops with DEVICE_NEEDS_RESET; after a reset
 * it serves again; no hostile write reaches the file, guest memory
 * outside the buffers is untouched, a second VM's disk is untouched and
 * served, and the kernel stays healthy.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "virtio_blk_test.h"

enum { CASE_PAST_RAM, CASE_STRADDLE, CASE_BAR, CASE_LOOP, CASE_OVERFLOW,
       CASE_IDX_JUMP, CASE_HEAD, CASE_NEXT, CASE_ORDER, CASE_NO_STATUS,
       NR_CASES };

static const char *const case_names[NR_CASES] = {
	"data descriptor past the end of guest RAM",
	"data descriptor straddling the end of guest RAM",
	"data descriptor on the device's own BAR",
	"a loop in the chain",
	"segment lengths that overflow 32 bits",
	"avail index jumps by 1000",
	"avail entry names a head past the ring",
	"next points past the ring",
	"a readable segment after the status byte",
	"no status byte",
};

#define NR_TESTS	(2 * NR_CASES + 4)
#define OUT_USED	1
#define OUT_RESET	2

/* Waits for a used entry or NEEDS_RESET: OUT_USED | status << 8, OUT_RESET, 0. */
static uint64_t outcome(struct vg_dev *d, uint64_t base)
{
	volatile uint16_t *idx = (volatile uint16_t *)(d->q[0].used + 2);
	uint64_t i;

	for (i = 0; i < 20000000ull; i++) {
		if (*idx != d->q[0].last_used)
			return OUT_USED | (uint64_t)vbt_status(base, 0) << 8;
		if (vg_status(d) & VG_S_NEEDS_RESET)
			return OUT_RESET;
		asm volatile("pause");
	}
	return 0;
}

/* An OUT of sector 0 whose data descriptor is (addr, len). */
static void write_chain(struct vg_dev *d, uint64_t base, uint64_t addr,
			uint32_t len)
{
	vbt_hdr(base, 0, VBT_T_OUT, 0);
	vg_set_desc(d, 0, 0, base + 0x8000, 16, VG_DESC_F_NEXT, 1);
	vg_set_desc(d, 0, 1, addr, len, VG_DESC_F_NEXT, 2);
	vg_set_desc(d, 0, 2, base + 0x9000, 1, VG_DESC_F_WRITE, 0);
}

static void hostile(struct vg_dev *d, uint64_t base, uint64_t ram_end, int k)
{
	uint64_t data = vbt_data(base, 0);

	vbt_fill((void *)data, 4096, 77);
	switch (k) {
	case CASE_PAST_RAM:
		write_chain(d, base, ram_end + 0x100000, 4096);
		break;
	case CASE_STRADDLE:
		write_chain(d, base, ram_end - 512, 4096);
		break;
	case CASE_BAR:
		/* A read: the device would write its own registers. */
		write_chain(d, base, PC_PCI_MMIO_START, 4096);
		vbt_hdr(base, 0, VBT_T_IN, 0);
		vg_set_desc(d, 0, 1, PC_PCI_MMIO_START, 4096,
			    VG_DESC_F_NEXT | VG_DESC_F_WRITE, 2);
		break;
	case CASE_LOOP:
		write_chain(d, base, data, 4096);
		vg_set_desc(d, 0, 1, data, 4096, VG_DESC_F_NEXT, 0);
		break;
	case CASE_OVERFLOW:
		write_chain(d, base, data, 0xffffffffu);
		vg_set_desc(d, 0, 1, data, 0xffffffffu, VG_DESC_F_NEXT, 3);
		vg_set_desc(d, 0, 3, data, 0xffffffffu, VG_DESC_F_NEXT, 2);
		break;
	case CASE_IDX_JUMP:
		write_chain(d, base, data, 4096);
		vg_set_avail_idx(d, 0, d->q[0].avail_idx + 1000);
		vg_kick(d, 0);
		return;
	case CASE_HEAD:
		write_chain(d, base, data, 4096);
		vg_post(d, 0, 1000);
		vg_kick(d, 0);
		return;
	case CASE_NEXT:
		write_chain(d, base, data, 4096);
		vg_set_desc(d, 0, 1, data, 4096, VG_DESC_F_NEXT, 500);
		break;
	case CASE_ORDER:
		vbt_hdr(base, 0, VBT_T_OUT, 0);
		vg_set_desc(d, 0, 0, base + 0x8000, 16, VG_DESC_F_NEXT, 2);
		vg_set_desc(d, 0, 2, base + 0x9000, 1,
			    VG_DESC_F_WRITE | VG_DESC_F_NEXT, 1);
		vg_set_desc(d, 0, 1, data, 4096, 0, 0);
		break;
	case CASE_NO_STATUS:
		write_chain(d, base, data, 4096);
		vg_set_desc(d, 0, 1, data, 4096, 0, 0);
		break;
	}
	vg_post(d, 0, 0);
	vg_kick(d, 0);
}

static void guest_main(uint64_t base, uint64_t ram_end)
{
	struct vg_dev d;
	uint64_t out;
	uint32_t used = 0;
	uint8_t st;
	int k;

	GUEST_ASSERT(vg_find(&d, VBT_ID_BLOCK, 0) == 0);
	for (k = 0; k < NR_CASES; k++) {
		GUEST_ASSERT(vg_init(&d, VBT_WANT));
		GUEST_ASSERT(vbt_queues(&d, base, 1) == 0);
		hostile(&d, base, ram_end, k);
		out = outcome(&d, base);
		/* Served again after a reset. */
		GUEST_ASSERT(vg_init(&d, VBT_WANT));
		GUEST_ASSERT(vbt_queues(&d, base, 1) == 0);
		st = vbt_rw(&d, 0, base, VBT_T_IN, 8, vbt_data(base, 1), 4096,
			    &used);
		GUEST_SYNC3(k, out, st);
	}
}

/* The second VM: one read of its own disk's sector 8. */
static void guest_other(uint64_t base)
{
	struct vg_dev d;
	uint32_t used = 0;

	GUEST_ASSERT(vg_find(&d, VBT_ID_BLOCK, 0) == 0);
	GUEST_ASSERT(vg_init(&d, VBT_WANT));
	GUEST_ASSERT(vbt_queues(&d, base, 1) == 0);
	GUEST_SYNC2(100, vbt_rw(&d, 0, base, VBT_T_IN, 8, vbt_data(base, 1),
				4096, &used));
}

static bool case_ok(int k, uint64_t out)
{
	/* Past RAM, straddling, on the BAR: IOERR or a reset are both fine. */
	if (k <= CASE_BAR)
		return out == OUT_RESET || out == (OUT_USED | VBT_S_IOERR << 8);
	/* No status byte: nothing to answer with but an empty used entry. */
	if (k == CASE_NO_STATUS)
		return out == OUT_RESET || (out & 0xff) == OUT_USED;
	return out == OUT_RESET || out == (OUT_USED | VBT_S_IOERR << 8);
}

static int make_disk(const char *path, uint32_t seed)
{
	uint8_t buf[VBT_BUF];
	int fd, i;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	TEST_ASSERT(fd >= 0, "create %s", path);
	for (i = 0; i < 256; i++) {
		vbt_fill(buf, sizeof(buf), seed + i);
		TEST_ASSERT(pwrite(fd, buf, sizeof(buf), i * 4096) == 4096,
			    "fill");
	}
	return fd;
}

static struct vsnix_test_vm *make_vm(int fd, uint64_t *base)
{
	struct vsnix_test_vm *vm = vm_create_long(VBT_AREA + 0x10000);

	*base = (vm_alloc(vm, VBT_AREA + 0x1000) + 0xfff) & ~0xfffull;
	vbt_pci_host(vm);
	TEST_ASSERT(vbt_blk(vm, fd, 0, 1, 1) > 0, "virtio-blk: %s",
		    strerror(errno));
	return vm;
}

int main(void)
{
	char p1[] = "/tmp/vsnix-vblk-h1-XXXXXX", p2[] = "/tmp/vsnix-vblk-h2-XXXXXX";
	struct vsnix_test_vcpu *vcpu, *vcpu2;
	struct vsnix_test_vm *vm, *vm2;
	uint8_t want[VBT_BUF], buf[VBT_BUF], *canary;
	uint64_t base, base2;
	struct ucall uc;
	int fd, fd2, k;

	vsnix_dev_fd();
	if (!(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_VIRTIO_BLK)) ||
	    !(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_PCI_HOST)))
		tap_skip_all("no virtio-blk or PCI host device");
	tap_plan(NR_TESTS);
	close(mkstemp(p1));
	close(mkstemp(p2));
	fd = make_disk(p1, 0);
	fd2 = make_disk(p2, 1000);

	vm = make_vm(fd, &base);
	vm2 = make_vm(fd2, &base2);
	canary = gpa2hva(vm, base + VBT_AREA - 4096, 4096);
	memset(canary, 0x5a, 4096);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	vcpu_set_args(vcpu, 2, base, (uint64_t)vm->mem_size);

	for (k = 0; k < NR_CASES; k++) {
		vcpu_run_ucall(vcpu, &uc);
		TEST_ASSERT(uc.args[0] == (uint64_t)k, "stage %lu",
			    (unsigned long)uc.args[0]);
		tap_ok(case_ok(k, uc.args[1]), "%s: %s (0x%lx)", case_names[k],
		       uc.args[1] == OUT_RESET ? "NEEDS_RESET" : "answered",
		       (unsigned long)uc.args[1]);
		vbt_fill(want, 4096, 1);
		tap_ok(uc.args[2] == VBT_S_OK &&
		       !memcmp(gpa2hva(vm, vbt_data(base, 1), 4096), want, 4096),
		       "after it, a reset device reads again");
	}
	tap_ok(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE, "guest done");

	vbt_fill(want, 4096, 0);
	tap_ok(pread(fd, buf, 4096, 0) == 4096 && !memcmp(buf, want, 4096),
	       "no hostile write reached the file");
	memset(want, 0x5a, 4096);
	tap_ok(!memcmp(canary, want, 4096), "guest memory past the buffers untouched");

	vcpu2 = vcpu_create_long(vm2, 0, guest_other);
	vcpu_set_args(vcpu2, 1, base2);
	vcpu_run_ucall(vcpu2, &uc);
	vbt_fill(want, 4096, 1001);
	tap_ok(uc.args[0] == 100 && uc.args[1] == VBT_S_OK &&
	       !memcmp(gpa2hva(vm2, vbt_data(base2, 1), 4096), want, 4096) &&
	       kernel_healthy(),
	       "the second VM reads its own disk; kernel healthy");

	vm_destroy(vm);
	vm_destroy(vm2);
	close(fd);
	close(fd2);
	unlink(p1);
	unlink(p2);
	tap_finish();
}
