// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix: ACPI tables for the vsnix PC without firmware. The DSDT is
 * ASL compiled by iasl at build time (acpi/dsdt.asl); the other tables are
 * built here for the VM's vCPU count. Section numbers are ACPI 6.5;
 * Documentation/platform.rst describes what the tables advertise.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <vsnix/acpi.h>
#include <vsnix/libvsnix.h>
#include <vsnix/pc.h>
#include "dsdt_aml.h"

#define ACPI_OEM_ID		"VSNIX "
#define ACPI_OEM_TABLE_ID	"VSNIXPC "
#define ACPI_CREATOR_ID		"VSNX"

/* 5.2.6: the header every table but the RSDP and FACS starts with. */
struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

/* 5.2.5.3 */
struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;	/* of the first 20 bytes */
	char oem_id[6];
	uint8_t revision;	/* 2: ACPI 2.0 and later, with an XSDT */
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;	/* of all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

/* 5.2.3.2: Generic Address Structure. */
struct acpi_gas {
	uint8_t space_id;	/* 1: system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;	/* 0: undefined, 1: byte, 2: word, 3: dword */
	uint64_t address;
} __attribute__((packed));

#define ACPI_SPACE_IO		1

/* 5.2.9, Table 5.9: the FADT of ACPI 6.x, 276 bytes. */
struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl, x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT of ACPI 6.x");

/* FADT flags (Table 5.10) and IAPC_BOOT_ARCH (Table 5.11). */
#define FADT_WBINVD		(1u << 0)
#define FADT_PROC_C1		(1u << 2)
#define FADT_SLP_BUTTON		(1u << 5)	/* no fixed sleep button */
#define FADT_FIX_RTC		(1u << 6)	/* no RTC wake in PM1 */
#define FADT_RESET_REG_SUP	(1u << 10)
#define BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define BOOT_ARCH_8042		(1u << 1)
#define BOOT_ARCH_VGA_NOT_PRESENT (1u << 2)

/* 5.2.10: FACS, 64 bytes, 64-byte aligned. */
struct acpi_facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");

/* 5.2.12: MADT and the entries used here (5.2.12.2, .3, .5, .7). */
struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));

#define MADT_PCAT_COMPAT	(1u << 0)

struct madt_lapic {
	uint8_t type, length;	/* 0, 8 */
	uint8_t uid, apic_id;
	uint32_t flags;		/* bit 0: enabled */
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length;	/* 1, 12 */
	uint8_t id, reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_iso {
	uint8_t type, length;	/* 2, 10 */
	uint8_t bus, source;	/* bus 0: ISA */
	uint32_t gsi;
	uint16_t flags;		/* MPS INTI flags (Table 5.26) */
} __attribute__((packed));

/* MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2. */
#define MPS_ACTIVE_HIGH		0x1
#define MPS_LEVEL		(0x3 << 2)

struct madt_lapic_nmi {
	uint8_t type, length;	/* 4, 6 */
	uint8_t uid;		/* 0xff: all processors */
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

/* PCI Firmware Specification 3.2, 4.1.2: MCFG. */
struct acpi_mcfg {
	struct acpi_header h;
	uint64_t reserved;
	uint64_t base;
	uint16_t segment;
	uint8_t start_bus, end_bus;
	uint32_t reserved2;
} __attribute__((packed));

#define IOAPIC_ID		0	/* the VSNIX_DEV_IOAPIC's id */
#define XSDT_ENTRIES		3	/* FADT, MADT, MCFG */

uint8_t vx_acpi_sum(const void *p, uint64_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

static void acpi_header_init(struct acpi_header *h, const char *sig,
			     uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

/* Last step of each table: the checksum byte makes the sum 0. */
static void acpi_checksum(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = -vx_acpi_sum(h, h->length);
}

static struct acpi_gas acpi_io_gas(uint16_t port, unsigned int bytes,
				   uint8_t access_size)
{
	struct acpi_gas g = {
		.space_id = ACPI_SPACE_IO,
		.bit_width = 8 * bytes,
		.access_size = access_size,
		.address = port,
	};

	return g;
}

/* Where each table goes, from the RSDP up; all inside the BIOS area. */
struct acpi_layout {
	uint64_t rsdp, xsdt, fadt, facs, madt, mcfg, dsdt, end;
};

static uint64_t acpi_align(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static size_t madt_size(unsigned int nr_cpus)
{
	return sizeof(struct acpi_madt) + nr_cpus * sizeof(struct madt_lapic) +
	       sizeof(struct madt_ioapic) + 2 * sizeof(struct madt_iso) +
	       sizeof(struct madt_lapic_nmi);
}

static void acpi_layout(struct acpi_layout *l, unsigned int nr_cpus)
{
	l->rsdp = PC_BIOS_START;
	l->xsdt = acpi_align(l->rsdp + sizeof(struct acpi_rsdp), 64);
	l->fadt = acpi_align(l->xsdt + sizeof(struct acpi_header) +
			     8 * XSDT_ENTRIES, 64);
	l->facs = acpi_align(l->fadt + sizeof(struct acpi_fadt), 64);
	l->madt = acpi_align(l->facs + sizeof(struct acpi_facs), 64);
	l->mcfg = acpi_align(l->madt + madt_size(nr_cpus), 64);
	l->dsdt = acpi_align(l->mcfg + sizeof(struct acpi_mcfg), 64);
	l->end = l->dsdt + sizeof(vx_dsdt_aml);
}

static void acpi_write_rsdp(uint8_t *p, const struct acpi_layout *l)
{
	struct acpi_rsdp *r = (struct acpi_rsdp *)p;

	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, ACPI_OEM_ID, 6);
	r->revision = 2;
	r->length = sizeof(*r);
	r->xsdt_address = l->xsdt;
	r->checksum = -vx_acpi_sum(r, 20);
	r->extended_checksum = -vx_acpi_sum(r, sizeof(*r));
}

static void acpi_write_xsdt(uint8_t *p, const struct acpi_layout *l)
{
	struct acpi_header *h = (struct acpi_header *)p;
	uint64_t entries[XSDT_ENTRIES] = { l->fadt, l->madt, l->mcfg };

	acpi_header_init(h, "XSDT", sizeof(*h) + sizeof(entries), 1);
	memcpy(p + sizeof(*h), entries, sizeof(entries));
	acpi_checksum(h);
}

/* 5.2.9: the fixed hardware of pc.h and VSNIX_DEV_ACPI_PM. */
static void acpi_write_fadt(uint8_t *p, const struct acpi_layout *l)
{
	struct acpi_fadt *f = (struct acpi_fadt *)p;

	acpi_header_init(&f->h, "FACP", sizeof(*f), 6);
	f->minor_version = 5;
	/* One of FIRMWARE_CTRL and X_FIRMWARE_CTRL, not both (Table 5.9). */
	f->firmware_ctrl = l->facs;
	f->dsdt = l->dsdt;
	f->x_dsdt = l->dsdt;
	f->sci_int = PC_ACPI_SCI_IRQ;
	/* SMI_CMD 0: the platform is in ACPI mode from the start (4.8.2.1). */
	f->pm1a_evt_blk = PC_ACPI_PM1A_EVT;
	f->pm1_evt_len = 4;
	f->x_pm1a_evt_blk = acpi_io_gas(PC_ACPI_PM1A_EVT, 4, 2);
	f->pm1a_cnt_blk = PC_ACPI_PM1A_CNT;
	f->pm1_cnt_len = 2;
	f->x_pm1a_cnt_blk = acpi_io_gas(PC_ACPI_PM1A_CNT, 2, 2);
	f->pm_tmr_blk = PC_ACPI_PM_TMR;
	f->pm_tmr_len = 4;
	f->x_pm_tmr_blk = acpi_io_gas(PC_ACPI_PM_TMR, 4, 3);
	f->gpe0_blk = PC_ACPI_GPE0;
	f->gpe0_blk_len = 4;
	f->x_gpe0_blk = acpi_io_gas(PC_ACPI_GPE0, 4, 1);
	/* No C2/C3: latencies above 100 and 1000 us (Table 5.9). */
	f->p_lvl2_lat = 101;
	f->p_lvl3_lat = 1001;
	f->century = 0x32;	/* the RTC's CMOS century byte */
	/* PIC, PIT, RTC, COM1 on the "ISA bus"; no i8042, no VGA. */
	f->iapc_boot_arch = BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_VGA_NOT_PRESENT;
	/* TMR_VAL_EXT clear: the PM timer is 24-bit. */
	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC |
		   FADT_RESET_REG_SUP;
	f->reset_reg = acpi_io_gas(PC_RESET_PORT, 1, 1);
	f->reset_value = PC_RESET_VALUE;
	memcpy(&f->hypervisor_vendor_id, "vSnix\0\0\0", 8);
	acpi_checksum(&f->h);
}

static void acpi_write_facs(uint8_t *p)
{
	struct acpi_facs *f = (struct acpi_facs *)p;

	memcpy(f->signature, "FACS", 4);
	f->length = sizeof(*f);
	f->version = 2;
}

static void acpi_write_madt(uint8_t *p, unsigned int nr_cpus)
{
	struct acpi_madt *m = (struct acpi_madt *)p;
	uint8_t *e = p + sizeof(*m);
	struct madt_ioapic io = { 1, sizeof(io), IOAPIC_ID, 0,
				  PC_IOAPIC_BASE, 0 };
	/* The PIT's IRQ 0 on pin 2; the SCI level, active high (5.2.12.5). */
	struct madt_iso iso[2] = {
		{ 2, sizeof(iso[0]), 0, 0, PC_PIT_GSI, 0 },
		{ 2, sizeof(iso[0]), 0, PC_ACPI_SCI_IRQ, PC_ACPI_SCI_IRQ,
		  MPS_ACTIVE_HIGH | MPS_LEVEL },
	};
	struct madt_lapic_nmi nmi = { 4, sizeof(nmi), 0xff, 0, 1 };
	unsigned int i;

	acpi_header_init(&m->h, "APIC", madt_size(nr_cpus), 5);
	m->lapic_address = PC_LAPIC_BASE;
	m->flags = MADT_PCAT_COMPAT;	/* the 8259s exist */
	for (i = 0; i < nr_cpus; i++) {
		struct madt_lapic c = { 0, sizeof(c), i, i, 1 };

		memcpy(e, &c, sizeof(c));
		e += sizeof(c);
	}
	memcpy(e, &io, sizeof(io));
	e += sizeof(io);
	memcpy(e, iso, sizeof(iso));
	e += sizeof(iso);
	memcpy(e, &nmi, sizeof(nmi));
	acpi_checksum(&m->h);
}

static void acpi_write_mcfg(uint8_t *p)
{
	struct acpi_mcfg *m = (struct acpi_mcfg *)p;

	acpi_header_init(&m->h, "MCFG", sizeof(*m), 1);
	m->base = PC_PCI_ECAM_BASE;
	m->segment = 0;
	m->start_bus = 0;
	m->end_bus = PC_PCI_BUSES - 1;
	acpi_checksum(&m->h);
}

int vx_acpi_pm_create(struct vx_vm *vm, bool reset_reg)
{
	struct vsnix_device_config c = {
		.type = VSNIX_DEV_ACPI_PM,
		.console_fd = -1,
		.acpi_pm = {
			.pm1a_evt = PC_ACPI_PM1A_EVT,
			.pm1a_cnt = PC_ACPI_PM1A_CNT,
			.gpe0 = PC_ACPI_GPE0,
			.reset_port = reset_reg ? PC_RESET_PORT : 0,
			.sci_gsi = PC_ACPI_SCI_IRQ,
			.s5_slp_typ = PC_S5_SLP_TYP,
		},
	};
	long types = vx_check_cap(vm->sys_fd, VSNIX_CAP_DEVICES);
	int r;

	if (types < 0 || !(types & (1 << VSNIX_DEV_ACPI_PM)))
		return vx_fail(ENODEV, "vsnix.ko has no ACPI PM device (VSNIX_DEV_ACPI_PM)");
	r = vx_vm_create_device(vm, &c);
	return r < 0 ? r : (int)c.id;
}

int vx_acpi_build(struct vx_vm *vm, const struct vx_acpi_config *cfg,
		  uint64_t *rsdp_gpa)
{
	struct acpi_layout l;
	uint8_t *base;

	if (cfg->flags)
		return vx_fail(EINVAL, "acpi: unknown flags 0x%x", cfg->flags);
	if (!cfg->nr_cpus || cfg->nr_cpus > VX_MAX_VCPUS)
		return vx_fail(EINVAL, "acpi: %u vCPUs (1..%u)", cfg->nr_cpus,
			       VX_MAX_VCPUS);
	acpi_layout(&l, cfg->nr_cpus);
	if (l.end > PC_BIOS_END)
		return vx_fail(ENOSPC, "acpi: the tables need 0x%llx bytes",
			       (unsigned long long)(l.end - PC_BIOS_START));
	base = vx_gpa(vm, PC_BIOS_START, l.end - PC_BIOS_START);
	if (!base)
		return vx_fail(EINVAL, "acpi: guest RAM ends before 0x%llx",
			       (unsigned long long)l.end);
	memset(base, 0, l.end - PC_BIOS_START);
	acpi_write_rsdp(base + l.rsdp - PC_BIOS_START, &l);
	acpi_write_xsdt(base + l.xsdt - PC_BIOS_START, &l);
	acpi_write_fadt(base + l.fadt - PC_BIOS_START, &l);
	acpi_write_facs(base + l.facs - PC_BIOS_START);
	acpi_write_madt(base + l.madt - PC_BIOS_START, cfg->nr_cpus);
	acpi_write_mcfg(base + l.mcfg - PC_BIOS_START);
	memcpy(base + l.dsdt - PC_BIOS_START, vx_dsdt_aml, sizeof(vx_dsdt_aml));
	*rsdp_gpa = l.rsdp;
	return 0;
}
