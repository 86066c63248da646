// SPDX-License-Identifier: GPL-2.0
/*
 * The exit port, in the manner of QEMU's isa-debug-exit: a guest write ends
 * the VM. Unlike isa-debug-exit, which reports (value << 1) | 1, the VM's
 * exit status is the value written, unchanged (product spec: "0xf4: status
 * -> VM exit status"), so a test can exit 0 for success. A 1 or 2-byte
 * write is zero-extended; a 4-byte write is taken as a signed int.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/slab.h>
#include "devices.h"

#define EXIT_PORT_NR_PORTS	4	/* room for an outl */

struct vsnix_exit_port {
	struct vsnix_io_device io;
};

static int vsnix_exit_port_write(struct vsnix_io_device *io,
				 struct vsnix_vcpu *vcpu, u64 addr,
				 unsigned int len, const void *val)
{
	vsnix_exit_guest(vcpu, (int)vsnix_pio_value(val, len),
			 VSNIX_GUEST_EXIT_PORT, 0);
	return VSNIX_IO_EXIT;
}

/* Nothing to read: the port floats high like an empty ISA slot. */
static int vsnix_exit_port_read(struct vsnix_io_device *io,
				struct vsnix_vcpu *vcpu, u64 addr,
				unsigned int len, void *val)
{
	vsnix_pio_fill(val, len, ~0u);
	return VSNIX_IO_DONE;
}

static void vsnix_exit_port_destroy(struct vsnix_io_device *io)
{
	kfree(container_of(io, struct vsnix_exit_port, io));
}

/* No state: reset and restore have nothing to do. */
static const struct vsnix_io_ops vsnix_exit_port_ops = {
	.type = VSNIX_DEV_EXIT_PORT,
	.read = vsnix_exit_port_read,
	.write = vsnix_exit_port_write,
	.destroy = vsnix_exit_port_destroy,
	.state_version = VSNIX_STATELESS_VERSION,
};

int vsnix_exit_port_create(struct vsnix_vm *vm,
			   const struct vsnix_exit_port_config *cfg)
{
	struct vsnix_exit_port *ep;
	int ret;

	if (cfg->pad || !vsnix_dev_all_zero(cfg->reserved,
					    sizeof(cfg->reserved))) {
		pr_warn_ratelimited("exit port: pad and reserved must be zero\n");
		return -EINVAL;
	}
	if (cfg->port > 0x10000 - EXIT_PORT_NR_PORTS) {
		pr_warn_ratelimited("exit port: port 0x%x leaves no room for a 4-byte write\n",
				    cfg->port);
		return -EINVAL;
	}
	ep = kzalloc(sizeof(*ep), GFP_KERNEL_ACCOUNT);
	if (!ep)
		return -ENOMEM;
	ep->io.bus = VSNIX_BUS_PIO;
	ep->io.base = cfg->port;
	ep->io.len = EXIT_PORT_NR_PORTS;
	ep->io.ops = &vsnix_exit_port_ops;
	ret = vsnix_dev_register(vm, &ep->io, "exit port");
	if (ret < 0)
		kfree(ep);
	return ret;
}
