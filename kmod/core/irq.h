/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interrupt lines of a VM, arch-neutral: devices raise a GSI or send an
 * MSI from any thread; interrupt controllers register as the chips behind
 * GSIs. Implemented in irq.c (the device model); MSI decoding is arch
 * code (vsnix_arch_msi). irqfd.c turns eventfd signals into either.
 */
#ifndef VSNIX_CORE_IRQ_H
#define VSNIX_CORE_IRQ_H

#include "vsnix.h"

struct vsnix_irqchip;

struct vsnix_irqchip_ops {
	/* A pin's input changed. Any context; must not sleep. */
	void (*set_pin)(struct vsnix_irqchip *chip, u32 pin, bool level);
};

/* The chip serves GSIs [gsi_base, gsi_base + npins). Chips may overlap (PIC and IOAPIC share 0-15). */
struct vsnix_irqchip {
	const struct vsnix_irqchip_ops *ops;
	u32 gsi_base;
	u32 npins;
};

int vsnix_irqchip_register(struct vsnix_vm *vm, struct vsnix_irqchip *chip);
void vsnix_irqchip_unregister(struct vsnix_vm *vm, struct vsnix_irqchip *chip);

/*
 * Set a GSI's level (true: asserted). An edge-triggered source pulses it
 * (true then false). Any thread, any context; does not sleep. -EINVAL for
 * a GSI no chip serves.
 */
int vsnix_irq_set_line(struct vsnix_vm *vm, u32 gsi, bool level);
/* True when a chip serves gsi now. Any context. */
bool vsnix_irq_gsi_routed(struct vsnix_vm *vm, u32 gsi);
/* An MSI write (address, data), e.g. from MSI-X or an irqfd route. */
int vsnix_irq_msi(struct vsnix_vm *vm, u64 address, u32 data);
/* Arch: decode and deliver an MSI (x86: to the APIC bus). */
int vsnix_arch_msi(struct vsnix_vm *vm, u64 address, u32 data);

/* The VM's irq state (vm.c): init at creation, destroy at the end. */
void vsnix_irq_init(struct vsnix_vm *vm);
void vsnix_irq_destroy(struct vsnix_vm *vm);

#endif /* VSNIX_CORE_IRQ_H */
