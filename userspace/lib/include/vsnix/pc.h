/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PC platform vsnix gives Linux (and any firmware-less x86) guests:
 * where RAM, the chipset, PCI and the ACPI tables sit. One place, so the
 * loader, the ACPI tables (MADT, FADT, MCFG, the DSDT's PCI0 _CRS and
 * _PRT) and the devices agree. Documentation/platform.rst describes it.
 */
#ifndef VSNIX_LIBVSNIX_PC_H
#define VSNIX_LIBVSNIX_PC_H

/* ---- guest-physical layout ---- */
/* RAM: [0, min(size, PC_LOW_RAM_END)) and the rest from 4 GiB. */
#define PC_LOW_RAM_END		0xc0000000ull	/* 3 GiB */
#define PC_HIGH_RAM_START	0x100000000ull
/* e820 reserved: the EBDA and BIOS area, where the ACPI tables live. */
#define PC_EBDA_START		0x9fc00ull
#define PC_BIOS_START		0xe0000ull	/* RSDP scan area 0xe0000-0xfffff */
#define PC_BIOS_END		0x100000ull
/* PCI: 32-bit BAR window, ECAM (bus 0 .. PC_PCI_BUSES - 1). */
#define PC_PCI_MMIO_START	0xc0000000ull
#define PC_PCI_MMIO_END		0xdfffffffull	/* inclusive */
#define PC_PCI_ECAM_BASE	0xe0000000ull
#define PC_PCI_BUSES		1		/* 1 MiB of ECAM */
#define PC_PCI_IO_START		0xc000		/* I/O BAR window */
#define PC_PCI_IO_END		0xffff
#define PC_IOAPIC_BASE		0xfec00000ull
#define PC_LAPIC_BASE		0xfee00000ull

/* ---- ports ---- */
#define PC_COM1_PORT		0x3f8
#define PC_COM1_IRQ		4
#define PC_ACPI_PM1A_EVT	0x600	/* 4 bytes: PM1a_STS, PM1a_EN */
#define PC_ACPI_PM1A_CNT	0x604	/* 2 bytes */
#define PC_ACPI_PM_TMR		0x608	/* 4 bytes, 24-bit (TMR_VAL_EXT = 0) */
#define PC_ACPI_GPE0		0x620	/* 4 bytes: GPE0_STS, GPE0_EN */
#define PC_ACPI_SCI_IRQ		9	/* level, active high (MADT override) */
#define PC_RESET_PORT		0xcf9	/* FADT RESET_REG, value PC_RESET_VALUE */
#define PC_RESET_VALUE		0x06
#define PC_S5_SLP_TYP		5	/* \_S5 package, PM1_CNT SLP_TYP */

/* ---- interrupts ---- */
/*
 * ISA IRQ n is GSI n, except IRQ 0 (the PIT), which is GSI 2 (a MADT
 * interrupt source override, as on every chipset since the IOAPIC).
 * PCI INTx: slot s, pin p (0 = INTA) is GSI 16 + ((s + p) & 3), level,
 * active low (the DSDT's _PRT).
 */
#define PC_PIT_GSI		2
#define PC_PCI_INTX_GSI(slot, pin)	(16 + (((slot) + (pin)) & 3))

/* ---- PCI slots vsnixctl hands out (bus 0) ---- */
#define PC_PCI_SLOT_FIRST	1	/* 0 is the host bridge */
#define PC_PCI_SLOTS		32
#define PC_PCI_BAR_SIZE		0x4000	/* each virtio function's BAR */

#endif /* VSNIX_LIBVSNIX_PC_H */
