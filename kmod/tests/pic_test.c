// SPDX-License-Identifier: GPL-2.0
/* KUnit: the 8259A pair's logic (kmod/devices/pic.c, included here). */
/* First: the device file defines pr_fmt before printk.h does. */
#include "../devices/pic.c"
#include <kunit/test.h>
#include "chipset_stubs.h"

/* Linux's init_8259A: master at base, slave at base + 8, edge, 8086. */
static void pic_init(struct pic_regs *s, u8 base)
{
	pic_state_reset(s);
	pic_port_write(s, 0x20, 0x11);
	pic_port_write(s, 0x21, base);
	pic_port_write(s, 0x21, 0x04);
	pic_port_write(s, 0x21, 0x01);
	pic_port_write(s, 0xa0, 0x11);
	pic_port_write(s, 0xa1, base + 8);
	pic_port_write(s, 0xa1, 0x02);
	pic_port_write(s, 0xa1, 0x01);
}

static void pulse(struct pic_regs *s, u32 gsi)
{
	pic_set_gsi(s, gsi, true);
	pic_set_gsi(s, gsi, false);
	pic_update(s);
}

static void pic_init_sequence(struct kunit *test)
{
	struct pic_regs s;

	pic_state_reset(&s);
	pic_port_write(&s, 0x21, 0xfb);		/* OCW1 before any ICW */
	KUNIT_EXPECT_EQ(test, pic_port_read(&s, 0x21), 0xfb);
	pic_init(&s, 0x30);
	KUNIT_EXPECT_EQ(test, s.chip[0].vector_base, 0x30);
	KUNIT_EXPECT_EQ(test, s.chip[1].vector_base, 0x38);
	KUNIT_EXPECT_EQ(test, s.chip[0].init_step, 0);
	KUNIT_EXPECT_EQ(test, pic_port_read(&s, 0x21), 0);	/* ICW1 cleared IMR */
	pic_port_write(&s, 0x21, 0xfa);
	KUNIT_EXPECT_EQ(test, pic_port_read(&s, 0x21), 0xfa);
	/* Single mode without ICW4: ICW2 ends the sequence. */
	pic_port_write(&s, 0x20, 0x12);
	pic_port_write(&s, 0x21, 0x40);
	KUNIT_EXPECT_EQ(test, s.chip[0].init_step, 0);
	pic_port_write(&s, 0x21, 0x55);
	KUNIT_EXPECT_EQ(test, s.chip[0].imr, 0x55);
}

static void pic_priority_and_ack(struct kunit *test)
{
	struct pic_regs s;

	pic_init(&s, 0x20);
	pulse(&s, 5);
	pulse(&s, 3);
	KUNIT_EXPECT_TRUE(test, s.intr);
	KUNIT_EXPECT_EQ(test, pic_ack_state(&s), 0x23);	/* 3 beats 5 */
	KUNIT_EXPECT_EQ(test, s.chip[0].isr, 0x08);
	KUNIT_EXPECT_EQ(test, s.chip[0].irr, 0x20);
	/* 5 waits behind 3 in service. */
	KUNIT_EXPECT_FALSE(test, s.intr);
	pulse(&s, 1);
	KUNIT_EXPECT_TRUE(test, s.intr);	/* 1 beats 3 in service */
	KUNIT_EXPECT_EQ(test, pic_ack_state(&s), 0x21);
	pic_port_write(&s, 0x20, 0x20);		/* non-specific EOI: 1 */
	KUNIT_EXPECT_EQ(test, s.chip[0].isr, 0x08);
	pic_port_write(&s, 0x20, 0x63);		/* specific EOI of 3 */
	KUNIT_EXPECT_EQ(test, s.chip[0].isr, 0);
	KUNIT_EXPECT_EQ(test, pic_ack_state(&s), 0x25);
	/* Nothing left: a spurious IR7, nothing in service. */
	pic_port_write(&s, 0x20, 0x20);
	KUNIT_EXPECT_EQ(test, pic_ack_state(&s), 0x27);
	KUNIT_EXPECT_EQ(test, s.chip[0].isr, 0);
}

static void pic_masks(struct kunit *test)
{
	struct pic_regs s;

	pic_init(&s, 0x20);
	pic_port_write(&s, 0x21, 0x10);
	pulse(&s, 4);
	KUNIT_EXPECT_FALSE(test, s.intr);
	KUNIT_EXPECT_EQ(test, s.chip[0].irr, 0x10);	/* latched anyway */
	pic_port_write(&s, 0x21, 0x00);
	KUNIT_EXPECT_TRUE(test, s.intr);
	/* OCW3 reads IRR, then ISR. */
	pic_port_write(&s, 0x20, 0x0a);
	KUNIT_EXPECT_EQ(test, pic_port_read(&s, 0x20), 0x10);
	pic_ack_state(&s);
	pic_port_write(&s, 0x20, 0x0b);
	KUNIT_EXPECT_EQ(test, pic_port_read(&s, 0x20), 0x10);
}

static void pic_rotation(struct kunit *test)
{
	struct pic_regs s;

	pic_init(&s, 0x20);
	pulse(&s, 1);
	KUNIT_EXPECT_EQ(test, pic_ack_state(&s), 0x21);
	pic_port_write(&s, 0x20, 0xa0);		/* rotate on non-specific EOI */
	KUNIT_EXPECT_EQ(test, s.chip[0].prio_base, 2);
	/* Now 2 is the highest, 1 the lowest: 6 beats 1. */
	pulse(&s, 1);
	pulse(&s, 6);
	KUNIT_EXPECT_EQ(test, pic_ack_state(&s), 0x26);
	pic_port_write(&s, 0x20, 0xc5);		/* set priority: 5 lowest */
	KUNIT_EXPECT_EQ(test, s.chip[0].prio_base, 6);
	KUNIT_EXPECT_EQ(test, pic_priority(&s.chip[0], BIT(5)), 7);
	KUNIT_EXPECT_EQ(test, pic_priority(&s.chip[0], BIT(6)), 0);
}

static void pic_auto_eoi(struct kunit *test)
{
	struct pic_regs s;

	pic_init(&s, 0x20);
	pic_port_write(&s, 0x20, 0x11);
	pic_port_write(&s, 0x21, 0x20);
	pic_port_write(&s, 0x21, 0x04);
	pic_port_write(&s, 0x21, 0x03);		/* ICW4: AEOI, 8086 */
	pulse(&s, 4);
	KUNIT_EXPECT_EQ(test, pic_ack_state(&s), 0x24);
	KUNIT_EXPECT_EQ(test, s.chip[0].isr, 0);
	pic_port_write(&s, 0x20, 0x80);		/* rotate in AEOI mode */
	pulse(&s, 4);
	pic_ack_state(&s);
	KUNIT_EXPECT_EQ(test, s.chip[0].prio_base, 5);
}

static void pic_cascade(struct kunit *test)
{
	struct pic_regs s;

	pic_init(&s, 0x20);
	pulse(&s, 11);
	KUNIT_EXPECT_TRUE(test, s.intr);
	KUNIT_EXPECT_EQ(test, s.chip[0].irr, BIT(2));
	KUNIT_EXPECT_EQ(test, pic_ack_state(&s), 0x2b);
	KUNIT_EXPECT_EQ(test, s.chip[0].isr, BIT(2));
	KUNIT_EXPECT_EQ(test, s.chip[1].isr, BIT(3));
	/* Masked on the slave: no request reaches the master. */
	pic_port_write(&s, 0xa1, 0x10);
	pulse(&s, 12);
	KUNIT_EXPECT_EQ(test, s.chip[0].irr & BIT(2), 0);
}

static void pic_level_and_gsi2(struct kunit *test)
{
	struct pic_regs s;

	pic_init(&s, 0x20);
	pic_port_write(&s, 0x4d1, 0xff);
	KUNIT_EXPECT_EQ(test, s.chip[1].elcr, 0xde);
	pic_set_gsi(&s, 10, true);
	pic_update(&s);
	KUNIT_EXPECT_EQ(test, pic_ack_state(&s), 0x2a);
	pic_port_write(&s, 0xa0, 0x20);
	pic_port_write(&s, 0x20, 0x20);
	/* Still high: still requesting; low: gone without an INTA. */
	KUNIT_EXPECT_TRUE(test, s.intr);
	pic_set_gsi(&s, 10, false);
	pic_update(&s);
	KUNIT_EXPECT_FALSE(test, s.intr);
	/* ISA IRQ0 arrives as GSI 2 (the MADT's override): IR0. */
	pulse(&s, 2);
	KUNIT_EXPECT_EQ(test, pic_ack_state(&s), 0x20);
}

static void pic_poll(struct kunit *test)
{
	struct pic_regs s;

	pic_init(&s, 0x20);
	pic_port_write(&s, 0x20, 0x0c);
	KUNIT_EXPECT_EQ(test, pic_port_read(&s, 0x20), 0);
	pulse(&s, 6);
	pic_port_write(&s, 0x20, 0x0c);
	KUNIT_EXPECT_EQ(test, pic_port_read(&s, 0x21), 0x86);
	KUNIT_EXPECT_EQ(test, s.chip[0].isr, BIT(6));
	KUNIT_EXPECT_EQ(test, pic_port_read(&s, 0x21), 0);	/* IMR again */
}

static void pic_state_round_trip(struct kunit *test)
{
	struct vsnix_pic_state st;
	struct pic_regs s, t;

	pic_init(&s, 0x40);
	pulse(&s, 5);
	pic_ack_state(&s);
	pic_save_regs(&s, &st);
	pic_state_reset(&t);
	KUNIT_EXPECT_EQ(test, pic_restore_regs(&t, &st), 0);
	pic_update(&t);
	KUNIT_EXPECT_EQ(test, memcmp(&s.chip, &t.chip, sizeof(s.chip)), 0);
	st.chip[1].init_step = 1;
	KUNIT_EXPECT_EQ(test, pic_restore_regs(&t, &st), -EINVAL);
	st.chip[1].init_step = 0;
	st.chip[0].flags = 0xffff;
	KUNIT_EXPECT_EQ(test, pic_restore_regs(&t, &st), -EINVAL);
}

static struct kunit_case pic_cases[] = {
	KUNIT_CASE(pic_init_sequence),
	KUNIT_CASE(pic_priority_and_ack),
	KUNIT_CASE(pic_masks),
	KUNIT_CASE(pic_rotation),
	KUNIT_CASE(pic_auto_eoi),
	KUNIT_CASE(pic_cascade),
	KUNIT_CASE(pic_level_and_gsi2),
	KUNIT_CASE(pic_poll),
	KUNIT_CASE(pic_state_round_trip),
	{}
};

static struct kunit_suite pic_suite = {
	.name = "vsnix_pic",
	.test_cases = pic_cases,
};
kunit_test_suite(pic_suite);
