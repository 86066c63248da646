// SPDX-License-Identifier: GPL-2.0
/*
 * Local APIC rules that need no vCPU: priorities, destinations, the ICR,
 * the timer's arithmetic, IA32_APIC_BASE transitions and MSI decoding.
 * Pure functions, KUnit-tested (kmod/tests/apic_test.c).
 */
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/time64.h>
#include "lapic.h"

int vsnix_apic_highest_vector(const u32 *bits)
{
	int i;

	for (i = 7; i >= 0; i--)
		if (bits[i])
			return i * 32 + __fls(bits[i]);
	return -1;
}

/*
 * SDM Vol 3, 10.8.3.1: PPR[7:4] is the larger of TPR[7:4] and ISRV[7:4];
 * PPR[3:0] is TPR[3:0] when TPR wins, else 0.
 */
u32 vsnix_apic_ppr(u32 tpr, int isrv)
{
	u32 isr_class = isrv < 0 ? 0 : (u32)isrv & 0xf0;

	tpr &= 0xff;
	return (tpr & 0xf0) >= isr_class ? tpr : isr_class;
}

/* Only a class above PPR[7:4] is delivered (SDM Vol 3, 10.8.3.1). */
bool vsnix_apic_deliverable(int irrv, u32 ppr)
{
	return irrv >= 16 && ((u32)irrv & 0xf0) > (ppr & 0xf0);
}

enum vsnix_apic_mode vsnix_apic_base_mode(u64 apic_base)
{
	bool en = apic_base & VAPIC_BASE_EN, extd = apic_base & VAPIC_BASE_EXTD;

	if (!en)
		return extd ? VSNIX_APIC_INVALID : VSNIX_APIC_DISABLED;
	return extd ? VSNIX_APIC_X2APIC : VSNIX_APIC_XAPIC;
}

/*
 * SDM Vol 3, 10.12.5, figure 10-27: disabled <-> xAPIC <-> x2APIC, and
 * x2APIC -> disabled; not x2APIC -> xAPIC, not disabled -> x2APIC, never
 * EN = 0 with EXTD = 1. Bits 0-7, 9 and those above MAXPHYADDR are
 * reserved (10.4.4).
 */
bool vsnix_apic_base_write_ok(u64 old, u64 new, u8 maxphyaddr)
{
	u64 reserved = GENMASK_ULL(7, 0) | BIT_ULL(9);
	enum vsnix_apic_mode from = vsnix_apic_base_mode(old);
	enum vsnix_apic_mode to = vsnix_apic_base_mode(new);

	if (maxphyaddr < 64)
		reserved |= GENMASK_ULL(63, maxphyaddr);
	if (new & reserved)
		return false;
	if (to == VSNIX_APIC_INVALID)
		return false;
	if (from == VSNIX_APIC_X2APIC && to == VSNIX_APIC_XAPIC)
		return false;
	if (from == VSNIX_APIC_DISABLED && to == VSNIX_APIC_X2APIC)
		return false;
	return true;
}

/* Cluster ID = ID[31:4] in LDR[31:16], bit ID[3:0] in LDR[15:0]. */
u32 vsnix_x2apic_ldr(u32 id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

static bool match_logical_xapic(u32 ldr, u32 dfr, u32 dest)
{
	u32 mda = dest & 0xff, lid = ldr >> 24;

	if (mda == 0xff)
		return true;
	/* DFR[31:28]: 1111b flat model, 0000b cluster model (10.6.2.2). */
	if ((dfr >> 28) == 0xf)
		return mda & lid;
	return (mda >> 4) == (lid >> 4) && (mda & lid & 0xf);
}

bool vsnix_apic_match_dest(enum vsnix_apic_mode mode, u32 id, u32 ldr,
			   u32 dfr, u32 dest, bool logical)
{
	if (mode == VSNIX_APIC_X2APIC) {
		if (dest == 0xffffffff)
			return true;
		if (!logical)
			return dest == id;
		/* 10.12.10.2: cluster must equal, then a bit of the 16. */
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	if (mode != VSNIX_APIC_XAPIC)
		return false;
	if (!logical)
		return (dest & 0xff) == 0xff || (dest & 0xff) == (id >> 24);
	return match_logical_xapic(ldr, dfr, dest);
}

/* SDM Vol 3, 10.6.1 (figure 10-12) and 10.12.9 (x2APIC ICR). */
void vsnix_apic_decode_icr(u64 icr, bool x2apic, struct vsnix_apic_irq *irq)
{
	irq->vector = icr & 0xff;
	irq->delivery_mode = (icr >> 8) & 7;
	irq->logical = icr & BIT(11);
	irq->assert = icr & BIT(14);
	irq->level_trigger = icr & BIT(15);
	irq->shorthand = (icr >> 18) & 3;
	irq->dest = x2apic ? icr >> 32 : (icr >> 56) & 0xff;
}

/* TDCR bits 0, 1 and 3: 000b is /2 ... 110b is /128, 111b is /1. */
u32 vsnix_apic_timer_divisor(u32 tdcr)
{
	u32 v = (tdcr & 3) | ((tdcr & 8) >> 1);

	return 1u << ((v + 1) & 7);
}

/*
 * The timer counts the bus or core crystal clock (SDM Vol 3, 10.5.4), and
 * CPUID 0x15 gives TSC = crystal * EBX / EAX: hardware's crystal never
 * runs faster than its TSC, and guests rely on it (a one-shot of N ticks
 * lasts at least N TSC cycles). 1 GHz, unless the TSC is slower (Bochs'
 * runs at 200 MHz).
 */
u32 vsnix_apic_bus_khz(u32 tsc_khz)
{
	return tsc_khz ? min(tsc_khz, VAPIC_BUS_MAX_KHZ) : VAPIC_BUS_MAX_KHZ;
}

/* count * divisor < 2^39, times 10^6 < 2^59: no overflow. */
u64 vsnix_apic_timer_ns(u32 count, u32 divisor, u32 bus_khz)
{
	return div_u64((u64)count * divisor * USEC_PER_SEC + bus_khz - 1,
		       bus_khz);
}

u64 vsnix_apic_timer_ticks(u64 ns, u32 divisor, u32 bus_khz)
{
	return mul_u64_u32_div(ns, bus_khz, USEC_PER_SEC * divisor);
}

/*
 * Address: 0xFEE in bits 31:20, destination ID 19:12, RH bit 3, DM bit
 * 2. Data: vector 7:0, delivery mode 10:8, level 14, trigger mode 15.
 */
int vsnix_apic_decode_msi(u64 address, u32 data, struct vsnix_apic_irq *irq)
{
	if ((address >> 20) != 0xfee)
		return -EINVAL;
	*irq = (struct vsnix_apic_irq) {
		.dest = (address >> 12) & 0xff,
		.logical = address & BIT(2),
		.vector = data & 0xff,
		.delivery_mode = (data >> 8) & 7,
		.level_trigger = data & BIT(15),
		.assert = !(data & BIT(15)) || (data & BIT(14)),
	};
	return 0;
}
