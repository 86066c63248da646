// SPDX-License-Identifier: GPL-2.0
/*
 * hvt unikernel basics through vsnixctl: console output, command line,
 * boot info, exit status propagation, and refusal of a manifest whose
 * devices are not (or wrongly) attached.
 */
#include "guests/run_guest.h"

#define NR_TESTS 7

int main(void)
{
	static struct rg_result r;
	const char *hello = rg_guest("hello.hvt");
	const char *blk = rg_guest("blk.hvt");

	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);

	rg_run(&r, (const char *[]){ "run", "--kernel", hello, "--mem", "32M",
				     "--cmdline", "hello world exit=0", NULL });
	if (!rg_ok(r.code == 0 && rg_has(r.out, "Hello from a vsnix hvt unikernel\n"),
		   "hello prints its greeting and exits 0"))
		rg_diag(&r);
	if (!rg_ok(rg_has(r.out, "cmdline: [hello world exit=0]\n"),
		   "the command line reaches the guest intact"))
		rg_diag(&r);
	if (!rg_ok(rg_has(r.out, "mem_size=33554432\n") && !rg_has(r.out, "BAD"),
		   "boot info: mem_size, kernel_end and TSC frequency sane"))
		rg_diag(&r);

	rg_run(&r, (const char *[]){ "run", "--kernel", hello, "--mem", "32M",
				     "--cmdline", "exit=42", NULL });
	if (!rg_ok(r.code == 42, "HALT status 42 becomes the exit code"))
		rg_diag(&r);

	rg_run(&r, (const char *[]){ "run", "--kernel", hello, "--mem", "32M",
				     "--cmdline", "exit=255", NULL });
	if (!rg_ok(r.code == 255, "HALT status 255 (SOLO5_EXIT_ABORT) becomes the exit code"))
		rg_diag(&r);

	rg_run(&r, (const char *[]){ "run", "--kernel", blk, "--mem", "32M", NULL });
	if (!rg_ok(r.code == EXIT_SETUP_ERROR && rg_has(r.err, "'storage'") &&
		   rg_has(r.err, "not attached"),
		   "a declared block device left unattached is refused"))
		rg_diag(&r);

	rg_run(&r, (const char *[]){ "run", "--kernel", hello, "--block",
				     "nosuch=/dev/null", NULL });
	if (!rg_ok(r.code == EXIT_SETUP_ERROR && rg_has(r.err, "not declared in the manifest"),
		   "a device the manifest does not declare is refused"))
		rg_diag(&r);
	return rg_exit();
}
