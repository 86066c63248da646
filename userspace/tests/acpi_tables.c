// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of libvsnix's ACPI tables (vx_acpi_build), no /dev/vsnix
 * needed: builds them into a buffer standing in for guest RAM, checks the
 * RSDP scan, every checksum and the fields that must match vsnix/pc.h,
 * then has iasl disassemble each table: any error or warning fails.
 * TAP output; run by `make check`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vsnix/acpi.h>
#include <vsnix/libvsnix.h>
#include <vsnix/pc.h>

static int nr_test, nr_fail;

static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d ", cond ? "" : "not ", ++nr_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		nr_fail++;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

/* The guest's way (ACPI 6.5, 5.2.5.1): 16-byte steps over 0xe0000-0xfffff. */
static uint64_t scan_rsdp(struct vx_vm *vm)
{
	uint64_t a;

	for (a = 0xe0000; a < 0x100000; a += 16)
		if (!memcmp(vm->mem + a, "RSD PTR ", 8) &&
		    !vx_acpi_sum(vm->mem + a, 20))
			return a;
	return 0;
}

/* A table by XSDT signature, checksummed; NULL if absent or bad. */
static uint8_t *find_table(struct vx_vm *vm, uint64_t xsdt, const char *sig)
{
	uint8_t *x = vm->mem + xsdt;
	uint32_t i, n = (rd32(x + 4) - 36) / 8;

	for (i = 0; i < n; i++) {
		uint64_t t = rd64(x + 36 + 8 * i);

		if (t + 36 > vm->mem_size)
			return NULL;
		if (!memcmp(vm->mem + t, sig, 4))
			return vm->mem + t;
	}
	return NULL;
}

/* iasl -d on one table: exit 0 and no "Error"/"Warning" in its output. */
static int disassemble(const char *dir, const char *name, const uint8_t *t,
		       uint32_t len, const char *must_have)
{
	char path[512], cmd[1200], line[512];
	int clean = 1, found = !must_have;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(t, 1, len, f) != len || fclose(f))
		return 0;
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d %s.dat 2>&1 && cat %s.dsl",
		 dir, name, name);
	f = popen(cmd, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "Error") || strstr(line, "Warning") ||
		    strstr(line, "Invalid") || strstr(line, "Incorrect")) {
			printf("# iasl: %s", line);
			clean = 0;
		}
		if (must_have && strstr(line, must_have))
			found = 1;
	}
	return pclose(f) == 0 && clean && found;
}

static void check_fadt(struct vx_vm *vm, const uint8_t *f)
{
	ok(rd32(f + 4) == 276 && f[8] == 6, "FADT: revision 6, 276 bytes");
	ok(rd32(f + 56) == PC_ACPI_PM1A_EVT && f[88] == 4 &&
	   rd64(f + 148 + 4) == PC_ACPI_PM1A_EVT && f[148 + 1] == 32,
	   "FADT: PM1a_EVT_BLK and X_PM1a_EVT_BLK at 0x%x", PC_ACPI_PM1A_EVT);
	ok(rd32(f + 64) == PC_ACPI_PM1A_CNT && f[89] == 2 &&
	   rd64(f + 172 + 4) == PC_ACPI_PM1A_CNT && f[172 + 1] == 16,
	   "FADT: PM1a_CNT_BLK and X_PM1a_CNT_BLK");
	ok(rd32(f + 76) == PC_ACPI_PM_TMR && f[91] == 4 &&
	   rd64(f + 208 + 4) == PC_ACPI_PM_TMR && !(rd32(f + 112) & (1u << 8)),
	   "FADT: PM timer, TMR_VAL_EXT clear");
	ok(rd32(f + 80) == PC_ACPI_GPE0 && f[92] == 4 &&
	   rd64(f + 220 + 4) == PC_ACPI_GPE0, "FADT: GPE0_BLK");
	ok(rd16(f + 46) == PC_ACPI_SCI_IRQ && !rd32(f + 48),
	   "FADT: SCI_INT %d, no SMI_CMD", PC_ACPI_SCI_IRQ);
	ok(f[116] == 1 && rd64(f + 120) == PC_RESET_PORT &&
	   f[128] == PC_RESET_VALUE && (rd32(f + 112) & (1u << 10)),
	   "FADT: RESET_REG I/O 0x%x value %d, RESET_REG_SUP", PC_RESET_PORT,
	   PC_RESET_VALUE);
	ok(f[108] == 0x32 && rd16(f + 109) == 0x5 &&
	   !(rd32(f + 112) & (1u << 20)),
	   "FADT: CENTURY 0x32, LEGACY_DEVICES, no 8042, no VGA, not HW-reduced");
	ok(rd32(f + 40) == rd64(f + 140) && !memcmp(vm->mem + rd32(f + 40),
						   "DSDT", 4) &&
	   !vx_acpi_sum(vm->mem + rd32(f + 40), rd32(vm->mem + rd32(f + 40) + 4)),
	   "FADT: DSDT = X_DSDT, checksum");
	ok(rd32(f + 36) && !memcmp(vm->mem + rd32(f + 36), "FACS", 4) &&
	   !(rd32(f + 36) & 63) && !rd64(f + 132),
	   "FADT: FACS 64-byte aligned, FIRMWARE_CTRL only");
}

static void check_madt(const uint8_t *m, unsigned int nr_cpus)
{
	uint32_t len = rd32(m + 4), off = 44;
	unsigned int cpus = 0, ioapic = 0, iso0 = 0, iso9 = 0, nmi = 0;

	while (off + 2 <= len && m[off + 1]) {
		const uint8_t *e = m + off;

		if (e[0] == 0 && (rd32(e + 4) & 1) && e[3] == cpus)
			cpus++;
		if (e[0] == 1 && rd32(e + 4) == PC_IOAPIC_BASE && !rd32(e + 8))
			ioapic++;
		if (e[0] == 2 && e[3] == 0 && rd32(e + 4) == PC_PIT_GSI)
			iso0++;
		if (e[0] == 2 && e[3] == PC_ACPI_SCI_IRQ &&
		    rd32(e + 4) == PC_ACPI_SCI_IRQ && rd16(e + 8) == 0xd)
			iso9++;
		if (e[0] == 4 && e[2] == 0xff && e[5] == 1)
			nmi++;
		off += e[1];
	}
	ok(off == len && rd32(m + 36) == PC_LAPIC_BASE && (rd32(m + 40) & 1),
	   "MADT: entries fill the table, LAPIC at 0x%llx, PCAT_COMPAT",
	   (unsigned long long)PC_LAPIC_BASE);
	ok(cpus == nr_cpus, "MADT: %u enabled LAPICs (%u vCPUs)", cpus, nr_cpus);
	ok(ioapic == 1 && iso0 == 1 && iso9 == 1 && nmi == 1,
	   "MADT: IOAPIC, IRQ0->GSI2, SCI level/high, LINT1 NMI");
}

static void check_build(struct vx_vm *vm, unsigned int nr_cpus,
			const char *dir)
{
	struct vx_acpi_config cfg = { .nr_cpus = nr_cpus };
	uint8_t *xsdt, *fadt, *madt, *mcfg, *dsdt;
	uint64_t rsdp = 0;

	memset(vm->mem, 0, vm->mem_size);
	ok(!vx_acpi_build(vm, &cfg, &rsdp), "%u vCPUs: built (%s)", nr_cpus,
	   vx_errmsg());
	ok(rsdp && scan_rsdp(vm) == rsdp && !(rsdp & 15) &&
	   vm->mem[rsdp + 15] == 2 && !vx_acpi_sum(vm->mem + rsdp, 36),
	   "RSDP found by a scan at 0x%llx, revision 2, both checksums",
	   (unsigned long long)rsdp);
	xsdt = vm->mem + rd64(vm->mem + rsdp + 24);
	ok(!memcmp(xsdt, "XSDT", 4) && !vx_acpi_sum(xsdt, rd32(xsdt + 4)),
	   "XSDT checksum");
	fadt = find_table(vm, xsdt - vm->mem, "FACP");
	madt = find_table(vm, xsdt - vm->mem, "APIC");
	mcfg = find_table(vm, xsdt - vm->mem, "MCFG");
	ok(fadt && madt && mcfg && !vx_acpi_sum(fadt, rd32(fadt + 4)) &&
	   !vx_acpi_sum(madt, rd32(madt + 4)) &&
	   !vx_acpi_sum(mcfg, rd32(mcfg + 4)),
	   "XSDT lists FADT, MADT, MCFG with good checksums");
	if (!fadt || !madt || !mcfg)
		return;
	check_fadt(vm, fadt);
	check_madt(madt, nr_cpus);
	ok(rd64(mcfg + 44) == PC_PCI_ECAM_BASE && !rd16(mcfg + 52) &&
	   mcfg[54] == 0 && mcfg[55] == PC_PCI_BUSES - 1,
	   "MCFG: ECAM at 0x%llx, buses 0..%d",
	   (unsigned long long)PC_PCI_ECAM_BASE, PC_PCI_BUSES - 1);
	ok(rsdp >= PC_BIOS_START && rd32(fadt + 40) + rd32(vm->mem +
	   rd32(fadt + 40) + 4) <= PC_BIOS_END, "tables inside the BIOS area");
	dsdt = vm->mem + rd32(fadt + 40);
	ok(disassemble(dir, "facp", fadt, rd32(fadt + 4), "Hypervisor"),
	   "iasl -d FADT: clean");
	ok(disassemble(dir, "apic", madt, rd32(madt + 4), "Local APIC NMI"),
	   "iasl -d MADT: clean");
	ok(disassemble(dir, "mcfg", mcfg, rd32(mcfg + 4), "Base Address"),
	   "iasl -d MCFG: clean");
	ok(disassemble(dir, "dsdt", dsdt, rd32(dsdt + 4), "PNP0A08"),
	   "iasl -d DSDT: clean");
}

static void check_bad(struct vx_vm *vm)
{
	struct vx_acpi_config cfg = { .nr_cpus = 1 };
	uint64_t rsdp = 0, size = vm->mem_size;

	cfg.nr_cpus = 0;
	ok(vx_acpi_build(vm, &cfg, &rsdp) == -EINVAL, "0 vCPUs: EINVAL");
	cfg.nr_cpus = VX_MAX_VCPUS + 1;
	ok(vx_acpi_build(vm, &cfg, &rsdp) == -EINVAL, "%u vCPUs: EINVAL",
	   cfg.nr_cpus);
	cfg.nr_cpus = 1;
	cfg.flags = 1;
	ok(vx_acpi_build(vm, &cfg, &rsdp) == -EINVAL, "unknown flag: EINVAL");
	cfg.flags = 0;
	vm->mem_size = PC_BIOS_START + 0x100;
	ok(vx_acpi_build(vm, &cfg, &rsdp) == -EINVAL && !rsdp,
	   "RAM ending inside the BIOS area: EINVAL");
	vm->mem_size = size;
}

int main(void)
{
	char dir[] = "/tmp/vsnix-acpi-XXXXXX";
	struct vx_vm vm = { .fd = -1, .sys_fd = -1, .mem_fd = -1 };
	char cmd[64];

	printf("TAP version 13\n");
	vm.mem_size = 2 << 20;
	vm.mem = calloc(1, vm.mem_size);
	if (!vm.mem || !mkdtemp(dir)) {
		printf("1..0 # SKIP no memory or /tmp\n");
		return 4;
	}
	if (system("iasl -v >/dev/null 2>&1")) {
		printf("1..0 # SKIP iasl not installed (make deps)\n");
		return 4;
	}
	check_build(&vm, 1, dir);
	check_build(&vm, 2, dir);
	check_build(&vm, VX_MAX_VCPUS, dir);
	check_bad(&vm);
	printf("1..%d\n", nr_test);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("# could not remove %s\n", dir);
	free(vm.mem);
	return nr_fail ? 1 : 0;
}
