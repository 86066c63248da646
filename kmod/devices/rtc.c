// SPDX-License-Identifier: GPL-2.0
/*
 * The CMOS real-time clock of a PC (Motorola MC146818A datasheet): index
 * port 0x70 (bit 7: NMI mask, latched and otherwise ignored: vsnix has no
 * NMI source behind it), data port 0x71, 128 bytes: the clock (0x00-0x09),
 * registers A-D (0x0a-0x0d), the century (0x32, where the FADT's CENTURY
 * field points) and battery-backed RAM for firmware.
 *
 * The clock runs from the host's real time when the device is created,
 * advanced by the monotonic clock: a host clock step later does not move
 * the guest's. Times are read and written in BCD or binary (register B,
 * DM) and in 24 or 12-hour format (B, 24/12; bit 7 of the hour = PM).
 * Register A's UIP is 1 in the last 244 us of each second, register C's UF
 * is set once a second has passed since C was last read. Periodic, alarm
 * and update interrupts (IRQ 8) are not modelled: the flags are.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/bcd.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/time.h>
#include <linux/timekeeping.h>
#include "devices.h"

#define RTC_SEC		0x00
#define RTC_SEC_ALARM	0x01
#define RTC_MIN		0x02
#define RTC_MIN_ALARM	0x03
#define RTC_HOUR	0x04
#define RTC_HOUR_ALARM	0x05
#define RTC_WDAY	0x06
#define RTC_MDAY	0x07
#define RTC_MONTH	0x08
#define RTC_YEAR	0x09
#define RTC_REG_A	0x0a
#define RTC_REG_B	0x0b
#define RTC_REG_C	0x0c
#define RTC_REG_D	0x0d
#define RTC_CENTURY	0x32
#define RTC_NR_BYTES	128

#define RTC_A_UIP	0x80
#define RTC_B_SET	0x80
#define RTC_B_DM_BINARY	0x04
#define RTC_B_24H	0x02
#define RTC_C_UF	0x10
#define RTC_D_VRT	0x80
#define RTC_HOUR_PM	0x80
#define RTC_UIP_NS	244000	/* MC146818A: UIP leads the update by 244 us */

/* Guest-visible state: what a snapshot would save. */
struct rtc_regs {
	u8 cmos[RTC_NR_BYTES];	/* clock bytes hold the SET-mode copy */
	u8 index;
	bool nmi_masked;
	s64 base_ns;		/* guest time (ns since 1970) at mono_ns */
	s64 mono_ns;
	s64 c_read_sec;		/* guest second of the last read of C */
};

struct vsnix_rtc {
	struct vsnix_io_device io;
	struct mutex lock;	/* state */
	struct rtc_regs s;
};

static bool rtc_is_clock_byte(u8 idx)
{
	return idx == RTC_SEC || idx == RTC_MIN || idx == RTC_HOUR ||
	       (idx >= RTC_WDAY && idx <= RTC_YEAR) || idx == RTC_CENTURY;
}

static s64 rtc_guest_ns(const struct rtc_regs *s, s64 now)
{
	return s->base_ns + (now - s->mono_ns);
}

static u8 rtc_encode(const struct rtc_regs *s, unsigned int v)
{
	return (s->cmos[RTC_REG_B] & RTC_B_DM_BINARY) ? v : bin2bcd(v);
}

static unsigned int rtc_decode(const struct rtc_regs *s, u8 v)
{
	return (s->cmos[RTC_REG_B] & RTC_B_DM_BINARY) ? v : bcd2bin(v);
}

static u8 rtc_encode_hour(const struct rtc_regs *s, unsigned int h)
{
	if (s->cmos[RTC_REG_B] & RTC_B_24H)
		return rtc_encode(s, h);
	return rtc_encode(s, h % 12 ? h % 12 : 12) | (h >= 12 ? RTC_HOUR_PM : 0);
}

static unsigned int rtc_decode_hour(const struct rtc_regs *s, u8 v)
{
	if (s->cmos[RTC_REG_B] & RTC_B_24H)
		return rtc_decode(s, v);
	return rtc_decode(s, v & ~RTC_HOUR_PM) % 12 +
	       (v & RTC_HOUR_PM ? 12 : 0);
}

/* The clock bytes for a time, in the format register B selects. */
static void rtc_fill_clock(struct rtc_regs *s, time64_t secs)
{
	struct tm tm;

	time64_to_tm(secs, 0, &tm);
	s->cmos[RTC_SEC] = rtc_encode(s, tm.tm_sec);
	s->cmos[RTC_MIN] = rtc_encode(s, tm.tm_min);
	s->cmos[RTC_HOUR] = rtc_encode_hour(s, tm.tm_hour);
	s->cmos[RTC_WDAY] = rtc_encode(s, tm.tm_wday + 1);	/* Sunday = 1 */
	s->cmos[RTC_MDAY] = rtc_encode(s, tm.tm_mday);
	s->cmos[RTC_MONTH] = rtc_encode(s, tm.tm_mon + 1);
	s->cmos[RTC_YEAR] = rtc_encode(s, (tm.tm_year + 1900) % 100);
	s->cmos[RTC_CENTURY] = rtc_encode(s, (tm.tm_year + 1900) / 100);
}

/* The time the clock bytes say; out-of-range fields are clamped. */
static time64_t rtc_clock_secs(const struct rtc_regs *s)
{
	unsigned int year, mon, day, hour, min, sec;

	year = rtc_decode(s, s->cmos[RTC_CENTURY]) * 100 +
	       rtc_decode(s, s->cmos[RTC_YEAR]) % 100;
	if (year < 1970)
		year += 100 * ((1970 - year + 99) / 100);
	mon = clamp(rtc_decode(s, s->cmos[RTC_MONTH]), 1u, 12u);
	day = clamp(rtc_decode(s, s->cmos[RTC_MDAY]), 1u, 31u);
	hour = min(rtc_decode_hour(s, s->cmos[RTC_HOUR]), 23u);
	min = min(rtc_decode(s, s->cmos[RTC_MIN]), 59u);
	sec = min(rtc_decode(s, s->cmos[RTC_SEC]), 59u);
	return mktime64(year, mon, day, hour, min, sec);
}

/* The clock bytes become the time, at the start of a second. */
static void rtc_commit(struct rtc_regs *s, s64 now)
{
	s->base_ns = rtc_clock_secs(s) * NSEC_PER_SEC;
	s->mono_ns = now;
	s->c_read_sec = s->base_ns / NSEC_PER_SEC;
}

static u8 rtc_read_reg(struct rtc_regs *s, u8 idx, s64 now)
{
	s64 g = rtc_guest_ns(s, now);
	bool set = s->cmos[RTC_REG_B] & RTC_B_SET;
	u8 v;

	if (rtc_is_clock_byte(idx) && !set) {
		rtc_fill_clock(s, div_s64(g, NSEC_PER_SEC));
		return s->cmos[idx];
	}
	switch (idx) {
	case RTC_REG_A:
		v = s->cmos[RTC_REG_A] & ~RTC_A_UIP;
		if (!set && (u64)g % NSEC_PER_SEC >= NSEC_PER_SEC - RTC_UIP_NS)
			v |= RTC_A_UIP;
		return v;
	case RTC_REG_C:
		/* Read clears; UF: the clock updated since the last read. */
		v = 0;
		if (!set && div_s64(g, NSEC_PER_SEC) != s->c_read_sec)
			v = RTC_C_UF;
		s->c_read_sec = div_s64(g, NSEC_PER_SEC);
		return v;
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		return s->cmos[idx];
	}
}

static void rtc_write_reg(struct rtc_regs *s, u8 idx, u8 val, s64 now)
{
	bool set = s->cmos[RTC_REG_B] & RTC_B_SET;

	if (rtc_is_clock_byte(idx)) {
		if (!set)	/* a field of the running clock */
			rtc_fill_clock(s, div_s64(rtc_guest_ns(s, now),
						  NSEC_PER_SEC));
		s->cmos[idx] = val;
		if (!set)
			rtc_commit(s, now);
		return;
	}
	switch (idx) {
	case RTC_REG_A:
		s->cmos[idx] = val & ~RTC_A_UIP;
		break;
	case RTC_REG_B:
		/* SET stops updates: freeze the clock bytes, resume from them. */
		if ((val & RTC_B_SET) && !set)
			rtc_fill_clock(s, div_s64(rtc_guest_ns(s, now),
						  NSEC_PER_SEC));
		s->cmos[idx] = val;
		if (!(val & RTC_B_SET) && set)
			rtc_commit(s, now);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break;		/* read-only */
	default:
		s->cmos[idx] = val;
		break;
	}
}

/*
 * Memory size bytes as PC firmware keeps them: base memory in KiB
 * (0x15), memory above 1 MiB in KiB up to 64 MiB (0x17, 0x30), above 16
 * MiB in 64 KiB units (0x34), above 4 GiB in 64 KiB units (0x5b-0x5d).
 * RAM below 4 GiB is taken to end at 3.5 GiB at most (the PCI hole).
 */
static void rtc_fill_memory(struct rtc_regs *s, u64 ram)
{
	u64 low = min_t(u64, ram, 0xe0000000ull), high = ram - low;
	u32 ext_kb = low > SZ_1M ? min_t(u64, (low - SZ_1M) / SZ_1K, 0xffff) : 0;
	u32 above16 = low > SZ_16M ?
		      min_t(u64, (low - SZ_16M) / SZ_64K, 0xffff) : 0;
	u32 above4g = min_t(u64, high / SZ_64K, 0xffffff);
	u16 sum = 0;
	int i;

	s->cmos[0x15] = 640 & 0xff;
	s->cmos[0x16] = 640 >> 8;
	s->cmos[0x17] = s->cmos[0x30] = ext_kb & 0xff;
	s->cmos[0x18] = s->cmos[0x31] = ext_kb >> 8;
	s->cmos[0x34] = above16 & 0xff;
	s->cmos[0x35] = above16 >> 8;
	s->cmos[0x5b] = above4g & 0xff;
	s->cmos[0x5c] = (above4g >> 8) & 0xff;
	s->cmos[0x5d] = above4g >> 16;
	/* The checksum of 0x10-0x2d, big-endian at 0x2e. */
	for (i = 0x10; i <= 0x2d; i++)
		sum += s->cmos[i];
	s->cmos[0x2e] = sum >> 8;
	s->cmos[0x2f] = sum & 0xff;
}

/* Reset: 32.768 kHz time base, 1024 Hz rate, BCD, 24-hour, host time. */
static void rtc_state_reset(struct rtc_regs *s, s64 real_ns, s64 now,
			    u64 ram)
{
	memset(s, 0, sizeof(*s));
	s->cmos[RTC_REG_A] = 0x26;
	s->cmos[RTC_REG_B] = RTC_B_24H;
	s->cmos[RTC_REG_D] = RTC_D_VRT;
	s->base_ns = real_ns;
	s->mono_ns = now;
	s->c_read_sec = div_s64(real_ns, NSEC_PER_SEC);
	if (ram)
		rtc_fill_memory(s, ram);
}

/* ------------------------------------------------------------- glue */

static struct vsnix_rtc *to_rtc(struct vsnix_io_device *io)
{
	return container_of(io, struct vsnix_rtc, io);
}

static int vsnix_rtc_read(struct vsnix_io_device *io, struct vsnix_vcpu *vcpu,
			  u64 addr, unsigned int len, void *val)
{
	struct vsnix_rtc *rtc = to_rtc(io);
	s64 now = ktime_get_ns();
	unsigned int i;

	mutex_lock(&rtc->lock);
	for (i = 0; i < len; i++) {
		/* The index port is write-only: it floats. */
		((u8 *)val)[i] = addr + i == 0x70 ? 0xff :
				 rtc_read_reg(&rtc->s, rtc->s.index, now);
	}
	mutex_unlock(&rtc->lock);
	return VSNIX_IO_DONE;
}

static int vsnix_rtc_write(struct vsnix_io_device *io,
			   struct vsnix_vcpu *vcpu, u64 addr,
			   unsigned int len, const void *val)
{
	struct vsnix_rtc *rtc = to_rtc(io);
	s64 now = ktime_get_ns();
	unsigned int i;
	u8 v;

	mutex_lock(&rtc->lock);
	for (i = 0; i < len; i++) {
		v = ((const u8 *)val)[i];
		if (addr + i == 0x70) {
			rtc->s.index = v & 0x7f;
			rtc->s.nmi_masked = v & 0x80;
		} else {
			rtc_write_reg(&rtc->s, rtc->s.index, v, now);
		}
	}
	mutex_unlock(&rtc->lock);
	return VSNIX_IO_DONE;
}

static void vsnix_rtc_destroy(struct vsnix_io_device *io)
{
	kfree(to_rtc(io));
}

/* Power-on registers; the clock keeps running, the RAM keeps its bytes. */
static void vsnix_rtc_reset(struct vsnix_io_device *io)
{
	struct vsnix_rtc *rtc = to_rtc(io);

	mutex_lock(&rtc->lock);
	rtc->s.cmos[RTC_REG_A] = 0x26;
	rtc->s.cmos[RTC_REG_B] = RTC_B_24H;
	rtc->s.index = 0;
	rtc->s.nmi_masked = false;
	mutex_unlock(&rtc->lock);
}

static void vsnix_rtc_save(struct vsnix_io_device *io, void *state)
{
	struct vsnix_rtc *rtc = to_rtc(io);
	struct vsnix_rtc_state *st = state;

	memset(st, 0, sizeof(*st));
	mutex_lock(&rtc->lock);
	memcpy(st->cmos, rtc->s.cmos, sizeof(st->cmos));
	st->time_ns = rtc_guest_ns(&rtc->s, ktime_get_ns());
	st->index = rtc->s.index;
	st->nmi_masked = rtc->s.nmi_masked;
	mutex_unlock(&rtc->lock);
}

static int vsnix_rtc_restore(struct vsnix_io_device *io, const void *state)
{
	const struct vsnix_rtc_state *st = state;
	struct vsnix_rtc *rtc = to_rtc(io);
	s64 now = ktime_get_ns();

	if (st->index >= RTC_NR_BYTES || st->nmi_masked > 1 ||
	    !vsnix_dev_all_zero(st->pad, sizeof(st->pad)))
		return -EINVAL;
	mutex_lock(&rtc->lock);
	memcpy(rtc->s.cmos, st->cmos, sizeof(rtc->s.cmos));
	rtc->s.base_ns = st->time_ns;
	rtc->s.mono_ns = now;
	rtc->s.c_read_sec = div_s64(st->time_ns, NSEC_PER_SEC);
	rtc->s.index = st->index;
	rtc->s.nmi_masked = st->nmi_masked;
	mutex_unlock(&rtc->lock);
	return 0;
}

static const struct vsnix_io_ops vsnix_rtc_io_ops = {
	.type = VSNIX_DEV_RTC,
	.read = vsnix_rtc_read,
	.write = vsnix_rtc_write,
	.destroy = vsnix_rtc_destroy,
	.reset = vsnix_rtc_reset,
	.save = vsnix_rtc_save,
	.restore = vsnix_rtc_restore,
	.state_version = VSNIX_RTC_STATE_VERSION,
	.state_size = sizeof(struct vsnix_rtc_state),
};

int vsnix_rtc_create(struct vsnix_vm *vm, const struct vsnix_rtc_config *cfg)
{
	struct vsnix_rtc *rtc;
	int ret;

	lockdep_assert_held(&vm->lock);
	if (!vsnix_dev_all_zero(cfg->reserved, sizeof(cfg->reserved))) {
		pr_warn_ratelimited("rtc: reserved must be zero\n");
		return -EINVAL;
	}
	rtc = kzalloc(sizeof(*rtc), GFP_KERNEL_ACCOUNT);
	if (!rtc)
		return -ENOMEM;
	mutex_init(&rtc->lock);
	rtc_state_reset(&rtc->s, ktime_get_real_ns(), ktime_get_ns(),
			cfg->ram_size);
	rtc->io.bus = VSNIX_BUS_PIO;
	rtc->io.base = 0x70;
	rtc->io.len = 2;
	rtc->io.ops = &vsnix_rtc_io_ops;
	ret = vsnix_dev_register(vm, &rtc->io, "rtc");
	if (ret < 0)
		kfree(rtc);
	return ret;
}
