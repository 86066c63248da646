// SPDX-License-Identifier: GPL-2.0
/* KUnit: the CMOS RTC's formats and clock (kmod/devices/rtc.c, included here). */
/* First: the device file defines pr_fmt before printk.h does. */
#include "../devices/rtc.c"
#include <kunit/test.h>
#include "chipset_stubs.h"

/* 2026-11-30 07:05:09 UTC, a Monday. */
#define T0	1796022309ll
#define NS	NSEC_PER_SEC

static void rtc_bcd_24h(struct kunit *test)
{
	struct rtc_regs s;

	rtc_state_reset(&s, T0 * NS, 0, 0);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_SEC, 0), 0x09);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_MIN, 0), 0x05);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_HOUR, 0), 0x07);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_WDAY, 0), 0x02);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_MDAY, 0), 0x30);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_MONTH, 0), 0x11);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_YEAR, 0), 0x26);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_CENTURY, 0), 0x20);
	/* 1.5 s later (monotonic), the clock moved one second. */
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_SEC, 3 * NS / 2), 0x10);
}

static void rtc_binary_12h(struct kunit *test)
{
	struct rtc_regs s;

	rtc_state_reset(&s, (T0 + 6 * 3600) * NS, 0, 0);	/* 13:05 */
	rtc_write_reg(&s, RTC_REG_B, RTC_B_DM_BINARY, 0);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_HOUR, 0), 0x81);	/* 1 PM */
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_MDAY, 0), 30);
	rtc_state_reset(&s, (T0 - 7 * 3600) * NS, 0, 0);	/* 00:05 */
	rtc_write_reg(&s, RTC_REG_B, 0, 0);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_HOUR, 0), 0x12);	/* 12 AM */
	KUNIT_EXPECT_EQ(test, rtc_decode_hour(&s, 0x92), 12u);		/* 12 PM */
	KUNIT_EXPECT_EQ(test, rtc_decode_hour(&s, 0x12), 0u);
	KUNIT_EXPECT_EQ(test, rtc_decode_hour(&s, 0x81), 13u);
}

static void rtc_set_mode(struct kunit *test)
{
	struct rtc_regs s;

	rtc_state_reset(&s, T0 * NS, 0, 0);
	rtc_write_reg(&s, RTC_REG_B, RTC_B_SET | RTC_B_24H | RTC_B_DM_BINARY, 0);
	rtc_write_reg(&s, RTC_YEAR, 0, 0);
	rtc_write_reg(&s, RTC_CENTURY, 20, 0);
	rtc_write_reg(&s, RTC_MONTH, 1, 0);
	rtc_write_reg(&s, RTC_MDAY, 1, 0);
	rtc_write_reg(&s, RTC_HOUR, 0, 0);
	rtc_write_reg(&s, RTC_MIN, 0, 0);
	rtc_write_reg(&s, RTC_SEC, 0, 0);
	/* Frozen while SET, and no UIP. */
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_SEC, 10 * NS), 0);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_REG_A, NS - 1000) & RTC_A_UIP, 0);
	rtc_write_reg(&s, RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY, 20 * NS);
	KUNIT_EXPECT_EQ(test, rtc_guest_ns(&s, 20 * NS), 946684800ll * NS);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_SEC, 25 * NS), 5);
	/* A field written while running: the rest keeps going. */
	rtc_write_reg(&s, RTC_MIN, 30, 25 * NS);
	KUNIT_EXPECT_EQ(test, rtc_guest_ns(&s, 25 * NS), (946684800ll + 1805) * NS);
}

static void rtc_registers(struct kunit *test)
{
	struct rtc_regs s;

	rtc_state_reset(&s, T0 * NS, 0, 0);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_REG_A, 0), 0x26);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_REG_A, NS - 100000) & RTC_A_UIP,
			RTC_A_UIP);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_REG_D, 0), RTC_D_VRT);
	rtc_write_reg(&s, RTC_REG_D, 0, 0);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_REG_D, 0), RTC_D_VRT);
	/* C: UF once a second went by, cleared by the read. */
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_REG_C, 0), 0);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_REG_C, 2 * NS), RTC_C_UF);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, RTC_REG_C, 2 * NS), 0);
	rtc_write_reg(&s, 0x40, 0xa5, 0);
	KUNIT_EXPECT_EQ(test, rtc_read_reg(&s, 0x40, 0), 0xa5);
}

static void rtc_memory_bytes(struct kunit *test)
{
	struct rtc_regs s;
	u16 sum = 0;
	int i;

	rtc_state_reset(&s, 0, 0, 6ull << 30);
	KUNIT_EXPECT_EQ(test, s.cmos[0x15] | s.cmos[0x16] << 8, 640);
	KUNIT_EXPECT_EQ(test, s.cmos[0x17] | s.cmos[0x18] << 8, 0xffff);
	KUNIT_EXPECT_EQ(test, s.cmos[0x34] | s.cmos[0x35] << 8,
			(0xe0000000 - SZ_16M) / SZ_64K);
	KUNIT_EXPECT_EQ(test, s.cmos[0x5b] | s.cmos[0x5c] << 8 | s.cmos[0x5d] << 16,
			((6ull << 30) - 0xe0000000) / SZ_64K);
	for (i = 0x10; i <= 0x2d; i++)
		sum += s.cmos[i];
	KUNIT_EXPECT_EQ(test, s.cmos[0x2e] << 8 | s.cmos[0x2f], sum);
}

static struct kunit_case rtc_cases[] = {
	KUNIT_CASE(rtc_bcd_24h),
	KUNIT_CASE(rtc_binary_12h),
	KUNIT_CASE(rtc_set_mode),
	KUNIT_CASE(rtc_registers),
	KUNIT_CASE(rtc_memory_bytes),
	{}
};

static struct kunit_suite rtc_suite = {
	.name = "vsnix_rtc",
	.test_cases = rtc_cases,
};
kunit_test_suite(rtc_suite);
