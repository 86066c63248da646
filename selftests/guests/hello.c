// SPDX-License-Identifier: GPL-2.0
/*
 * Prints a greeting, its command line and boot info; exits with "exit=N".
 * "abort=1": aborts (status 255) with a trap frame as the halt cookie and
 * a marker in memory, for --dumpcore (selftests/hvt_dumpcore).
 */
#include "hvt_guest.h"

HVT_DECLARE_MANIFEST(0);

#define CORE_RBX	0x5ca1ab1e0ddba11ull

/* Solo5's x86_64 trap frame: cr2, error code, rip, cs, rflags, rsp, ss. */
static uint64_t trap_frame[64] __attribute__((aligned(64))) = {
	0xdead0000, 0, 0x1badc0de, 0x8, 0x2, 0x2ff000, 0x10,
};
static char marker[64] = "vsnix-core-marker: guest memory is in the core";

static int abort_with_frame(void)
{
	put_hex("core marker at ", (uint64_t)(uintptr_t)marker);
	put_hex("core frame at ", (uint64_t)(uintptr_t)trap_frame);
	halt_cookie(255, trap_frame, CORE_RBX);
}

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
	if (cmdline_number(cmdline, "abort", 0))
		return abort_with_frame();
	return cmdline_number(cmdline, "exit", 0);
}
