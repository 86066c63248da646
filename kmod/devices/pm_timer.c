// SPDX-License-Identifier: GPL-2.0
/*
 * The ACPI power management timer (ACPI 6.5, 4.8.3.3): a free-running
 * counter at 3.579545 MHz read from a 4-byte port (the FADT's PM_TMR_BLK).
 * It is 24 bits wide: the FADT must leave TMR_VAL_EXT (flags bit 8) clear,
 * as QEMU does, and Linux's acpi_pm clocksource reads 24 bits either way.
 * Its value is computed from the host's monotonic clock at each read, so
 * every vCPU sees the same counter and it never goes back. No interrupt:
 * TMR_STS/TMR_EN live in the PM1 event block, which vsnix does not model.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include "devices.h"

#define PM_TIMER_HZ	3579545u
#define PM_TIMER_MASK	0xffffffu
#define PM_TIMER_LEN	4

struct vsnix_pm_timer {
	struct vsnix_io_device io;
	s64 start_ns;		/* the counter read 0 then */
};

/* Ticks at ns since start, wrapped to 24 bits. */
static u32 pm_timer_value(s64 ns)
{
	if (ns <= 0)
		return 0;
	return mul_u64_u32_div(ns, PM_TIMER_HZ, NSEC_PER_SEC) & PM_TIMER_MASK;
}

static int vsnix_pm_timer_read(struct vsnix_io_device *io,
			       struct vsnix_vcpu *vcpu, u64 addr,
			       unsigned int len, void *val)
{
	struct vsnix_pm_timer *t = container_of(io, struct vsnix_pm_timer, io);
	u32 v = pm_timer_value(ktime_get_ns() - READ_ONCE(t->start_ns));
	unsigned int off = addr - io->base;

	/* A narrower read sees its bytes of the 32-bit register. */
	vsnix_pio_fill(val, len, v >> (8 * off));
	return VSNIX_IO_DONE;
}

static void vsnix_pm_timer_destroy(struct vsnix_io_device *io)
{
	kfree(container_of(io, struct vsnix_pm_timer, io));
}

static struct vsnix_pm_timer *to_pm_timer(struct vsnix_io_device *io)
{
	return container_of(io, struct vsnix_pm_timer, io);
}

/* Power-on: the counter starts again from 0. */
static void vsnix_pm_timer_reset(struct vsnix_io_device *io)
{
	WRITE_ONCE(to_pm_timer(io)->start_ns, ktime_get_ns());
}

static void vsnix_pm_timer_save(struct vsnix_io_device *io, void *state)
{
	struct vsnix_pm_timer_state *st = state;
	s64 ns = ktime_get_ns() - READ_ONCE(to_pm_timer(io)->start_ns);

	st->ticks = ns > 0 ? mul_u64_u32_div(ns, PM_TIMER_HZ, NSEC_PER_SEC) : 0;
}

/* Goes on from the saved count (any value: it wraps at 24 bits). */
static int vsnix_pm_timer_restore(struct vsnix_io_device *io,
				  const void *state)
{
	const struct vsnix_pm_timer_state *st = state;
	u64 ticks = st->ticks & PM_TIMER_MASK;

	WRITE_ONCE(to_pm_timer(io)->start_ns, ktime_get_ns() -
		   (s64)mul_u64_u32_div(ticks, NSEC_PER_SEC, PM_TIMER_HZ));
	return 0;
}

/* Read-only: writes are ignored (no .write). */
static const struct vsnix_io_ops vsnix_pm_timer_ops = {
	.type = VSNIX_DEV_PM_TIMER,
	.read = vsnix_pm_timer_read,
	.destroy = vsnix_pm_timer_destroy,
	.reset = vsnix_pm_timer_reset,
	.save = vsnix_pm_timer_save,
	.restore = vsnix_pm_timer_restore,
	.state_version = VSNIX_PM_TIMER_STATE_VERSION,
	.state_size = sizeof(struct vsnix_pm_timer_state),
};

int vsnix_pm_timer_create(struct vsnix_vm *vm,
			  const struct vsnix_pm_timer_config *cfg)
{
	struct vsnix_pm_timer *t;
	int ret;

	lockdep_assert_held(&vm->lock);
	if (cfg->pad || !vsnix_dev_all_zero(cfg->reserved,
					    sizeof(cfg->reserved))) {
		pr_warn_ratelimited("pm timer: pad and reserved must be zero\n");
		return -EINVAL;
	}
	/* The FADT's port is 4-byte aligned (ACPI 6.5, 5.2.9). */
	if (!cfg->port || cfg->port & 3 ||
	    cfg->port > 0x10000 - PM_TIMER_LEN) {
		pr_warn_ratelimited("pm timer: port 0x%x is not a 4-byte aligned port\n",
				    cfg->port);
		return -EINVAL;
	}
	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	t->start_ns = ktime_get_ns();
	t->io.bus = VSNIX_BUS_PIO;
	t->io.base = cfg->port;
	t->io.len = PM_TIMER_LEN;
	t->io.ops = &vsnix_pm_timer_ops;
	ret = vsnix_dev_register(vm, &t->io, "pm timer");
	if (ret < 0)
		kfree(t);
	return ret;
}
