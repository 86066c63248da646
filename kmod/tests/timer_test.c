// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the 8254's counter math per mode, its access modes, latch and
 * read-back (kmod/devices/pit.c), and the PM timer's count
 * (kmod/devices/pm_timer.c), both included here.
 */
/* First: the device file defines pr_fmt before printk.h does. */
#include "../devices/pit.c"
#include "../devices/pm_timer.c"
#include <kunit/test.h>
#include "chipset_stubs.h"

static struct pit_channel channel(u8 mode, u32 n)
{
	struct pit_channel c = { .mode = mode, .rw = PIT_RW_WORD, .gate = true };

	pit_load(&c, n & 0xffff, 0);
	return c;
}

static void pit_mode0(struct kunit *test)
{
	struct pit_channel c = channel(0, 1000);

	KUNIT_EXPECT_EQ(test, pit_count_at(&c, 0), 1000u);
	KUNIT_EXPECT_EQ(test, pit_count_at(&c, 999), 1u);
	KUNIT_EXPECT_FALSE(test, pit_out_at(&c, 999));
	KUNIT_EXPECT_TRUE(test, pit_out_at(&c, 1000));
	KUNIT_EXPECT_TRUE(test, pit_out_at(&c, 5000));
	/* After terminal count it wraps and goes on down. */
	KUNIT_EXPECT_EQ(test, pit_count_at(&c, 1001), 0xffffu);
	/* N = 0 is 65536. */
	c = channel(0, 0);
	KUNIT_EXPECT_EQ(test, c.reload, 65536u);
	KUNIT_EXPECT_EQ(test, pit_count_at(&c, 1), 0xffffu);
}

static void pit_mode2(struct kunit *test)
{
	struct pit_channel c = channel(2, 100);

	KUNIT_EXPECT_EQ(test, pit_count_at(&c, 0), 100u);
	KUNIT_EXPECT_EQ(test, pit_count_at(&c, 99), 1u);
	KUNIT_EXPECT_EQ(test, pit_count_at(&c, 100), 100u);
	KUNIT_EXPECT_EQ(test, pit_count_at(&c, 250), 50u);
	/* OUT low for one tick, when the count is 1. */
	KUNIT_EXPECT_TRUE(test, pit_out_at(&c, 98));
	KUNIT_EXPECT_FALSE(test, pit_out_at(&c, 99));
	KUNIT_EXPECT_TRUE(test, pit_out_at(&c, 100));
	/* Mode 6 is mode 2; N = 1 is not allowed in mode 2. */
	pit_control(&c, 0x3c);
	KUNIT_EXPECT_EQ(test, c.mode, 2);
	pit_load(&c, 1, 0);
	KUNIT_EXPECT_EQ(test, c.reload, 2u);
}

static void pit_mode3(struct kunit *test)
{
	struct pit_channel c = channel(3, 100);

	KUNIT_EXPECT_TRUE(test, pit_out_at(&c, 0));
	KUNIT_EXPECT_TRUE(test, pit_out_at(&c, 49));
	KUNIT_EXPECT_FALSE(test, pit_out_at(&c, 50));
	KUNIT_EXPECT_FALSE(test, pit_out_at(&c, 99));
	KUNIT_EXPECT_TRUE(test, pit_out_at(&c, 100));
	/* Decrements by two, each half. */
	KUNIT_EXPECT_EQ(test, pit_count_at(&c, 10), 80u);
	KUNIT_EXPECT_EQ(test, pit_count_at(&c, 60), 80u);
	/* Odd N: one more tick high than low. */
	c = channel(3, 5);
	KUNIT_EXPECT_TRUE(test, pit_out_at(&c, 2));
	KUNIT_EXPECT_FALSE(test, pit_out_at(&c, 3));
	KUNIT_EXPECT_FALSE(test, pit_out_at(&c, 4));
}

static void pit_bcd(struct kunit *test)
{
	struct pit_channel c = { .mode = 0, .rw = PIT_RW_WORD, .bcd = true,
				 .gate = true };

	pit_load(&c, 0x1234, 0);
	KUNIT_EXPECT_EQ(test, c.reload, 1234u);
	KUNIT_EXPECT_EQ(test, pit_read_value(&c, 0), 0x1234);
	pit_load(&c, 0, 0);
	KUNIT_EXPECT_EQ(test, c.reload, 10000u);
	KUNIT_EXPECT_EQ(test, pit_to_bcd(9999), 0x9999);
}

static void pit_access_latch_readback(struct kunit *test)
{
	struct pit_regs s;
	struct pit_channel *c = &s.ch[2];
	s64 ms = NSEC_PER_MSEC;

	pit_state_reset(&s);
	s.ch[2].gate = true;
	pit_write_control(&s, 0xb0, 0);		/* counter 2, word, mode 0 */
	KUNIT_EXPECT_FALSE(test, pit_write_count(c, 0x00, 0));
	KUNIT_EXPECT_TRUE(test, pit_write_count(c, 0x30, 0));	/* 0x3000 */
	/* 1 ms = 1193 ticks later, latched: reads LSB then MSB. */
	pit_write_control(&s, 0x80, ms);
	pit_write_control(&s, 0x80, 2 * ms);	/* ignored: still latched */
	KUNIT_EXPECT_EQ(test, pit_read_count(c, 5 * ms), (0x3000 - 1193) & 0xff);
	KUNIT_EXPECT_EQ(test, pit_read_count(c, 5 * ms), (0x3000 - 1193) >> 8);
	/* Read-back of status then count: status first. */
	pit_write_control(&s, 0xc8, ms);
	KUNIT_EXPECT_EQ(test, pit_read_count(c, 9 * ms), 0x30);
	KUNIT_EXPECT_EQ(test, pit_read_count(c, 9 * ms), (0x3000 - 1193) & 0xff);
	KUNIT_EXPECT_EQ(test, pit_read_count(c, 9 * ms), (0x3000 - 1193) >> 8);
	/* MSB only. */
	pit_write_control(&s, 0xa0, 0);
	pit_write_count(c, 0x12, 0);
	KUNIT_EXPECT_EQ(test, c->reload, 0x1200u);
	KUNIT_EXPECT_EQ(test, pit_read_count(c, 0), 0x12);
}

static void pit_gate(struct kunit *test)
{
	struct pit_channel c = channel(0, 2000);
	s64 ms = NSEC_PER_MSEC;

	pit_set_gate(&c, false, ms);		/* 1193 ticks done */
	KUNIT_EXPECT_EQ(test, pit_count_at(&c, pit_elapsed(&c, 50 * ms)),
			2000u - 1193);
	pit_set_gate(&c, true, 50 * ms);	/* mode 0 resumes */
	KUNIT_EXPECT_EQ(test, pit_elapsed(&c, 51 * ms), 1193ull * 2);
	/* Mode 1 waits for the gate's rising edge. */
	c = channel(1, 100);
	KUNIT_EXPECT_EQ(test, pit_elapsed(&c, ms), 0ull);
	c.gate = false;
	pit_set_gate(&c, true, ms);
	KUNIT_EXPECT_EQ(test, pit_elapsed(&c, 2 * ms), 1193ull);
}

static void pit_port_b(struct kunit *test)
{
	struct pit_regs s;

	pit_state_reset(&s);
	s.port_b = 0x01;
	pit_set_gate(&s.ch[2], true, 0);
	pit_write_control(&s, 0xb0, 0);
	pit_write_count(&s.ch[2], 10, 0);
	pit_write_count(&s.ch[2], 0, 0);
	KUNIT_EXPECT_EQ(test, pit_read_port_b(&s, 0) & 0x21, 0x01);
	KUNIT_EXPECT_EQ(test, pit_read_port_b(&s, NSEC_PER_MSEC) & 0x21, 0x21);
}

static void pit_state_round_trip(struct kunit *test)
{
	struct vsnix_pit_channel_state o;
	struct pit_channel c = channel(2, 5000), d = { };

	pit_save_channel(&c, &o, NSEC_PER_MSEC);
	KUNIT_EXPECT_EQ(test, o.elapsed, 1193ull);
	KUNIT_EXPECT_TRUE(test, pit_channel_state_ok(&o));
	pit_restore_channel(&d, &o, 100 * NSEC_PER_MSEC);
	KUNIT_EXPECT_EQ(test, pit_count_at(&d, pit_elapsed(&d, 100 * NSEC_PER_MSEC)),
			5000u - 1193);
	o.mode = 6;
	KUNIT_EXPECT_FALSE(test, pit_channel_state_ok(&o));
	o.mode = 2;
	o.reload = 0;
	KUNIT_EXPECT_FALSE(test, pit_channel_state_ok(&o));
}

static void pm_timer_count(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, pm_timer_value(0), 0u);
	/*
	 * Not exactly NSEC_PER_SEC: with ns == divisor as constants, x86's
	 * mul_u64_u32_div asm may get both inputs in one register.
	 */
	KUNIT_EXPECT_EQ(test, pm_timer_value(2 * NSEC_PER_SEC), 2u * 3579545u);
	KUNIT_EXPECT_EQ(test, pm_timer_value(NSEC_PER_MSEC), 3579u);
	/* 24 bits: wraps after 2^24 ticks (4.69 s). */
	KUNIT_EXPECT_EQ(test, pm_timer_value(5 * NSEC_PER_SEC),
			(5u * 3579545u) & 0xffffffu);
	KUNIT_EXPECT_EQ(test, pm_timer_value(-5), 0u);
}

static struct kunit_case timer_cases[] = {
	KUNIT_CASE(pit_mode0),
	KUNIT_CASE(pit_mode2),
	KUNIT_CASE(pit_mode3),
	KUNIT_CASE(pit_bcd),
	KUNIT_CASE(pit_access_latch_readback),
	KUNIT_CASE(pit_gate),
	KUNIT_CASE(pit_port_b),
	KUNIT_CASE(pit_state_round_trip),
	KUNIT_CASE(pm_timer_count),
	{}
};

static struct kunit_suite timer_suite = {
	.name = "vsnix_pit_pm_timer",
	.test_cases = timer_cases,
};
kunit_test_suite(timer_suite);
