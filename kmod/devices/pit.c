// SPDX-License-Identifier: GPL-2.0
/*
 * The 8254 programmable interval timer (Intel 82C54 datasheet): three
 * 16-bit down counters at 1.193182 MHz, ports 0x40-0x42 and the control
 * word at 0x43 (counter latch, read-back, lobyte/hibyte access, binary or
 * BCD, modes 0-5), plus port 0x61 of the PC's system control port B: bit 0
 * gates counter 2, bit 5 reads its OUT (Linux calibrates the TSC this way).
 *
 * Counts are computed from ktime when read, never ticked. Counter 0's OUT
 * rising edge (every period in modes 2 and 3, once in mode 0) is an
 * hrtimer that pulses ISA IRQ0, which is GSI 2: the MADT carries the
 * interrupt source override IRQ0 -> GSI 2, and the PIC takes GSI 2 on its
 * IR0. Periods shorter than PIT_MIN_PERIOD_NS are stretched to it, so a
 * guest cannot make the host take a timer interrupt every microsecond.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include "devices.h"
#include "../core/irq.h"

#define PIT_HZ			1193182u
#define PIT_IRQ0_GSI		2
#define PIT_MIN_PERIOD_NS	100000ull
#define PIT_PORT_B		0x61

/* Access modes (RW1, RW0 of the control word). */
#define PIT_RW_LATCH	0
#define PIT_RW_LSB	1
#define PIT_RW_MSB	2
#define PIT_RW_WORD	3

/* One counter's guest-visible state: what a snapshot would save. */
struct pit_channel {
	u32 reload;		/* N: 1..65536 (binary) or 1..10000 (BCD) */
	u8 mode, rw;
	bool bcd;
	bool gate;
	bool armed;		/* a count was loaded (and triggered: 1, 5) */
	bool null_count;	/* control word written, no count yet */
	bool write_msb;		/* RW_WORD: the next write is the MSB */
	bool read_msb;		/* RW_WORD: the next read is the MSB */
	u8 write_lsb;
	bool count_latched, status_latched;
	u8 latch_reads;		/* bytes of the latched count left to read */
	u16 latched_count;
	u8 status;
	u64 frozen;		/* ticks counted before the gate went low */
	s64 start_ns;		/* when the current counting run began */
};

struct pit_regs {
	struct pit_channel ch[3];
	u8 port_b;		/* bits 0-3 as written */
};

struct vsnix_pit {
	struct vsnix_io_device io[2];	/* 0x40-0x43 (the device), 0x61 */
	atomic_t refs;			/* the creator and each range */
	struct vsnix_vm *vm;
	struct mutex lock;		/* state; never taken by the timer */
	struct hrtimer timer;		/* counter 0's OUT edges */
	u64 period_ns;			/* 0: one shot; read by the timer */
	struct pit_regs s;
};

static u64 pit_ns_to_ticks(s64 ns)
{
	return ns <= 0 ? 0 : mul_u64_u32_div(ns, PIT_HZ, NSEC_PER_SEC);
}

static u64 pit_ticks_to_ns(u64 ticks)
{
	return mul_u64_u32_div(ticks, NSEC_PER_SEC, PIT_HZ);
}

/* Ticks counted since the count was loaded (the gate pauses 0 and 4). */
static u64 pit_elapsed(const struct pit_channel *c, s64 now)
{
	if (!c->armed)
		return 0;
	if (!c->gate && (c->mode == 0 || c->mode == 4 || c->mode == 2 ||
			 c->mode == 3))
		return c->frozen;
	return c->frozen + pit_ns_to_ticks(now - c->start_ns);
}

static u32 pit_modulus(const struct pit_channel *c)
{
	return c->bcd ? 10000 : 65536;
}

/* The counting element after t ticks, per mode (82C54, "Modes"). */
static u32 pit_count_at(const struct pit_channel *c, u64 t)
{
	u32 n = c->reload, m = pit_modulus(c), phase, high;

	if (!c->armed)
		return n % m;
	switch (c->mode) {
	case 2:
		return (n - (u32)do_div(t, n)) % m;
	case 3:
		/* Decrements by 2; an odd N spends one more tick high. */
		phase = do_div(t, n);
		high = (n + 1) / 2;
		if (phase < high)
			return (n - 2 * phase) % m;
		return (n - 2 * (phase - high)) % m;
	default:	/* 0, 1, 4, 5: wrap around after terminal count */
		return (u32)((n + m - do_div(t, m)) % m);
	}
}

static bool pit_out_at(const struct pit_channel *c, u64 t)
{
	u32 n = c->reload;

	if (!c->armed)
		return c->mode != 0;	/* mode 0 starts low, the rest high */
	switch (c->mode) {
	case 0:
	case 1:
		return t >= n;
	case 2:
		return do_div(t, n) != n - 1 || n == 1;
	case 3:
		return do_div(t, n) < (n + 1) / 2;
	default:	/* 4, 5: low for one tick at terminal count */
		return t != n;
	}
}

static u16 pit_to_bcd(u32 v)
{
	return (v % 10) | ((v / 10) % 10) << 4 | ((v / 100) % 10) << 8 |
	       ((v / 1000) % 10) << 12;
}

static u32 pit_from_bcd(u16 v)
{
	return (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 +
	       ((v >> 12) & 0xf) * 1000;
}

/* What a read of the counter returns (binary, or BCD digits). */
static u16 pit_read_value(const struct pit_channel *c, s64 now)
{
	u32 count = pit_count_at(c, pit_elapsed(c, now));

	return c->bcd ? pit_to_bcd(count) : count;
}

/* A count was written: N = 0 is the maximum (2^16, or 10^4 in BCD). */
static void pit_load(struct pit_channel *c, u16 value, s64 now)
{
	u32 n = c->bcd ? pit_from_bcd(value) : value;

	c->reload = n ? n : pit_modulus(c);
	/* Mode 2 and 3 cannot count from 1 (82C54: N = 1 is illegal). */
	if ((c->mode == 2 || c->mode == 3) && c->reload == 1)
		c->reload = 2;
	c->null_count = false;
	c->frozen = 0;
	c->start_ns = now;
	/* Modes 1 and 5 wait for a gate trigger. */
	c->armed = !(c->mode == 1 || c->mode == 5);
}

/* Control word for one counter (not latch, not read-back). */
static void pit_control(struct pit_channel *c, u8 val)
{
	c->rw = (val >> 4) & 3;
	c->mode = (val >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;	/* 6 and 7 are 2 and 3 */
	c->bcd = val & 1;
	c->armed = false;
	c->null_count = true;
	c->write_msb = false;
	c->read_msb = false;
	c->count_latched = false;
	c->status_latched = false;
}

static void pit_latch_count(struct pit_channel *c, s64 now)
{
	if (c->count_latched)
		return;		/* the first latch holds until read */
	c->latched_count = pit_read_value(c, now);
	c->count_latched = true;
	c->latch_reads = c->rw == PIT_RW_WORD ? 2 : 1;
}

static void pit_latch_status(struct pit_channel *c, s64 now)
{
	if (c->status_latched)
		return;
	c->status = pit_out_at(c, pit_elapsed(c, now)) << 7 |
		    c->null_count << 6 | c->rw << 4 | c->mode << 1 | c->bcd;
	c->status_latched = true;
}

/* Port 0x43: a control word, a counter latch or a read-back command. */
static void pit_write_control(struct pit_regs *s, u8 val, s64 now)
{
	unsigned int i, sc = val >> 6;

	if (sc == 3) {		/* read-back: bits 3-1 select counters */
		for (i = 0; i < 3; i++) {
			if (!(val & BIT(i + 1)))
				continue;
			if (!(val & 0x20))
				pit_latch_count(&s->ch[i], now);
			if (!(val & 0x10))
				pit_latch_status(&s->ch[i], now);
		}
	} else if (((val >> 4) & 3) == PIT_RW_LATCH) {
		pit_latch_count(&s->ch[sc], now);
	} else {
		pit_control(&s->ch[sc], val);
	}
}

/* A byte to a counter's port; true when a new count was loaded. */
static bool pit_write_count(struct pit_channel *c, u8 val, s64 now)
{
	switch (c->rw) {
	case PIT_RW_LSB:
		pit_load(c, val, now);
		return true;
	case PIT_RW_MSB:
		pit_load(c, val << 8, now);
		return true;
	case PIT_RW_WORD:
		if (!c->write_msb) {
			c->write_lsb = val;
			c->write_msb = true;
			return false;
		}
		c->write_msb = false;
		pit_load(c, c->write_lsb | val << 8, now);
		return true;
	default:
		return false;	/* no control word yet */
	}
}

static u8 pit_read_count(struct pit_channel *c, s64 now)
{
	u16 v;
	bool msb;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->count_latched) {
		v = c->latched_count;
		msb = c->rw == PIT_RW_MSB ||
		      (c->rw == PIT_RW_WORD && c->latch_reads == 1);
		if (--c->latch_reads == 0)
			c->count_latched = false;
		return msb ? v >> 8 : v & 0xff;
	}
	v = pit_read_value(c, now);
	msb = c->rw == PIT_RW_MSB;
	if (c->rw == PIT_RW_WORD) {
		msb = c->read_msb;
		c->read_msb = !c->read_msb;
	}
	return msb ? v >> 8 : v & 0xff;
}

/*
 * Counter 2's gate (port 0x61 bit 0): low pauses modes 0, 2, 3 and 4; a
 * rising edge restarts modes 1, 2, 3 and 5 from N (82C54, gate table).
 */
static void pit_set_gate(struct pit_channel *c, bool gate, s64 now)
{
	if (gate == c->gate)
		return;
	if (!gate) {
		c->frozen = pit_elapsed(c, now);
	} else if (c->mode == 0 || c->mode == 4) {
		c->start_ns = now;
	} else if (!c->null_count) {
		c->frozen = 0;
		c->start_ns = now;
		c->armed = true;
	}
	c->gate = gate;
}

/* Port 0x61: bit 4 toggles every 15.085 us (DRAM refresh), bit 5 is OUT2. */
static u8 pit_read_port_b(const struct pit_regs *s, s64 now)
{
	const struct pit_channel *c = &s->ch[2];
	u8 v = s->port_b & 0x0f;

	if ((now / 15085) & 1)
		v |= 0x10;
	if (pit_out_at(c, pit_elapsed(c, now)))
		v |= 0x20;
	return v;
}

/* Power-on: counters 0 and 1 gated on, counter 2 off until port 0x61. */
static void pit_state_reset(struct pit_regs *s)
{
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < 3; i++) {
		s->ch[i].reload = 65536;
		s->ch[i].gate = i != 2;
		s->ch[i].null_count = true;
	}
}

/* ------------------------------------------------------ saved state */

static void pit_save_channel(const struct pit_channel *c,
			     struct vsnix_pit_channel_state *o, s64 now)
{
	o->elapsed = pit_elapsed(c, now);
	o->reload = c->reload;
	o->latched_count = c->latched_count;
	o->flags = (c->bcd ? VSNIX_PIT_BCD : 0) |
		   (c->gate ? VSNIX_PIT_GATE : 0) |
		   (c->armed ? VSNIX_PIT_ARMED : 0) |
		   (c->null_count ? VSNIX_PIT_NULL_COUNT : 0) |
		   (c->write_msb ? VSNIX_PIT_WRITE_MSB : 0) |
		   (c->read_msb ? VSNIX_PIT_READ_MSB : 0) |
		   (c->count_latched ? VSNIX_PIT_COUNT_LATCHED : 0) |
		   (c->status_latched ? VSNIX_PIT_STATUS_LATCHED : 0);
	o->mode = c->mode;
	o->rw = c->rw;
	o->write_lsb = c->write_lsb;
	o->latch_reads = c->latch_reads;
	o->status = c->status;
}

static bool pit_channel_state_ok(const struct vsnix_pit_channel_state *o)
{
	u32 max = (o->flags & VSNIX_PIT_BCD) ? 10000 : 65536;

	return o->reload >= 1 && o->reload <= max && o->mode <= 5 &&
	       o->rw <= 3 && o->latch_reads <= 2 &&
	       o->flags < VSNIX_PIT_STATUS_LATCHED << 1 &&
	       vsnix_dev_all_zero(o->pad, sizeof(o->pad));
}

/* The count goes on from the saved tick count, from now. */
static void pit_restore_channel(struct pit_channel *c,
				const struct vsnix_pit_channel_state *o,
				s64 now)
{
	c->reload = o->reload;
	c->latched_count = o->latched_count;
	c->bcd = o->flags & VSNIX_PIT_BCD;
	c->gate = o->flags & VSNIX_PIT_GATE;
	c->armed = o->flags & VSNIX_PIT_ARMED;
	c->null_count = o->flags & VSNIX_PIT_NULL_COUNT;
	c->write_msb = o->flags & VSNIX_PIT_WRITE_MSB;
	c->read_msb = o->flags & VSNIX_PIT_READ_MSB;
	c->count_latched = o->flags & VSNIX_PIT_COUNT_LATCHED;
	c->status_latched = o->flags & VSNIX_PIT_STATUS_LATCHED;
	c->mode = o->mode;
	c->rw = o->rw;
	c->write_lsb = o->write_lsb;
	c->latch_reads = o->latch_reads;
	c->status = o->status;
	c->frozen = o->elapsed;
	c->start_ns = now;
}

/* ------------------------------------------------------------- glue */

static enum hrtimer_restart pit_timer_fn(struct hrtimer *timer)
{
	struct vsnix_pit *pit = container_of(timer, struct vsnix_pit, timer);
	u64 period = READ_ONCE(pit->period_ns);

	/* An edge: the line goes high and low again (irq.h). */
	vsnix_irq_set_line(pit->vm, PIT_IRQ0_GSI, true);
	vsnix_irq_set_line(pit->vm, PIT_IRQ0_GSI, false);
	if (!period)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, ns_to_ktime(period));
	return HRTIMER_RESTART;
}

/* Counter 0 was reprogrammed: its next OUT rising edge, if any. */
static void pit_arm_timer(struct vsnix_pit *pit, s64 now)
{
	struct pit_channel *c = &pit->s.ch[0];
	u64 first;

	lockdep_assert_held(&pit->lock);
	hrtimer_cancel(&pit->timer);
	if (!c->armed || c->mode == 1 || c->mode == 5)
		return;
	first = max(pit_ticks_to_ns(c->reload), PIT_MIN_PERIOD_NS);
	WRITE_ONCE(pit->period_ns,
		   (c->mode == 2 || c->mode == 3) ? first : 0);
	hrtimer_start(&pit->timer, ns_to_ktime(now + first),
		      HRTIMER_MODE_ABS);
}

static struct vsnix_pit *io_to_pit(struct vsnix_io_device *io)
{
	if (io->base == PIT_PORT_B)
		return container_of(io, struct vsnix_pit, io[1]);
	return container_of(io, struct vsnix_pit, io[0]);
}

static int vsnix_pit_read(struct vsnix_io_device *io, struct vsnix_vcpu *vcpu,
			  u64 addr, unsigned int len, void *val)
{
	struct vsnix_pit *pit = io_to_pit(io);
	s64 now = ktime_get_ns();
	unsigned int i;
	u16 port;

	mutex_lock(&pit->lock);
	for (i = 0; i < len; i++) {
		port = addr + i;
		if (port == PIT_PORT_B)
			((u8 *)val)[i] = pit_read_port_b(&pit->s, now);
		else if (port < 0x43)
			((u8 *)val)[i] = pit_read_count(&pit->s.ch[port - 0x40],
							now);
		else
			((u8 *)val)[i] = 0xff;	/* control is write-only */
	}
	mutex_unlock(&pit->lock);
	return VSNIX_IO_DONE;
}

static void pit_write_byte(struct vsnix_pit *pit, u16 port, u8 v, s64 now)
{
	struct pit_regs *s = &pit->s;

	lockdep_assert_held(&pit->lock);
	if (port == PIT_PORT_B) {
		s->port_b = v & 0x0f;
		pit_set_gate(&s->ch[2], v & 1, now);
	} else if (port == 0x43) {
		pit_write_control(s, v, now);
		if ((v >> 6) == 0 && ((v >> 4) & 3) != PIT_RW_LATCH)
			pit_arm_timer(pit, now);	/* counting stopped */
	} else if (pit_write_count(&s->ch[port - 0x40], v, now) &&
		   port == 0x40) {
		pit_arm_timer(pit, now);
	}
}

static int vsnix_pit_write(struct vsnix_io_device *io,
			   struct vsnix_vcpu *vcpu, u64 addr,
			   unsigned int len, const void *val)
{
	struct vsnix_pit *pit = io_to_pit(io);
	s64 now = ktime_get_ns();
	unsigned int i;

	mutex_lock(&pit->lock);
	for (i = 0; i < len; i++)
		pit_write_byte(pit, addr + i, ((const u8 *)val)[i], now);
	mutex_unlock(&pit->lock);
	return VSNIX_IO_DONE;
}

static void pit_put(struct vsnix_pit *pit)
{
	if (atomic_dec_and_test(&pit->refs))
		kfree(pit);
}

/* io[0] takes port 0x61 with it; each range drops its ref. */
static void vsnix_pit_destroy(struct vsnix_io_device *io)
{
	struct vsnix_pit *pit = io_to_pit(io);

	if (io == &pit->io[0]) {
		vsnix_dev_unregister_extra(pit->vm, pit->io, 2);
		hrtimer_cancel(&pit->timer);
	}
	pit_put(pit);
}

static void vsnix_pit_reset(struct vsnix_io_device *io)
{
	struct vsnix_pit *pit = io_to_pit(io);

	mutex_lock(&pit->lock);
	pit_state_reset(&pit->s);
	pit_arm_timer(pit, ktime_get_ns());	/* stops it */
	mutex_unlock(&pit->lock);
}

static void vsnix_pit_save(struct vsnix_io_device *io, void *state)
{
	struct vsnix_pit *pit = io_to_pit(io);
	struct vsnix_pit_state *st = state;
	s64 now = ktime_get_ns();
	int i;

	memset(st, 0, sizeof(*st));
	mutex_lock(&pit->lock);
	for (i = 0; i < 3; i++)
		pit_save_channel(&pit->s.ch[i], &st->ch[i], now);
	st->port_b = pit->s.port_b;
	mutex_unlock(&pit->lock);
}

static int vsnix_pit_restore(struct vsnix_io_device *io, const void *state)
{
	const struct vsnix_pit_state *st = state;
	struct vsnix_pit *pit = io_to_pit(io);
	s64 now = ktime_get_ns();
	int i;

	if ((st->port_b & ~0x0f) || !vsnix_dev_all_zero(st->pad, sizeof(st->pad)))
		return -EINVAL;
	for (i = 0; i < 3; i++)
		if (!pit_channel_state_ok(&st->ch[i]))
			return -EINVAL;
	mutex_lock(&pit->lock);
	for (i = 0; i < 3; i++)
		pit_restore_channel(&pit->s.ch[i], &st->ch[i], now);
	pit->s.port_b = st->port_b;
	pit_arm_timer(pit, now);
	mutex_unlock(&pit->lock);
	return 0;
}

static const struct vsnix_io_ops vsnix_pit_io_ops = {
	.type = VSNIX_DEV_PIT,
	.read = vsnix_pit_read,
	.write = vsnix_pit_write,
	.destroy = vsnix_pit_destroy,
	.reset = vsnix_pit_reset,
	.save = vsnix_pit_save,
	.restore = vsnix_pit_restore,
	.state_version = VSNIX_PIT_STATE_VERSION,
	.state_size = sizeof(struct vsnix_pit_state),
};

/* Port 0x61: no state of its own. */
static const struct vsnix_io_ops vsnix_pit_extra_ops = {
	.type = VSNIX_DEV_PIT,
	.read = vsnix_pit_read,
	.write = vsnix_pit_write,
	.destroy = vsnix_pit_destroy,
};

int vsnix_pit_create(struct vsnix_vm *vm, const struct vsnix_pit_config *cfg)
{
	struct vsnix_pit *pit;
	int ret;

	lockdep_assert_held(&vm->lock);
	if (!vsnix_dev_all_zero(cfg, sizeof(*cfg))) {
		pr_warn_ratelimited("pit: reserved must be zero\n");
		return -EINVAL;
	}
	pit = kzalloc(sizeof(*pit), GFP_KERNEL_ACCOUNT);
	if (!pit)
		return -ENOMEM;
	mutex_init(&pit->lock);
	pit->vm = vm;
	hrtimer_init(&pit->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	pit->timer.function = pit_timer_fn;
	pit_state_reset(&pit->s);
	pit->io[0] = (struct vsnix_io_device){ .bus = VSNIX_BUS_PIO,
		.base = 0x40, .len = 4, .ops = &vsnix_pit_io_ops };
	pit->io[1] = (struct vsnix_io_device){ .bus = VSNIX_BUS_PIO,
		.base = PIT_PORT_B, .len = 1, .ops = &vsnix_pit_extra_ops };
	atomic_set(&pit->refs, 1);	/* the creator's */
	ret = vsnix_dev_register_extra(vm, pit->io, 2, &pit->refs, "pit");
	if (ret)
		goto out;
	/* Last: once on the bus, DESTROY_DEVICE may take it down. */
	atomic_inc(&pit->refs);
	ret = vsnix_dev_register(vm, &pit->io[0], "pit");
	if (ret < 0) {
		atomic_dec(&pit->refs);
		vsnix_dev_unregister_extra(vm, pit->io, 2);
	}
out:
	pit_put(pit);
	return ret;
}
