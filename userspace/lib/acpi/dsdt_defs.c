// SPDX-License-Identifier: GPL-2.0
/*
 * Build-host tool: prints the values of vsnix/pc.h that dsdt.asl needs as
 * plain hex #defines. iasl folds constant expressions in a Package but not
 * in resource descriptors, and does not know C's "ull": every value the
 * DSDT uses is computed here, so pc.h stays the one source of the layout.
 */
#include <stdio.h>
#include <vsnix/pc.h>

static void def(const char *name, unsigned long long v)
{
	printf("#define %s 0x%llx\n", name, v);
}

int main(void)
{
	unsigned int slot, pin;

	def("ASL_PCI_BUS_MAX", PC_PCI_BUSES - 1);
	def("ASL_PCI_BUSES", PC_PCI_BUSES);
	def("ASL_PCI_IO_START", PC_PCI_IO_START);
	def("ASL_PCI_IO_END", PC_PCI_IO_END);
	def("ASL_PCI_IO_LEN", PC_PCI_IO_END - PC_PCI_IO_START + 1);
	def("ASL_PCI_MMIO_START", PC_PCI_MMIO_START);
	def("ASL_PCI_MMIO_END", PC_PCI_MMIO_END);
	def("ASL_PCI_MMIO_LEN", PC_PCI_MMIO_END - PC_PCI_MMIO_START + 1);
	def("ASL_ECAM_BASE", PC_PCI_ECAM_BASE);
	def("ASL_ECAM_LEN", (unsigned long long)PC_PCI_BUSES << 20);
	def("ASL_COM1_PORT", PC_COM1_PORT);
	def("ASL_COM1_IRQ", PC_COM1_IRQ);
	def("ASL_S5_SLP_TYP", PC_S5_SLP_TYP);
	/* _PRT (ACPI 6.5, 6.2.13): one entry per slot and pin, Source 0: a GSI. */
	printf("#define ASL_PRT");
	for (slot = PC_PCI_SLOT_FIRST; slot < PC_PCI_SLOTS; slot++)
		for (pin = 0; pin < 4; pin++)
			printf(" \\\n\tPackage () { 0x%04xffff, %u, 0, %u },",
			       slot, pin, PC_PCI_INTX_GSI(slot, pin));
	printf("\n");
	return 0;
}
