// SPDX-License-Identifier: GPL-2.0
/*
 * Multiboot v1 through vsnixctl: the ELF kernel and the same kernel as a
 * flat "a.out kludge" image see their magic, command line, module and a
 * sane memory map; the UART prints without junk around the divisor
 * programming; fw_cfg answers CPU count and RAM size; the exit port value
 * becomes the exit code; a triple fault is reported as a VM error;
 * with --cpus 3 the kernel starts two APs by INIT/SIPI.
 */
#include "guests/run_guest.h"

#define NR_TESTS 12

/* Only printable ASCII and newlines: divisor bytes must not leak. */
static bool clean_text(const struct rg_result *r)
{
	size_t i;

	for (i = 0; i < r->out_len; i++) {
		unsigned char c = r->out[i];

		if (c != '\n' && (c < 0x20 || c > 0x7e))
			return false;
	}
	return r->out_len > 0;
}

int main(void)
{
	static struct rg_result r;
	char module[] = "/tmp/vsnix-mbmod-XXXXXX";
	char modarg[128], expect[256];
	int fd;

	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);

	fd = mkstemp(module);
	if (fd < 0 || write(fd, "module-data-123", 15) != 15) {
		rg_ok(false, "create the module file");
		rg_skip_rest(NR_TESTS, "no module file");
		return 1;
	}
	close(fd);
	snprintf(modarg, sizeof(modarg), "%s,modargs x=1", module);

	rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest("mbtest.elf"),
				     "--mem", "64M", "--cmdline", "mb test exit=7",
				     "--module", modarg, NULL });
	if (!rg_ok(r.code == 7, "exit port value 7 becomes the exit code"))
		rg_diag(&r);
	if (!rg_ok(!strncmp(r.out, "multiboot magic ok\n", 19),
		   "EAX holds the multiboot magic; first output byte is clean"))
		rg_diag(&r);
	if (!rg_ok(rg_has(r.out, "cmdline=[mb test exit=7]\n"), "command line seen"))
		rg_diag(&r);
	snprintf(expect, sizeof(expect),
		 "module string=[%s modargs x=1] size=15 aligned data=[module-data-123]\n",
		 module);
	if (!rg_ok(rg_has(r.out, "mods_count=1\n") && rg_has(r.out, expect),
		   "module loaded page-aligned with its command line"))
		rg_diag(&r);
	if (!rg_ok(rg_has(r.out, "mem_lower=639 mem_upper=64512\n") &&
		   rg_has(r.out, " sane\n"),
		   "mem_lower/mem_upper and the memory map are sane"))
		rg_diag(&r);
	if (!rg_ok(rg_has(r.out, "fw_cfg signature=QEMU cpus=1 ram=67108864\n"),
		   "fw_cfg answers signature, CPU count and RAM size"))
		rg_diag(&r);
	if (!rg_ok(clean_text(&r), "UART output has no junk bytes"))
		rg_diag(&r);

	rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest("mbtest.bin"),
				     "--mem", "16M", "--cmdline", "kludge exit=9", NULL });
	if (!rg_ok(r.code == 9 && rg_has(r.out, "multiboot magic ok\n") &&
		   rg_has(r.out, "cmdline=[kludge exit=9]\n") &&
		   rg_has(r.out, "mods_count=0\n"),
		   "flat image placed by the header's address fields (a.out kludge)"))
		rg_diag(&r);

	rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest("mbtest.elf"),
				     "--mem", "16M", "--cmdline", "exit=0", NULL });
	if (!rg_ok(r.code == 0 && rg_has(r.out, "mem_upper=15360\n"),
		   "exit status 0 and a 16 MiB memory map"))
		rg_diag(&r);

	rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest("mbtest.elf"),
				     "--mem", "1G", "--module", "/nonexistent", NULL });
	if (!rg_ok(r.code == EXIT_SETUP_ERROR && rg_has(r.err, "/nonexistent"),
		   "a missing module is refused with a message"))
		rg_diag(&r);
	rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest("mbtest.elf"),
				     "--mem", "16M", "--cmdline", "crash=1 exit=5", NULL });
	if (!rg_ok(r.code == EXIT_VM_ERROR && rg_has(r.out, "crashing\n") &&
		   rg_has(r.err, "triple fault"),
		   "a triple fault ends the VM with a clear error and exit code %d",
		   EXIT_VM_ERROR))
		rg_diag(&r);
	rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest("mbtest.elf"),
				     "--mem", "16M", "--cpus", "3", "--cmdline",
				     "smp=1 exit=3", NULL });
	if (!rg_ok(r.code == 3 && rg_has(r.out, "cpus=3 ") &&
		   rg_has(r.out, "smp aps=2\n"),
		   "--cpus 3: fw_cfg says 3 and INIT/SIPI starts both APs"))
		rg_diag(&r);
	unlink(module);
	return rg_exit();
}
