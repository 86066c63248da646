// SPDX-License-Identifier: GPL-2.0
/*
 * Bad guest pointers in hypercalls end the VM with a clear error and a
 * distinct exit code; the host stays healthy (a good guest runs after).
 */
#include "guests/run_guest.h"

#define NR_TESTS 4

static const char *const cases[] = {
	"mode=1",	/* PUTS data beyond guest RAM */
	"mode=2",	/* argument struct beyond guest RAM */
	"mode=3",	/* PUTS length that wraps around */
};
static const char *const what[] = {
	"PUTS data pointer beyond guest memory",
	"hypercall argument struct beyond guest memory",
	"PUTS with a wrapping length",
};

int main(void)
{
	static struct rg_result r;
	unsigned int i;

	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);

	for (i = 0; i < 3; i++) {
		rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest("badptr.hvt"),
					     "--mem", "32M", "--cmdline", cases[i], NULL });
		if (!rg_ok(r.code == EXIT_VM_ERROR && rg_has(r.out, "badptr start") &&
			   !rg_has(r.out, "SHOULD NOT") &&
			   rg_has(r.err, "bad guest argument"),
			   "%s ends the VM with a guest-fault error", what[i]))
			rg_diag(&r);
	}
	rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest("hello.hvt"),
				     "--mem", "32M", "--cmdline", "exit=3", NULL });
	if (!rg_ok(r.code == 3, "a good guest still runs afterwards"))
		rg_diag(&r);
	return rg_exit();
}
