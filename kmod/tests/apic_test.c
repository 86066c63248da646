// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: local APIC rules (arch/x86/apic_logic.c): priorities, the
 * destination of a message in each mode, ICR and MSI decoding,
 * IA32_APIC_BASE transitions and the timer's arithmetic.
 */
#include <kunit/test.h>
#include "../arch/x86/lapic.h"

static void apic_highest_vector(struct kunit *test)
{
	u32 bits[8] = { };

	KUNIT_EXPECT_EQ(test, vsnix_apic_highest_vector(bits), -1);
	bits[1] = BIT(0);			/* vector 32 */
	KUNIT_EXPECT_EQ(test, vsnix_apic_highest_vector(bits), 32);
	bits[7] = BIT(31);			/* vector 255 */
	KUNIT_EXPECT_EQ(test, vsnix_apic_highest_vector(bits), 255);
	bits[7] = 0;
	bits[4] = BIT(17) | BIT(3);		/* 145 and 131 */
	KUNIT_EXPECT_EQ(test, vsnix_apic_highest_vector(bits), 145);
}

/* SDM Vol 3, 10.8.3.1. */
static void apic_ppr_rules(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vsnix_apic_ppr(0, -1), 0u);
	KUNIT_EXPECT_EQ(test, vsnix_apic_ppr(0x35, -1), 0x35u);
	/* ISR class above TPR: PPR = ISRV[7:4], low nibble 0. */
	KUNIT_EXPECT_EQ(test, vsnix_apic_ppr(0x35, 0x61), 0x60u);
	/* TPR class equal or above: TPR itself. */
	KUNIT_EXPECT_EQ(test, vsnix_apic_ppr(0x65, 0x61), 0x65u);
	KUNIT_EXPECT_EQ(test, vsnix_apic_ppr(0x1f0, -1), 0xf0u);

	KUNIT_EXPECT_FALSE(test, vsnix_apic_deliverable(-1, 0));
	KUNIT_EXPECT_FALSE(test, vsnix_apic_deliverable(15, 0));
	KUNIT_EXPECT_TRUE(test, vsnix_apic_deliverable(0x20, 0));
	/* Same class as PPR: held (strictly above only). */
	KUNIT_EXPECT_FALSE(test, vsnix_apic_deliverable(0x6f, 0x60));
	KUNIT_EXPECT_TRUE(test, vsnix_apic_deliverable(0x70, 0x6f));
}

static void apic_dest_physical(struct kunit *test)
{
	enum vsnix_apic_mode x = VSNIX_APIC_XAPIC, x2 = VSNIX_APIC_X2APIC;

	KUNIT_EXPECT_TRUE(test, vsnix_apic_match_dest(x, 3 << 24, 0, ~0u, 3, false));
	KUNIT_EXPECT_FALSE(test, vsnix_apic_match_dest(x, 3 << 24, 0, ~0u, 4, false));
	KUNIT_EXPECT_TRUE(test, vsnix_apic_match_dest(x, 3 << 24, 0, ~0u, 0xff, false));
	KUNIT_EXPECT_TRUE(test, vsnix_apic_match_dest(x2, 300, 0, 0, 300, false));
	KUNIT_EXPECT_FALSE(test, vsnix_apic_match_dest(x2, 300, 0, 0, 300 & 0xff, false));
	KUNIT_EXPECT_TRUE(test, vsnix_apic_match_dest(x2, 7, 0, 0, 0xffffffff, false));
	/* A disabled APIC takes no message. */
	KUNIT_EXPECT_FALSE(test, vsnix_apic_match_dest(VSNIX_APIC_DISABLED, 0,
						       0, ~0u, 0xff, false));
}

static void apic_dest_logical(struct kunit *test)
{
	enum vsnix_apic_mode x = VSNIX_APIC_XAPIC, x2 = VSNIX_APIC_X2APIC;
	u32 flat = 0xffffffff, cluster = 0x0fffffff;

	/* Flat: logical ID bit 2 set; any MDA bit in common matches. */
	KUNIT_EXPECT_TRUE(test, vsnix_apic_match_dest(x, 0, 0x04000000, flat, 0x06, true));
	KUNIT_EXPECT_FALSE(test, vsnix_apic_match_dest(x, 0, 0x04000000, flat, 0x03, true));
	KUNIT_EXPECT_TRUE(test, vsnix_apic_match_dest(x, 0, 0x04000000, flat, 0xff, true));
	/* Cluster: cluster 2, member bit 1 (logical ID 0x22). */
	KUNIT_EXPECT_TRUE(test, vsnix_apic_match_dest(x, 0, 0x22000000, cluster, 0x23, true));
	KUNIT_EXPECT_FALSE(test, vsnix_apic_match_dest(x, 0, 0x22000000, cluster, 0x32, true));
	KUNIT_EXPECT_FALSE(test, vsnix_apic_match_dest(x, 0, 0x22000000, cluster, 0x21, true));
	/* x2APIC: cluster 1 (IDs 16-31), ID 18 is bit 2. */
	KUNIT_EXPECT_EQ(test, vsnix_x2apic_ldr(18), 0x00010004u);
	KUNIT_EXPECT_EQ(test, vsnix_x2apic_ldr(0), 0x00000001u);
	KUNIT_EXPECT_TRUE(test, vsnix_apic_match_dest(x2, 18, vsnix_x2apic_ldr(18),
						      0, 0x00010006, true));
	KUNIT_EXPECT_FALSE(test, vsnix_apic_match_dest(x2, 18, vsnix_x2apic_ldr(18),
						       0, 0x00000004, true));
	KUNIT_EXPECT_TRUE(test, vsnix_apic_match_dest(x2, 18, vsnix_x2apic_ldr(18),
						      0, 0xffffffff, true));
}

static void apic_icr_decode(struct kunit *test)
{
	struct vsnix_apic_irq irq;

	/* xAPIC: dest in ICR2[31:24]; INIT, level assert, logical. */
	vsnix_apic_decode_icr(0x05000000000c4d31ULL, false, &irq);
	KUNIT_EXPECT_EQ(test, irq.vector, 0x31);
	KUNIT_EXPECT_EQ(test, irq.delivery_mode, VSNIX_APIC_DM_INIT);
	KUNIT_EXPECT_TRUE(test, irq.logical);
	KUNIT_EXPECT_TRUE(test, irq.assert);
	KUNIT_EXPECT_FALSE(test, irq.level_trigger);
	KUNIT_EXPECT_EQ(test, irq.shorthand, VSNIX_APIC_SH_ALL_BUT_SELF);
	KUNIT_EXPECT_EQ(test, irq.dest, 5u);
	/* x2APIC: dest is ICR[63:32]; level trigger; SIPI. */
	vsnix_apic_decode_icr(0x0000012300008608ULL, true, &irq);
	KUNIT_EXPECT_EQ(test, irq.dest, 0x123u);
	KUNIT_EXPECT_EQ(test, irq.delivery_mode, VSNIX_APIC_DM_SIPI);
	KUNIT_EXPECT_EQ(test, irq.vector, 0x08);
	KUNIT_EXPECT_TRUE(test, irq.level_trigger);
	KUNIT_EXPECT_FALSE(test, irq.assert);
	KUNIT_EXPECT_EQ(test, irq.shorthand, VSNIX_APIC_SH_NONE);
}

static void apic_msi_decode(struct kunit *test)
{
	struct vsnix_apic_irq irq;

	KUNIT_ASSERT_EQ(test, vsnix_apic_decode_msi(0xfee03004, 0x4141, &irq), 0);
	KUNIT_EXPECT_EQ(test, irq.dest, 3u);
	KUNIT_EXPECT_TRUE(test, irq.logical);
	KUNIT_EXPECT_EQ(test, irq.vector, 0x41);
	KUNIT_EXPECT_EQ(test, irq.delivery_mode, VSNIX_APIC_DM_LOWEST);
	KUNIT_EXPECT_FALSE(test, irq.level_trigger);
	KUNIT_EXPECT_EQ(test, vsnix_apic_decode_msi(0xfec00000, 0x41, &irq), -EINVAL);
}

/* SDM Vol 3, 10.12.5: the legal moves between the three modes. */
static void apic_base_transitions(struct kunit *test)
{
	u64 dis = 0xfee00000, xa = dis | BIT(11), x2 = xa | BIT(10);

	KUNIT_EXPECT_TRUE(test, vsnix_apic_base_write_ok(xa, x2, 36));
	KUNIT_EXPECT_TRUE(test, vsnix_apic_base_write_ok(x2, dis, 36));
	KUNIT_EXPECT_TRUE(test, vsnix_apic_base_write_ok(dis, xa, 36));
	KUNIT_EXPECT_TRUE(test, vsnix_apic_base_write_ok(xa, dis, 36));
	KUNIT_EXPECT_FALSE(test, vsnix_apic_base_write_ok(x2, xa, 36));
	KUNIT_EXPECT_FALSE(test, vsnix_apic_base_write_ok(dis, x2, 36));
	KUNIT_EXPECT_FALSE(test, vsnix_apic_base_write_ok(xa, dis | BIT(10), 36));
	/* Reserved: bit 9, bits 0-7, bits at and above MAXPHYADDR. */
	KUNIT_EXPECT_FALSE(test, vsnix_apic_base_write_ok(xa, xa | BIT(9), 36));
	KUNIT_EXPECT_FALSE(test, vsnix_apic_base_write_ok(xa, xa | 1, 36));
	KUNIT_EXPECT_FALSE(test, vsnix_apic_base_write_ok(xa, xa | BIT_ULL(36), 36));
	KUNIT_EXPECT_TRUE(test, vsnix_apic_base_write_ok(xa, xa | BIT_ULL(36), 40));
	/* Relocation inside a mode. */
	KUNIT_EXPECT_TRUE(test, vsnix_apic_base_write_ok(xa, 0xfed00000 | BIT(11), 36));
}

/* SDM Vol 3, 10.5.4, figure 10-10. */
static void apic_timer_math(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_divisor(0x0), 2u);
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_divisor(0x1), 4u);
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_divisor(0x2), 8u);
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_divisor(0x3), 16u);
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_divisor(0x8), 32u);
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_divisor(0x9), 64u);
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_divisor(0xa), 128u);
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_divisor(0xb), 1u);
	/* Bit 2 is reserved and ignored. */
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_divisor(0xf), 1u);
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_ns(1000, 16, 1000000), 16000ULL);
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_ns(0xffffffff, 128, 1000000),
			0xffffffffULL * 128);
	/* A 200 MHz bus: 5 ns a tick; a part of a ns rounds up. */
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_ns(1000, 1, 200000), 5000ULL);
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_ns(1, 1, 300000), 4ULL);
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_ns(0xffffffff, 128, 200000),
			0xffffffffULL * 128 * 5);
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_ticks(16000, 16, 1000000), 1000ULL);
	KUNIT_EXPECT_EQ(test, vsnix_apic_timer_ticks(5004, 1, 200000), 1000ULL);
	/* The bus never outruns the TSC; 1 GHz at most, and when unknown. */
	KUNIT_EXPECT_EQ(test, vsnix_apic_bus_khz(200000), 200000u);
	KUNIT_EXPECT_EQ(test, vsnix_apic_bus_khz(2995200), 1000000u);
	KUNIT_EXPECT_EQ(test, vsnix_apic_bus_khz(0), 1000000u);
}

static struct kunit_case apic_cases[] = {
	KUNIT_CASE(apic_highest_vector),
	KUNIT_CASE(apic_ppr_rules),
	KUNIT_CASE(apic_dest_physical),
	KUNIT_CASE(apic_dest_logical),
	KUNIT_CASE(apic_icr_decode),
	KUNIT_CASE(apic_msi_decode),
	KUNIT_CASE(apic_base_transitions),
	KUNIT_CASE(apic_timer_math),
	{}
};

static struct kunit_suite apic_suite = {
	.name = "vsnix_x86_apic",
	.test_cases = apic_cases,
};

kunit_test_suite(apic_suite);
