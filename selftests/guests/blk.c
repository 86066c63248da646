// SPDX-License-Identifier: GPL-2.0
/*
 * Block device test guest: reads the host's pattern from sector 0, writes
 * its own to sector 1 (the host checks it after the run), reads it back,
 * and checks that out-of-range and unaligned requests are refused with
 * SOLO5_R_EINVAL. Prints "BLK PASS" or "BLK FAIL <why>".
 */
#include "hvt_guest.h"

HVT_DECLARE_MANIFEST(1, MFT_BLOCK("storage"));

static uint8_t buf[4096] __attribute__((aligned(512)));

static int block_io(int nr, long handle, uint64_t offset, void *data, uint64_t len)
{
	volatile struct hvt_hc_block_io hc = {
		.handle = handle, .offset = offset, .data = (uintptr_t)data,
		.len = len, .ret = -1,
	};

	hvt_hypercall(nr, &hc);
	return hc.ret;
}

static int fail(const char *why)
{
	puts_str("BLK FAIL ");
	puts_str(why);
	puts_str("\n");
	return 1;
}

int guest_main(const char *cmdline)
{
	long h = mft_handle("storage", MFT_DEV_BLOCK_BASIC);
	const struct mft_entry *e;
	uint64_t cap;
	int i, r;

	if (h < 0)
		return fail("no 'storage' in the manifest copy");
	e = mft_entry_at(h);
	if (!e->attached)
		return fail("storage not marked attached");
	cap = e->u.block_basic.capacity;
	put_dec("capacity=", cap);
	put_dec("block_size=", e->u.block_basic.block_size);
	if (e->u.block_basic.block_size != 512 || cap < 4 * 512)
		return fail("unexpected geometry");

	if (block_io(HVT_HYPERCALL_BLOCK_READ, h, 0, buf, 512) != SOLO5_R_OK)
		return fail("read of sector 0");
	for (i = 0; i < 512; i++)
		if (buf[i] != (uint8_t)(i * 7 + 3))
			return fail("sector 0 does not hold the host's pattern");

	for (i = 0; i < 512; i++)
		buf[i] = (uint8_t)(255 - i);
	if (block_io(HVT_HYPERCALL_BLOCK_WRITE, h, 512, buf, 512) != SOLO5_R_OK)
		return fail("write of sector 1");
	mem_set(buf, 0, 512);
	if (block_io(HVT_HYPERCALL_BLOCK_READ, h, 512, buf, 512) != SOLO5_R_OK)
		return fail("read back of sector 1");
	for (i = 0; i < 512; i++)
		if (buf[i] != (uint8_t)(255 - i))
			return fail("sector 1 read back differs");

	/* Refusals: past the end, straddling the end, a bad handle. */
	r = block_io(HVT_HYPERCALL_BLOCK_READ, h, cap, buf, 512);
	put_dec("read_at_capacity_ret=", r);
	if (r != SOLO5_R_EINVAL)
		return fail("read at capacity not refused with EINVAL");
	r = block_io(HVT_HYPERCALL_BLOCK_WRITE, h, cap - 512, buf, 1024);
	put_dec("write_past_end_ret=", r);
	if (r != SOLO5_R_EINVAL)
		return fail("write past the end not refused with EINVAL");
	r = block_io(HVT_HYPERCALL_BLOCK_READ, h, ~0ULL - 511, buf, 512);
	if (r != SOLO5_R_EINVAL)
		return fail("read at a wrapping offset not refused");
	r = block_io(HVT_HYPERCALL_BLOCK_READ, 63, 0, buf, 512);
	put_dec("bad_handle_ret=", r);
	if (r != SOLO5_R_EINVAL)
		return fail("bad handle not refused with EINVAL");
	puts_str("BLK PASS\n");
	return 0;
}
