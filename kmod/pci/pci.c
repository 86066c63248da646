// SPDX-License-Identifier: GPL-2.0
/*
 * PCI functions: the type 0 configuration header, BARs and the capability
 * list (PCI Local Bus Specification 3.0, "PCI 3.0" below, chapter 6),
 * MSI-X (6.8.2) and INTx. The host bridge that routes configuration
 * accesses here is host.c.
 *
 * Configuration space is an image (f->s.cfg) with a mask of the bits the
 * guest may write (f->wmask) and of the write-1-to-clear bits (f->w1c);
 * a write merges through them, then the side effects run: BAR moves,
 * memory decoding, INTx Disable, MSI-X Enable and Function Mask.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/slab.h>
#include "pci.h"
#include "pci_internal.h"
#include "../core/irq.h"
#include "../devices/devices.h"

/* A BAR mapped on the MMIO bus at its current base. */
struct vsnix_pci_bar_map {
	struct vsnix_io_device io;
	struct vsnix_pci_func *f;
	unsigned int bar;
};

void vsnix_pci_func_get(struct vsnix_pci_func *f)
{
	refcount_inc(&f->refs);
}

void vsnix_pci_func_put(struct vsnix_pci_func *f)
{
	if (refcount_dec_and_test(&f->refs)) {
		if (f->host)
			vsnix_pci_host_put(f->host);
		f->ops->free(f);
	}
}

static u32 cfg_get(const struct vsnix_pci_func *f, u32 off, u32 len)
{
	u32 v = 0;

	memcpy(&v, f->s.cfg + off, len);
	return le32_to_cpu(v);
}

static void cfg_set(struct vsnix_pci_func *f, u32 off, u32 len, u32 v)
{
	__le32 le = cpu_to_le32(v);

	memcpy(f->s.cfg + off, &le, len);
}

static void mask_set(u8 *mask, u32 off, u32 len, u32 v)
{
	__le32 le = cpu_to_le32(v);

	memcpy(mask + off, &le, len);
}

void vsnix_pci_func_init(struct vsnix_pci_func *f, u16 vendor, u16 device,
			 u8 revision, u32 class, u16 subsys_vendor, u16 subsys)
{
	refcount_set(&f->refs, 1);
	mutex_init(&f->lock);
	spin_lock_init(&f->irq_lock);
	cfg_set(f, PCI_VENDOR_ID, 2, vendor);
	cfg_set(f, PCI_DEVICE_ID, 2, device);
	cfg_set(f, PCI_REVISION_ID, 1, revision);
	cfg_set(f, PCI_CLASS_PROG, 3, class);
	cfg_set(f, PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL);
	cfg_set(f, PCI_SUBSYSTEM_VENDOR_ID, 2, subsys_vendor);
	cfg_set(f, PCI_SUBSYSTEM_ID, 2, subsys);
	/* Command: I/O and memory decoding, bus master, INTx Disable. */
	mask_set(f->wmask, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
		 PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
		 PCI_COMMAND_INTX_DISABLE);
	/* Status: the error bits are RW1C (PCI 3.0 6.2.3). */
	mask_set(f->w1c, PCI_STATUS, 2, PCI_STATUS_PARITY |
		 PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_REC_TARGET_ABORT |
		 PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR |
		 PCI_STATUS_DETECTED_PARITY);
	f->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	f->wmask[PCI_LATENCY_TIMER] = 0xff;
	f->wmask[PCI_INTERRUPT_LINE] = 0xff;
	f->cap_end = PCI_STD_HEADER_SIZEOF;
}

void vsnix_pci_func_add_bar(struct vsnix_pci_func *f, unsigned int bar,
			    u64 size, u64 base)
{
	u32 off = PCI_BASE_ADDRESS_0 + 4 * bar;

	f->bar_size[bar] = size;
	/* Size by writing all ones: the bits below size read 0 (6.2.5.1). */
	mask_set(f->wmask, off, 4, ~(u32)(size - 1));
	cfg_set(f, off, 4, (u32)base | PCI_BASE_ADDRESS_SPACE_MEMORY |
		PCI_BASE_ADDRESS_MEM_TYPE_32);
}

u8 vsnix_pci_func_add_cap(struct vsnix_pci_func *f, u8 id, u8 len)
{
	u8 at = ALIGN(f->cap_end, 4);

	if (len < 2 || at + len > VSNIX_PCI_CFG_SIZE)
		return 0;
	f->s.cfg[at] = id;
	f->s.cfg[at + 1] = 0;
	if (f->cap_last)
		f->s.cfg[f->cap_last + 1] = at;
	else
		f->s.cfg[PCI_CAPABILITY_LIST] = at;
	cfg_set(f, PCI_STATUS, 2, cfg_get(f, PCI_STATUS, 2) |
		PCI_STATUS_CAP_LIST);
	f->cap_last = at;
	f->cap_end = at + len;
	return at;
}

int vsnix_pci_func_add_msix(struct vsnix_pci_func *f, u16 nr,
			    unsigned int bar, u32 table_off, u32 pba_off)
{
	u8 at;
	u16 v;

	if (!nr || nr > VSNIX_PCI_MSIX_MAX || bar >= VSNIX_PCI_NR_BARS ||
	    (table_off & 7) || (pba_off & 7))
		return -EINVAL;
	at = vsnix_pci_func_add_cap(f, PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF);
	if (!at)
		return -ENOSPC;
	f->msix_cap = at;
	f->msix_nr = nr;
	f->msix_bar = bar;
	f->msix_table_off = table_off;
	f->msix_pba_off = pba_off;
	cfg_set(f, at + PCI_MSIX_FLAGS, 2, nr - 1);
	mask_set(f->wmask, at + PCI_MSIX_FLAGS, 2,
		 PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	cfg_set(f, at + PCI_MSIX_TABLE, 4, table_off | bar);
	cfg_set(f, at + PCI_MSIX_PBA, 4, pba_off | bar);
	/* Entries come out of reset masked (6.8.2.9). */
	for (v = 0; v < nr; v++)
		f->s.msix[v].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;
	return 0;
}

/* ------------------------------------------------------------- interrupts */

/* The INTx output follows the request, INTx Disable and MSI-X Enable. */
static void pci_intx_update(struct vsnix_pci_func *f)
{
	bool out;

	lockdep_assert_held(&f->irq_lock);
	out = f->s.intx_level && !f->intx_disabled && !f->msix_enabled &&
	      !f->removed;
	if (out != f->intx_out) {
		f->intx_out = out;
		if (f->host)
			vsnix_pci_host_intx(f->host, f->intx_gsi, out);
	}
}

void vsnix_pci_intx_set(struct vsnix_pci_func *f, bool level)
{
	unsigned long flags;

	spin_lock_irqsave(&f->irq_lock, flags);
	f->s.intx_level = level;
	pci_intx_update(f);
	spin_unlock_irqrestore(&f->irq_lock, flags);
}

bool vsnix_pci_msix_enabled(struct vsnix_pci_func *f)
{
	return READ_ONCE(f->msix_enabled);
}

static bool msix_masked(struct vsnix_pci_func *f, u16 v)
{
	return f->msix_fmask ||
	       (f->s.msix[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

/* Sends v's message; irq_lock held (vsnix_irq_msi does not sleep). */
static void msix_send(struct vsnix_pci_func *f, u16 v)
{
	const struct vsnix_pci_msix_entry *e = &f->s.msix[v];

	lockdep_assert_held(&f->irq_lock);
	vsnix_irq_msi(f->vm, (u64)e->addr_hi << 32 | e->addr_lo, e->data);
}

bool vsnix_pci_msix_signal(struct vsnix_pci_func *f, u16 v)
{
	unsigned long flags;
	bool ok;

	spin_lock_irqsave(&f->irq_lock, flags);
	ok = f->msix_enabled && v < f->msix_nr && !f->removed;
	if (ok) {
		if (msix_masked(f, v))
			__set_bit(v, f->s.msix_pba);	/* 6.8.2.10 */
		else
			msix_send(f, v);
	}
	spin_unlock_irqrestore(&f->irq_lock, flags);
	return ok;
}

/* After an unmask: pending vectors now unmasked are sent and cleared. */
static void msix_flush_pending(struct vsnix_pci_func *f)
{
	unsigned int v;

	lockdep_assert_held(&f->irq_lock);
	if (!f->msix_enabled || f->removed)
		return;
	for_each_set_bit(v, f->s.msix_pba, f->msix_nr) {
		if (msix_masked(f, v))
			continue;
		__clear_bit(v, f->s.msix_pba);
		msix_send(f, v);
	}
}

/* Message Control was written: Enable and Function Mask (6.8.2.3). */
static void msix_control_changed(struct vsnix_pci_func *f)
{
	u16 ctl = cfg_get(f, f->msix_cap + PCI_MSIX_FLAGS, 2);
	unsigned long flags;

	spin_lock_irqsave(&f->irq_lock, flags);
	WRITE_ONCE(f->msix_enabled, ctl & PCI_MSIX_FLAGS_ENABLE);
	f->msix_fmask = ctl & PCI_MSIX_FLAGS_MASKALL;
	msix_flush_pending(f);
	pci_intx_update(f);
	spin_unlock_irqrestore(&f->irq_lock, flags);
}

/* A table or PBA access; the table takes dword and qword accesses. */
static int msix_access(struct vsnix_pci_func *f, u64 off, unsigned int len,
		       void *val, bool write)
{
	u64 tsize = (u64)f->msix_nr * PCI_MSIX_ENTRY_SIZE;
	unsigned long flags;
	u8 *p;

	spin_lock_irqsave(&f->irq_lock, flags);
	if (off - f->msix_table_off < tsize) {
		off -= f->msix_table_off;
		p = (u8 *)f->s.msix + off;
		if (write) {
			memcpy(p, val, len);
			msix_flush_pending(f);
		} else {
			memcpy(val, p, len);
		}
	} else {
		/* The PBA is read-only (6.8.2.10): writes are dropped. */
		off -= f->msix_pba_off;
		if (!write)
			memcpy(val, (u8 *)f->s.msix_pba + off, len);
	}
	spin_unlock_irqrestore(&f->irq_lock, flags);
	return VSNIX_IO_DONE;
}

/* Is [off, off + len) inside the MSI-X table or PBA of this BAR? */
static bool msix_hit(const struct vsnix_pci_func *f, unsigned int bar,
		     u64 off, unsigned int len)
{
	u64 tsize = (u64)f->msix_nr * PCI_MSIX_ENTRY_SIZE;
	u64 psize = DIV_ROUND_UP(f->msix_nr, 64) * 8;

	if (!f->msix_nr || bar != f->msix_bar)
		return false;
	return (off - f->msix_table_off < tsize &&
		off + len <= f->msix_table_off + tsize) ||
	       (off - f->msix_pba_off < psize &&
		off + len <= f->msix_pba_off + psize);
}

/* ------------------------------------------------------------------- BARs */

static struct vsnix_pci_bar_map *io_to_map(struct vsnix_io_device *io)
{
	return container_of(io, struct vsnix_pci_bar_map, io);
}

int vsnix_pci_bar_access(struct vsnix_pci_func *f, struct vsnix_vcpu *vcpu,
			 unsigned int bar, u64 off, unsigned int len,
			 void *val, bool write)
{
	if (msix_hit(f, bar, off, len)) {
		if (len != 4 && len != 8) {
			if (!write)
				memset(val, 0xff, len);
			return VSNIX_IO_DONE;
		}
		return msix_access(f, off, len, val, write);
	}
	if (write)
		return f->ops->bar_write(f, vcpu, bar, off, len, val);
	return f->ops->bar_read(f, vcpu, bar, off, len, val);
}

static int bar_map_read(struct vsnix_io_device *io, struct vsnix_vcpu *vcpu,
			u64 addr, unsigned int len, void *val)
{
	struct vsnix_pci_bar_map *m = io_to_map(io);

	return vsnix_pci_bar_access(m->f, vcpu, m->bar, addr - io->base, len,
				    val, false);
}

static int bar_map_write(struct vsnix_io_device *io, struct vsnix_vcpu *vcpu,
			 u64 addr, unsigned int len, const void *val)
{
	struct vsnix_pci_bar_map *m = io_to_map(io);

	return vsnix_pci_bar_access(m->f, vcpu, m->bar, addr - io->base, len,
				    (void *)val, true);
}

static void bar_map_destroy(struct vsnix_io_device *io)
{
	struct vsnix_pci_bar_map *m = io_to_map(io);

	vsnix_pci_func_put(m->f);
	kfree(m);
}

static const struct vsnix_io_ops bar_map_ops = {
	.read = bar_map_read,
	.write = bar_map_write,
	.destroy = bar_map_destroy,
};

static u64 bar_base(const struct vsnix_pci_func *f, unsigned int bar)
{
	return cfg_get(f, PCI_BASE_ADDRESS_0 + 4 * bar, 4) &
	       PCI_BASE_ADDRESS_MEM_MASK;
}

static void bar_unmap(struct vsnix_pci_func *f, unsigned int bar)
{
	struct vsnix_pci_bar_map *m = f->map[bar];

	lockdep_assert_held(&f->lock);
	f->map[bar] = NULL;
	if (m)
		vsnix_io_unregister(f->vm, &m->io);
}

/*
 * Maps the BAR at its base: a base of 0, one whose range overlaps another
 * device (e.g. the all-ones pattern of sizing with decoding on) or one
 * outside guest-physical space stays unmapped: the guest sees nothing.
 */
static void bar_map(struct vsnix_pci_func *f, unsigned int bar, u64 base)
{
	struct vsnix_pci_bar_map *m;
	int ret;

	lockdep_assert_held(&f->lock);
	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return;
	m->f = f;
	m->bar = bar;
	m->io = (struct vsnix_io_device){ .bus = VSNIX_BUS_MMIO, .base = base,
		.len = f->bar_size[bar], .ops = &bar_map_ops, .owned = true };
	vsnix_pci_func_get(f);
	ret = vsnix_io_register(f->vm, &m->io);
	if (ret) {
		pr_info_ratelimited("pci %02x.%u: BAR%u at 0x%llx not mapped (%d)\n",
				    PCI_SLOT(f->devfn), PCI_FUNC(f->devfn),
				    bar, base, ret);
		vsnix_pci_func_put(f);
		kfree(m);
		return;
	}
	f->map[bar] = m;
}

/* After a Command or BAR write: maps follow the BARs while decoding is on. */
void vsnix_pci_bars_update(struct vsnix_pci_func *f)
{
	bool mem = cfg_get(f, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;
	unsigned int bar;
	u64 base;

	lockdep_assert_held(&f->lock);
	for (bar = 0; bar < VSNIX_PCI_NR_BARS; bar++) {
		if (!f->bar_size[bar])
			continue;
		base = bar_base(f, bar);
		if (f->map[bar] && (!mem || f->removed ||
				    f->map[bar]->io.base != base))
			bar_unmap(f, bar);
		if (mem && !f->removed && base && !f->map[bar])
			bar_map(f, bar, base);
	}
}

/* --------------------------------------------------- configuration access */

/*
 * One access inside a dword (mechanism 1 and ECAM both deliver those):
 * off + len never crosses a dword boundary here.
 */
u32 vsnix_pci_cfg_read(struct vsnix_pci_func *f, u32 off, u32 len)
{
	u32 v;

	if (off >= VSNIX_PCI_CFG_SIZE)
		return 0;	/* no extended capabilities (PCIe 7.9.1) */
	mutex_lock(&f->lock);
	v = cfg_get(f, off, len);
	if (off <= PCI_STATUS && off + len > PCI_STATUS) {
		/* Interrupt Status: the request, whatever INTx Disable says. */
		if (READ_ONCE(f->s.intx_level))
			v |= PCI_STATUS_INTERRUPT << (8 * (PCI_STATUS - off));
	}
	if (f->ops->cfg_read)
		f->ops->cfg_read(f, off, len, &v);
	mutex_unlock(&f->lock);
	return v;
}

void vsnix_pci_cfg_write(struct vsnix_pci_func *f, u32 off, u32 len, u32 val)
{
	u32 i, at;
	u8 b, old;
	unsigned long flags;

	if (off >= VSNIX_PCI_CFG_SIZE)
		return;
	mutex_lock(&f->lock);
	for (i = 0; i < len; i++) {
		at = off + i;
		b = val >> (8 * i);
		old = f->s.cfg[at];
		old = (old & ~f->wmask[at]) | (b & f->wmask[at]);
		old &= ~(b & f->w1c[at]);
		f->s.cfg[at] = old;
	}
	if (off <= PCI_COMMAND + 1 && off + len > PCI_COMMAND) {
		spin_lock_irqsave(&f->irq_lock, flags);
		f->intx_disabled = cfg_get(f, PCI_COMMAND, 2) &
				   PCI_COMMAND_INTX_DISABLE;
		pci_intx_update(f);
		spin_unlock_irqrestore(&f->irq_lock, flags);
	}
	if ((off <= PCI_COMMAND + 1 && off + len > PCI_COMMAND) ||
	    (off >= PCI_BASE_ADDRESS_0 && off <= PCI_BASE_ADDRESS_5 + 3))
		vsnix_pci_bars_update(f);
	if (f->msix_nr && off <= f->msix_cap + PCI_MSIX_FLAGS + 1 &&
	    off + len > f->msix_cap + PCI_MSIX_FLAGS)
		msix_control_changed(f);
	if (f->ops->cfg_write)
		f->ops->cfg_write(f, off, len, val);
	mutex_unlock(&f->lock);
}

/* ------------------------------------------------------ adding, removing */

static struct vsnix_pci_func *io_to_func(struct vsnix_io_device *io)
{
	return container_of(io, struct vsnix_pci_func, io);
}

/*
 * DESTROY_DEVICE or the VM's end: no more interrupts, BARs unmapped, off
 * the host bridge, then the device stops. A BAR access already in flight
 * may still reach the device's ops (it sees f->removed).
 */
static void pci_func_destroy(struct vsnix_io_device *io)
{
	struct vsnix_pci_func *f = io_to_func(io);
	unsigned long flags;

	mutex_lock(&f->lock);
	spin_lock_irqsave(&f->irq_lock, flags);
	f->removed = true;
	pci_intx_update(f);		/* the line goes down */
	spin_unlock_irqrestore(&f->irq_lock, flags);
	vsnix_pci_bars_update(f);	/* unmaps them all */
	mutex_unlock(&f->lock);
	vsnix_pci_host_detach(f->host, f);
	f->ops->remove(f);
	vsnix_pci_func_put(f);		/* the identity's reference */
}

/* VSNIX_DEVICE_INPUT on a function: its device model's, if it has one. */
static ssize_t pci_func_input(struct vsnix_io_device *io, const u8 *buf,
			      size_t len)
{
	struct vsnix_pci_func *f = io_to_func(io);

	return f->ops->input ? f->ops->input(f, buf, len) : -EINVAL;
}

/* Functions keep their state in the device model's struct. */
static const struct vsnix_io_ops pci_func_io_ops = {
	.destroy = pci_func_destroy,
	.input = pci_func_input,
};

int vsnix_pci_func_add(struct vsnix_vm *vm, struct vsnix_pci_func *f,
		       unsigned int slot, unsigned int func, const char *who)
{
	struct vsnix_pci_host *host = vm->pci;
	int ret;

	lockdep_assert_held(&vm->lock);
	f->vm = vm;
	f->devfn = PCI_DEVFN(slot, func);
	ret = vsnix_pci_host_slot_free(host, f->devfn, who);
	if (ret)
		return ret;
	f->io = (struct vsnix_io_device){ .bus = VSNIX_BUS_ID,
		.base = f->devfn, .len = 1, .ops = &pci_func_io_ops };
	f->intx_gsi = vsnix_pci_host_intx_gsi(host, slot, 0);
	f->s.cfg[PCI_INTERRUPT_PIN] = 1;	/* INTA */
	/*
	 * The identity first: until it is on its bus nothing else can reach
	 * f, so a failure leaves f to the caller. From then on
	 * DESTROY_DEVICE may remove f at any time (f->removed).
	 */
	vsnix_pci_func_get(f);
	ret = vsnix_dev_register(vm, &f->io, who);
	if (ret < 0) {
		refcount_dec(&f->refs);
		return ret;
	}
	mutex_lock(&f->lock);
	if (!f->removed) {
		/* vm->lock: the slot is still free and the host alive. */
		vsnix_pci_host_attach(host, f);
		/* Memory decoding on at the placed bases, as firmware does. */
		cfg_set(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
		vsnix_pci_bars_update(f);
	}
	mutex_unlock(&f->lock);
	return ret;
}

int vsnix_pci_check_placement(struct vsnix_vm *vm,
			      const struct vsnix_pci_placement *p,
			      u64 bar_size, const char *who)
{
	struct vsnix_pci_host *host = vm->pci;

	lockdep_assert_held(&vm->lock);
	if (p->pad || p->pad2 || p->reserved[0] || p->reserved[1]) {
		pr_warn_ratelimited("%s: placement pad and reserved must be zero\n",
				    who);
		return -EINVAL;
	}
	if (p->slot < 1 || p->slot > 31 || p->func > 7) {
		pr_warn_ratelimited("%s: slot %u function %u: want slot 1..31, function 0..7\n",
				    who, p->slot, p->func);
		return -EINVAL;
	}
	if (!host) {
		pr_warn_ratelimited("%s: no PCI host bridge (create VSNIX_DEV_PCI_HOST first)\n",
				    who);
		return -ENODEV;
	}
	if (!vsnix_pci_host_bar_ok(host, p->bar_base, bar_size)) {
		pr_warn_ratelimited("%s: BAR at 0x%llx (0x%llx bytes) is not aligned to its size inside the host bridge's window\n",
				    who, p->bar_base, bar_size);
		return -EINVAL;
	}
	return 0;
}
