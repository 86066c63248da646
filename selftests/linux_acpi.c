// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI for Linux guests: the stock kernel boots through vsnixctl on the PC
 * platform with libvsnix's tables (RSDP, XSDT, FADT, MADT, MCFG, the
 * iasl-compiled DSDT) and VSNIX_DEV_ACPI_PM. Its /init
 * (scripts/linux-guest/acpi-init.sh) checks that Linux found every table
 * without an ACPI error or warning, the SCI on IRQ 9 through the IOAPIC,
 * PCI0, the ECAM reservation, COM1 and the power button, then:
 *  - poweroff -f: ACPI S5, vsnixctl exits 0;
 *  - reboot -f: the FADT reset register, vsnixctl exits 122 (--on-reboot
 *    exit, the default; vsnixctl_reboot tests --on-reboot restart).
 * On vmx (Bochs) one boot only, with 1 vCPU and poweroff: a nested Linux
 * boot takes minutes there, and linux_boot and linux_pvh boot 2 vCPUs.
 */
#include "guests/run_guest.h"

#define EXIT_REBOOT	122	/* userspace/vsnixctl.h */

static const char *cmdline(unsigned int cpus, const char *act)
{
	static char buf[256];

	snprintf(buf, sizeof(buf),
		 "console=ttyS0 quiet panic=-1 vsnix.cpus=%u vsnix.act=%s", cpus, act);
	return buf;
}

/* One boot to the end: its two results. */
static void boot(unsigned int cpus, const char *act, int want_code)
{
	static struct rg_result r;
	char n[16];

	snprintf(n, sizeof(n), "%u", cpus);
	rg_run(&r, (const char *[]){ "run", "--kernel", rg_linux_guest("vmlinuz"),
				     "--initrd", rg_linux_guest("acpi-initrd.cpio.gz"),
				     "--mem", "256M", "--cpus", n,
				     "--cmdline", cmdline(cpus, act), NULL });
	rg_show_lines(r.out, "VSNIX-ACPI: ");
	if (!rg_ok(rg_has(r.out, "VSNIX-ACPI: PASS"),
		   "%u vCPU(s): Linux finds the tables, SCI, PCI0, COM1, power button; no ACPI error (%.1f s)",
		   cpus, r.seconds))
		rg_diag(&r);
	if (!rg_ok(r.code == want_code, "%s -f: vsnixctl exits %d (%d)", act, want_code, r.code))
		rg_diag(&r);
}

int main(void)
{
	int n = rg_on_vmx() ? 2 : 4;

	rg_require(n);
	rg_plan(n);
	if (access(rg_linux_guest("vmlinuz"), R_OK) ||
	    access(rg_linux_guest("acpi-initrd.cpio.gz"), R_OK)) {
		rg_ok(false, "selftests/build/linux-guest/{vmlinuz,acpi-initrd.cpio.gz} present");
		rg_skip_rest(n, "no Linux guest");
		return 1;
	}
	if (rg_on_vmx()) {
		boot(1, "poweroff", 0);
		return rg_exit();
	}
	boot(2, "poweroff", 0);
	boot(1, "reboot", EXIT_REBOOT);
	return rg_exit();
}
