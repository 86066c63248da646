// SPDX-License-Identifier: GPL-2.0
/*
 * The I/O APIC, as the Intel 82093AA datasheet describes it: 24 pins,
 * IOREGSEL at base + 0x00 and IOWIN at base + 0x10, registers ID (0x00),
 * version (0x01: 0x11, 24 entries), arbitration ID (0x02) and the
 * redirection table (0x10 + 2n: low dword, 0x11 + 2n: high dword). Version
 * 0x11 has no EOI register: remote IRR is cleared by the LAPICs' EOI
 * broadcast (vsnix_ioapic_eoi) or by setting the entry to edge, which
 * Linux does to clear a stuck remote IRR.
 *
 * A pin's input is "asserted" (true) or not, as the line layer gives it:
 * the polarity bit describes the wire, which vsnix does not model, so it is
 * stored and read back but does not invert the input.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/slab.h>
#include <linux/spinlock.h>
#include "devices.h"
#include "../arch/x86/intr.h"
#include "../core/irq.h"

#define IOAPIC_NR_PINS		24
#define IOAPIC_MMIO_SIZE	0x1000
#define IOAPIC_IOREGSEL		0x00
#define IOAPIC_IOWIN		0x10

#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VERSION	0x01
#define IOAPIC_REG_ARB		0x02
#define IOAPIC_REG_REDIR	0x10
#define IOAPIC_VERSION		(0x11 | ((IOAPIC_NR_PINS - 1) << 16))

/* Redirection entry fields (82093AA, 3.2.4). */
#define RTE_VECTOR		0xffull
#define RTE_DM_SHIFT		8
#define RTE_DEST_LOGICAL	BIT_ULL(11)
#define RTE_DELIVERY_STATUS	BIT_ULL(12)
#define RTE_POLARITY_LOW	BIT_ULL(13)
#define RTE_REMOTE_IRR		BIT_ULL(14)
#define RTE_LEVEL		BIT_ULL(15)
#define RTE_MASKED		BIT_ULL(16)
#define RTE_DEST_SHIFT		56
#define RTE_RO_BITS		(RTE_DELIVERY_STATUS | RTE_REMOTE_IRR)
#define RTE_HIGH_WRITABLE	0xff000000u
#define RTE_LOW_WRITABLE	(0x1ffffu & ~RTE_RO_BITS)

/* The guest-visible state: what a snapshot would save. */
struct ioapic_regs {
	u64 redir[IOAPIC_NR_PINS];
	u32 levels;		/* pin inputs, bit n = pin n asserted */
	u8 ioregsel;
	u8 id;
};

struct vsnix_ioapic {
	struct vsnix_io_device io;
	struct vsnix_irqchip irqchip;
	bool irqchip_registered;
	struct vsnix_vm *vm;
	spinlock_t lock;	/* state; any context (timer IRQs) */
	struct ioapic_regs s;
};

/* The APIC bus message of a redirection entry (SDM Vol 3, 10.11 format). */
static void ioapic_entry_to_irq(u64 e, struct vsnix_apic_irq *irq)
{
	memset(irq, 0, sizeof(*irq));
	irq->vector = e & RTE_VECTOR;
	irq->delivery_mode = (e >> RTE_DM_SHIFT) & 7;
	irq->logical = e & RTE_DEST_LOGICAL;
	irq->level_trigger = e & RTE_LEVEL;
	irq->assert = true;
	irq->dest = e >> RTE_DEST_SHIFT;
	irq->shorthand = VSNIX_APIC_SH_NONE;
}

static u32 ioapic_read_reg(const struct ioapic_regs *s, u8 reg)
{
	u32 pin;

	switch (reg) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return (u32)s->id << 24;
	case IOAPIC_REG_VERSION:
		return IOAPIC_VERSION;
	}
	if (reg < IOAPIC_REG_REDIR)
		return 0;
	pin = (reg - IOAPIC_REG_REDIR) / 2;
	if (pin >= IOAPIC_NR_PINS)
		return 0;
	return (reg & 1) ? s->redir[pin] >> 32 : (u32)s->redir[pin];
}

/* A level pin that must be (re)sent now: asserted, unmasked, not in service. */
static bool ioapic_level_ready(const struct ioapic_regs *s, u32 pin)
{
	u64 e = s->redir[pin];

	return (e & RTE_LEVEL) && !(e & (RTE_MASKED | RTE_REMOTE_IRR)) &&
	       (s->levels & BIT(pin));
}

/* Writes reg; returns the pins to service (a level pin just unmasked). */
static u32 ioapic_write_reg(struct ioapic_regs *s, u8 reg, u32 val)
{
	u32 pin;
	u64 e;

	if (reg == IOAPIC_REG_ID) {
		s->id = (val >> 24) & 0xf;
		return 0;
	}
	if (reg < IOAPIC_REG_REDIR)
		return 0;	/* version and arbitration are read-only */
	pin = (reg - IOAPIC_REG_REDIR) / 2;
	if (pin >= IOAPIC_NR_PINS)
		return 0;
	e = s->redir[pin];
	if (reg & 1) {
		e = (u32)e | ((u64)(val & RTE_HIGH_WRITABLE) << 32);
	} else {
		e = (e & (~0xffffffffull | RTE_RO_BITS)) |
		    (val & RTE_LOW_WRITABLE);
		if (!(e & RTE_LEVEL))
			e &= ~RTE_REMOTE_IRR;
	}
	s->redir[pin] = e;
	return ioapic_level_ready(s, pin) ? BIT(pin) : 0;
}

/* An input changed: true when the pin must deliver now. */
static bool ioapic_set_input(struct ioapic_regs *s, u32 pin,
			     bool level)
{
	bool rising = level && !(s->levels & BIT(pin));

	s->levels = level ? s->levels | BIT(pin) : s->levels & ~BIT(pin);
	if (s->redir[pin] & RTE_LEVEL)
		return ioapic_level_ready(s, pin);
	/* Edges on a masked pin are lost (82093AA, 3.2.4, mask bit). */
	return rising && !(s->redir[pin] & RTE_MASKED);
}

/* EOI broadcast: clears remote IRR; returns the pins to send again. */
static u32 ioapic_eoi_state(struct ioapic_regs *s, u8 vector)
{
	u32 pin, again = 0;
	u64 e;

	for (pin = 0; pin < IOAPIC_NR_PINS; pin++) {
		e = s->redir[pin];
		if (!(e & RTE_REMOTE_IRR) || (e & RTE_VECTOR) != vector)
			continue;
		s->redir[pin] = e & ~RTE_REMOTE_IRR;
		if (ioapic_level_ready(s, pin))
			again |= BIT(pin);
	}
	return again;
}

/*
 * Takes the message of a pin to send, with the lock held. A level
 * interrupt sets remote IRR before it goes out, so an EOI that overtakes
 * the delivery still finds it set.
 */
static bool ioapic_prepare(struct ioapic_regs *s, u32 pin, bool edge,
			   struct vsnix_apic_irq *irq)
{
	u64 e = s->redir[pin];

	if (edge ? (e & (RTE_MASKED | RTE_LEVEL)) : !ioapic_level_ready(s, pin))
		return false;
	if (e & RTE_LEVEL)
		s->redir[pin] = e | RTE_REMOTE_IRR;
	ioapic_entry_to_irq(e, irq);
	return true;
}

/* ------------------------------------------------------------- glue */

/*
 * Sends outside the lock: the LAPIC may call vsnix_ioapic_eoi() from its
 * own locked sections, and delivery takes the LAPIC's locks.
 */
static void ioapic_deliver(struct vsnix_ioapic *io, u32 pin,
			   const struct vsnix_apic_irq *irq)
{
	unsigned long flags;

	if (vsnix_apic_deliver(io->vm, irq) > 0 || !irq->level_trigger)
		return;
	/* Nobody took it: remote IRR would wait for an EOI forever. */
	spin_lock_irqsave(&io->lock, flags);
	io->s.redir[pin] &= ~RTE_REMOTE_IRR;
	spin_unlock_irqrestore(&io->lock, flags);
}

static void ioapic_service(struct vsnix_ioapic *io, u32 pins)
{
	struct vsnix_apic_irq irq;
	unsigned long flags;
	bool send;
	u32 pin;

	for (pin = 0; pins; pin++, pins >>= 1) {
		if (!(pins & 1))
			continue;
		spin_lock_irqsave(&io->lock, flags);
		send = ioapic_prepare(&io->s, pin, false, &irq);
		spin_unlock_irqrestore(&io->lock, flags);
		if (send)
			ioapic_deliver(io, pin, &irq);
	}
}

static void vsnix_ioapic_set_pin(struct vsnix_irqchip *chip, u32 pin,
				 bool level)
{
	struct vsnix_ioapic *io = container_of(chip, struct vsnix_ioapic,
					       irqchip);
	struct vsnix_apic_irq irq;
	unsigned long flags;
	bool send = false;

	if (pin >= IOAPIC_NR_PINS)
		return;
	spin_lock_irqsave(&io->lock, flags);
	if (ioapic_set_input(&io->s, pin, level))
		send = ioapic_prepare(&io->s, pin,
				      !(io->s.redir[pin] & RTE_LEVEL), &irq);
	spin_unlock_irqrestore(&io->lock, flags);
	if (send)
		ioapic_deliver(io, pin, &irq);
}

void vsnix_ioapic_eoi(struct vsnix_vm *vm, u8 vector)
{
	struct vsnix_ioapic *io;
	unsigned long flags;
	int idx;
	u32 again;

	idx = srcu_read_lock(&vm->srcu);
	io = READ_ONCE(vm->ioapic);
	if (io) {
		spin_lock_irqsave(&io->lock, flags);
		again = ioapic_eoi_state(&io->s, vector);
		spin_unlock_irqrestore(&io->lock, flags);
		ioapic_service(io, again);
	}
	srcu_read_unlock(&vm->srcu, idx);
}

static struct vsnix_ioapic *to_ioapic(struct vsnix_io_device *dev)
{
	return container_of(dev, struct vsnix_ioapic, io);
}

/* 32-bit registers; narrower accesses see their low bytes. */
static int vsnix_ioapic_read(struct vsnix_io_device *dev,
			     struct vsnix_vcpu *vcpu, u64 addr,
			     unsigned int len, void *val)
{
	struct vsnix_ioapic *io = to_ioapic(dev);
	unsigned long flags;
	u32 v = 0;

	spin_lock_irqsave(&io->lock, flags);
	if (addr - dev->base == IOAPIC_IOREGSEL)
		v = io->s.ioregsel;
	else if (addr - dev->base == IOAPIC_IOWIN)
		v = ioapic_read_reg(&io->s, io->s.ioregsel);
	spin_unlock_irqrestore(&io->lock, flags);
	memset(val, 0, len);
	vsnix_pio_fill(val, min(len, 4u), v);
	return VSNIX_IO_DONE;
}

static int vsnix_ioapic_write(struct vsnix_io_device *dev,
			      struct vsnix_vcpu *vcpu, u64 addr,
			      unsigned int len, const void *val)
{
	struct vsnix_ioapic *io = to_ioapic(dev);
	u32 v = vsnix_pio_value(val, min(len, 4u)), pins = 0;
	unsigned long flags;

	spin_lock_irqsave(&io->lock, flags);
	if (addr - dev->base == IOAPIC_IOREGSEL)
		io->s.ioregsel = v;
	else if (addr - dev->base == IOAPIC_IOWIN)
		pins = ioapic_write_reg(&io->s, io->s.ioregsel, v);
	spin_unlock_irqrestore(&io->lock, flags);
	ioapic_service(io, pins);
	return VSNIX_IO_DONE;
}

/* No more lines, no more EOIs: then the memory can go. */
static void ioapic_detach(struct vsnix_ioapic *io)
{
	struct vsnix_vm *vm = io->vm;

	if (io->irqchip_registered)
		vsnix_irqchip_unregister(vm, &io->irqchip);
	if (cmpxchg(&vm->ioapic, io, NULL) == io)
		synchronize_srcu(&vm->srcu);
}

static void vsnix_ioapic_destroy(struct vsnix_io_device *dev)
{
	struct vsnix_ioapic *io = to_ioapic(dev);

	ioapic_detach(io);
	kfree(io);
}

static void ioapic_state_reset(struct ioapic_regs *s, u8 id);

static void vsnix_ioapic_reset(struct vsnix_io_device *dev)
{
	struct vsnix_ioapic *io = to_ioapic(dev);
	unsigned long flags;
	u32 levels;

	spin_lock_irqsave(&io->lock, flags);
	levels = io->s.levels;
	ioapic_state_reset(&io->s, io->s.id);
	io->s.levels = levels;	/* the lines belong to the devices */
	spin_unlock_irqrestore(&io->lock, flags);
}

static void vsnix_ioapic_save(struct vsnix_io_device *dev, void *state)
{
	struct vsnix_ioapic *io = to_ioapic(dev);
	struct vsnix_ioapic_state *st = state;
	unsigned long flags;

	memset(st, 0, sizeof(*st));
	spin_lock_irqsave(&io->lock, flags);
	memcpy(st->redir, io->s.redir, sizeof(st->redir));
	st->levels = io->s.levels;
	st->ioregsel = io->s.ioregsel;
	st->id = io->s.id;
	spin_unlock_irqrestore(&io->lock, flags);
}

/* Bits 17-55 are reserved, delivery status is always 0 here. */
#define RTE_RESERVED	(GENMASK_ULL(55, 17) | RTE_DELIVERY_STATUS)

static int vsnix_ioapic_restore(struct vsnix_io_device *dev,
				const void *state)
{
	const struct vsnix_ioapic_state *st = state;
	struct vsnix_ioapic *io = to_ioapic(dev);
	unsigned long flags;
	u32 pin, pins = 0;

	if (st->id > 15 || st->levels >= BIT(IOAPIC_NR_PINS) ||
	    !vsnix_dev_all_zero(st->pad, sizeof(st->pad)))
		return -EINVAL;
	for (pin = 0; pin < IOAPIC_NR_PINS; pin++)
		if ((st->redir[pin] & RTE_RESERVED) ||
		    ((st->redir[pin] & RTE_REMOTE_IRR) &&
		     !(st->redir[pin] & RTE_LEVEL)))
			return -EINVAL;
	spin_lock_irqsave(&io->lock, flags);
	memcpy(io->s.redir, st->redir, sizeof(st->redir));
	io->s.levels = st->levels;
	io->s.ioregsel = st->ioregsel;
	io->s.id = st->id;
	for (pin = 0; pin < IOAPIC_NR_PINS; pin++)
		if (ioapic_level_ready(&io->s, pin))
			pins |= BIT(pin);
	spin_unlock_irqrestore(&io->lock, flags);
	ioapic_service(io, pins);
	return 0;
}

static const struct vsnix_io_ops vsnix_ioapic_io_ops = {
	.type = VSNIX_DEV_IOAPIC,
	.read = vsnix_ioapic_read,
	.write = vsnix_ioapic_write,
	.destroy = vsnix_ioapic_destroy,
	.reset = vsnix_ioapic_reset,
	.save = vsnix_ioapic_save,
	.restore = vsnix_ioapic_restore,
	.state_version = VSNIX_IOAPIC_STATE_VERSION,
	.state_size = sizeof(struct vsnix_ioapic_state),
};

static const struct vsnix_irqchip_ops vsnix_ioapic_irqchip_ops = {
	.set_pin = vsnix_ioapic_set_pin,
};

/* Reset (82093AA, 3.0): every entry masked, ID as configured. */
static void ioapic_state_reset(struct ioapic_regs *s, u8 id)
{
	u32 pin;

	memset(s, 0, sizeof(*s));
	s->id = id;
	for (pin = 0; pin < IOAPIC_NR_PINS; pin++)
		s->redir[pin] = RTE_MASKED;
}

static int ioapic_check_config(struct vsnix_vm *vm,
			       const struct vsnix_ioapic_config *cfg)
{
	if (!vsnix_dev_all_zero(cfg->reserved, sizeof(cfg->reserved))) {
		pr_warn_ratelimited("ioapic: reserved must be zero\n");
		return -EINVAL;
	}
	if (cfg->base & (IOAPIC_MMIO_SIZE - 1) ||
	    cfg->base > 0x100000000ull - IOAPIC_MMIO_SIZE || cfg->id > 15 ||
	    cfg->gsi_base > U32_MAX - IOAPIC_NR_PINS) {
		pr_warn_ratelimited("ioapic: base 0x%llx, id %u or gsi_base %u out of range\n",
				    cfg->base, cfg->id, cfg->gsi_base);
		return -EINVAL;
	}
	if (READ_ONCE(vm->ioapic)) {
		pr_warn_ratelimited("ioapic: the VM has one already\n");
		return -EEXIST;
	}
	return 0;
}

int vsnix_ioapic_create(struct vsnix_vm *vm,
			const struct vsnix_ioapic_config *cfg)
{
	struct vsnix_ioapic *io;
	int ret;

	lockdep_assert_held(&vm->lock);
	ret = ioapic_check_config(vm, cfg);
	if (ret)
		return ret;
	io = kzalloc(sizeof(*io), GFP_KERNEL_ACCOUNT);
	if (!io)
		return -ENOMEM;
	spin_lock_init(&io->lock);
	io->vm = vm;
	ioapic_state_reset(&io->s, cfg->id);
	io->io.bus = VSNIX_BUS_MMIO;
	io->io.base = cfg->base;
	io->io.len = IOAPIC_MMIO_SIZE;
	io->io.ops = &vsnix_ioapic_io_ops;
	io->irqchip.ops = &vsnix_ioapic_irqchip_ops;
	io->irqchip.gsi_base = cfg->gsi_base;
	io->irqchip.npins = IOAPIC_NR_PINS;
	ret = vsnix_irqchip_register(vm, &io->irqchip);
	if (ret) {
		kfree(io);
		return ret;
	}
	io->irqchip_registered = true;
	/* Last: once on the bus, DESTROY_DEVICE may take it down. */
	WRITE_ONCE(vm->ioapic, io);
	ret = vsnix_dev_register(vm, &io->io, "ioapic");
	if (ret < 0) {
		ioapic_detach(io);
		kfree(io);
	}
	return ret;
}
