// SPDX-License-Identifier: GPL-2.0
/* Placeholder for irq.c (GSI lines and MSI); removed when irq.c lands. */
#include "irq.h"

int vsnix_irqchip_register(struct vsnix_vm *vm, struct vsnix_irqchip *chip)
{
	return -EOPNOTSUPP;
}

void vsnix_irqchip_unregister(struct vsnix_vm *vm, struct vsnix_irqchip *chip)
{
}

int vsnix_irq_set_line(struct vsnix_vm *vm, u32 gsi, bool level)
{
	return -EINVAL;
}

int vsnix_irq_msi(struct vsnix_vm *vm, u64 address, u32 data)
{
	return vsnix_arch_msi(vm, address, data);
}
