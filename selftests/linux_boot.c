// SPDX-License-Identifier: GPL-2.0
/*
 * Linux guests through vsnixctl: Debian's stock kernel (the rig's own
 * vmlinuz, a bzImage) with a busybox initramfs boots by the bzImage's own
 * 64-bit entry (--boot bzimage; the other Linux tests boot by PVH, the
 * default, and linux_pvh compares the two) on the PC platform
 * and its /init (scripts/linux-guest/init.sh) checks the CPU count, the
 * memory and its own dmesg, then powers off: exit status 0 and
 * "VSNIX-LINUX: PASS". Damaged or unsuitable images get a setup error
 * (120) that names what was expected.
 *
 * On vmx (Bochs) one boot only, with 2 vCPUs: a nested Linux boot takes
 * minutes there, and 2 vCPUs cover more (INIT/SIPI, IPIs) in that one.
 */
#include "guests/run_guest.h"

#define NR_ERR_TESTS	6
#define MEM_MIB		256

/* One boot with n vCPUs: four results. */
static void boot(unsigned int n)
{
	static struct rg_result r;
	char cpus[16], cmdline[256], want[64];

	snprintf(cpus, sizeof(cpus), "%u", n);
	snprintf(cmdline, sizeof(cmdline),
		 "console=ttyS0 quiet panic=-1 vsnix.cpus=%u vsnix.mem=%u", n, MEM_MIB);
	rg_run(&r, (const char *[]){ "run", "--kernel", rg_linux_guest("vmlinuz"),
				     "--initrd", rg_linux_guest("initrd.cpio.gz"),
				     "--boot", "bzimage", "--mem", "256M", "--cpus", cpus,
				     "--cmdline", cmdline, NULL });
	snprintf(want, sizeof(want), "VSNIX-LINUX: nproc=%u ", n);
	if (!rg_ok(r.code == 0 && rg_has(r.out, "VSNIX-LINUX: PASS"),
		   "%u vCPU(s): the stock kernel boots, its /init checks pass, exit 0 (%.1f s)",
		   n, r.seconds))
		rg_diag(&r);
	rg_ok(rg_has(r.out, want), "%u vCPU(s): the guest sees %u CPUs", n, n);
	/*
	 * One TSC for the VM, invariant (CPUID 0x80000007 EDX[8]): Linux
	 * keeps it ("tsc" or, before its refinement, "tsc-early") rather than
	 * calling the TSCs unsynchronized or letting a watchdog drop it; on
	 * AMD, HWCR.TscFreqSel agrees (no "TSC doesn't count with P0").
	 */
	/* CPUID 0x40000100 (lapic_pv_eoi): the kernel takes x2APIC mode. */
	if (!rg_ok(rg_has(r.out, "Hypervisor detected: KVM") &&
		   rg_has(r.out, "x2apic enabled") && rg_has(r.out, "x2apic;"),
		   "%u vCPU(s): Linux finds the KVM interface and runs its APIC in x2APIC mode", n))
		rg_show_lines(r.out, "VSNIX-LINUX: apic");
	rg_show_lines(r.out, "VSNIX-LINUX: clock");
	if (!rg_ok(rg_has(r.out, "VSNIX-LINUX: clocksource=tsc") &&
		   !rg_has(r.out, "Marking TSC unstable") &&
		   !rg_has(r.out, "TSC doesn't count"),
		   "%u vCPU(s): the guest keeps the TSC as its clocksource", n))
		rg_diag(&r);
}

/* Writes len bytes of buf to a new file in /tmp; its path. */
static const char *tmp_image(const char *tag, const void *buf, size_t len)
{
	static char path[8][64];
	static int next;
	char *p = path[next++ % 8];
	int fd;

	snprintf(p, 64, "/tmp/vsnix-lb-%s-XXXXXX", tag);
	fd = mkstemp(p);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		p[0] = '\0';
	if (fd >= 0)
		close(fd);
	return p;
}

static void expect_error(const char *what, const char *kernel, const char *initrd,
			 const char *mem, const char *needle)
{
	static struct rg_result r;

	rg_run(&r, (const char *[]){ "run", "--kernel", kernel, "--mem", mem,
				     initrd ? "--initrd" : NULL, initrd, NULL });
	if (!rg_ok(r.code == EXIT_SETUP_ERROR && rg_has(r.err, needle),
		   "%s: setup error naming \"%s\"", what, needle))
		rg_diag(&r);
	unlink(kernel);
}

/* Damaged copies of the stock bzImage's first 64 KiB (or all of it). */
static void bad_images(uint8_t *img, size_t len)
{
	size_t head = len < 65536 ? len : 65536;
	char big[] = "/tmp/vsnix-lb-bigrd-XXXXXX";
	uint8_t save;
	int fd;

	expect_error("truncated bzImage", tmp_image("trunc", img, 4096), NULL, "256M",
		     "truncated");
	img[0x202] = 'X';
	expect_error("bad \"HdrS\" magic", tmp_image("magic", img, head), NULL, "256M",
		     "bzImage");
	img[0x202] = 'H';
	save = img[0x206];
	img[0x206] = 0x0a;	/* protocol 2.10 */
	expect_error("boot protocol 2.10", tmp_image("old", img, len), NULL, "256M",
		     "needs 2.12 or later");
	img[0x206] = save;
	img[0x236] &= ~1;	/* XLF_KERNEL_64 */
	expect_error("no 64-bit entry", tmp_image("xlf", img, len), NULL, "256M",
		     "XLF_KERNEL_64");
	img[0x236] |= 1;
	fd = mkstemp(big);
	if (fd < 0 || ftruncate(fd, 96 << 20))
		big[0] = '\0';
	if (fd >= 0)
		close(fd);
	expect_error("initrd larger than RAM", tmp_image("ok", img, len), big, "128M",
		     "does not fit");
	unlink(big);
	memset(img, 0x5a, head);
	expect_error("unknown image", tmp_image("junk", img, head), NULL, "256M",
		     "expected a Solo5 hvt unikernel");
}

static uint8_t *read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc(st.st_size);
	if (buf && read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

int main(void)
{
	int n = rg_on_vmx() ? 4 : 9 + NR_ERR_TESTS;
	uint8_t *img;
	size_t len = 0;

	rg_require(n);
	if (access(rg_linux_guest("vmlinuz"), R_OK) || access(rg_linux_guest("initrd.cpio.gz"), R_OK)) {
		rg_plan(n);
		rg_ok(false, "selftests/build/linux-guest/{vmlinuz,initrd.cpio.gz} present");
		rg_skip_rest(n, "no Linux guest");
		return 1;
	}
	rg_plan(n);
	if (rg_on_vmx()) {
		boot(2);
		return rg_exit();
	}
	boot(1);
	boot(2);
	img = read_file(rg_linux_guest("vmlinuz"), &len);
	if (!rg_ok(img && len > 65536, "read the stock bzImage")) {
		rg_skip_rest(n, "no image");
		return 1;
	}
	bad_images(img, len);
	free(img);
	return rg_exit();
}
