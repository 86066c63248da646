// SPDX-License-Identifier: GPL-2.0
/*
 * A Linux guest's console on vsnix's 16550 (IRQ 4): Debian's stock kernel
 * with console=ttyS0 writes 16 KiB through the tty, carried by THRE
 * interrupts (IRQ 4 counts them), and 7200 bytes through printk's polled
 * console (both rates printed, not judged), then runs a busybox shell on
 * ttyS0 that this test types into through vsnixctl --stdin; the shell
 * computes what was asked, so its answer proves the input arrived. The
 * guest's wall clock (from the RTC) and TSC rate (CPUID on Intel,
 * calibration on AMD) are checked against the host's.
 */
#include "guests/run_guest.h"

#define NR_TESTS	6

/* The number after key in text, or -1. */
static double number_after(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? strtod(p + strlen(key), NULL) : -1;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* The host's TSC rate in MHz, measured over 100 ms. */
static double host_tsc_khz(void)
{
	struct timespec t0, t1, pause = { 0, 100 * 1000 * 1000 };
	uint64_t c0, c1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	c0 = __builtin_ia32_rdtsc();
	nanosleep(&pause, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	c1 = __builtin_ia32_rdtsc();
	return (c1 - c0) / ((t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3);
}

static bool vsnix_vendor_amd(void)
{
	const char *m = getenv("VSNIX_RIG_MACHINE");

	return !m || strcmp(m, "vmx");
}

int main(void)
{
	const char *initrd = rg_linux_guest("shell.cpio.gz");
	const char *args[] = { "run", "--kernel", rg_linux_guest("vmlinuz"),
			       "--initrd", initrd,
			       "--mem", "256M", "--cmdline", "console=ttyS0 quiet panic=-1",
			       "--stdin", NULL };
	static const char typed[] = "echo typed-$((6*7))\nexit\n";
	static struct rg_result r;
	double deadline, t0, t1, mhz, host_khz, tty_rate, kmsg_rate, irq0, irq1;
	const char *line, *before, *after;
	struct rg_proc p;
	time_t host_start, host_now = 0;
	long guest_date;
	bool ready;
	int in[2];

	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);
	if (access(initrd, R_OK) || pipe(in)) {
		rg_ok(false, "linux-guest/shell.cpio.gz built");
		rg_skip_rest(NR_TESTS, "no Linux guest");
		return 1;
	}
	rg_stdin_fd = in[0];
	memset(&r, 0, sizeof(r));
	host_start = time(NULL);
	if (rg_start(&p, args)) {
		rg_ok(false, "start vsnixctl");
		return 1;
	}
	close(in[0]);
	deadline = rg_now() + 250;
	while (!rg_has(r.out, "VSNIX-SHELL-READY") && rg_now() < deadline &&
	       (p.out_open || p.err_open))
		rg_collect(&p, &r, 0.2);
	ready = rg_has(r.out, "VSNIX-SHELL-READY");
	host_now = time(NULL);
	if (ready && write(in[1], typed, sizeof(typed) - 1) != sizeof(typed) - 1)
		ready = false;
	close(in[1]);
	rg_finish(&p, &r);
	for (line = strstr(r.out, "VSNIX-DMESG: "); line; line = strstr(line + 1, "VSNIX-DMESG: "))
		printf("# %.*s\n", (int)strcspn(line, "\r\n"), line);
	line = strstr(r.out, "VSNIX-TTY-IRQS: ");
	irq0 = irq1 = -1;
	if (line) {
		printf("# %.*s\n", (int)strcspn(line, "\r\n"), line);
		before = strstr(line, "before ");
		after = strstr(line, " after ");
		irq0 = before ? number_after(before, "4:") : -1;
		irq1 = after ? number_after(after, "4:") : -1;
	}

	if (!rg_ok(ready && r.code == 0, "the stock kernel boots, its shell on ttyS0 ends the run: exit %d (%.1f s)",
		   r.code, r.seconds))
		rg_diag(&r);
	line = strstr(r.out, "VSNIX-TTY: ");
	if (!line || sscanf(line, "VSNIX-TTY: 16384 bytes from %lf to %lf", &t0, &t1) != 2)
		t0 = t1 = -1;
	tty_rate = 16384 / (t1 - t0 + 0.01);
	line = strstr(r.out, "VSNIX-KMSG: ");
	if (!line || sscanf(line, "VSNIX-KMSG: 7200 bytes from %lf to %lf", &t0, &t1) != 2)
		t0 = t1 = -1;
	kmsg_rate = 7200 / (t1 - t0 + 0.01);
	/*
	 * All of it arrives, the tty's part carried by THRE interrupts (IRQ 4
	 * rose while it was written; a lost one would stall the tty and the
	 * bytes would not all arrive). The rates depend on the host's load:
	 * printed, not judged (Documentation/benchmarks.rst measures speed).
	 */
	printf("# tty (THRE interrupts) %.1f KiB/s, printk (polled) %.1f KiB/s\n",
	       tty_rate / 1024, kmsg_rate / 1024);
	rg_ok(count_char(r.out, 'x') >= 16384 && count_char(r.out, 'y') >= 7200 &&
	      irq0 >= 0 && irq1 > irq0,
	      "16 KiB through the tty, IRQ 4 rising meanwhile (%.0f -> %.0f), and 7200 B through printk arrive",
	      irq0, irq1);
	rg_ok(rg_has(r.out, "typed-42"), "typed input reaches the shell, which runs it (typed-42)");
	line = strstr(r.out, "VSNIX-IRQ-AFTER: ");
	rg_ok(line && number_after(line, "4:") > 0,
	      "IRQ 4 counted in the guest's /proc/interrupts (%.0f)", line ? number_after(line, "4:") : 0);
	guest_date = (long)number_after(r.out, "VSNIX-DATE: ");
	/*
	 * The RTC gives the host's time at VM start; by the time the guest
	 * prints it, its clock may lag a loaded host (lost ticks before its
	 * clocksource settles), never lead it and never predate the start.
	 */
	rg_ok(guest_date >= (long)host_start - 2 && guest_date <= (long)host_now + 2,
	      "the guest's date (RTC at boot) is the host's: %ld in [%ld, %ld]",
	      guest_date, (long)host_start, (long)host_now);
	host_khz = host_tsc_khz() * 1000;
	line = strstr(r.out, "tsc: Detected ");
	mhz = line ? number_after(line, "tsc: Detected ") : -1;
	rg_ok(mhz > 0 && mhz * 1000 > host_khz * 0.98 && mhz * 1000 < host_khz * 1.02 &&
	      (vsnix_vendor_amd() || !rg_has(r.out, "Fast TSC calibration")),
	      "the guest's TSC rate %.3f MHz is the host's (%.3f MHz)%s", mhz, host_khz / 1000,
	      vsnix_vendor_amd() ? " (AMD: tsc_early_khz= from vsnixctl)" :
	      " (Intel: CPUID 0x15)");
	return rg_exit();
}
