// SPDX-License-Identifier: GPL-2.0
/* Placeholder for the chipset's side of intr.h; removed when it lands. */
#include "intr.h"

bool vsnix_pic_intr_pending(struct vsnix_vm *vm)
{
	return false;
}

int vsnix_pic_ack(struct vsnix_vm *vm)
{
	return -1;
}

void vsnix_ioapic_eoi(struct vsnix_vm *vm, u8 vector)
{
}
