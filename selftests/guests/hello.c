// SPDX-License-Identifier: GPL-2.0
/* Prints a greeting, its command line and boot info; exits with "exit=N". */
#include "hvt_guest.h"

HVT_DECLARE_MANIFEST(0);

int guest_main(const char *cmdline)
{
	puts_str("Hello from a vsnix hvt unikernel\n");
	puts_str("cmdline: [");
	puts_str(cmdline);
	puts_str("]\n");
	put_dec("mem_size=", boot_info->mem_size);
	if (boot_info->kernel_end <= HVT_GUEST_MIN_BASE ||
	    boot_info->kernel_end > boot_info->mem_size ||
	    boot_info->cpu_cycle_freq == 0)
		puts_str("BAD boot info\n");
	return cmdline_number(cmdline, "exit", 0);
}
