// SPDX-License-Identifier: GPL-2.0
/*
 * The PCI host bridge and a virtio-rng function over it, driven by a
 * guest the way a driver does: configuration mechanism 1 (0xcf8/0xcfc)
 * and ECAM scans (an absent function reads all ones), BAR sizing and a
 * BAR move, the capability list (virtio 1.2 section 4.1.4, MSI-X), the
 * device status and feature negotiation (3.1.1), a split virtqueue
 * with an MSI-X vector to the in-kernel LAPIC, and random bytes back.
 * Then hostile rings (a buffer outside RAM, a chain loop, a length
 * overflow, indirect in indirect, an avail index jump): each makes the
 * device set DEVICE_NEEDS_RESET (status bit 6) with a configuration
 * interrupt, and after a reset the device serves again. MSI-X masking:
 * a masked vector sets its PBA bit and fires on unmask. With MSI-X off,
 * the queue interrupt is the ISR's bit 0 and Status.Interrupt Status.
 */
#include <vsnix/pc.h>
#include "vsnix_util.h"

#define NR_TESTS	17
#define VEC_QUEUE	0x45
#define VEC_CONFIG	0x46
#define SLOT		3
#define BAR		PC_PCI_MMIO_START
#define BAR_MOVED	(PC_PCI_MMIO_START + 0x100000)
#define QSIZE		16
#define BIG		0x20000000u	/* 512 MiB of RAM for the overflow */

#ifdef VSNIX_CAP_LAPIC
volatile uint64_t irq_queue, irq_config;

extern char queue_stub[], config_stub[];
asm(".pushsection .text\n"
	"queue_stub:\n"
	"  pushq %rax\n"
	"  lock incq irq_queue(%rip)\n"
	"  movabsq $0xfee000b0, %rax\n"
	"  movl $0, (%rax)\n"
	"  popq %rax\n"
	"  iretq\n"
	"config_stub:\n"
	"  pushq %rax\n"
	"  lock incq irq_config(%rip)\n"
	"  movabsq $0xfee000b0, %rax\n"
	"  movl $0, (%rax)\n"
	"  popq %rax\n"
	"  iretq\n"
	".popsection\n");

/* ------------------------------------------------------------ guest */

static inline uint32_t g_inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t g_inw(uint16_t port)
{
	uint16_t v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#define R8(a)		(*(volatile uint8_t *)(uintptr_t)(a))
#define R16(a)		(*(volatile uint16_t *)(uintptr_t)(a))
#define R32(a)		(*(volatile uint32_t *)(uintptr_t)(a))
#define R64(a)		(*(volatile uint64_t *)(uintptr_t)(a))
#define ECAM(dev, reg)	(PC_PCI_ECAM_BASE + ((dev) << 15) + (reg))

static uint32_t cf8_read(uint32_t dev, uint32_t reg)
{
	guest_outl(0xcf8, 0x80000000u | dev << 11 | reg);
	return g_inl(0xcfc);
}

/* Where the guest found things: filled by find_caps. */
static uint64_t common, notify, isr;
static uint32_t notify_mult;
static uint8_t msix_cap;
static uint64_t bar;

/* Virtio's common configuration (4.1.4.3). */
#define C_DFSEL		0x00
#define C_DF		0x04
#define C_GFSEL		0x08
#define C_GF		0x0c
#define C_MSIX_CFG	0x10
#define C_NUMQ		0x12
#define C_STATUS	0x14
#define C_QSEL		0x16
#define C_QSIZE		0x18
#define C_QMSIX		0x1a
#define C_QENABLE	0x1c
#define C_QNOFF		0x1e
#define C_QDESC		0x20
#define C_QDRIVER	0x28
#define C_QDEVICE	0x30

#define S_ACK		1
#define S_DRIVER	2
#define S_DRIVER_OK	4
#define S_FEATURES_OK	8
#define S_NEEDS_RESET	0x40

/* Walks the capability list; returns a bitmask of what was found. */
static uint32_t find_caps(void)
{
	uint32_t found = 0, guard = 0;
	uint8_t at = R8(ECAM(SLOT, 0x34));

	while (at && guard++ < 48) {
		uint8_t id = R8(ECAM(SLOT, at));

		if (id == 0x11) {
			msix_cap = at;
			found |= 1u << 8;
		} else if (id == 0x09) {
			uint8_t type = R8(ECAM(SLOT, at + 3));
			uint32_t off = R32(ECAM(SLOT, at + 8));

			found |= 1u << type;
			if (type == 1)
				common = bar + off;
			if (type == 2) {
				notify = bar + off;
				notify_mult = R32(ECAM(SLOT, at + 16));
			}
			if (type == 3)
				isr = bar + off;
		}
		at = R8(ECAM(SLOT, at + 1));
	}
	return found;
}

struct ring {
	uint64_t desc, avail, used, buf, ind, ind2;
};

static void desc_set(uint64_t table, int i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	R64(table + 16 * i) = addr;
	R32(table + 16 * i + 8) = len;
	R16(table + 16 * i + 12) = flags;
	R16(table + 16 * i + 14) = next;
}

/* Reset, negotiate and set up queue 0 with MSI-X vector 0 (3.1.1). */
static uint32_t dev_init(const struct ring *r, uint32_t feat_hi)
{
	uint32_t f_hi;
	uint8_t st;

	R8(common + C_STATUS) = 0;
	if (R8(common + C_STATUS))
		return 1;
	R8(common + C_STATUS) = S_ACK;
	R8(common + C_STATUS) = S_ACK | S_DRIVER;
	R32(common + C_DFSEL) = 1;
	f_hi = R32(common + C_DF);
	if (!(f_hi & 1))
		return 2;		/* VIRTIO_F_VERSION_1 */
	R32(common + C_GFSEL) = 0;
	R32(common + C_GF) = (1u << 28) | (1u << 29);	/* INDIRECT, EVENT_IDX */
	R32(common + C_GFSEL) = 1;
	R32(common + C_GF) = feat_hi;
	R8(common + C_STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK;
	st = R8(common + C_STATUS);
	if (!(st & S_FEATURES_OK))
		return 3;
	R16(common + C_MSIX_CFG) = 1;
	if (R16(common + C_MSIX_CFG) != 1)
		return 4;
	R16(common + C_QSEL) = 0;
	if (R16(common + C_QSIZE) != 64)
		return 5;
	R16(common + C_QSIZE) = QSIZE;
	R16(common + C_QMSIX) = 0;
	if (R16(common + C_QMSIX) != 0)
		return 6;
	R64(common + C_QDESC) = r->desc;
	R64(common + C_QDRIVER) = r->avail;
	R64(common + C_QDEVICE) = r->used;
	R16(common + C_QENABLE) = 1;
	R8(common + C_STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK;
	return 0;
}

static uint16_t avail_idx;

/* Offers head: used_event asks for an interrupt for it, then notify. */
static void offer(const struct ring *r, uint16_t head)
{
	R16(r->avail + 4 + 2 * (avail_idx % QSIZE)) = head;
	R16(r->avail + 4 + 2 * QSIZE) = R16(r->used + 2);	/* used_event */
	asm volatile("" ::: "memory");
	R16(r->avail + 2) = ++avail_idx;
	R16(notify + R16(common + C_QNOFF) * notify_mult) = 0;
}

static void wait_irq(volatile uint64_t *count, uint64_t want)
{
	asm volatile("cli");
	while (*count < want)
		asm volatile("sti; hlt; cli" ::: "memory");
	asm volatile("sti");
}

/* One good request: returns the bytes the device wrote, 0 on failure. */
static uint32_t good_request(const struct ring *r, uint64_t *q)
{
	uint16_t used = R16(r->used + 2);

	for (int i = 0; i < 64; i++)
		R8(r->buf + i) = 0;
	desc_set(r->desc, 0, r->buf, 64, 2 /* WRITE */, 0);
	offer(r, 0);
	wait_irq(&irq_queue, ++*q);
	if (R16(r->used + 2) != (uint16_t)(used + 1))
		return 0;
	return R32(r->used + 4 + 8 * (used % QSIZE) + 4);
}

/* A hostile ring, then: NEEDS_RESET with a config interrupt, 0 if so. */
static uint32_t expect_needs_reset(uint64_t *c)
{
	uint64_t spin;

	for (spin = 0; spin < 100000000 && !(R8(common + C_STATUS) & S_NEEDS_RESET);
	     spin++)
		asm volatile("pause");
	if (!(R8(common + C_STATUS) & S_NEEDS_RESET))
		return 1;
	wait_irq(&irq_config, ++*c);
	return 0;
}

static void guest_code(struct ring *r)
{
	uint64_t nq = 0, nc = 0;
	uint32_t v, ret;
	int i, absent = 0;

	*(volatile uint32_t *)(0xfee00000 + 0xf0) = 0x1ff;
	/* 0: 0xcf9 (the reset control register) is not the bridge's. */
	guest_outb(0xcf9, 0);
	/* 1: mechanism 1 and ECAM agree; absent slots read all ones. */
	for (i = 0; i < 32; i++) {
		v = cf8_read(i, 0);
		if (v != R32(ECAM(i, 0)))
			GUEST_SYNC3(1, 0, i);
		absent += v == 0xffffffff;
	}
	guest_outl(0xcf8, 0x80000000u | SLOT << 11);
	GUEST_SYNC3(1, R32(ECAM(0, 0)) | (uint64_t)R32(ECAM(0, 8)) << 32,
		    cf8_read(SLOT, 0) | (uint64_t)g_inw(0xcfe) << 32 |
		    (uint64_t)absent << 48);
	/* 2: BAR sizing with decoding off, then a move. */
	R16(ECAM(SLOT, 4)) = 0;
	R32(ECAM(SLOT, 0x10)) = 0xffffffff;
	v = R32(ECAM(SLOT, 0x10));
	R32(ECAM(SLOT, 0x10)) = BAR_MOVED;
	R16(ECAM(SLOT, 4)) = 2 | 4;	/* memory, bus master */
	bar = R32(ECAM(SLOT, 0x10)) & ~0xfu;
	GUEST_SYNC3(2, v, bar);
	/* 3: the capabilities. */
	v = find_caps();
	GUEST_SYNC3(3, v, notify_mult);
	/* 4: MSI-X on, vectors 0 and 1 unmasked. */
	R32(bar + 0x2000) = 0xfee00000;
	R32(bar + 0x2004) = 0;
	R32(bar + 0x2008) = VEC_QUEUE;
	R32(bar + 0x200c) = 0;
	R32(bar + 0x2010) = 0xfee00000;
	R32(bar + 0x2014) = 0;
	R32(bar + 0x2018) = VEC_CONFIG;
	R32(bar + 0x201c) = 0;
	R16(ECAM(SLOT, msix_cap + 2)) = 0x8000;
	ret = dev_init(r, 1);
	GUEST_SYNC3(4, ret, R8(common + C_STATUS));
	/* 5: random bytes with an MSI-X interrupt. */
	v = good_request(r, &nq);
	for (i = 0, ret = 0; i < 64; i++)
		ret |= R8(r->buf + i);
	GUEST_SYNC3(5, v, ret);
	/* 6: a masked vector is pending (PBA), sent on unmask. */
	R32(bar + 0x200c) = 1;
	desc_set(r->desc, 0, r->buf, 16, 2, 0);
	offer(r, 0);
	for (i = 0; i < 100000000 && R16(r->used + 2) != avail_idx; i++)
		asm volatile("pause");
	/* The used entry is written before the interrupt is signalled. */
	for (i = 0; i < 100000000 && !(R32(bar + 0x3000) & 1); i++)
		asm volatile("pause");
	v = R32(bar + 0x3000) & 1;
	ret = irq_queue == nq;
	R32(bar + 0x200c) = 0;
	wait_irq(&irq_queue, ++nq);
	GUEST_SYNC3(6, v | ret << 1 | (R32(bar + 0x3000) & 1) << 2, 0);
	/* 7-11: hostile rings, each followed by a reset and a good request. */
	for (i = 0; i < 5; i++) {
		avail_idx = 0;
		R64(r->avail) = 0;
		R64(r->used) = 0;
		ret = dev_init(r, 1);
		if (!ret && i == 0) {	/* a buffer outside guest RAM */
			desc_set(r->desc, 0, 0x7f0000000000ull, 64, 2, 0);
			offer(r, 0);
		} else if (!ret && i == 1) {	/* a loop */
			desc_set(r->desc, 0, r->buf, 8, 2 | 1, 1);
			desc_set(r->desc, 1, r->buf, 8, 2 | 1, 0);
			offer(r, 0);
		} else if (!ret && i == 2) {	/* 9 x 512 MiB > 4 GiB */
			for (v = 0; v < 9; v++)
				desc_set(r->desc, v, 0, BIG, 2 | (v < 8), v + 1);
			offer(r, 0);
		} else if (!ret && i == 3) {	/* indirect in indirect */
			desc_set(r->ind2, 0, r->buf, 8, 2, 0);
			desc_set(r->ind, 0, r->ind2, 16, 4, 0);
			desc_set(r->desc, 0, r->ind, 16, 4, 0);
			offer(r, 0);
		} else if (!ret) {	/* avail index jump */
			R16(r->avail + 2) = avail_idx + QSIZE + 1;
			R16(notify) = 0;
		}
		ret = ret ? ret : expect_needs_reset(&nc);
		avail_idx = 0;
		R64(r->avail) = 0;
		R64(r->used) = 0;
		if (!ret)
			ret = dev_init(r, 1) ? 10 : 0;
		v = ret ? 0 : good_request(r, &nq);
		GUEST_SYNC3(7 + i, ret, v);
	}
	/* 12: MSI-X off: INTx, ISR bit 0 and Status.Interrupt Status. */
	R16(ECAM(SLOT, msix_cap + 2)) = 0;
	R16(ECAM(SLOT, 4)) = 2 | 4 | 0x400;	/* INTx Disable */
	desc_set(r->desc, 0, r->buf, 16, 2, 0);
	offer(r, 0);
	for (i = 0; i < 100000000 && R16(r->used + 2) != avail_idx; i++)
		asm volatile("pause");
	for (i = 0; i < 100000000 && !(R16(ECAM(SLOT, 6)) & 8); i++)
		asm volatile("pause");
	v = (R16(ECAM(SLOT, 6)) >> 3) & 1;
	v |= R8(isr) << 1;
	v |= ((R16(ECAM(SLOT, 6)) >> 3) & 1) << 3;
	GUEST_SYNC3(12, v, irq_queue == nq);
	GUEST_DONE();
}

/* ------------------------------------------------------------- host */

static int create(int vm_fd, struct vsnix_device_config *c)
{
	c->console_fd = -1;
	return ioctl(vm_fd, VSNIX_CREATE_DEVICE, c);
}

static int create_host(int vm_fd)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_PCI_HOST };

	c.pci_host.ecam_base = PC_PCI_ECAM_BASE;
	c.pci_host.nr_buses = PC_PCI_BUSES;
	c.pci_host.intx_gsi_base = 16;
	c.pci_host.mmio_base = PC_PCI_MMIO_START;
	c.pci_host.mmio_size = PC_PCI_MMIO_END + 1 - PC_PCI_MMIO_START;
	return create(vm_fd, &c);
}

static int create_rng(int vm_fd, int slot, uint64_t bar_base)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_VIRTIO_RNG };

	c.virtio_rng.pci.slot = slot;
	c.virtio_rng.pci.bar_base = bar_base;
	return create(vm_fd, &c);
}

static uint64_t run_sync(struct vsnix_test_vcpu *vcpu, uint64_t stage,
			 struct ucall *uc)
{
	char msg[256];
	uint64_t r = vcpu_run_ucall_soft(vcpu, uc);

	if (r == UCALL_ABORT) {
		ucall_abort_str(vcpu, uc, msg, sizeof(msg));
		tap_diag("guest: %s", msg);
	}
	if (r != UCALL_SYNC || uc->args[0] != stage) {
		tap_diag("stage %lu: got %lu (stage %lu, %s)", (unsigned long)stage,
			 (unsigned long)r, (unsigned long)uc->args[0], vcpu_exit_str(vcpu));
		return ~0ull;
	}
	return 0;
}

int main(void)
{
	static const char *const hostile[] = {
		"a buffer outside guest RAM", "a loop in a chain",
		"a chain length overflow", "indirect in indirect",
		"an avail index jump",
	};
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_sregs sregs;
	struct vsnix_test_vm *vm;
	struct ring *r, rg;
	struct ucall uc;
	int i;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_LAPIC) != 1)
		tap_skip_all("no VSNIX_CAP_LAPIC");
	if (!(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_VIRTIO_RNG)))
		tap_skip_all("no VSNIX_DEV_VIRTIO_RNG");
	tap_plan(NR_TESTS);
	vm = vm_create_long(BIG + 0x100000);
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_LAPIC, 0), "CREATE_LAPIC");
	vcpu = vcpu_create_long(vm, 0, guest_code);
	vm_set_idt_gate(vm, VEC_QUEUE, (uintptr_t)queue_stub);
	vm_set_idt_gate(vm, VEC_CONFIG, (uintptr_t)config_stub);
	vcpu_get_sregs(vcpu, &sregs);
	sregs.idt.limit = 256 * 16 - 1;
	vcpu_set_sregs(vcpu, &sregs);

	rg.desc = vm_alloc(vm, 4096);
	rg.avail = vm_alloc(vm, 4096);
	rg.used = vm_alloc(vm, 4096);
	rg.buf = vm_alloc(vm, 4096);
	rg.ind = vm_alloc(vm, 4096);
	rg.ind2 = vm_alloc(vm, 4096);
	r = (struct ring *)(uintptr_t)vm_alloc(vm, sizeof(*r));
	vm_write(vm, (uintptr_t)r, &rg, sizeof(rg));
	vcpu_set_args(vcpu, 1, (uint64_t)(uintptr_t)r);

	tap_ok(!create_host(vm->fd), "PCI host bridge created");
	tap_ok(!create_rng(vm->fd, SLOT, BAR), "virtio-rng at slot %d, BAR 0x%llx",
	       SLOT, (unsigned long long)BAR);

	i = vcpu_run_raw(vcpu);
	tap_ok(!i && vcpu_is_io(vcpu, 0xcf9, VSNIX_EXIT_IO_OUT, 1),
	       "port 0xcf9 is left to another device (exit to userspace: %s)",
	       vcpu_exit_str(vcpu));
	if (!run_sync(vcpu, 1, &uc))
		tap_ok(uc.args[1] == (0x06000000ull << 32 | 0x00081b36) &&
		       (uint32_t)uc.args[2] == 0x10441af4 &&
		       ((uc.args[2] >> 32) & 0xffff) == 0x1044 &&
		       (uc.args[2] >> 48) == 30,
		       "mechanism 1 and ECAM: host bridge at 00.0, 1af4:1044 at slot %d, 30 absent slots read all ones (0x%lx 0x%lx)",
		       SLOT, (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	else
		tap_ok(false, "config scan");
	if (!run_sync(vcpu, 2, &uc))
		tap_ok(uc.args[1] == 0xffffc000 && uc.args[2] == BAR_MOVED,
		       "BAR sizing reads 0x%lx (16 KiB), moved to 0x%lx",
		       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	else
		tap_ok(false, "BAR sizing");
	if (!run_sync(vcpu, 3, &uc))
		tap_ok(uc.args[1] == 0x12e && uc.args[2] == 4,
		       "capabilities: common, notify, ISR, PCI cfg, MSI-X, no device cfg (0x%lx, multiplier %lu)",
		       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	else
		tap_ok(false, "capabilities");
	if (!run_sync(vcpu, 4, &uc))
		tap_ok(!uc.args[1] && uc.args[2] == 0xf,
		       "features with VERSION_1 accepted, queue set up, DRIVER_OK (err %lu, status 0x%lx)",
		       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	else
		tap_ok(false, "negotiation");
	if (!run_sync(vcpu, 5, &uc))
		tap_ok(uc.args[1] == 64 && uc.args[2],
		       "64 random bytes back with an MSI-X interrupt (%lu bytes)",
		       (unsigned long)uc.args[1]);
	else
		tap_ok(false, "random bytes");
	if (!run_sync(vcpu, 6, &uc))
		tap_ok(uc.args[1] == 3, "masked vector: PBA bit set, no interrupt; sent on unmask, PBA clear (0x%lx)",
		       (unsigned long)uc.args[1]);
	else
		tap_ok(false, "MSI-X mask");
	for (i = 0; i < 5; i++) {
		if (!run_sync(vcpu, 7 + i, &uc))
			tap_ok(!uc.args[1] && uc.args[2] == 64,
			       "%s: NEEDS_RESET and a config interrupt; after a reset the device serves again (err %lu, %lu bytes)",
			       hostile[i], (unsigned long)uc.args[1],
			       (unsigned long)uc.args[2]);
		else
			tap_ok(false, "%s", hostile[i]);
	}
	if (!run_sync(vcpu, 12, &uc))
		tap_ok(uc.args[1] == 3 && uc.args[2],
		       "MSI-X off: Interrupt Status set, ISR reads 1 and clears it (0x%lx)",
		       (unsigned long)uc.args[1]);
	else
		tap_ok(false, "INTx");
	tap_ok(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE, "guest done");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel healthy");
	tap_finish();
}
#else
int main(void)
{
	tap_skip_all("built without the in-kernel LAPIC (VSNIX_CAP_LAPIC)");
}
#endif
