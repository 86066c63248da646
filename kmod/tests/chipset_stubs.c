// SPDX-License-Identifier: GPL-2.0
/*
 * What the chipset devices (kmod/devices/{pic,ioapic,pit,rtc,pm_timer}.c)
 * call outside themselves, for their KUnit suites: the bus and the LAPIC
 * are not there, vsnix_apic_deliver records what it was given.
 */
#include <linux/string.h>
#include "../core/vsnix.h"
#include "../arch/x86/intr.h"
#include "chipset_stubs.h"

struct vsnix_apic_irq chipset_test_last_irq;
int chipset_test_nr_delivered;
int chipset_test_deliver_ret = 1;

int vsnix_apic_deliver(struct vsnix_vm *vm, const struct vsnix_apic_irq *irq)
{
	chipset_test_last_irq = *irq;
	chipset_test_nr_delivered++;
	return chipset_test_deliver_ret;
}

void vsnix_x86_event_update(struct vsnix_vcpu *vcpu)
{
}

bool vsnix_dev_all_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

u32 vsnix_pio_value(const void *val, unsigned int len)
{
	u32 v = 0;

	memcpy(&v, val, len);
	return v;
}

void vsnix_pio_fill(void *val, unsigned int len, u32 value)
{
	memcpy(val, &value, len);
}

int vsnix_dev_register(struct vsnix_vm *vm, struct vsnix_io_device *io,
		       const char *who)
{
	return -ENODEV;
}

int vsnix_dev_register_extra(struct vsnix_vm *vm, struct vsnix_io_device *io,
			     unsigned int n, atomic_t *refs, const char *who)
{
	return -ENODEV;
}

void vsnix_dev_unregister_extra(struct vsnix_vm *vm,
				struct vsnix_io_device *io, unsigned int n)
{
}

void vsnix_io_unregister(struct vsnix_vm *vm, struct vsnix_io_device *dev)
{
}
