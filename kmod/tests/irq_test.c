// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: GSI routing (core/irq.c) with test chips: a line reaches every
 * chip that serves it (PIC and IOAPIC overlap on 0-15) at the chip's own
 * pin, a GSI nobody serves is -EINVAL, an unregistered chip sees nothing
 * more, bad registrations fail, and MSIs go to the arch hook.
 */
#include <kunit/test.h>
#include <linux/slab.h>
#include "../core/irq.h"

struct test_chip {
	struct vsnix_irqchip chip;
	unsigned int calls;
	u32 last_pin;
	bool last_level;
};

static void test_set_pin(struct vsnix_irqchip *chip, u32 pin, bool level)
{
	struct test_chip *t = container_of(chip, struct test_chip, chip);

	t->calls++;
	t->last_pin = pin;
	t->last_level = level;
}

static const struct vsnix_irqchip_ops test_chip_ops = {
	.set_pin = test_set_pin,
};

static u64 msi_address;
static u32 msi_data;

/* The arch hook, as the LAPIC would provide it. */
int vsnix_arch_msi(struct vsnix_vm *vm, u64 address, u32 data)
{
	msi_address = address;
	msi_data = data;
	return 1;
}

static struct vsnix_vm *test_vm(struct kunit *test)
{
	struct vsnix_vm *vm = kunit_kzalloc(test, sizeof(*vm), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, vm);
	KUNIT_ASSERT_EQ(test, 0, init_srcu_struct(&vm->srcu));
	vsnix_irq_init(vm);
	return vm;
}

static void test_vm_free(struct vsnix_vm *vm)
{
	vsnix_irq_destroy(vm);
	cleanup_srcu_struct(&vm->srcu);
}

static void irq_routes_to_overlapping_chips(struct kunit *test)
{
	struct test_chip pic = { .chip = { &test_chip_ops, 0, 16 } };
	struct test_chip ioapic = { .chip = { &test_chip_ops, 0, 24 } };
	struct test_chip high = { .chip = { &test_chip_ops, 32, 8 } };
	struct vsnix_vm *vm = test_vm(test);

	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_irq_set_line(vm, 4, true));
	KUNIT_ASSERT_EQ(test, 0, vsnix_irqchip_register(vm, &pic.chip));
	KUNIT_ASSERT_EQ(test, 0, vsnix_irqchip_register(vm, &ioapic.chip));
	KUNIT_ASSERT_EQ(test, 0, vsnix_irqchip_register(vm, &high.chip));

	KUNIT_EXPECT_EQ(test, 0, vsnix_irq_set_line(vm, 4, true));
	KUNIT_EXPECT_EQ(test, 1u, pic.calls);
	KUNIT_EXPECT_EQ(test, 1u, ioapic.calls);
	KUNIT_EXPECT_EQ(test, 4u, ioapic.last_pin);
	KUNIT_EXPECT_TRUE(test, ioapic.last_level);

	KUNIT_EXPECT_EQ(test, 0, vsnix_irq_set_line(vm, 20, false));
	KUNIT_EXPECT_EQ(test, 1u, pic.calls);	/* 20 is not the PIC's */
	KUNIT_EXPECT_EQ(test, 2u, ioapic.calls);
	KUNIT_EXPECT_FALSE(test, ioapic.last_level);

	KUNIT_EXPECT_EQ(test, 0, vsnix_irq_set_line(vm, 35, true));
	KUNIT_EXPECT_EQ(test, 3u, high.last_pin);	/* pin = gsi - base */
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_irq_set_line(vm, 24, true));
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_irq_set_line(vm, 40, true));
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_irq_set_line(vm, U32_MAX, true));
	KUNIT_EXPECT_TRUE(test, vsnix_irq_gsi_routed(vm, 39));
	KUNIT_EXPECT_FALSE(test, vsnix_irq_gsi_routed(vm, 31));

	vsnix_irqchip_unregister(vm, &ioapic.chip);
	KUNIT_EXPECT_EQ(test, 0, vsnix_irq_set_line(vm, 4, false));
	KUNIT_EXPECT_EQ(test, 2u, ioapic.calls);	/* gone: nothing more */
	KUNIT_EXPECT_EQ(test, 2u, pic.calls);
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_irq_set_line(vm, 20, true));
	vsnix_irqchip_unregister(vm, &pic.chip);
	vsnix_irqchip_unregister(vm, &high.chip);
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_irq_set_line(vm, 4, true));
	test_vm_free(vm);
}

static void irq_rejects_bad_chips(struct kunit *test)
{
	struct test_chip none = { .chip = { &test_chip_ops, 0, 0 } };
	struct test_chip wrap = { .chip = { &test_chip_ops, 0xfffffff0, 32 } };
	struct test_chip ok = { .chip = { &test_chip_ops, 0, 8 } };
	struct test_chip more[4];
	struct vsnix_vm *vm = test_vm(test);
	int i;

	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_irqchip_register(vm, &none.chip));
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_irqchip_register(vm, &wrap.chip));
	KUNIT_ASSERT_EQ(test, 0, vsnix_irqchip_register(vm, &ok.chip));
	KUNIT_EXPECT_EQ(test, -EEXIST, vsnix_irqchip_register(vm, &ok.chip));
	for (i = 0; i < 3; i++) {
		more[i] = ok;
		KUNIT_EXPECT_EQ(test, 0, vsnix_irqchip_register(vm, &more[i].chip));
	}
	more[3] = ok;
	KUNIT_EXPECT_EQ(test, -ENOSPC, vsnix_irqchip_register(vm, &more[3].chip));
	for (i = 0; i < 3; i++)
		vsnix_irqchip_unregister(vm, &more[i].chip);
	vsnix_irqchip_unregister(vm, &ok.chip);
	test_vm_free(vm);
}

static void irq_msi_goes_to_arch(struct kunit *test)
{
	struct vsnix_vm *vm = test_vm(test);

	KUNIT_EXPECT_EQ(test, 1, vsnix_irq_msi(vm, 0xfee01000, 0x4031));
	KUNIT_EXPECT_EQ(test, 0xfee01000ull, msi_address);
	KUNIT_EXPECT_EQ(test, 0x4031u, msi_data);
	test_vm_free(vm);
}

static struct kunit_case irq_cases[] = {
	KUNIT_CASE(irq_routes_to_overlapping_chips),
	KUNIT_CASE(irq_rejects_bad_chips),
	KUNIT_CASE(irq_msi_goes_to_arch),
	{}
};

static struct kunit_suite irq_suite = {
	.name = "vsnix_irq",
	.test_cases = irq_cases,
};
kunit_test_suite(irq_suite);
