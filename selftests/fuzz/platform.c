// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl fuzzer's PCI platform: a VM with the PCI host bridge and one
 * to three virtio functions (rng, blk, console, net), whose guest sets the
 * devices up as a driver would (virtio 1.2, 4.1.4.3 and 3.1.1), with now
 * and then a wrong step, over rings of random descriptors, then storms the
 * notify, ISR and config registers. Its VM and vCPU fds join the shared
 * table, so other threads destroy its devices, read its stats, close it
 * and drop its memory while this thread runs it.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#define PLAT_MEM	(256u << 10)	/* RAM at GPA 0 */
#define PLAT_CODE	0x1000u		/* guest code, flat 32-bit */
#define PLAT_CODE_END	0x8000u
#define PLAT_RINGS	0x10000u	/* queue q: desc, avail +0x400, used +0x800 */
#define PLAT_DATA	0x20000u	/* buffers the descriptors point at */
#define PLAT_QSIZE	8
#define PLAT_MAX_DEVS	3
#define PLAT_MMIO	0xc0000000u	/* the PCI window of pc.h */
#define PLAT_RUNS	6

/* virtio common configuration (virtio 1.2, 4.1.4.3) and the BAR layout */
#define VC_DRV_FEAT_SEL	0x08
#define VC_DRV_FEAT	0x0c
#define VC_MSIX_CONFIG	0x10
#define VC_STATUS	0x14
#define VC_Q_SELECT	0x16
#define VC_Q_SIZE	0x18
#define VC_Q_MSIX	0x1a
#define VC_Q_ENABLE	0x1c
#define VC_Q_DESC	0x20
#define VC_Q_DRIVER	0x28
#define VC_Q_DEVICE	0x30
#define VP_ISR		0x100
#define VP_DEVCFG	0x200
#define VP_NOTIFY	0x1000

struct emitter {
	struct fuzz_thread *t;
	uint8_t *p, *end;
};

static void emit(struct emitter *e, const void *bytes, size_t n)
{
	if (e->p + n <= e->end) {
		memcpy(e->p, bytes, n);
		e->p += n;
	}
}

static void emit32(struct emitter *e, uint32_t v)
{
	emit(e, &v, 4);
}

/* mov [addr], imm (1, 2 or 4 bytes); now and then a wrong address or value */
static void emit_write(struct emitter *e, uint32_t addr, uint32_t val, int size)
{
	static const uint8_t op8[] = { 0xc6, 0x05 }, op16[] = { 0x66, 0xc7, 0x05 },
			     op32[] = { 0xc7, 0x05 };

	if (one_in(e->t, 32))
		addr ^= 1u << rnd_below(e->t, 14);
	if (one_in(e->t, 32))
		val = rnd(e->t);
	if (size == 1)
		emit(e, op8, 2);
	else if (size == 2)
		emit(e, op16, 3);
	else
		emit(e, op32, 2);
	emit32(e, addr);
	emit(e, &val, size);
}

/* mov eax, [addr] */
static void emit_read(struct emitter *e, uint32_t addr)
{
	emit(e, "\xa1", 1);
	emit32(e, addr);
}

/* Mechanism 1 (PCI 3.0, 3.2.2.3.2): the address to 0xcf8, data at 0xcfc. */
static void emit_cfg_write(struct emitter *e, unsigned int slot, unsigned int reg,
			   uint32_t val)
{
	emit(e, "\xb8", 1);	/* mov eax, imm32 */
	emit32(e, 0x80000000u | slot << 11 | (reg & 0xfc));
	emit(e, "\x66\xba\xf8\x0c\xef", 5);	/* mov dx, 0xcf8; out dx, eax */
	emit(e, "\xb8", 1);
	emit32(e, val);
	emit(e, "\x66\xba\xfc\x0c\xef", 5);	/* mov dx, 0xcfc; out dx, eax */
}

static void emit_queue(struct emitter *e, uint32_t bar, unsigned int q)
{
	uint32_t ring = PLAT_RINGS + q * 0x1000;

	emit_write(e, bar + VC_Q_SELECT, q, 2);
	emit_write(e, bar + VC_Q_SIZE, PLAT_QSIZE, 2);
	emit_write(e, bar + VC_Q_MSIX, one_in(e->t, 2) ? q : 0xffff, 2);
	emit_write(e, bar + VC_Q_DESC, ring, 4);
	emit_write(e, bar + VC_Q_DESC + 4, 0, 4);
	emit_write(e, bar + VC_Q_DRIVER, ring + 0x400, 4);
	emit_write(e, bar + VC_Q_DRIVER + 4, 0, 4);
	emit_write(e, bar + VC_Q_DEVICE, ring + 0x800, 4);
	emit_write(e, bar + VC_Q_DEVICE + 4, 0, 4);
	emit_write(e, bar + VC_Q_ENABLE, 1, 2);
}

/* The driver's set-up of one function in slot (virtio 1.2, 3.1.1). */
static void emit_driver_init(struct emitter *e, unsigned int slot, uint32_t bar)
{
	unsigned int q;

	emit_cfg_write(e, slot, 0x04, 0x6);	/* memory space, bus master */
	if (one_in(e->t, 4))	/* MSI-X control and the like */
		emit_cfg_write(e, slot, 0x40 + rnd_below(e->t, 0xc0), rnd(e->t));
	emit_write(e, bar + VC_STATUS, 0, 1);
	emit_write(e, bar + VC_STATUS, 3, 1);	/* ACKNOWLEDGE | DRIVER */
	emit_write(e, bar + VC_DRV_FEAT_SEL, 1, 4);
	emit_write(e, bar + VC_DRV_FEAT, 1, 4);	/* VIRTIO_F_VERSION_1 */
	emit_write(e, bar + VC_STATUS, 0xb, 1);	/* | FEATURES_OK */
	emit_write(e, bar + VC_MSIX_CONFIG, 0xffff, 2);
	for (q = 0; q < 1 + rnd_below(e->t, 3); q++)
		emit_queue(e, bar, q);
	emit_write(e, bar + VC_STATUS, 0xf, 1);	/* | DRIVER_OK */
}

/* One step of the storm: mostly notifies, also ISR and config, resets. */
static void emit_storm_step(struct emitter *e, uint32_t bar)
{
	struct fuzz_thread *t = e->t;
	unsigned int q = rnd_below(t, 3);

	switch (rnd_below(t, 8)) {
	case 0:	/* the driver publishes more avail entries */
		emit_write(e, PLAT_RINGS + q * 0x1000 + 0x402,
			   rnd_below(t, one_in(t, 8) ? 0x10000 : PLAT_QSIZE + 1), 2);
		break;
	case 1:
		emit_read(e, bar + VP_ISR);
		break;
	case 2:
		emit_read(e, bar + VP_DEVCFG + (rnd_below(t, 64) & ~3u));
		break;
	case 3:
		if (one_in(t, 4))
			emit_write(e, bar + VC_STATUS, rnd_below(t, 2) ? 0 : 0x40, 1);
		else
			emit_read(e, bar + (rnd_below(t, 0x40) & ~3u));
		break;
	default:
		emit_write(e, bar + VP_NOTIFY + 4 * q, q, one_in(t, 4) ? 2 : 4);
		break;
	}
}

/* Code at PLAT_CODE: set-up of each function, then a storm in a loop. */
static void write_program(struct fuzz_thread *t, uint8_t *mem, unsigned int nr_devs)
{
	struct emitter e = { t, mem + PLAT_CODE, mem + PLAT_CODE_END - 8 };
	unsigned int d, i, steps = 16 + rnd_below(t, 48);
	uint8_t *loop;
	int32_t rel;

	for (d = 0; d < nr_devs; d++)
		emit_driver_init(&e, d + 1, PLAT_MMIO + d * VSNIX_VIRTIO_PCI_BAR_SIZE);
	loop = e.p;
	for (i = 0; i < steps; i++)
		emit_storm_step(&e, PLAT_MMIO + rnd_below(t, nr_devs) *
				VSNIX_VIRTIO_PCI_BAR_SIZE);
	e.end += 8;
	rel = (int32_t)(loop - (e.p + 5));
	emit(&e, "\xe9", 1);	/* jmp loop */
	emit(&e, &rel, 4);
}

/* Descriptors over the data area, with chains, loops and bad addresses. */
static void write_rings(struct fuzz_thread *t, uint8_t *mem)
{
	static const uint32_t blk_types[] = { 0, 1, 4, 8, 11, 13, 99 };
	unsigned int q, i;

	for (q = 0; q < 3; q++) {
		uint8_t *ring = mem + PLAT_RINGS + q * 0x1000;
		uint16_t *avail = (uint16_t *)(ring + 0x400);

		for (i = 0; i < PLAT_QSIZE; i++) {
			uint64_t *desc = (uint64_t *)(ring + 16 * i);
			uint32_t addr = PLAT_DATA + rnd_below(t, PLAT_MEM - PLAT_DATA - 64);
			uint32_t *hdr = (uint32_t *)(mem + addr);

			desc[0] = one_in(t, 16) ? interesting_u64(t) : addr;
			/* NEXT and WRITE; INDIRECT (not negotiated) now and then */
			desc[1] = (one_in(t, 16) ? rnd(t) : 16 + rnd_below(t, 4096)) |
				  (uint64_t)(rnd_below(t, 4) | (one_in(t, 16) ? 4 : 0)) << 32 |
				  (uint64_t)rnd_below(t, PLAT_QSIZE + 1) << 48;
			hdr[0] = blk_types[rnd_below(t, 7)];	/* a virtio-blk header */
			hdr[2] = rnd_below(t, 4096);		/* its sector */
			avail[2 + i] = one_in(t, 16) ? rnd(t) : rnd_below(t, PLAT_QSIZE);
		}
		avail[0] = 0;
		avail[1] = rnd_below(t, one_in(t, 8) ? 0x10000 : PLAT_QSIZE + 1);
	}
}

int platform_sys_fd = -1;

/* A valid config of a virtio function in slot, now and then mutated. */
static long plat_virtio(struct fuzz_thread *t, int vm, unsigned int slot, int *id)
{
	static const uint32_t types[] = {
		VSNIX_DEV_VIRTIO_RNG, VSNIX_DEV_VIRTIO_BLK,
		VSNIX_DEV_VIRTIO_CONSOLE, VSNIX_DEV_VIRTIO_NET,
	};
	struct vsnix_device_config c;
	struct vsnix_pci_placement *p = &c.virtio_rng.pci;
	uint32_t type = types[rnd_below(t, backends.tap >= 0 ? 4 : 3)];
	long r;

	memset(&c, 0, sizeof(c));
	c.type = type;
	c.console_fd = backends.devnull;
	if (type == VSNIX_DEV_VIRTIO_BLK) {
		c.virtio_blk.fd = backends.disk;
		c.virtio_blk.nr_queues = 1 + rnd_below(t, 2);
		p = &c.virtio_blk.pci;
	} else if (type == VSNIX_DEV_VIRTIO_CONSOLE) {
		p = &c.virtio_console.pci;
	} else if (type == VSNIX_DEV_VIRTIO_NET) {
		c.virtio_net.fds[0] = backends.tap;
		c.virtio_net.nr_queue_pairs = 1;
		c.virtio_net.mac[0] = 2;
		p = &c.virtio_net.pci;
	}
	p->slot = slot;
	p->bar_base = PLAT_MMIO + (slot - 1) * VSNIX_VIRTIO_PCI_BAR_SIZE;
	if (one_in(t, 8))
		flip_bits(t, c.raw, 192, 2);
	r = ioctl(vm, VSNIX_CREATE_DEVICE, &c);
	*id = r < 0 ? -1 : (int)c.id;
	return r;
}

static long plat_pci_host(int vm)
{
	struct vsnix_device_config c;

	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_PCI_HOST;
	c.console_fd = -1;
	c.pci_host.ecam_base = 0xe0000000ull;
	c.pci_host.nr_buses = 1;
	c.pci_host.intx_gsi_base = 16;
	c.pci_host.mmio_base = PLAT_MMIO;
	c.pci_host.mmio_size = 0x20000000;
	return ioctl(vm, VSNIX_CREATE_DEVICE, &c);
}

/* Flat 32-bit protected mode, no paging, at PLAT_CODE, IF = 0. */
static long plat_vcpu_setup(int vcpu)
{
	struct vsnix_segment flat = {
		.limit = 0xffffffff, .type = 0x3, .present = 1, .db = 1,
		.s = 1, .g = 1, .selector = 0x10,
	};
	struct vsnix_regs regs = { .rip = PLAT_CODE, .rflags = 0x2 };
	struct vsnix_sregs s;

	if (ioctl(vcpu, VSNIX_GET_SREGS, &s))
		return -1;
	s.ds = s.es = s.fs = s.gs = s.ss = flat;
	s.cs = flat;
	s.cs.type = 0xb;
	s.cs.selector = 0x08;
	/* A busy TSS in TR, an unusable LDTR (SDM Vol 3, 28.3.1.2). */
	memset(&s.tr, 0, sizeof(s.tr));
	s.tr.limit = 0x67;
	s.tr.type = 11;
	s.tr.present = 1;
	s.tr.selector = 0x18;
	memset(&s.ldt, 0, sizeof(s.ldt));
	s.ldt.type = 2;
	s.ldt.unusable = 1;
	s.gdt.base = 0;
	s.gdt.limit = 0x1f;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = 0x11 | 0x20;	/* PE, ET, NE */
	s.cr3 = s.cr4 = s.efer = 0;
	if (ioctl(vcpu, VSNIX_SET_SREGS, &s))
		return -1;
	return ioctl(vcpu, VSNIX_SET_REGS, &regs);
}

/* The VM's memory and devices; returns the number of functions or -1. */
static int plat_build(struct fuzz_thread *t, int vm, uint8_t *mem, int *ids)
{
	struct vsnix_memory_region r = {
		.memory_size = PLAT_MEM, .userspace_addr = (uintptr_t)mem,
	};
	unsigned int nr = 1 + rnd_below(t, PLAT_MAX_DEVS), d;

	/* Random bytes where the rings and buffers are; the rest stays 0. */
	fill_random(t, mem + PLAT_RINGS, 0x3000);
	fill_random(t, mem + PLAT_DATA, 0x4000);
	write_rings(t, mem);
	write_program(t, mem, nr);
	if (ioctl(vm, VSNIX_SET_MEMORY_REGION, &r))
		return -1;
	if (one_in(t, 2) && ioctl(vm, VSNIX_CREATE_LAPIC, 0))
		return -1;
	if (plat_pci_host(vm) < 0)
		return -1;
	for (d = 0; d < nr; d++)
		plat_virtio(t, vm, d + 1, &ids[d]);
	return nr;
}

/* RUN a few times; between runs drop a function or feed the console. */
static void plat_run(struct fuzz_thread *t, int vm, int vcpu, const int *ids,
		     int nr)
{
	struct vsnix_device_input in = { .len = 8, .data = (uintptr_t)"fuzz in\n" };
	unsigned int i;

	for (i = 0; i < PLAT_RUNS; i++) {
		if (run_with_timer(t, vcpu) < 0 && errno != EINTR)
			return;	/* the VM ended or another thread broke it */
		if (one_in(t, 4))
			ioctl(vm, VSNIX_DESTROY_DEVICE, ids[rnd_below(t, nr)]);
		in.id = ids[rnd_below(t, nr)];
		if (one_in(t, 4))
			ioctl(vm, VSNIX_DEVICE_INPUT, &in);
	}
}

long op_platform(struct fuzz_thread *t)
{
	int ids[PLAT_MAX_DEVS] = { -1, -1, -1 }, vm, vcpu = -1, nr, map;
	void *p;
	uint8_t *mem;

	vm = ioctl(platform_sys_fd, VSNIX_CREATE_VM, 0);
	if (vm < 0)
		return -1;
	map = map_new(PLAT_MEM, &p);
	if (map < 0) {
		close(vm);
		return -1;
	}
	mem = p;
	nr = plat_build(t, vm, mem, ids);
	if (nr > 0)
		vcpu = ioctl(vm, VSNIX_CREATE_VCPU, 0);
	if (vcpu < 0 || plat_vcpu_setup(vcpu)) {
		int err = errno;

		if (vcpu >= 0)
			close(vcpu);
		close(vm);
		map_release(map);
		return errno = err, -1;
	}
	/* From here on the other threads may close, unmap or destroy them. */
	map_publish(map, PLAT_MEM);
	fd_put(vm, FD_VM);
	fd_put(vcpu, FD_VCPU);
	plat_run(t, vm, vcpu, ids, nr);
	return 0;
}
