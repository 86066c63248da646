// SPDX-License-Identifier: GPL-2.0
/*
 * The PCI host bridge (VSNIX_DEV_PCI_HOST): function 00.0 and the two
 * ways to reach every function's configuration space.
 *  - Configuration mechanism 1 (PCI Local Bus Specification 3.0 section
 *    3.2.2.3.2): a dword write to CONFIG_ADDRESS (0xcf8) selects enable
 *    (bit 31), bus (23:16), device (15:11), function (10:8) and dword
 *    register (7:2); byte, word or dword accesses to CONFIG_DATA
 *    (0xcfc-0xcff) reach that dword at the port's byte offset. Other sizes
 *    at 0xcf8 are not CONFIG_ADDRESS: ignored, reading all ones; the
 *    bridge claims 0xcf8 (wide, for the dword) and 0xcfc-0xcff, leaving
 *    0xcf9, the chipset's reset control register, to another device.
 *  - ECAM (PCI Express Base Specification 7.2.2): 4 KiB per function at
 *    ecam_base + (bus << 20 | device << 15 | function << 12).
 * An absent function reads all ones and ignores writes (PCI 3.0 6.1).
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/slab.h>
#include "pci_internal.h"
#include "../core/irq.h"
#include "../devices/devices.h"

#define PCI_CF8_PORT		0xcf8
#define PCI_CF8_ENABLE		BIT(31)
#define PCI_CF8_MASK		(PCI_CF8_ENABLE | 0x00fffffcu)
#define PCI_CFC_PORT		0xcfc

struct vsnix_pci_host {
	/*
	 * 0xcf8 (the device; wide: dword CONFIG_ADDRESS), ECAM, 0xcfc-0xcff.
	 * 0xcf9-0xcfb stay free for the reset control register (acpi_pm.c).
	 */
	struct vsnix_io_device io[3];
	atomic_t refs;			/* creator, ranges, functions */
	struct vsnix_vm *vm;
	u64 ecam_base;
	u64 mmio_base, mmio_size;
	u32 nr_buses;
	u32 intx_gsi_base;
	u32 cf8;			/* CONFIG_ADDRESS */
	spinlock_t lock;		/* funcs[], intx_count[] */
	struct vsnix_pci_func *funcs[VSNIX_PCI_NR_DEVFN];	/* bus 0 */
	u8 intx_count[4];		/* functions asserting each GSI */
	struct vsnix_pci_func bridge;	/* 00.0 */
};

void vsnix_pci_host_put(struct vsnix_pci_host *host)
{
	if (atomic_dec_and_test(&host->refs))
		kfree(host);
}

int vsnix_pci_host_slot_free(struct vsnix_pci_host *host, u8 devfn,
			     const char *who)
{
	if (!host) {
		pr_warn_ratelimited("%s: no PCI host bridge (create VSNIX_DEV_PCI_HOST first)\n",
				    who);
		return -ENODEV;
	}
	lockdep_assert_held(&host->vm->lock);
	if (READ_ONCE(host->funcs[devfn])) {
		pr_warn_ratelimited("%s: PCI slot %u function %u is taken\n",
				    who, PCI_SLOT(devfn), PCI_FUNC(devfn));
		return -EEXIST;
	}
	return 0;
}

void vsnix_pci_host_attach(struct vsnix_pci_host *host,
			   struct vsnix_pci_func *f)
{
	lockdep_assert_held(&host->vm->lock);
	lockdep_assert_held(&f->lock);
	atomic_inc(&host->refs);
	f->host = host;
	vsnix_pci_func_get(f);			/* the table's reference */
	spin_lock(&host->lock);
	host->funcs[f->devfn] = f;
	spin_unlock(&host->lock);
}

void vsnix_pci_host_detach(struct vsnix_pci_host *host,
			   struct vsnix_pci_func *f)
{
	bool found;

	if (!host)
		return;
	spin_lock(&host->lock);
	found = host->funcs[f->devfn] == f;
	if (found)
		host->funcs[f->devfn] = NULL;
	spin_unlock(&host->lock);
	if (found)
		vsnix_pci_func_put(f);
}

u32 vsnix_pci_host_intx_gsi(struct vsnix_pci_host *host, unsigned int slot,
			    unsigned int pin)
{
	return host->intx_gsi_base + ((slot + pin) & 3);
}

void vsnix_pci_host_intx(struct vsnix_pci_host *host, u32 gsi, bool level)
{
	unsigned int i = gsi - host->intx_gsi_base;
	unsigned long flags;
	bool change;

	if (WARN_ON_ONCE(i > 3))
		return;
	spin_lock_irqsave(&host->lock, flags);
	if (level)
		change = !host->intx_count[i]++;
	else
		change = host->intx_count[i] && !--host->intx_count[i];
	if (change)
		vsnix_irq_set_line(host->vm, gsi, level);
	spin_unlock_irqrestore(&host->lock, flags);
}

bool vsnix_pci_host_bar_ok(struct vsnix_pci_host *host, u64 base, u64 size)
{
	return base && IS_ALIGNED(base, size) && base >= host->mmio_base &&
	       base - host->mmio_base + size <= host->mmio_size;
}

/* The function at bus/devfn with a reference, or NULL. */
static struct vsnix_pci_func *host_func_get(struct vsnix_pci_host *host,
					    u32 bus, u32 devfn)
{
	struct vsnix_pci_func *f;
	unsigned long flags;

	if (bus)
		return NULL;	/* buses 1..n-1 are empty */
	spin_lock_irqsave(&host->lock, flags);
	f = host->funcs[devfn];
	if (f)
		vsnix_pci_func_get(f);
	spin_unlock_irqrestore(&host->lock, flags);
	return f;
}

/* One access within the dword at reg; all ones where nothing answers. */
static void host_cfg(struct vsnix_pci_host *host, u32 bus, u32 devfn, u32 reg,
		     unsigned int len, void *val, bool write)
{
	struct vsnix_pci_func *f = host_func_get(host, bus, devfn);

	if (!f) {
		if (!write)
			vsnix_pio_fill(val, len, ~0u);
		return;
	}
	if (write)
		vsnix_pci_cfg_write(f, reg, len, vsnix_pio_value(val, len));
	else
		vsnix_pio_fill(val, len, vsnix_pci_cfg_read(f, reg, len));
	vsnix_pci_func_put(f);
}

static struct vsnix_pci_host *io_to_host(struct vsnix_io_device *io)
{
	if (io->bus == VSNIX_BUS_MMIO)
		return container_of(io, struct vsnix_pci_host, io[1]);
	if (io->base == PCI_CFC_PORT)
		return container_of(io, struct vsnix_pci_host, io[2]);
	return container_of(io, struct vsnix_pci_host, io[0]);
}

static int host_pio(struct vsnix_io_device *io, u64 port, unsigned int len,
		    void *val, bool write)
{
	struct vsnix_pci_host *host = io_to_host(io);
	u32 a;

	if (port == PCI_CF8_PORT && len == 4) {
		if (write)
			WRITE_ONCE(host->cf8, vsnix_pio_value(val, 4) &
				   PCI_CF8_MASK);
		else
			vsnix_pio_fill(val, 4, READ_ONCE(host->cf8));
		return VSNIX_IO_DONE;
	}
	a = READ_ONCE(host->cf8);
	if (port < PCI_CFC_PORT || !(a & PCI_CF8_ENABLE)) {
		if (!write)
			vsnix_pio_fill(val, len, ~0u);
		return VSNIX_IO_DONE;
	}
	host_cfg(host, (a >> 16) & 0xff, (a >> 8) & 0xff,
		 (a & 0xfc) + (port - PCI_CFC_PORT), len, val, write);
	return VSNIX_IO_DONE;
}

static int host_ecam(struct vsnix_io_device *io, u64 addr, unsigned int len,
		     void *val, bool write)
{
	struct vsnix_pci_host *host = io_to_host(io);
	u64 off = addr - io->base;
	u32 reg = off & 0xfff;

	/* A qword: two dwords (PCIe 7.2.2 allows the split). */
	if (len == 8 && !(reg & 7)) {
		host_ecam(io, addr, 4, val, write);
		return host_ecam(io, addr + 4, 4, val + 4, write);
	}
	if (len > 4 || (reg & 3) + len > 4) {
		if (!write)
			memset(val, 0xff, len);
		return VSNIX_IO_DONE;
	}
	host_cfg(host, off >> 20, (off >> 12) & 0xff, reg, len, val, write);
	return VSNIX_IO_DONE;
}

static int host_read(struct vsnix_io_device *io, struct vsnix_vcpu *vcpu,
		     u64 addr, unsigned int len, void *val)
{
	if (io->bus == VSNIX_BUS_PIO)
		return host_pio(io, addr, len, val, false);
	return host_ecam(io, addr, len, val, false);
}

static int host_write(struct vsnix_io_device *io, struct vsnix_vcpu *vcpu,
		      u64 addr, unsigned int len, const void *val)
{
	if (io->bus == VSNIX_BUS_PIO)
		return host_pio(io, addr, len, (void *)val, true);
	return host_ecam(io, addr, len, (void *)val, true);
}

static void host_destroy(struct vsnix_io_device *io)
{
	struct vsnix_pci_host *host = io_to_host(io);
	struct vsnix_vm *vm = host->vm;

	if (io == &host->io[0]) {
		vsnix_dev_unregister_extra(vm, host->io, 3);
		mutex_lock(&vm->lock);
		if (vm->pci == host)
			vm->pci = NULL;
		mutex_unlock(&vm->lock);
	}
	vsnix_pci_host_put(host);
}

static void host_reset(struct vsnix_io_device *io)
{
	WRITE_ONCE(io_to_host(io)->cf8, 0);
}

static const struct vsnix_io_ops host_io_ops = {
	.type = VSNIX_DEV_PCI_HOST,
	.read = host_read,
	.write = host_write,
	.destroy = host_destroy,
	.reset = host_reset,
};

/* The bridge function has no BARs and stays for the host's life. */
static int bridge_bar(struct vsnix_pci_func *f, struct vsnix_vcpu *vcpu,
		      unsigned int bar, u64 off, unsigned int len, void *val)
{
	return VSNIX_IO_DONE;
}

static int bridge_bar_write(struct vsnix_pci_func *f, struct vsnix_vcpu *vcpu,
			    unsigned int bar, u64 off, unsigned int len,
			    const void *val)
{
	return VSNIX_IO_DONE;
}

static void bridge_nop(struct vsnix_pci_func *f)
{
}

static const struct vsnix_pci_func_ops bridge_ops = {
	.bar_read = bridge_bar,
	.bar_write = bridge_bar_write,
	.remove = bridge_nop,
	.free = bridge_nop,
};

static int host_check(struct vsnix_vm *vm,
		      const struct vsnix_pci_host_config *c)
{
	u64 ecam_size = (u64)c->nr_buses << 20;

	if (memchr_inv(c->reserved, 0, sizeof(c->reserved))) {
		pr_warn_ratelimited("pci host: reserved must be zero\n");
		return -EINVAL;
	}
	if (vm->pci) {
		pr_warn_ratelimited("pci host: the VM has one already\n");
		return -EEXIST;
	}
	if (!c->nr_buses || c->nr_buses > 256 ||
	    !IS_ALIGNED(c->ecam_base, SZ_1M) ||
	    c->ecam_base + ecam_size > BIT_ULL(VSNIX_GPA_BITS)) {
		pr_warn_ratelimited("pci host: ECAM at 0x%llx for %u buses: want 1..256 buses, 1 MiB aligned, in guest-physical space\n",
				    c->ecam_base, c->nr_buses);
		return -EINVAL;
	}
	if (!c->mmio_size || !IS_ALIGNED(c->mmio_base | c->mmio_size, SZ_4K) ||
	    c->mmio_base + c->mmio_size > BIT_ULL(32) ||
	    c->mmio_base + c->mmio_size < c->mmio_base ||
	    (c->mmio_base < c->ecam_base + ecam_size &&
	     c->ecam_base < c->mmio_base + c->mmio_size)) {
		pr_warn_ratelimited("pci host: BAR window 0x%llx+0x%llx: want 4 KiB aligned, below 4 GiB, apart from ECAM\n",
				    c->mmio_base, c->mmio_size);
		return -EINVAL;
	}
	if (c->intx_gsi_base > 1020) {
		pr_warn_ratelimited("pci host: INTx GSI base %u is too high\n",
				    c->intx_gsi_base);
		return -EINVAL;
	}
	return 0;
}

int vsnix_pci_host_create(struct vsnix_vm *vm,
			  const struct vsnix_pci_host_config *c)
{
	struct vsnix_pci_host *host;
	int ret;

	lockdep_assert_held(&vm->lock);
	ret = host_check(vm, c);
	if (ret)
		return ret;
	host = kzalloc(sizeof(*host), GFP_KERNEL_ACCOUNT);
	if (!host)
		return -ENOMEM;
	host->vm = vm;
	host->ecam_base = c->ecam_base;
	host->nr_buses = c->nr_buses;
	host->mmio_base = c->mmio_base;
	host->mmio_size = c->mmio_size;
	host->intx_gsi_base = c->intx_gsi_base;
	spin_lock_init(&host->lock);
	vsnix_pci_func_init(&host->bridge, VSNIX_PCI_HOST_VENDOR,
			    VSNIX_PCI_HOST_DEVICE, 0,
			    PCI_CLASS_BRIDGE_HOST << 8, 0, 0);
	host->bridge.ops = &bridge_ops;
	host->bridge.vm = vm;
	host->funcs[0] = &host->bridge;
	host->io[0] = (struct vsnix_io_device){ .bus = VSNIX_BUS_PIO,
		.base = PCI_CF8_PORT, .len = 1, .wide = true,
		.ops = &host_io_ops };
	host->io[2] = (struct vsnix_io_device){ .bus = VSNIX_BUS_PIO,
		.base = PCI_CFC_PORT, .len = 4, .ops = &host_io_ops };
	host->io[1] = (struct vsnix_io_device){ .bus = VSNIX_BUS_MMIO,
		.base = c->ecam_base, .len = (u64)c->nr_buses << 20,
		.ops = &host_io_ops };
	atomic_set(&host->refs, 1);	/* the creator's */
	ret = vsnix_dev_register_extra(vm, host->io, 3,
				       &host->refs, "pci host");
	if (ret)
		goto out;
	atomic_inc(&host->refs);
	vm->pci = host;
	ret = vsnix_dev_register(vm, &host->io[0], "pci host");
	if (ret < 0) {
		vm->pci = NULL;
		atomic_dec(&host->refs);
		vsnix_dev_unregister_extra(vm, host->io, 3);
	}
out:
	vsnix_pci_host_put(host);
	return ret;
}
