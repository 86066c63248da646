// SPDX-License-Identifier: GPL-2.0
/*
 * The ACPI fixed hardware of the vsnix PC (ACPI 6.5, 4.8), what the FADT
 * of libvsnix points at: the PM1a event block (PM1_STS, PM1_EN), the
 * PM1a control block, the GPE0 block and the reset register. The PM
 * timer is a device of its own (pm_timer.c).
 *
 * There is no SMI_CMD: the platform is in ACPI mode from power-on, so
 * SCI_EN reads 1 and cannot be cleared (4.8.2.1: "hardware that does not
 * support legacy mode"). The SCI is a level interrupt on the configured
 * GSI, asserted while an enabled status bit is set (4.8.3.1, 4.8.4.1).
 * Sleeping: SLP_EN with SLP_TYP of \_S5 ends the VM (status 0, source
 * POWEROFF); other sleep types are not offered by the DSDT and are
 * ignored as an immediate wake (WAK_STS set, so OSPM's wait ends). Reset
 * register (as the chipset's 0xcf9): a write with RST_CPU (bit 2) ends
 * the VM (status 0, source RESET); SYS_RST and FULL_RST are kept.
 * Nothing in vsnix raises PWRBTN_STS, TMR_STS, RTC_STS or a GPE yet;
 * VSNIX_SET_DEVICE_STATE can (a power button press from userspace).
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/slab.h>
#include "devices.h"
#include "../core/irq.h"

/* A GSI an interrupt controller can serve (VSNIX_MAX_GSI of irq.c). */
#define VSNIX_ACPI_PM_MAX_GSI	1024

/* PM1_STS and PM1_EN bits (Tables 4.16-4.19). */
#define PM1_TMR			BIT(0)
#define PM1_BM_STS		BIT(4)
#define PM1_GBL			BIT(5)
#define PM1_PWRBTN		BIT(8)
#define PM1_SLPBTN		BIT(9)
#define PM1_RTC			BIT(10)
#define PM1_PCIEXP_WAKE		BIT(14)	/* STS; in EN: PCIEXP_WAKE_DIS */
#define PM1_WAK_STS		BIT(15)
#define PM1_STS_MASK		(PM1_TMR | PM1_BM_STS | PM1_GBL | PM1_PWRBTN | \
				 PM1_SLPBTN | PM1_RTC | PM1_PCIEXP_WAKE | \
				 PM1_WAK_STS)
#define PM1_EN_MASK		(PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | \
				 PM1_RTC | PM1_PCIEXP_WAKE)
/* The events that raise the SCI when enabled. */
#define PM1_SCI_EVENTS		(PM1_TMR | PM1_GBL | PM1_PWRBTN | \
				 PM1_SLPBTN | PM1_RTC)

/* PM1_CNT bits (Tables 4.20-4.21). */
#define PM1_CNT_SCI_EN		BIT(0)
#define PM1_CNT_BM_RLD		BIT(1)
#define PM1_CNT_GBL_RLS		BIT(2)	/* write-only */
#define PM1_CNT_SLP_TYP_SHIFT	10
#define PM1_CNT_SLP_TYP		(7u << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN		BIT(13)	/* write-only */
#define PM1_CNT_KEPT		(PM1_CNT_BM_RLD | PM1_CNT_SLP_TYP)

/* The reset control register of PC chipsets at 0xcf9. */
#define RST_SYS			BIT(1)
#define RST_CPU			BIT(2)
#define RST_FULL		BIT(3)
#define RST_KEPT		(RST_SYS | RST_FULL)

enum { PM_EVT, PM_CNT, PM_GPE, PM_RESET, PM_NR_RANGES };

struct vsnix_acpi_pm {
	struct vsnix_io_device io[PM_NR_RANGES];	/* io[0] is the device */
	unsigned int nr_io;
	atomic_t refs;			/* the creator and each range */
	struct vsnix_vm *vm;
	u32 sci_gsi;
	u8 s5_slp_typ;
	struct mutex lock;		/* s, sci_level */
	struct vsnix_acpi_pm_state s;
	bool sci_level;
};

static const struct vsnix_io_ops acpi_pm_ops[PM_NR_RANGES];

/* Range i has ops acpi_pm_ops[i] and sits at io[i]: both give the index. */
static unsigned int pm_range(struct vsnix_io_device *io)
{
	return io->ops - acpi_pm_ops;
}

static struct vsnix_acpi_pm *to_pm(struct vsnix_io_device *io)
{
	return container_of(io - pm_range(io), struct vsnix_acpi_pm, io[0]);
}

/* The SCI follows the enabled status bits (4.8.3.1). Level: set on change. */
static void acpi_pm_update_sci(struct vsnix_acpi_pm *pm)
{
	const struct vsnix_acpi_pm_state *s = &pm->s;
	bool level;

	lockdep_assert_held(&pm->lock);
	level = (s->pm1_sts & s->pm1_en & PM1_SCI_EVENTS) ||
		(s->gpe0_sts & s->gpe0_en);
	if (level == pm->sci_level)
		return;
	pm->sci_level = level;
	/* -EINVAL: no interrupt controller serves the GSI (yet). */
	vsnix_irq_set_line(pm->vm, pm->sci_gsi, level);
}

static void acpi_pm_state_reset(struct vsnix_acpi_pm_state *s)
{
	memset(s, 0, sizeof(*s));
	s->pm1_cnt = PM1_CNT_SCI_EN;
}

/* A 16-bit register pair of a block: byte i of the block, little-endian. */
static u8 reg_byte(u16 reg, unsigned int i)
{
	return reg >> (8 * (i & 1));
}

static u8 acpi_pm_read_byte(struct vsnix_acpi_pm *pm, unsigned int range,
			    unsigned int off)
{
	const struct vsnix_acpi_pm_state *s = &pm->s;

	switch (range) {
	case PM_EVT:
		return reg_byte(off < 2 ? s->pm1_sts : s->pm1_en, off);
	case PM_CNT:
		return reg_byte(s->pm1_cnt, off);
	case PM_GPE:
		return reg_byte(off < 2 ? s->gpe0_sts : s->gpe0_en, off);
	default:
		return s->reset;
	}
}

static int vsnix_acpi_pm_read(struct vsnix_io_device *io,
			      struct vsnix_vcpu *vcpu, u64 addr,
			      unsigned int len, void *val)
{
	struct vsnix_acpi_pm *pm = to_pm(io);
	unsigned int range = pm_range(io), i;
	u32 v = 0;

	mutex_lock(&pm->lock);
	for (i = 0; i < len; i++)
		v |= (u32)acpi_pm_read_byte(pm, range, addr - io->base + i) <<
		     (8 * i);
	mutex_unlock(&pm->lock);
	vsnix_pio_fill(val, len, v);
	return VSNIX_IO_DONE;
}

/* Write-1-to-clear for status, plain store for enable (4.8.3.1). */
static void w1c_or_store(u16 *reg, unsigned int off, u8 b, bool w1c,
			 u16 mask)
{
	u16 bits = (u16)b << (8 * (off & 1)) & mask;
	u16 lane = 0xff << (8 * (off & 1));

	if (w1c)
		*reg &= ~bits;
	else
		*reg = (*reg & ~lane) | bits;
}

/*
 * PM1_CNT, whole (a byte write keeps the other byte). Returns the guest
 * exit to take: 0, or VSNIX_GUEST_EXIT_POWEROFF.
 */
static u32 acpi_pm_write_cnt(struct vsnix_acpi_pm *pm, u16 v)
{
	u32 typ = (v & PM1_CNT_SLP_TYP) >> PM1_CNT_SLP_TYP_SHIFT;

	pm->s.pm1_cnt = PM1_CNT_SCI_EN | (v & PM1_CNT_KEPT);
	if (!(v & PM1_CNT_SLP_EN))
		return 0;
	if (typ == pm->s5_slp_typ)
		return VSNIX_GUEST_EXIT_POWEROFF;
	/* Not in the DSDT: wake at once, so OSPM's WAK_STS wait ends. */
	pr_info_ratelimited("acpi pm: sleep type %u is not offered; the guest wakes at once\n",
			    typ);
	pm->s.pm1_sts |= PM1_WAK_STS;
	return 0;
}

static u32 acpi_pm_write_byte(struct vsnix_acpi_pm *pm, unsigned int range,
			      unsigned int off, u8 b, u16 *cnt)
{
	struct vsnix_acpi_pm_state *s = &pm->s;

	switch (range) {
	case PM_EVT:
		if (off < 2)
			w1c_or_store(&s->pm1_sts, off, b, true, PM1_STS_MASK);
		else
			w1c_or_store(&s->pm1_en, off, b, false, PM1_EN_MASK);
		return 0;
	case PM_CNT:
		w1c_or_store(cnt, off, b, false, 0xffff);
		return 0;
	case PM_GPE:
		w1c_or_store(off < 2 ? &s->gpe0_sts : &s->gpe0_en, off, b,
			     off < 2, 0xffff);
		return 0;
	default:
		s->reset = b & RST_KEPT;
		return b & RST_CPU ? VSNIX_GUEST_EXIT_RESET : 0;
	}
}

static int vsnix_acpi_pm_write(struct vsnix_io_device *io,
			       struct vsnix_vcpu *vcpu, u64 addr,
			       unsigned int len, const void *val)
{
	struct vsnix_acpi_pm *pm = to_pm(io);
	unsigned int range = pm_range(io), i;
	u32 v = vsnix_pio_value(val, len), exit = 0;
	u16 cnt;

	mutex_lock(&pm->lock);
	/* SLP_EN acts on the whole register, after all bytes are in. */
	cnt = pm->s.pm1_cnt;
	for (i = 0; i < len; i++)
		exit |= acpi_pm_write_byte(pm, range, addr - io->base + i,
					   v >> (8 * i), &cnt);
	if (range == PM_CNT)
		exit = acpi_pm_write_cnt(pm, cnt);
	acpi_pm_update_sci(pm);
	mutex_unlock(&pm->lock);
	if (!exit)
		return VSNIX_IO_DONE;
	vsnix_exit_guest(vcpu, 0, exit, 0);
	return VSNIX_IO_EXIT;
}

static void acpi_pm_put(struct vsnix_acpi_pm *pm)
{
	if (atomic_dec_and_test(&pm->refs))
		kfree(pm);
}

/* io[0] takes the other ranges with it; each range drops its ref. */
static void vsnix_acpi_pm_destroy(struct vsnix_io_device *io)
{
	struct vsnix_acpi_pm *pm = to_pm(io);

	if (io == &pm->io[0])
		vsnix_dev_unregister_extra(pm->vm, pm->io, pm->nr_io);
	acpi_pm_put(pm);
}

/* Power-on: registers cleared, SCI_EN set, the SCI deasserted. */
static void vsnix_acpi_pm_reset(struct vsnix_io_device *io)
{
	struct vsnix_acpi_pm *pm = to_pm(io);

	mutex_lock(&pm->lock);
	acpi_pm_state_reset(&pm->s);
	acpi_pm_update_sci(pm);
	mutex_unlock(&pm->lock);
}

static void vsnix_acpi_pm_save(struct vsnix_io_device *io, void *state)
{
	struct vsnix_acpi_pm *pm = to_pm(io);

	mutex_lock(&pm->lock);
	memcpy(state, &pm->s, sizeof(pm->s));
	mutex_unlock(&pm->lock);
}

static int vsnix_acpi_pm_restore(struct vsnix_io_device *io,
				 const void *state)
{
	const struct vsnix_acpi_pm_state *st = state;
	struct vsnix_acpi_pm *pm = to_pm(io);

	if ((st->pm1_sts & ~PM1_STS_MASK) || (st->pm1_en & ~PM1_EN_MASK) ||
	    st->pm1_cnt != (PM1_CNT_SCI_EN | (st->pm1_cnt & PM1_CNT_KEPT)) ||
	    (st->reset & ~RST_KEPT) ||
	    !vsnix_dev_all_zero(st->pad, sizeof(st->pad)))
		return -EINVAL;
	mutex_lock(&pm->lock);
	pm->s = *st;
	acpi_pm_update_sci(pm);
	mutex_unlock(&pm->lock);
	return 0;
}

#define ACPI_PM_RANGE_OPS					\
	.type = VSNIX_DEV_ACPI_PM,				\
	.read = vsnix_acpi_pm_read,				\
	.write = vsnix_acpi_pm_write,				\
	.destroy = vsnix_acpi_pm_destroy

/* io[0] is the device, with its state; the others are its extra ranges. */
static const struct vsnix_io_ops acpi_pm_ops[PM_NR_RANGES] = {
	[PM_EVT] = {
		ACPI_PM_RANGE_OPS,
		.reset = vsnix_acpi_pm_reset,
		.save = vsnix_acpi_pm_save,
		.restore = vsnix_acpi_pm_restore,
		.state_version = VSNIX_ACPI_PM_STATE_VERSION,
		.state_size = sizeof(struct vsnix_acpi_pm_state),
	},
	[PM_CNT] = { ACPI_PM_RANGE_OPS },
	[PM_GPE] = { ACPI_PM_RANGE_OPS },
	[PM_RESET] = { ACPI_PM_RANGE_OPS },
};

static const u8 acpi_pm_len[PM_NR_RANGES] = {
	[PM_EVT] = 4, [PM_CNT] = 2, [PM_GPE] = 4, [PM_RESET] = 1,
};

static const char *const acpi_pm_name[PM_NR_RANGES] = {
	[PM_EVT] = "pm1a_evt", [PM_CNT] = "pm1a_cnt", [PM_GPE] = "gpe0",
	[PM_RESET] = "reset_port",
};

/* Each block naturally aligned, inside the port space, none overlapping. */
static int acpi_pm_check(const struct vsnix_acpi_pm_config *cfg,
			 const u16 *port, unsigned int n)
{
	unsigned int i, j;

	if (!vsnix_dev_all_zero(cfg->pad, sizeof(cfg->pad)) ||
	    !vsnix_dev_all_zero(cfg->reserved, sizeof(cfg->reserved))) {
		pr_warn_ratelimited("acpi pm: pad and reserved must be zero\n");
		return -EINVAL;
	}
	if (cfg->s5_slp_typ > 7 || cfg->sci_gsi >= VSNIX_ACPI_PM_MAX_GSI) {
		pr_warn_ratelimited("acpi pm: s5_slp_typ %u (0..7) or sci_gsi %u out of range\n",
				    cfg->s5_slp_typ, cfg->sci_gsi);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (!port[i] || port[i] & (acpi_pm_len[i] - 1) ||
		    port[i] > 0x10000 - acpi_pm_len[i]) {
			pr_warn_ratelimited("acpi pm: %s 0x%x is not an aligned port\n",
					    acpi_pm_name[i], port[i]);
			return -EINVAL;
		}
		for (j = 0; j < i; j++)
			if (port[i] < port[j] + acpi_pm_len[j] &&
			    port[j] < port[i] + acpi_pm_len[i]) {
				pr_warn_ratelimited("acpi pm: %s and %s overlap\n",
						    acpi_pm_name[j],
						    acpi_pm_name[i]);
				return -EINVAL;
			}
	}
	return 0;
}

int vsnix_acpi_pm_create(struct vsnix_vm *vm,
			 const struct vsnix_acpi_pm_config *cfg)
{
	const u16 port[PM_NR_RANGES] = { cfg->pm1a_evt, cfg->pm1a_cnt,
					 cfg->gpe0, cfg->reset_port };
	unsigned int i, n = cfg->reset_port ? PM_NR_RANGES : PM_RESET;
	struct vsnix_acpi_pm *pm;
	int ret;

	lockdep_assert_held(&vm->lock);
	ret = acpi_pm_check(cfg, port, n);
	if (ret)
		return ret;
	pm = kzalloc(sizeof(*pm), GFP_KERNEL_ACCOUNT);
	if (!pm)
		return -ENOMEM;
	mutex_init(&pm->lock);
	pm->vm = vm;
	pm->sci_gsi = cfg->sci_gsi;
	pm->s5_slp_typ = cfg->s5_slp_typ;
	pm->nr_io = n;
	acpi_pm_state_reset(&pm->s);
	for (i = 0; i < n; i++)
		pm->io[i] = (struct vsnix_io_device){ .bus = VSNIX_BUS_PIO,
			.base = port[i], .len = acpi_pm_len[i],
			.ops = &acpi_pm_ops[i] };
	atomic_set(&pm->refs, 1);	/* the creator's */
	ret = vsnix_dev_register_extra(vm, pm->io, n, &pm->refs, "acpi pm");
	if (ret)
		goto out;
	/* Last: once on the bus, DESTROY_DEVICE may take it down. */
	atomic_inc(&pm->refs);
	ret = vsnix_dev_register(vm, &pm->io[0], "acpi pm");
	if (ret < 0) {
		atomic_dec(&pm->refs);
		vsnix_dev_unregister_extra(vm, pm->io, n);
	}
out:
	acpi_pm_put(pm);
	return ret;
}
