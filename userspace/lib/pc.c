// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix: the PC platform of include/vsnix/pc.h in the kernel, for
 * firmware-less x86 guests (Linux): a local APIC per vCPU, the IOAPIC,
 * the 8259A pair, the 8254 PIT, the CMOS RTC, the ACPI PM timer, COM1 and
 * the exit port. One function, so every device of the platform is added
 * in one place (ACPI, PCI and virtio add theirs here).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vsnix/libvsnix.h"
#include "vsnix/boot.h"
#include "vsnix/pc.h"
#include "vsnix/acpi.h"

static int pc_device(struct vx_vm *vm, struct vsnix_device_config *c)
{
	if (!c->console_fd)
		c->console_fd = -1;
	return vx_vm_create_device(vm, c);
}

/* The chipset: IOAPIC, PIC, PIT, RTC, PM timer (each in vsnix.ko). */
static int pc_chipset(struct vx_vm *vm, const struct vx_pc *pc)
{
	struct vsnix_device_config c;
	int r;

	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_IOAPIC;
	/* ID 0, as the MADT says (its own ID space, apart from the LAPICs'). */
	c.ioapic.id = 0;
	c.ioapic.base = PC_IOAPIC_BASE;
	r = pc_device(vm, &c);
	if (r)
		return r;
	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_PIC;
	r = pc_device(vm, &c);
	if (r)
		return r;
	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_PIT;
	r = pc_device(vm, &c);
	if (r)
		return r;
	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_RTC;
	c.rtc.ram_size = pc->mem_size;
	r = pc_device(vm, &c);
	if (r)
		return r;
	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_PM_TIMER;
	c.pm_timer.port = PC_ACPI_PM_TMR;
	return pc_device(vm, &c);
}

/*
 * COM1 on the console fd, on ISA IRQ 4 where vsnix.ko has the UART's
 * interrupt line (VSNIX_CAP_UART_IRQ; else Linux polls it), and the exit
 * port (a guest's way out).
 */
static int pc_io(struct vx_vm *vm, struct vx_pc *pc)
{
	struct vsnix_device_config c;
	int r;

	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_UART16550;
	c.console_fd = pc->console_fd;
	c.uart.base = PC_COM1_PORT;
	if (vx_check_cap(vm->sys_fd, VSNIX_CAP_UART_IRQ) > 0) {
		c.uart.flags = VSNIX_UART_HAS_IRQ;
		c.uart.gsi = PC_COM1_IRQ;
	}
	r = vx_vm_create_device(vm, &c);
	if (r)
		return r;
	pc->com1_id = c.id;
	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_EXIT_PORT;
	c.exit_port.port = VX_PC_EXIT_PORT;
	return pc_device(vm, &c);
}

/* The next free slot on bus 0 and its BAR in the PCI window of pc.h. */
static int pc_pci_place(struct vx_pc *pc, struct vsnix_pci_placement *p)
{
	uint64_t bar;

	if (pc->next_slot < PC_PCI_SLOT_FIRST)
		pc->next_slot = PC_PCI_SLOT_FIRST;
	bar = PC_PCI_MMIO_START + (uint64_t)(pc->next_slot - PC_PCI_SLOT_FIRST) *
	      PC_PCI_BAR_SIZE;
	if (pc->next_slot >= PC_PCI_SLOTS ||
	    bar + PC_PCI_BAR_SIZE - 1 > PC_PCI_MMIO_END)
		return vx_fail(ENOSPC, "no free PCI slot");
	memset(p, 0, sizeof(*p));
	p->slot = pc->next_slot++;
	p->bar_base = bar;
	return 0;
}

/* One virtio-blk function per disk, one queue per vCPU. */
static int pc_disk(struct vx_vm *vm, struct vx_pc *pc, const struct vx_disk *d)
{
	struct vsnix_device_config c;
	int fd, r;

	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_VIRTIO_BLK;
	c.console_fd = -1;
	r = pc_pci_place(pc, &c.virtio_blk.pci);
	if (r)
		return r;
	if (d->serial && strlen(d->serial) > VSNIX_VIRTIO_BLK_SERIAL_LEN)
		return vx_fail(EINVAL, "disk %s: serial longer than %d bytes",
			       d->path, VSNIX_VIRTIO_BLK_SERIAL_LEN);
	if (d->serial)
		memcpy(c.virtio_blk.serial, d->serial, strlen(d->serial));
	fd = open(d->path, (d->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return vx_fail(errno, "disk %s: %s", d->path, strerror(errno));
	c.virtio_blk.fd = fd;
	c.virtio_blk.flags = d->read_only ? VSNIX_VIRTIO_BLK_RO : 0;
	c.virtio_blk.nr_queues = pc->nr_cpus < VSNIX_VIRTIO_BLK_MAX_QUEUES ?
				 pc->nr_cpus : VSNIX_VIRTIO_BLK_MAX_QUEUES;
	r = vx_vm_create_device(vm, &c);
	/* The device holds its own reference to the file. */
	close(fd);
	return r;
}

/*
 * The PCI host bridge the ACPI tables describe (MCFG, PCI0), where the
 * module has one; the virtio functions need it.
 */
static int pc_pci_host(struct vx_vm *vm, struct vx_pc *pc)
{
	struct vsnix_device_config c;

	if (!(vx_check_cap(vm->sys_fd, VSNIX_CAP_DEVICES) &
	      (1 << VSNIX_DEV_PCI_HOST))) {
		if (pc->nr_disks || pc->virtio_console || pc->nr_nics ||
		    pc->virtio_rng)
			return vx_fail(ENODEV, "vsnix.ko has no PCI host bridge: no virtio devices");
		return 0;
	}
	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_PCI_HOST;
	c.console_fd = -1;
	c.pci_host.ecam_base = PC_PCI_ECAM_BASE;
	c.pci_host.nr_buses = PC_PCI_BUSES;
	c.pci_host.intx_gsi_base = PC_PCI_INTX_GSI(0, 0);
	c.pci_host.mmio_base = PC_PCI_MMIO_START;
	c.pci_host.mmio_size = PC_PCI_MMIO_END + 1 - PC_PCI_MMIO_START;
	return vx_vm_create_device(vm, &c);
}

static int pc_virtio(struct vx_vm *vm, struct vx_pc *pc)
{
	struct vsnix_device_config c;
	unsigned int i;
	int r;

	r = pc_pci_host(vm, pc);
	if (r)
		return r;
	for (i = 0; i < pc->nr_disks; i++) {
		r = pc_disk(vm, pc, &pc->disks[i]);
		if (r)
			return r;
	}
	for (i = 0; i < pc->nr_nics; i++) {
		struct vsnix_pci_placement p;

		r = pc_pci_place(pc, &p);
		if (!r)
			r = vx_virtio_net_create(vm, pc->nics[i].fds,
						 pc->nics[i].nr_fds,
						 pc->nics[i].mac, &p);
		if (r)
			return r;
	}
	if (pc->virtio_console) {
		memset(&c, 0, sizeof(c));
		c.type = VSNIX_DEV_VIRTIO_CONSOLE;
		c.console_fd = pc->console_fd;
		r = pc_pci_place(pc, &c.virtio_console.pci);
		r = r ? r : vx_vm_create_device(vm, &c);
		if (r < 0)
			return r;
	}
	if (!pc->virtio_rng)
		return 0;
	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_VIRTIO_RNG;
	c.console_fd = -1;
	r = pc_pci_place(pc, &c.virtio_rng.pci);
	r = r ? r : vx_vm_create_device(vm, &c);
	return r < 0 ? r : 0;
}

/* The ACPI tables in the BIOS area; pc->rsdp for the boot protocols. */
static int pc_acpi(struct vx_vm *vm, struct vx_pc *pc)
{
	struct vx_acpi_config cfg = { .nr_cpus = pc->nr_cpus };

	return vx_acpi_build(vm, &cfg, &pc->rsdp);
}

int vx_pc_platform_create(struct vx_vm *vm, struct vx_pc *pc)
{
	int r;

	if (!pc->nr_cpus)
		pc->nr_cpus = 1;
	if (vm->nr_vcpus)
		return vx_fail(EINVAL, "the PC platform must exist before the vCPUs");
	if (vx_check_cap(vm->sys_fd, VSNIX_CAP_LAPIC) <= 0)
		return vx_fail(ENODEV, "vsnix.ko has no in-kernel LAPIC (VSNIX_CAP_LAPIC): a PC guest needs one");
	if (ioctl(vm->fd, VSNIX_CREATE_LAPIC, 0) < 0)
		return vx_fail(errno, "VSNIX_CREATE_LAPIC: %s", strerror(errno));
	r = pc_chipset(vm, pc);
	if (!r)
		r = pc_io(vm, pc);
	/*
	 * ACPI PM: PM1, GPE0, the SCI and the reset register at 0xcf9. With
	 * the PCI host bridge (which decodes 0xcf8-0xcff): false here, and
	 * the bridge serves 0xcf9 (vsnix/acpi.h).
	 */
	if (!r) {
		r = vx_acpi_pm_create(vm, true);
		r = r < 0 ? r : 0;
	}
	/* More platform devices (PCI host, virtio) go here. */
	if (!r)
		r = pc_acpi(vm, pc);
	if (!r)
		r = pc_virtio(vm, pc);
	return r;
}

/*
 * Anonymous RAM aligned to 2 MiB and marked for huge pages, as QEMU does:
 * with THP behind it, the NPT/EPT maps 2 MiB leaves (guest-physical and
 * host addresses agree mod 2 MiB), which a Linux guest's big direct map
 * walks far less than 4 KiB ones.
 */
static int pc_alloc_ram(struct vx_vm *vm, uint64_t size)
{
	uint64_t huge = VX_HUGE_PAGE_SIZE, head;
	uint8_t *p;

	if (vm->mem)
		return vx_fail(EEXIST, "the VM has guest RAM already");
	size = (size + huge - 1) & ~(huge - 1);
	p = mmap(NULL, size + huge, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return vx_fail(errno, "cannot allocate %llu MiB of guest memory: %s",
			       (unsigned long long)(size >> 20), strerror(errno));
	head = (huge - ((uintptr_t)p & (huge - 1))) & (huge - 1);
	if (head)
		munmap(p, head);
	if (huge - head)
		munmap(p + head + size, huge - head);
	vm->mem = p + head;
	vm->mem_size = size;
	vm->mem_fd = -1;
	(void)madvise(vm->mem, size, MADV_HUGEPAGE);
	return 0;
}

int vx_pc_ram(struct vx_vm *vm, uint64_t size)
{
	uint64_t low;
	int r;

	r = pc_alloc_ram(vm, size);
	if (r)
		return r;
	low = vm->mem_size < PC_LOW_RAM_END ? vm->mem_size : PC_LOW_RAM_END;
	r = vx_vm_set_region(vm, 0, 0, 0, low, vm->mem);
	if (r || low == vm->mem_size)
		return r;
	/* Above 3 GiB the PCI hole, ECAM and the APICs: the rest at 4 GiB. */
	return vx_vm_set_region(vm, 1, 0, PC_HIGH_RAM_START, vm->mem_size - low,
				vm->mem + low);
}

static void e820_add(struct vx_e820_entry *map, unsigned int *n, uint64_t addr,
		     uint64_t size, uint32_t type)
{
	if (size && *n < VX_E820_MAX)
		map[(*n)++] = (struct vx_e820_entry){ addr, size, type };
}

unsigned int vx_pc_e820(const struct vx_vm *vm, struct vx_e820_entry *map)
{
	uint64_t low = vm->mem_size < PC_LOW_RAM_END ? vm->mem_size : PC_LOW_RAM_END;
	unsigned int n = 0;

	e820_add(map, &n, 0, PC_EBDA_START, VX_E820_RAM);
	e820_add(map, &n, PC_EBDA_START, 0xa0000 - PC_EBDA_START, VX_E820_RESERVED);
	/* The BIOS area holds the ACPI tables (and the RSDP a scan finds). */
	e820_add(map, &n, PC_BIOS_START, PC_BIOS_END - PC_BIOS_START, VX_E820_RESERVED);
	e820_add(map, &n, PC_BIOS_END, low - PC_BIOS_END, VX_E820_RAM);
	e820_add(map, &n, PC_PCI_ECAM_BASE, PC_PCI_BUSES << 20, VX_E820_RESERVED);
	e820_add(map, &n, PC_IOAPIC_BASE, 0x1000, VX_E820_RESERVED);
	e820_add(map, &n, PC_LAPIC_BASE, 0x1000, VX_E820_RESERVED);
	e820_add(map, &n, PC_HIGH_RAM_START, vm->mem_size - low, VX_E820_RAM);
	return n;
}

/* An AP waits for INIT/SIPI (SDM Vol 3A, 8.4), as after reset. */
static int pc_ap_park(struct vx_vcpu *ap)
{
	struct vsnix_vcpu_events ev;

	if (ioctl(ap->fd, VSNIX_GET_VCPU_EVENTS, &ev) < 0)
		return vx_fail(errno, "vCPU %u: VSNIX_GET_VCPU_EVENTS: %s", ap->id,
			       strerror(errno));
	ev.mp_state = VSNIX_MP_WAIT_FOR_SIPI;
	if (ioctl(ap->fd, VSNIX_SET_VCPU_EVENTS, &ev) < 0)
		return vx_fail(errno, "vCPU %u: wait-for-SIPI: %s", ap->id,
			       strerror(errno));
	return 0;
}

int vx_pc_vcpus(struct vx_vm *vm, struct vx_boot *b, struct vx_pc *pc)
{
	unsigned int i, n = b->nr_cpus ?: 1;
	struct vx_vcpu *ap;
	int r;

	if (n > VX_MAX_VCPUS)
		return vx_fail(EINVAL, "%u vCPUs: at most %d", n, VX_MAX_VCPUS);
	pc->nr_cpus = n;
	pc->mem_size = vm->mem_size;
	pc->console_fd = b->console_fd;
	pc->disks = b->disks;
	pc->nr_disks = b->nr_disks;
	pc->virtio_console = b->virtio_console;
	pc->virtio_rng = b->virtio_rng;
	pc->nics = b->nics;
	pc->nr_nics = b->nr_nics;
	r = vx_pc_platform_create(vm, pc);
	if (!r)
		r = vx_vcpu_create(vm, 0, &b->vcpu);
	for (i = 1; !r && i < n; i++) {
		r = vx_vcpu_create(vm, i, &ap);
		if (!r)
			r = pc_ap_park(ap);
	}
	if (r)
		return r;
	b->console_id = pc->com1_id;
	b->default_cpuid = vx_vm_set_cpuid_host(vm) != 0;
	return 0;
}
