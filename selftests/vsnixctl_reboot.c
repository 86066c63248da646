// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl run --on-reboot: a guest reset (here the keyboard controller's
 * 0xfe command, from the multiboot test guest) ends the run with exit code
 * 122 by default and with --on-reboot exit; with --on-reboot restart the
 * VM is built again and boots again (killed after three boots: SIGTERM
 * gives 143). A bad --on-reboot is a setup error. The ACPI reset register
 * path is linux_acpi's (reboot -f).
 */
#include "guests/run_guest.h"

#define EXIT_REBOOT	122	/* userspace/vsnixctl.h */
#define BOOT_MARK	"multiboot magic ok"
#define RESTART_ROUNDS	6

static int count(const char *text, const char *needle)
{
	int n = 0;

	while ((text = strstr(text, needle))) {
		n++;
		text += strlen(needle);
	}
	return n;
}

/*
 * One restart run: at least three boots, then SIGTERM ends it with 143
 * within 5 s. A SIGTERM that lands beside a reset once restarted the VM
 * instead (the signal was read, the reset won): rounds give it chances.
 * The wait for three boots ends when they are seen; its bound is only for
 * a broken restart (Bochs under load took 7.7 s for two boots).
 */
static bool restart_round(struct rg_result *r)
{
	double deadline = rg_now() + 30;
	struct rg_proc p;

	memset(r, 0, sizeof(*r));
	if (rg_start(&p, (const char *[]){ "run", "--kernel", rg_guest("mbtest.elf"),
			     "--on-reboot", "restart", "--cmdline", "kbdreset=1", NULL }))
		return false;
	while (count(r->out, BOOT_MARK) < 3 && rg_now() < deadline && !rg_collect(&p, r, 0.2))
		;
	kill(p.pid, SIGTERM);
	if (!rg_collect(&p, r, 5))
		kill(p.pid, SIGKILL);
	rg_finish(&p, r);
	return count(r->out, BOOT_MARK) >= 3 && r->code == 128 + SIGTERM;
}

static void restart(void)
{
	static struct rg_result r;
	int round, boots = 0;
	bool ok = true;

	for (round = 0; round < RESTART_ROUNDS && ok; round++) {
		ok = restart_round(&r);
		boots += count(r.out, BOOT_MARK);
	}
	if (!rg_ok(ok, "--on-reboot restart: boots again after each reset, SIGTERM ends it (%d rounds, %d boots, last exit %d)",
		   round, boots, r.code))
		rg_diag(&r);
}

int main(void)
{
	static struct rg_result r;

	rg_require(5);
	rg_plan(5);
	rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest("mbtest.elf"),
				     "--cmdline", "kbdreset=1 exit=7", NULL });
	if (!rg_ok(r.code == EXIT_REBOOT && rg_has(r.out, "kbd reset"),
		   "keyboard controller reset: exit %d (want %d)", r.code, EXIT_REBOOT))
		rg_diag(&r);
	rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest("mbtest.elf"),
				     "--on-reboot", "exit", "--verbose",
				     "--cmdline", "kbdreset=1", NULL });
	if (!rg_ok(r.code == EXIT_REBOOT && rg_has(r.err, "guest reset (keyboard controller)"),
		   "--on-reboot exit: exit %d, reported on stderr", r.code))
		rg_diag(&r);
	rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest("mbtest.elf"),
				     "--on-reboot", "restart", "--cmdline", "exit=5", NULL });
	if (!rg_ok(r.code == 5, "--on-reboot restart: a guest that exits ends the run (%d)",
		   r.code))
		rg_diag(&r);
	restart();
	rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest("mbtest.elf"),
				     "--on-reboot", "sometimes", NULL });
	if (!rg_ok(r.code == EXIT_SETUP_ERROR && rg_has(r.err, "--on-reboot"),
		   "--on-reboot sometimes: setup error (%d)", r.code))
		rg_diag(&r);
	return rg_exit();
}
