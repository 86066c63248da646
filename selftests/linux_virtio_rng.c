// SPDX-License-Identifier: GPL-2.0
/*
 * The stock kernel on the PC platform (vsnixctl run --rng) finds vsnix's
 * PCI host bridge and virtio-rng function by itself (ACPI PCI0, MCFG),
 * binds virtio_pci with MSI-X and virtio_rng from its own modules and
 * reads /dev/hwrng (scripts/linux-guest/virtio-init.sh). Not run on vmx:
 * a nested Linux boot takes minutes on Bochs (selftests/EXPECTED_SKIPS).
 */
#include "guests/run_guest.h"

int main(void)
{
	static struct rg_result r;

	rg_require(2);
	rg_plan(2);
	if (access(rg_linux_guest("vmlinuz"), R_OK) ||
	    access(rg_linux_guest("virtio-initrd.cpio.gz"), R_OK)) {
		rg_ok(false, "selftests/build/linux-guest/{vmlinuz,virtio-initrd.cpio.gz} present");
		rg_skip_rest(2, "no Linux guest");
		return 1;
	}
	rg_run(&r, (const char *[]){ "run", "--kernel", rg_linux_guest("vmlinuz"),
				     "--initrd", rg_linux_guest("virtio-initrd.cpio.gz"),
				     "--mem", "256M", "--cpus", "1", "--rng",
				     "--cmdline", "console=ttyS0 quiet panic=-1", NULL });
	rg_show_lines(r.out, "VSNIX-VIRTIO: ");
	if (!rg_ok(rg_has(r.out, "VSNIX-VIRTIO: PASS"),
		   "Linux binds virtio_pci (MSI-X) and virtio_rng, reads /dev/hwrng (%.1f s)",
		   r.seconds))
		rg_diag(&r);
	rg_ok(r.code == 0, "poweroff: vsnixctl exits 0 (%d)", r.code);
	return rg_exit();
}
