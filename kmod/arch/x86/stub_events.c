// SPDX-License-Identifier: GPL-2.0
/* Placeholder for events.c's side of intr.h; removed when events.c lands. */
#include "intr.h"

void vsnix_x86_event_update(struct vsnix_vcpu *vcpu)
{
	vsnix_vcpu_kick(vcpu);
}

void vsnix_x86_queue_nmi(struct vsnix_vcpu *vcpu)
{
}

void vsnix_x86_queue_init(struct vsnix_vcpu *vcpu)
{
}

void vsnix_x86_queue_sipi(struct vsnix_vcpu *vcpu, u8 vector)
{
}
