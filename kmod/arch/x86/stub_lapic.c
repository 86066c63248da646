// SPDX-License-Identifier: GPL-2.0
/* Placeholder for lapic.c's side of intr.h; removed when lapic.c lands. */
#include "intr.h"
#include "../../core/irq.h"

int vsnix_apic_deliver(struct vsnix_vm *vm, const struct vsnix_apic_irq *irq)
{
	return -ENODEV;
}

int vsnix_lapic_pending_vector(struct vsnix_vcpu *vcpu)
{
	return -1;
}

void vsnix_lapic_ack_vector(struct vsnix_vcpu *vcpu, int vector)
{
}

bool vsnix_lapic_in_kernel(struct vsnix_vcpu *vcpu)
{
	return false;
}

int vsnix_arch_msi(struct vsnix_vm *vm, u64 address, u32 data)
{
	return -ENODEV;
}

int vsnix_lapic_rdmsr(struct vsnix_vcpu *vcpu, u32 index, u64 *data)
{
	return -EINVAL;
}

int vsnix_lapic_wrmsr(struct vsnix_vcpu *vcpu, u32 index, u64 data)
{
	return -EINVAL;
}
