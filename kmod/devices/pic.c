// SPDX-License-Identifier: GPL-2.0
/*
 * The two cascaded 8259A PICs of a PC (Intel 8259A datasheet, "Programming
 * the 8259A"): master at 0x20/0x21, slave at 0xa0/0xa1 on the master's
 * IR2, and the edge/level control registers (ELCR) at 0x4d0/0x4d1 (Intel
 * PIIX/ICH datasheets). ICW1-ICW4, OCW1-OCW3 with rotation, special mask,
 * specific and non-specific EOI, auto-EOI and poll mode.
 *
 * Lines: GSIs 0-15 as ISA IRQs 0-15, except that ISA IRQ0 (the PIT) is
 * wired to GSI 2 per the MADT's interrupt source override, so GSI 2 also
 * drives IR0 (IR2 of the master is the cascade, never a device line). The
 * INTR output is read by the BSP's LAPIC (LINT0, ExtINT) through
 * vsnix_pic_intr_pending() and acknowledged with vsnix_pic_ack().
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/slab.h>
#include <linux/spinlock.h>
#include "devices.h"
#include "../arch/x86/intr.h"
#include "../core/irq.h"

#define PIC_CASCADE_IR	2
#define PIC_NR_GSIS	16
/* ELCR bits that must stay 0: IRQ 0, 1, 2, 8 and 13 are edge only. */
#define PIC_ELCR_MASK_MASTER	0xf8
#define PIC_ELCR_MASK_SLAVE	0xde

/* One 8259A: its registers and the init sequence it is in. */
struct vsnix_8259 {
	u8 irr, isr, imr;
	u8 elcr, elcr_mask;
	u8 lines;		/* input levels, for edge detection */
	u8 prio_base;		/* IR with the highest priority (rotation) */
	u8 vector_base;		/* ICW2, T7-T3 */
	u8 init_step;		/* 0: operational; 2, 3, 4: expecting ICWn */
	bool icw4, single, ltim;
	bool auto_eoi, rotate_auto_eoi, sfnm, special_mask;
	bool read_isr, poll;
};

/* All of the device's guest-visible state: what a snapshot would save. */
struct pic_regs {
	struct vsnix_8259 chip[2];	/* master, slave */
	u16 gsi_levels;
	bool intr;
};

struct vsnix_pic {
	struct vsnix_io_device io[3];	/* 0x20 (the device), 0xa0, 0x4d0 */
	atomic_t refs;			/* the creator and each range */
	struct vsnix_irqchip irqchip;
	bool irqchip_registered;
	struct vsnix_vm *vm;
	spinlock_t lock;		/* state; any context (timer IRQs) */
	struct pic_regs s;
};

static bool pic_level_mode(const struct vsnix_8259 *c, int ir)
{
	return c->ltim || (c->elcr & BIT(ir));
}

/* Priority (0 highest) of the best IR set in mask, or 8 for none. */
static int pic_priority(const struct vsnix_8259 *c, u8 mask)
{
	int p;

	for (p = 0; p < 8; p++)
		if (mask & BIT((p + c->prio_base) & 7))
			return p;
	return 8;
}

/*
 * The IR the chip would raise INTR for, or -1: the best unmasked request
 * that beats every IR in service (special mask mode ignores masked ISR
 * bits; special fully nested mode lets the cascade through again).
 */
static int pic_get_irq(const struct vsnix_8259 *c, bool master)
{
	u8 in_service = c->isr;
	int p = pic_priority(c, c->irr & ~c->imr);

	if (p == 8)
		return -1;
	if (c->special_mask)
		in_service &= ~c->imr;
	if (master && c->sfnm)
		in_service &= ~BIT(PIC_CASCADE_IR);
	if (p >= pic_priority(c, in_service))
		return -1;
	return (p + c->prio_base) & 7;
}

/* An input changed: edge mode latches rising edges, level mode follows. */
static void pic_set_input(struct vsnix_8259 *c, int ir, bool level)
{
	u8 bit = BIT(ir);

	if (pic_level_mode(c, ir)) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= ~bit;
	} else if (level && !(c->lines & bit)) {
		c->irr |= bit;
	}
	c->lines = level ? c->lines | bit : c->lines & ~bit;
}

/* The slave's INTR drives the master's IR2 as a level; returns INTR. */
static bool pic_update(struct pic_regs *s)
{
	struct vsnix_8259 *m = &s->chip[0], *sl = &s->chip[1];
	bool cascade = pic_get_irq(sl, false) >= 0;

	m->irr = cascade ? m->irr | BIT(PIC_CASCADE_IR) :
			   m->irr & ~BIT(PIC_CASCADE_IR);
	m->lines = cascade ? m->lines | BIT(PIC_CASCADE_IR) :
			     m->lines & ~BIT(PIC_CASCADE_IR);
	s->intr = pic_get_irq(m, true) >= 0;
	return s->intr;
}

/* A GSI's level; GSI 0 and 2 both drive IR0 (see the top comment). */
static void pic_set_gsi(struct pic_regs *s, u32 gsi, bool level)
{
	u16 l;

	s->gsi_levels = level ? s->gsi_levels | BIT(gsi) :
				s->gsi_levels & ~BIT(gsi);
	l = s->gsi_levels;
	if (gsi == 0 || gsi == PIC_CASCADE_IR)
		pic_set_input(&s->chip[0], 0, l & (BIT(0) | BIT(2)));
	else if (gsi < 8)
		pic_set_input(&s->chip[0], gsi, l & BIT(gsi));
	else
		pic_set_input(&s->chip[1], gsi - 8, l & BIT(gsi));
}

/* INTA: the IR goes in service (IRR -> ISR) unless auto-EOI. */
static void pic_intack(struct vsnix_8259 *c, int ir)
{
	if (c->auto_eoi) {
		if (c->rotate_auto_eoi)
			c->prio_base = (ir + 1) & 7;
	} else {
		c->isr |= BIT(ir);
	}
	/* A level request stays in IRR while its line is high. */
	if (!pic_level_mode(c, ir))
		c->irr &= ~BIT(ir);
}

/*
 * The two INTA cycles: the vector of the best request, or IR7's
 * (spurious, nothing set in service) when it went away meanwhile.
 */
static int pic_ack_state(struct pic_regs *s)
{
	struct vsnix_8259 *m = &s->chip[0], *sl = &s->chip[1];
	int ir = pic_get_irq(m, true), ir2, vector;

	if (ir < 0) {
		vector = m->vector_base | 7;
	} else {
		pic_intack(m, ir);
		vector = m->vector_base | ir;
		if (ir == PIC_CASCADE_IR && !m->single) {
			ir2 = pic_get_irq(sl, false);
			if (ir2 < 0) {
				vector = sl->vector_base | 7;
			} else {
				pic_intack(sl, ir2);
				vector = sl->vector_base | ir2;
			}
		}
	}
	pic_update(s);
	return vector;
}

/* The poll command (OCW3 P=1): the next read is an INTA of one chip. */
static u8 pic_poll_read(struct pic_regs *s, struct vsnix_8259 *c)
{
	int ir = pic_get_irq(c, c == &s->chip[0]);

	c->poll = false;
	if (ir < 0)
		return 0;
	pic_intack(c, ir);
	pic_update(s);
	return 0x80 | ir;
}

/* OCW2: EOIs, rotation and priority (datasheet, Operation Command Words). */
static void pic_ocw2(struct vsnix_8259 *c, u8 val)
{
	int ir = val & 7, p;

	switch (val >> 5) {
	case 0:		/* clear rotate in auto-EOI mode */
	case 4:		/* set rotate in auto-EOI mode */
		c->rotate_auto_eoi = val >> 7;
		break;
	case 1:		/* non-specific EOI */
	case 5:		/* rotate on non-specific EOI */
		p = pic_priority(c, c->isr);
		if (p == 8)
			break;
		ir = (p + c->prio_base) & 7;
		c->isr &= ~BIT(ir);
		if (val >> 7)
			c->prio_base = (ir + 1) & 7;
		break;
	case 3:		/* specific EOI */
		c->isr &= ~BIT(ir);
		break;
	case 6:		/* set priority: ir becomes the lowest */
		c->prio_base = (ir + 1) & 7;
		break;
	case 7:		/* rotate on specific EOI */
		c->isr &= ~BIT(ir);
		c->prio_base = (ir + 1) & 7;
		break;
	default:	/* 2: no operation */
		break;
	}
}

/* ICW1 starts initialization: the datasheet's list of what it resets. */
static void pic_icw1(struct vsnix_8259 *c, u8 val)
{
	c->icw4 = val & 0x01;
	c->single = val & 0x02;
	c->ltim = val & 0x08;
	c->init_step = 2;
	c->imr = 0;
	c->isr = 0;
	/* Edge sense reset: an edge input must rise again to request. */
	c->irr &= c->ltim ? c->lines : (c->elcr & c->lines);
	c->prio_base = 0;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->auto_eoi = false;
	c->rotate_auto_eoi = false;
	c->sfnm = false;
}

/* Port A (0x20/0xa0): ICW1, OCW2 or OCW3, by bits 4 and 3. */
static void pic_write_cmd(struct vsnix_8259 *c, u8 val)
{
	if (val & 0x10) {
		pic_icw1(c, val);
	} else if (val & 0x08) {
		if (val & 0x04)
			c->poll = true;
		if (val & 0x02)
			c->read_isr = val & 0x01;
		if (val & 0x40)
			c->special_mask = val & 0x20;
	} else {
		pic_ocw2(c, val);
	}
}

/* Port B (0x21/0xa1): ICW2-4 during initialization, else OCW1 (IMR). */
static void pic_write_data(struct vsnix_8259 *c, u8 val)
{
	switch (c->init_step) {
	case 2:
		c->vector_base = val & 0xf8;
		c->init_step = c->single ? (c->icw4 ? 4 : 0) : 3;
		break;
	case 3:		/* cascade wiring: fixed on a PC */
		c->init_step = c->icw4 ? 4 : 0;
		break;
	case 4:
		c->auto_eoi = val & 0x02;
		c->sfnm = val & 0x10;
		c->init_step = 0;
		break;
	default:
		c->imr = val;
		break;
	}
}

static u8 pic_read_port(struct pic_regs *s, struct vsnix_8259 *c,
			bool data)
{
	if (c->poll)
		return pic_poll_read(s, c);
	if (data)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

/* One byte at port; returns INTR afterwards. */
static bool pic_port_write(struct pic_regs *s, u16 port, u8 val)
{
	switch (port) {
	case 0x20:
	case 0xa0:
		pic_write_cmd(&s->chip[port == 0xa0], val);
		break;
	case 0x21:
	case 0xa1:
		pic_write_data(&s->chip[port == 0xa1], val);
		break;
	case 0x4d0:
	case 0x4d1:
		s->chip[port & 1].elcr = val & s->chip[port & 1].elcr_mask;
		break;
	}
	return pic_update(s);
}

static u8 pic_port_read(struct pic_regs *s, u16 port)
{
	switch (port) {
	case 0x20:
	case 0xa0:
	case 0x21:
	case 0xa1:
		return pic_read_port(s, &s->chip[port >= 0xa0], port & 1);
	default:
		return s->chip[port & 1].elcr;
	}
}

/* Power-on: no init sequence done yet, all edge, nothing masked. */
static void pic_state_reset(struct pic_regs *s)
{
	memset(s, 0, sizeof(*s));
	s->chip[0].elcr_mask = PIC_ELCR_MASK_MASTER;
	s->chip[1].elcr_mask = PIC_ELCR_MASK_SLAVE;
}

/* ------------------------------------------------------ saved state */

static u16 pic_flags(const struct vsnix_8259 *c)
{
	return (c->icw4 ? VSNIX_8259_ICW4 : 0) |
	       (c->single ? VSNIX_8259_SINGLE : 0) |
	       (c->ltim ? VSNIX_8259_LTIM : 0) |
	       (c->auto_eoi ? VSNIX_8259_AUTO_EOI : 0) |
	       (c->rotate_auto_eoi ? VSNIX_8259_ROTATE_AUTO_EOI : 0) |
	       (c->sfnm ? VSNIX_8259_SFNM : 0) |
	       (c->special_mask ? VSNIX_8259_SPECIAL_MASK : 0) |
	       (c->read_isr ? VSNIX_8259_READ_ISR : 0) |
	       (c->poll ? VSNIX_8259_POLL : 0);
}

static void pic_save_regs(const struct pic_regs *s, struct vsnix_pic_state *st)
{
	int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < 2; i++) {
		const struct vsnix_8259 *c = &s->chip[i];
		struct vsnix_8259_state *o = &st->chip[i];

		o->irr = c->irr;
		o->isr = c->isr;
		o->imr = c->imr;
		o->elcr = c->elcr;
		o->lines = c->lines;
		o->prio_base = c->prio_base;
		o->vector_base = c->vector_base;
		o->init_step = c->init_step;
		o->flags = pic_flags(c);
	}
	st->gsi_levels = s->gsi_levels;
}

/* Only what a guest could have produced; 0 or -EINVAL. */
static int pic_restore_regs(struct pic_regs *s,
			    const struct vsnix_pic_state *st)
{
	int i;

	for (i = 0; i < 2; i++) {
		const struct vsnix_8259_state *o = &st->chip[i];

		if ((o->elcr & ~s->chip[i].elcr_mask) || o->prio_base > 7 ||
		    (o->vector_base & 7) || o->init_step == 1 ||
		    o->init_step > 4 || o->flags >= VSNIX_8259_POLL << 1 ||
		    !vsnix_dev_all_zero(o->pad, sizeof(o->pad)))
			return -EINVAL;
	}
	if (!vsnix_dev_all_zero(st->pad, sizeof(st->pad)))
		return -EINVAL;
	for (i = 0; i < 2; i++) {
		const struct vsnix_8259_state *o = &st->chip[i];
		struct vsnix_8259 *c = &s->chip[i];

		c->irr = o->irr;
		c->isr = o->isr;
		c->imr = o->imr;
		c->elcr = o->elcr;
		c->lines = o->lines;
		c->prio_base = o->prio_base;
		c->vector_base = o->vector_base;
		c->init_step = o->init_step;
		c->icw4 = o->flags & VSNIX_8259_ICW4;
		c->single = o->flags & VSNIX_8259_SINGLE;
		c->ltim = o->flags & VSNIX_8259_LTIM;
		c->auto_eoi = o->flags & VSNIX_8259_AUTO_EOI;
		c->rotate_auto_eoi = o->flags & VSNIX_8259_ROTATE_AUTO_EOI;
		c->sfnm = o->flags & VSNIX_8259_SFNM;
		c->special_mask = o->flags & VSNIX_8259_SPECIAL_MASK;
		c->read_isr = o->flags & VSNIX_8259_READ_ISR;
		c->poll = o->flags & VSNIX_8259_POLL;
	}
	s->gsi_levels = st->gsi_levels;
	return 0;
}

/* ------------------------------------------------------------- glue */

static struct vsnix_pic *io_to_pic(struct vsnix_io_device *io)
{
	if (io->base == 0x20)
		return container_of(io, struct vsnix_pic, io[0]);
	if (io->base == 0xa0)
		return container_of(io, struct vsnix_pic, io[1]);
	return container_of(io, struct vsnix_pic, io[2]);
}

/* INTR rose: the BSP's LAPIC re-evaluates LINT0 before its next entry. */
static void pic_kick_bsp(struct vsnix_pic *pic)
{
	struct vsnix_vcpu *bsp = READ_ONCE(pic->vm->vcpus[0]);

	if (bsp)
		vsnix_x86_event_update(bsp);
}

static int vsnix_pic_read(struct vsnix_io_device *io, struct vsnix_vcpu *vcpu,
			  u64 addr, unsigned int len, void *val)
{
	struct vsnix_pic *pic = io_to_pic(io);
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&pic->lock, flags);
	for (i = 0; i < len; i++)
		((u8 *)val)[i] = pic_port_read(&pic->s, addr + i);
	spin_unlock_irqrestore(&pic->lock, flags);
	return VSNIX_IO_DONE;
}

static int vsnix_pic_write(struct vsnix_io_device *io,
			   struct vsnix_vcpu *vcpu, u64 addr,
			   unsigned int len, const void *val)
{
	struct vsnix_pic *pic = io_to_pic(io);
	unsigned long flags;
	bool was, now = false;
	unsigned int i;

	spin_lock_irqsave(&pic->lock, flags);
	was = pic->s.intr;
	for (i = 0; i < len; i++)
		now = pic_port_write(&pic->s, addr + i, ((const u8 *)val)[i]);
	spin_unlock_irqrestore(&pic->lock, flags);
	if (now && !was)
		pic_kick_bsp(pic);
	return VSNIX_IO_DONE;
}

static void vsnix_pic_set_pin(struct vsnix_irqchip *chip, u32 pin,
			      bool level)
{
	struct vsnix_pic *pic = container_of(chip, struct vsnix_pic, irqchip);
	unsigned long flags;
	bool was, now;

	if (pin >= PIC_NR_GSIS)
		return;
	spin_lock_irqsave(&pic->lock, flags);
	was = pic->s.intr;
	pic_set_gsi(&pic->s, pin, level);
	now = pic_update(&pic->s);
	spin_unlock_irqrestore(&pic->lock, flags);
	if (now && !was)
		pic_kick_bsp(pic);
}

bool vsnix_pic_intr_pending(struct vsnix_vm *vm)
{
	struct vsnix_pic *pic;
	bool intr;
	int idx;

	idx = srcu_read_lock(&vm->srcu);
	pic = READ_ONCE(vm->pic);
	intr = pic && READ_ONCE(pic->s.intr);
	srcu_read_unlock(&vm->srcu, idx);
	return intr;
}

int vsnix_pic_ack(struct vsnix_vm *vm)
{
	struct vsnix_pic *pic;
	unsigned long flags;
	int idx, vector = -1;

	idx = srcu_read_lock(&vm->srcu);
	pic = READ_ONCE(vm->pic);
	if (pic) {
		spin_lock_irqsave(&pic->lock, flags);
		vector = pic_ack_state(&pic->s);
		spin_unlock_irqrestore(&pic->lock, flags);
	}
	srcu_read_unlock(&vm->srcu, idx);
	return vector;
}

static void pic_put(struct vsnix_pic *pic)
{
	if (atomic_dec_and_test(&pic->refs))
		kfree(pic);
}

/* No more lines, no more LINT0 reads: then the memory can go. */
static void pic_detach(struct vsnix_pic *pic)
{
	struct vsnix_vm *vm = pic->vm;

	if (pic->irqchip_registered)
		vsnix_irqchip_unregister(vm, &pic->irqchip);
	if (cmpxchg(&vm->pic, pic, NULL) == pic)
		synchronize_srcu(&vm->srcu);
}

/* io[0] takes the other ranges with it; each range drops its ref. */
static void vsnix_pic_destroy(struct vsnix_io_device *io)
{
	struct vsnix_pic *pic = io_to_pic(io);

	if (io == &pic->io[0]) {
		vsnix_dev_unregister_extra(pic->vm, pic->io, 3);
		pic_detach(pic);
	}
	pic_put(pic);
}

static void vsnix_pic_reset(struct vsnix_io_device *io)
{
	struct vsnix_pic *pic = io_to_pic(io);
	unsigned long flags;
	u16 levels;
	u32 gsi;

	spin_lock_irqsave(&pic->lock, flags);
	levels = pic->s.gsi_levels;
	pic_state_reset(&pic->s);
	/* The lines are wired to devices, not part of the chip. */
	for (gsi = 0; gsi < PIC_NR_GSIS; gsi++)
		if (levels & BIT(gsi))
			pic_set_gsi(&pic->s, gsi, true);
	pic_update(&pic->s);
	spin_unlock_irqrestore(&pic->lock, flags);
}

static void vsnix_pic_save(struct vsnix_io_device *io, void *state)
{
	struct vsnix_pic *pic = io_to_pic(io);
	unsigned long flags;

	spin_lock_irqsave(&pic->lock, flags);
	pic_save_regs(&pic->s, state);
	spin_unlock_irqrestore(&pic->lock, flags);
}

static int vsnix_pic_restore(struct vsnix_io_device *io, const void *state)
{
	struct vsnix_pic *pic = io_to_pic(io);
	unsigned long flags;
	bool was, now;
	int ret;

	spin_lock_irqsave(&pic->lock, flags);
	was = pic->s.intr;
	ret = pic_restore_regs(&pic->s, state);
	now = pic_update(&pic->s);
	spin_unlock_irqrestore(&pic->lock, flags);
	if (now && !was)
		pic_kick_bsp(pic);
	return ret;
}

static const struct vsnix_io_ops vsnix_pic_io_ops = {
	.type = VSNIX_DEV_PIC,
	.read = vsnix_pic_read,
	.write = vsnix_pic_write,
	.destroy = vsnix_pic_destroy,
	.reset = vsnix_pic_reset,
	.save = vsnix_pic_save,
	.restore = vsnix_pic_restore,
	.state_version = VSNIX_PIC_STATE_VERSION,
	.state_size = sizeof(struct vsnix_pic_state),
};

/* The slave's and the ELCR's ports: no state of their own. */
static const struct vsnix_io_ops vsnix_pic_extra_ops = {
	.type = VSNIX_DEV_PIC,
	.read = vsnix_pic_read,
	.write = vsnix_pic_write,
	.destroy = vsnix_pic_destroy,
};

static const struct vsnix_irqchip_ops vsnix_pic_irqchip_ops = {
	.set_pin = vsnix_pic_set_pin,
};

static struct vsnix_pic *pic_alloc(struct vsnix_vm *vm)
{
	static const u16 bases[3] = { 0x20, 0xa0, 0x4d0 };
	struct vsnix_pic *pic;
	int i;

	pic = kzalloc(sizeof(*pic), GFP_KERNEL_ACCOUNT);
	if (!pic)
		return NULL;
	spin_lock_init(&pic->lock);
	pic->vm = vm;
	pic_state_reset(&pic->s);
	for (i = 0; i < 3; i++) {
		pic->io[i].bus = VSNIX_BUS_PIO;
		pic->io[i].base = bases[i];
		pic->io[i].len = 2;
		pic->io[i].ops = i ? &vsnix_pic_extra_ops : &vsnix_pic_io_ops;
	}
	atomic_set(&pic->refs, 1);	/* the creator's */
	pic->irqchip.ops = &vsnix_pic_irqchip_ops;
	pic->irqchip.gsi_base = 0;
	pic->irqchip.npins = PIC_NR_GSIS;
	return pic;
}

/*
 * The device's own range goes last: once it is on the bus its id is
 * live, and DESTROY_DEVICE may take everything down at once.
 */
int vsnix_pic_create(struct vsnix_vm *vm, const struct vsnix_pic_config *cfg)
{
	struct vsnix_pic *pic;
	int ret;

	lockdep_assert_held(&vm->lock);
	if (!vsnix_dev_all_zero(cfg, sizeof(*cfg))) {
		pr_warn_ratelimited("pic: reserved must be zero\n");
		return -EINVAL;
	}
	if (READ_ONCE(vm->pic)) {
		pr_warn_ratelimited("pic: the VM has one already\n");
		return -EEXIST;
	}
	pic = pic_alloc(vm);
	if (!pic)
		return -ENOMEM;
	ret = vsnix_dev_register_extra(vm, pic->io, 3, &pic->refs, "pic");
	if (ret)
		goto out;
	ret = vsnix_irqchip_register(vm, &pic->irqchip);
	if (ret)
		goto out_extra;
	pic->irqchip_registered = true;
	WRITE_ONCE(vm->pic, pic);
	atomic_inc(&pic->refs);
	ret = vsnix_dev_register(vm, &pic->io[0], "pic");
	if (ret > 0)
		goto out;
	atomic_dec(&pic->refs);
	pic_detach(pic);
out_extra:
	vsnix_dev_unregister_extra(vm, pic->io, 3);
out:
	pic_put(pic);
	return ret;
}
