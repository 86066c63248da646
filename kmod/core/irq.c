// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupt lines of a VM: the interrupt controllers (IOAPIC, PIC, test
 * chips) register as the chips behind ranges of GSIs; a device raises a
 * GSI by setting its level, from any thread and any context. The chip
 * table is read-mostly: an immutable copy read under vm->srcu (callable
 * with IRQs off, e.g. from an eventfd wakeup), replaced whole under
 * vm->irq_lock. MSIs are decoded by the arch (vsnix_arch_msi).
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/slab.h>
#include "irq.h"

#define VSNIX_MAX_IRQCHIPS	4
#define VSNIX_MAX_GSI		1024

struct vsnix_irq_routing {
	unsigned int nr_chips;
	struct vsnix_irqchip *chips[VSNIX_MAX_IRQCHIPS];
};

static struct vsnix_irq_routing *irq_routing_get(struct vsnix_vm *vm)
{
	lockdep_assert_held(&vm->irq_lock);
	return rcu_dereference_protected(vm->irq_routing,
					 lockdep_is_held(&vm->irq_lock));
}

/* Publishes r; the old table is freed once no reader can see it. */
static void irq_routing_publish(struct vsnix_vm *vm,
				struct vsnix_irq_routing *r)
{
	struct vsnix_irq_routing *old = irq_routing_get(vm);

	rcu_assign_pointer(vm->irq_routing, r);
	synchronize_srcu(&vm->srcu);
	kfree(old);
}

int vsnix_irqchip_register(struct vsnix_vm *vm, struct vsnix_irqchip *chip)
{
	struct vsnix_irq_routing *old, *r;
	unsigned int i;
	int ret = 0;

	if (!chip->ops || !chip->ops->set_pin || !chip->npins ||
	    chip->gsi_base >= VSNIX_MAX_GSI ||
	    chip->npins > VSNIX_MAX_GSI - chip->gsi_base)
		return -EINVAL;

	mutex_lock(&vm->irq_lock);
	old = irq_routing_get(vm);
	for (i = 0; old && i < old->nr_chips; i++) {
		if (old->chips[i] == chip) {
			ret = -EEXIST;
			goto out;
		}
	}
	if (old && old->nr_chips == VSNIX_MAX_IRQCHIPS) {
		ret = -ENOSPC;
		goto out;
	}
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r) {
		ret = -ENOMEM;
		goto out;
	}
	if (old)
		*r = *old;
	r->chips[r->nr_chips++] = chip;
	irq_routing_publish(vm, r);
out:
	mutex_unlock(&vm->irq_lock);
	return ret;
}

/* On return no set_pin call on chip is in flight or can start. */
void vsnix_irqchip_unregister(struct vsnix_vm *vm, struct vsnix_irqchip *chip)
{
	struct vsnix_irq_routing *old, *r;
	unsigned int i, n = 0;

	mutex_lock(&vm->irq_lock);
	old = irq_routing_get(vm);
	if (!old)
		goto out;
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT | __GFP_NOFAIL);
	for (i = 0; i < old->nr_chips; i++)
		if (old->chips[i] != chip)
			r->chips[n++] = old->chips[i];
	r->nr_chips = n;
	irq_routing_publish(vm, r);
out:
	mutex_unlock(&vm->irq_lock);
}

int vsnix_irq_set_line(struct vsnix_vm *vm, u32 gsi, bool level)
{
	struct vsnix_irq_routing *r;
	struct vsnix_irqchip *chip;
	unsigned int i;
	int idx, ret = -EINVAL;

	idx = srcu_read_lock(&vm->srcu);
	r = srcu_dereference(vm->irq_routing, &vm->srcu);
	for (i = 0; r && i < r->nr_chips; i++) {
		chip = r->chips[i];
		/* PIC and IOAPIC both serve GSIs 0-15: each sees the pin. */
		if (gsi - chip->gsi_base < chip->npins) {
			chip->ops->set_pin(chip, gsi - chip->gsi_base, level);
			ret = 0;
		}
	}
	srcu_read_unlock(&vm->srcu, idx);
	return ret;
}

bool vsnix_irq_gsi_routed(struct vsnix_vm *vm, u32 gsi)
{
	struct vsnix_irq_routing *r;
	unsigned int i;
	bool found = false;
	int idx;

	idx = srcu_read_lock(&vm->srcu);
	r = srcu_dereference(vm->irq_routing, &vm->srcu);
	for (i = 0; r && i < r->nr_chips; i++)
		if (gsi - r->chips[i]->gsi_base < r->chips[i]->npins)
			found = true;
	srcu_read_unlock(&vm->srcu, idx);
	return found;
}

int vsnix_irq_msi(struct vsnix_vm *vm, u64 address, u32 data)
{
	return vsnix_arch_msi(vm, address, data);
}

void vsnix_irq_init(struct vsnix_vm *vm)
{
	mutex_init(&vm->irq_lock);
	spin_lock_init(&vm->irqfds_lock);
	INIT_LIST_HEAD(&vm->irqfds);
}

/* At the VM's end, after the chips are gone and irqfds shut down. */
void vsnix_irq_destroy(struct vsnix_vm *vm)
{
	kfree(rcu_dereference_protected(vm->irq_routing, 1));
	RCU_INIT_POINTER(vm->irq_routing, NULL);
}
