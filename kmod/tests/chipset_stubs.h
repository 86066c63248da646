/* SPDX-License-Identifier: GPL-2.0 */
/* The chipset suites' view of chipset_stubs.c. */
#ifndef VSNIX_CHIPSET_STUBS_H
#define VSNIX_CHIPSET_STUBS_H

#include "../arch/x86/intr.h"

extern struct vsnix_apic_irq chipset_test_last_irq;
extern int chipset_test_nr_delivered;
extern int chipset_test_deliver_ret;

#endif
