/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The DSDT of the vsnix PC (Documentation/platform.rst). Run through the C
 * preprocessor with dsdt_defs.h (values from vsnix/pc.h), then compiled
 * by iasl into userspace/lib (scripts/gen-dsdt.sh). Section numbers are
 * ACPI 6.5. Processors are in the MADT only: Linux needs no processor
 * objects to bring them up.
 */
#include "dsdt_defs.h"

DefinitionBlock ("", "DSDT", 2, "VSNIX", "VSNIXPC", 1)
{
    /* 7.4.2.5: SLP_TYP values for PM1a_CNT and PM1b_CNT, then reserved. */
    Name (\_S5, Package () { ASL_S5_SLP_TYP, ASL_S5_SLP_TYP, 0, 0 })

    Scope (\_SB)
    {
        /* The PCI Express root bridge (6.1.5 _HID/_CID, 6.5.5 _BBN, 6.5.6 _SEG). */
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A08"))
            Name (_CID, EisaId ("PNP0A03"))
            Name (_UID, 0)
            Name (_SEG, 0)
            Name (_BBN, 0)
            /* 6.4.3.5: the bus range and the windows the bridge forwards. */
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0, 0, ASL_PCI_BUS_MAX, 0, ASL_PCI_BUSES)
                /* Configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2). */
                IO (Decode16, 0x0cf8, 0x0cf8, 1, 8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0, ASL_PCI_IO_START, ASL_PCI_IO_END, 0, ASL_PCI_IO_LEN)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
                    NonCacheable, ReadWrite,
                    0, ASL_PCI_MMIO_START, ASL_PCI_MMIO_END, 0, ASL_PCI_MMIO_LEN)
            })
            /*
             * 6.2.13: INTx of each slot straight to a GSI (Source 0), which
             * Linux takes as level, active low, the PCI convention.
             */
            Name (_PRT, Package () { ASL_PRT })
        }

        /*
         * Motherboard resources (PNP0C02): the ECAM of the MCFG. Linux uses
         * MMCONFIG only where the firmware reserves it (PCI Firmware 3.2, 4.1.2).
         */
        Device (MRES)
        {
            Name (_HID, EisaId ("PNP0C02"))
            Name (_UID, 1)
            Name (_CRS, ResourceTemplate ()
            {
                Memory32Fixed (ReadWrite, ASL_ECAM_BASE, ASL_ECAM_LEN)
            })
        }

        /* COM1, the 16550 vsnixctl gives every PC guest. */
        Device (COM1)
        {
            Name (_HID, EisaId ("PNP0501"))
            Name (_UID, 1)
            Name (_CRS, ResourceTemplate ()
            {
                IO (Decode16, ASL_COM1_PORT, ASL_COM1_PORT, 1, 8)
                IRQNoFlags () { ASL_COM1_IRQ }
            })
        }
    }
}
