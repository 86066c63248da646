/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libvsnix: the ACPI tables of the vsnix PC, built without firmware
 * (lib/acpi.c; Documentation/platform.rst lists what they advertise).
 */
#ifndef VSNIX_LIBVSNIX_ACPI_H
#define VSNIX_LIBVSNIX_ACPI_H

#include <stdbool.h>
#include <stdint.h>

struct vx_vm;

struct vx_acpi_config {
	/* vCPUs 0..nr_cpus-1, LAPIC ID = vCPU id; 1..VX_MAX_VCPUS. */
	unsigned int nr_cpus;
	uint32_t flags;		/* must be 0 */
};

/*
 * Writes RSDP, XSDT, FADT, FACS, MADT, MCFG and the DSDT into guest RAM
 * at PC_BIOS_START..PC_BIOS_END (the RSDP first, 16-byte aligned, where a
 * guest's scan of 0xe0000-0xfffff finds it). The RSDP's GPA goes to
 * *rsdp_gpa (boot_params.acpi_rsdp_addr, PVH rsdp_paddr). 0 or -errno
 * (vx_errmsg() says why). The platform must match: the IOAPIC with ID 0
 * at PC_IOAPIC_BASE, VSNIX_DEV_ACPI_PM and VSNIX_DEV_PM_TIMER at the
 * ports of pc.h.
 */
int vx_acpi_build(struct vx_vm *vm, const struct vx_acpi_config *cfg,
		  uint64_t *rsdp_gpa);

/*
 * VSNIX_DEV_ACPI_PM at the ports of pc.h: the fixed hardware the FADT
 * describes (PM1a event and control, GPE0, the SCI on PC_ACPI_SCI_IRQ),
 * with the reset register at PC_RESET_PORT when reset_reg is true. A PCI
 * host bridge decodes 0xcf8-0xcff, 0xcf9 included: with one, pass false
 * and let the bridge serve the reset register. The device's id, or -errno.
 */
int vx_acpi_pm_create(struct vx_vm *vm, bool reset_reg);

/* Sum of len bytes, mod 256: 0 for a table with a right checksum. */
uint8_t vx_acpi_sum(const void *p, uint64_t len);

#endif /* VSNIX_LIBVSNIX_ACPI_H */
