// SPDX-License-Identifier: GPL-2.0
/* KUnit: the I/O APIC's logic (kmod/devices/ioapic.c, included here). */
/* First: the device file defines pr_fmt before printk.h does. */
#include "../devices/ioapic.c"
#include <kunit/test.h>
#include "chipset_stubs.h"

#define REDIR_LO(pin)	(IOAPIC_REG_REDIR + 2 * (pin))
#define REDIR_HI(pin)	(IOAPIC_REG_REDIR + 2 * (pin) + 1)

static void ioapic_registers(struct kunit *test)
{
	struct ioapic_regs s;

	ioapic_state_reset(&s, 3);
	KUNIT_EXPECT_EQ(test, ioapic_read_reg(&s, 0), 3u << 24);
	KUNIT_EXPECT_EQ(test, ioapic_read_reg(&s, 1), 0x00170011u);
	KUNIT_EXPECT_EQ(test, ioapic_read_reg(&s, 2), 3u << 24);
	KUNIT_EXPECT_EQ(test, ioapic_read_reg(&s, REDIR_LO(23)), 0x10000u);
	KUNIT_EXPECT_EQ(test, ioapic_read_reg(&s, REDIR_LO(24)), 0u);
	ioapic_write_reg(&s, 1, 0);
	KUNIT_EXPECT_EQ(test, ioapic_read_reg(&s, 1), 0x00170011u);
	/* RO and reserved bits are not written. */
	ioapic_write_reg(&s, REDIR_LO(4), 0xffffffff);
	KUNIT_EXPECT_EQ(test, ioapic_read_reg(&s, REDIR_LO(4)),
			0x1ffffu & ~(u32)(RTE_REMOTE_IRR | RTE_DELIVERY_STATUS));
	ioapic_write_reg(&s, REDIR_HI(4), 0xffffffff);
	KUNIT_EXPECT_EQ(test, ioapic_read_reg(&s, REDIR_HI(4)), 0xff000000u);
}

static void ioapic_decode(struct kunit *test)
{
	struct vsnix_apic_irq irq;

	/* vector 0x41, lowest priority, logical, level, dest 0x0f. */
	ioapic_entry_to_irq(0x41 | 1 << 8 | 1 << 11 | 1 << 15 |
			    0x0full << 56, &irq);
	KUNIT_EXPECT_EQ(test, irq.vector, 0x41);
	KUNIT_EXPECT_EQ(test, irq.delivery_mode, VSNIX_APIC_DM_LOWEST);
	KUNIT_EXPECT_TRUE(test, irq.logical);
	KUNIT_EXPECT_TRUE(test, irq.level_trigger);
	KUNIT_EXPECT_EQ(test, irq.dest, 0x0fu);
	KUNIT_EXPECT_EQ(test, irq.shorthand, VSNIX_APIC_SH_NONE);
	ioapic_entry_to_irq(0x30 | 7 << 8, &irq);
	KUNIT_EXPECT_EQ(test, irq.delivery_mode, VSNIX_APIC_DM_EXTINT);
	KUNIT_EXPECT_FALSE(test, irq.logical);
	KUNIT_EXPECT_FALSE(test, irq.level_trigger);
}

static void ioapic_edge(struct kunit *test)
{
	struct ioapic_regs s;

	ioapic_state_reset(&s, 0);
	/* Masked: an edge is lost, not held. */
	KUNIT_EXPECT_FALSE(test, ioapic_set_input(&s, 2, true));
	ioapic_set_input(&s, 2, false);
	KUNIT_EXPECT_EQ(test, ioapic_write_reg(&s, REDIR_LO(2), 0x30), 0u);
	KUNIT_EXPECT_TRUE(test, ioapic_set_input(&s, 2, true));
	KUNIT_EXPECT_FALSE(test, ioapic_set_input(&s, 2, true));	/* no edge */
	ioapic_set_input(&s, 2, false);
	KUNIT_EXPECT_TRUE(test, ioapic_set_input(&s, 2, true));
	KUNIT_EXPECT_EQ(test, s.redir[2] & RTE_REMOTE_IRR, 0ull);
}

static void ioapic_level_remote_irr(struct kunit *test)
{
	struct vsnix_apic_irq irq;
	struct ioapic_regs s;

	ioapic_state_reset(&s, 0);
	ioapic_write_reg(&s, REDIR_LO(9), 0x51 | RTE_LEVEL);
	KUNIT_EXPECT_TRUE(test, ioapic_set_input(&s, 9, true));
	KUNIT_EXPECT_TRUE(test, ioapic_prepare(&s, 9, false, &irq));
	KUNIT_EXPECT_TRUE(test, irq.level_trigger);
	KUNIT_EXPECT_NE(test, s.redir[9] & RTE_REMOTE_IRR, 0ull);
	/* In service: no second message while remote IRR is set. */
	KUNIT_EXPECT_FALSE(test, ioapic_set_input(&s, 9, true));
	KUNIT_EXPECT_FALSE(test, ioapic_prepare(&s, 9, false, &irq));
	/* An EOI of another vector changes nothing. */
	KUNIT_EXPECT_EQ(test, ioapic_eoi_state(&s, 0x52), 0u);
	KUNIT_EXPECT_NE(test, s.redir[9] & RTE_REMOTE_IRR, 0ull);
	/* EOI with the line still high: sent again. */
	KUNIT_EXPECT_EQ(test, ioapic_eoi_state(&s, 0x51), BIT(9));
	KUNIT_EXPECT_EQ(test, s.redir[9] & RTE_REMOTE_IRR, 0ull);
	KUNIT_EXPECT_TRUE(test, ioapic_prepare(&s, 9, false, &irq));
	/* Line low at the EOI: nothing more. */
	ioapic_set_input(&s, 9, false);
	KUNIT_EXPECT_EQ(test, ioapic_eoi_state(&s, 0x51), 0u);
	/* Writes cannot set remote IRR; switching to edge clears it. */
	ioapic_set_input(&s, 9, true);
	ioapic_prepare(&s, 9, false, &irq);
	ioapic_write_reg(&s, REDIR_LO(9), 0x51 | RTE_LEVEL | RTE_REMOTE_IRR);
	KUNIT_EXPECT_NE(test, s.redir[9] & RTE_REMOTE_IRR, 0ull);
	ioapic_write_reg(&s, REDIR_LO(9), 0x51 | RTE_MASKED);
	KUNIT_EXPECT_EQ(test, s.redir[9] & RTE_REMOTE_IRR, 0ull);
}

static void ioapic_unmask_pending_level(struct kunit *test)
{
	struct ioapic_regs s;

	ioapic_state_reset(&s, 0);
	ioapic_write_reg(&s, REDIR_LO(5), 0x61 | RTE_LEVEL | RTE_MASKED);
	KUNIT_EXPECT_FALSE(test, ioapic_set_input(&s, 5, true));
	/* Unmasking an asserted level pin sends it. */
	KUNIT_EXPECT_EQ(test, ioapic_write_reg(&s, REDIR_LO(5), 0x61 | RTE_LEVEL),
			BIT(5));
}

/* The glue: remote IRR stays only when a LAPIC took the message. */
static void ioapic_deliver_result(struct kunit *test)
{
	struct vsnix_ioapic *io = kunit_kzalloc(test, sizeof(*io), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, io);
	spin_lock_init(&io->lock);
	ioapic_state_reset(&io->s, 0);
	ioapic_write_reg(&io->s, REDIR_LO(7), 0x71 | RTE_LEVEL);
	ioapic_write_reg(&io->s, REDIR_HI(7), 0x01000000);
	chipset_test_deliver_ret = 0;
	chipset_test_nr_delivered = 0;
	vsnix_ioapic_set_pin(&io->irqchip, 7, true);
	KUNIT_EXPECT_EQ(test, chipset_test_nr_delivered, 1);
	KUNIT_EXPECT_EQ(test, chipset_test_last_irq.vector, 0x71);
	KUNIT_EXPECT_EQ(test, chipset_test_last_irq.dest, 1u);
	KUNIT_EXPECT_EQ(test, io->s.redir[7] & RTE_REMOTE_IRR, 0ull);
	chipset_test_deliver_ret = 1;
	ioapic_service(io, BIT(7));
	KUNIT_EXPECT_EQ(test, chipset_test_nr_delivered, 2);
	KUNIT_EXPECT_NE(test, io->s.redir[7] & RTE_REMOTE_IRR, 0ull);
}

static struct kunit_case ioapic_cases[] = {
	KUNIT_CASE(ioapic_registers),
	KUNIT_CASE(ioapic_decode),
	KUNIT_CASE(ioapic_edge),
	KUNIT_CASE(ioapic_level_remote_irr),
	KUNIT_CASE(ioapic_unmask_pending_level),
	KUNIT_CASE(ioapic_deliver_result),
	{}
};

static struct kunit_suite ioapic_suite = {
	.name = "vsnix_ioapic",
	.test_cases = ioapic_cases,
};
kunit_test_suite(ioapic_suite);
