// SPDX-License-Identifier: GPL-2.0
/*
 * Hands the hypervisor bad guest pointers; the VM must end with a clear
 * error. "mode=N" picks the case: 1 PUTS data past guest RAM, 2 argument
 * struct past guest RAM, 3 PUTS with a length that wraps the address space.
 */
#include "hvt_guest.h"

HVT_DECLARE_MANIFEST(0);

int guest_main(const char *cmdline)
{
	long mode = cmdline_number(cmdline, "mode", 0);
	volatile struct hvt_hc_puts hc;

	puts_str("badptr start\n");
	switch (mode) {
	case 1:
		hc.data = boot_info->mem_size + 0x1000;
		hc.len = 16;
		hvt_hypercall(HVT_HYPERCALL_PUTS, &hc);
		break;
	case 2:
		/* Only the low 32 bits travel: pick a GPA above RAM. */
		hvt_hypercall(HVT_HYPERCALL_PUTS,
			      (void *)(uintptr_t)(boot_info->mem_size + 0x100000));
		break;
	case 3:
		hc.data = (uintptr_t)"x";
		hc.len = ~0ULL - 4;
		hvt_hypercall(HVT_HYPERCALL_PUTS, &hc);
		break;
	default:
		puts_str("badptr: unknown mode\n");
		return 3;
	}
	puts_str("badptr: SHOULD NOT BE REACHED\n");
	return 2;
}
