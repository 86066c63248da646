// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl fuzzer's device calls: VSNIX_CREATE_DEVICE with a plausible
 * config of each type (PCI placements, backend fds good and bad) or a
 * mutated or random one, VSNIX_DESTROY_DEVICE (also while vCPUs run) and
 * VSNIX_DEVICE_INPUT.
 */
#define _GNU_SOURCE
#include <unistd.h>

#include "fuzz.h"

/* Where pc.h puts PCI devices: slot s at 0xc0000000 + (s - 1) * 16 KiB. */
#define FUZZ_PCI_MMIO	0xc0000000ull

/* Mostly a good placement, now and then a bad slot, function or BAR. */
static void random_placement(struct fuzz_thread *t, struct vsnix_pci_placement *p)
{
	p->slot = one_in(t, 8) ? rnd(t) : 1 + rnd_below(t, 4);
	p->func = one_in(t, 8) ? rnd_below(t, 9) : 0;
	p->bar_base = FUZZ_PCI_MMIO + (uint64_t)(p->slot - 1) * VSNIX_VIRTIO_PCI_BAR_SIZE;
	if (one_in(t, 8))
		p->bar_base = one_in(t, 2) ? interesting_u64(t) :
			      FUZZ_PCI_MMIO + rnd_below(t, 64) * 0x1000;
	if (one_in(t, 32))
		p->reserved[rnd_below(t, 2)] = rnd(t);
	if (one_in(t, 32))
		p->pad2 = rnd(t);
}

static void config_pci_host(struct fuzz_thread *t, struct vsnix_pci_host_config *h)
{
	h->ecam_base = one_in(t, 8) ? interesting_u64(t) : 0xe0000000ull;
	h->nr_buses = one_in(t, 8) ? interesting_u64(t) : 1 + rnd_below(t, 2);
	h->intx_gsi_base = one_in(t, 8) ? interesting_u64(t) : 16;
	h->mmio_base = one_in(t, 8) ? interesting_u64(t) : FUZZ_PCI_MMIO;
	h->mmio_size = one_in(t, 8) ? interesting_u64(t) : 0x20000000;
}

static void config_virtio_blk(struct fuzz_thread *t, struct vsnix_virtio_blk_config *b)
{
	b->fd = one_in(t, 2) ? backends.disk : random_file_fd(t);
	if (one_in(t, 4)) {
		b->fd = backends.disk_ro;
		b->flags = VSNIX_VIRTIO_BLK_RO;
	}
	if (one_in(t, 8))
		b->flags = interesting_u64(t);
	if (one_in(t, 2))
		fill_random(t, b->serial, rnd_below(t, sizeof(b->serial) + 1));
	b->nr_queues = one_in(t, 8) ? interesting_u64(t) : rnd_below(t, 5);
	random_placement(t, &b->pci);
}

static void config_virtio_net(struct fuzz_thread *t, struct vsnix_virtio_net_config *n)
{
	unsigned int i;

	n->nr_queue_pairs = one_in(t, 8) ? interesting_u64(t) : 1 + one_in(t, 4);
	for (i = 0; i < VSNIX_VIRTIO_NET_MAX_PAIRS; i++)
		n->fds[i] = one_in(t, 2) ? backends.tap : random_file_fd(t);
	n->mac[0] = one_in(t, 8) ? 1 : 2;	/* 1: multicast, refused */
	fill_random(t, n->mac + 1, 5);
	if (one_in(t, 16))
		n->flags = rnd(t);
	random_placement(t, &n->pci);
}

static void config_acpi_pm(struct fuzz_thread *t, struct vsnix_acpi_pm_config *a)
{
	a->pm1a_evt = one_in(t, 8) ? rnd(t) : 0x600;
	a->pm1a_cnt = one_in(t, 8) ? rnd(t) : 0x604;
	a->gpe0 = one_in(t, 8) ? rnd(t) : 0x620;
	a->reset_port = one_in(t, 4) ? 0 : one_in(t, 8) ? rnd(t) : 0xcf9;
	a->sci_gsi = one_in(t, 8) ? interesting_u64(t) : 9;
	a->s5_slp_typ = one_in(t, 8) ? rnd(t) : 5;
}

/* The older types: a few fields set, the rest left zero. */
static void config_legacy(struct fuzz_thread *t, struct vsnix_device_config *c)
{
	unsigned int i;

	if (c->type == VSNIX_DEV_HVT) {
		c->hvt.mem_size = interesting_u64(t);
		c->hvt.nr_block = rnd_below(t, 3);
		c->hvt.nr_net = rnd_below(t, 2);
		for (i = 0; i < VSNIX_HVT_MAX_BLOCK; i++) {
			c->hvt.block[i].fd = random_file_fd(t);
			c->hvt.block_handle[i] = i + 1;
		}
		for (i = 0; i < VSNIX_HVT_MAX_NET; i++) {
			c->hvt.net[i].fd = random_file_fd(t);
			c->hvt.net_handle[i] = i + 1 + VSNIX_HVT_MAX_BLOCK;
		}
	} else {
		c->uart.base = one_in(t, 2) ? 0x3f8 : rnd(t);
		c->fw_cfg.nr_cpus = rnd_below(t, 3);
	}
}

/* A config of type: plausible, mutated, or random bytes. */
void random_device_config(struct fuzz_thread *t, struct vsnix_device_config *c,
			  uint32_t type)
{
	memset(c, 0, sizeof(*c));
	c->type = type;
	c->console_fd = one_in(t, 2) ? -1 : one_in(t, 2) ? backends.devnull :
			random_file_fd(t);
	if (one_in(t, 8)) {
		fill_random(t, c->raw, sizeof(c->raw));
		return;
	}
	switch (type) {
	case VSNIX_DEV_ACPI_PM:
		config_acpi_pm(t, &c->acpi_pm);
		break;
	case VSNIX_DEV_PCI_HOST:
		config_pci_host(t, &c->pci_host);
		break;
	case VSNIX_DEV_VIRTIO_RNG:
		random_placement(t, &c->virtio_rng.pci);
		break;
	case VSNIX_DEV_VIRTIO_BLK:
		config_virtio_blk(t, &c->virtio_blk);
		break;
	case VSNIX_DEV_VIRTIO_CONSOLE:
		random_placement(t, &c->virtio_console.pci);
		break;
	case VSNIX_DEV_VIRTIO_NET:
		config_virtio_net(t, &c->virtio_net);
		break;
	default:
		config_legacy(t, c);
		break;
	}
	if (one_in(t, 8))
		flip_bits(t, c->raw, 256, 4);
	if (one_in(t, 16))
		c->flags = interesting_u64(t);
	if (one_in(t, 16))
		c->reserved[rnd_below(t, 4)] = rnd(t);
}

/* Half the calls create one of the PCI/virtio/ACPI types of 11-16. */
long op_create_device(struct fuzz_thread *t)
{
	struct vsnix_device_config *c = (void *)t->arg;
	uint32_t type = one_in(t, 2) ? VSNIX_DEV_ACPI_PM + rnd_below(t, 6) :
			rnd_below(t, VSNIX_NR_DEVICES + 1);

	random_device_config(t, c, one_in(t, 32) ? interesting_u64(t) : type);
	return ioctl(fd_pick(t, FD_VM), VSNIX_CREATE_DEVICE, c);
}

/* Ids are small integers from 0; the VM may be running. */
long op_destroy_device(struct fuzz_thread *t)
{
	return ioctl(fd_pick(t, FD_VM), VSNIX_DESTROY_DEVICE,
		     one_in(t, 16) ? interesting_u64(t) : rnd_below(t, 12));
}

/*
 * A UART made on vm for the input to go to (a random id seldom names a
 * device that takes input: few calls on a slow machine never would): its
 * id, or a random small one when the port is taken.
 */
static uint32_t input_target(struct fuzz_thread *t, int vm)
{
	struct vsnix_device_config c;
	long id;

	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_UART16550;
	c.console_fd = one_in(t, 2) ? -1 : backends.devnull;
	c.uart.base = 0x1000 + 8 * rnd_below(t, 512);
	/* CREATE_DEVICE returns 0 and the id in c.id */
	id = ioctl(vm, VSNIX_CREATE_DEVICE, &c);
	return !id ? c.id : rnd_below(t, 12);
}

long op_device_input(struct fuzz_thread *t)
{
	struct vsnix_device_input *in = (void *)t->arg;
	uint8_t *data = t->arg + 256;
	int vm = fd_pick(t, FD_VM);

	memset(in, 0, sizeof(*in));
	in->id = one_in(t, 16) ? interesting_u64(t) :
		 one_in(t, 2) ? input_target(t, vm) : rnd_below(t, 12);
	in->len = one_in(t, 8) ? interesting_u64(t) : rnd_below(t, 256);
	in->data = (uintptr_t)data;
	fill_random(t, data, 256);
	if (one_in(t, 16))
		in->data = bad_pointer(t);
	else if (in->len > ARG_SIZE - 256 && one_in(t, 2))
		in->len = ARG_SIZE - 256;
	if (one_in(t, 32))
		in->reserved[rnd_below(t, 2)] = rnd(t);
	return ioctl(vm, VSNIX_DEVICE_INPUT, in);
}
