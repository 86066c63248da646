// SPDX-License-Identifier: GPL-2.0
/*
 * A 16550 UART for guest console output (register set of the National
 * Semiconductor PC16550D datasheet, section 8). Transmitted bytes go to the
 * console file at once, so the transmitter is always empty: LSR reports
 * THRE|TEMT and a guest polling for room never spins. There is no input
 * and no interrupt line: IIR always says "no interrupt pending". Loopback
 * (MCR bit 4) is modelled because Linux's 8250 probe tests it.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/mutex.h>
#include <linux/slab.h>
#include "devices.h"

#define UART_NR_PORTS	8

/* Register offsets from the base port. */
#define UART_RBR_THR	0	/* DLL when LCR.DLAB */
#define UART_IER	1	/* DLM when LCR.DLAB */
#define UART_IIR_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define LCR_DLAB	0x80
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f
#define IER_MASK	0x0f
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define IIR_NO_INT	0x01
#define IIR_FIFO_ON	0xc0
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

/* All of the UART's state: the registers a guest can read back. */
struct vsnix_uart {
	struct vsnix_io_device io;
	struct vsnix_vm *vm;
	struct file *console;
	struct mutex lock;	/* the registers below; output order */
	u8 ier, lcr, mcr, scr, fcr;
	u8 dll, dlm;
	u8 rbr;			/* loopback: last byte "received" */
	bool rx_full;
};

static struct vsnix_uart *to_uart(struct vsnix_io_device *io)
{
	return container_of(io, struct vsnix_uart, io);
}

/* Modem status: in loopback the MCR outputs feed the inputs (8.6.8). */
static u8 vsnix_uart_msr(const struct vsnix_uart *u)
{
	u8 msr = 0;

	if (!(u->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	if (u->mcr & 0x01)	/* DTR */
		msr |= MSR_DSR;
	if (u->mcr & 0x02)	/* RTS */
		msr |= MSR_CTS;
	if (u->mcr & 0x04)	/* OUT1 */
		msr |= MSR_RI;
	if (u->mcr & 0x08)	/* OUT2 */
		msr |= MSR_DCD;
	return msr;
}

static u8 vsnix_uart_read_reg(struct vsnix_uart *u, unsigned int reg)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			return u->dll;
		u->rx_full = false;
		return u->rbr;
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		return IIR_NO_INT | ((u->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return LSR_THRE | LSR_TEMT | (u->rx_full ? LSR_DR : 0);
	case UART_MSR:
		return vsnix_uart_msr(u);
	default:
		return u->scr;
	}
}

static void vsnix_uart_write_reg(struct vsnix_uart *u, unsigned int reg,
				 u8 value)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		/* With DLAB set this is the divisor: never console output. */
		if (dlab) {
			u->dll = value;
		} else if (u->mcr & MCR_LOOP) {
			u->rbr = value;
			u->rx_full = true;
		} else {
			vsnix_console_write(u->vm, u->console, &value, 1);
		}
		break;
	case UART_IER:
		if (dlab)
			u->dlm = value;
		else
			u->ier = value & IER_MASK;
		break;
	case UART_IIR_FCR:
		u->fcr = value & FCR_ENABLE;
		if (value & FCR_CLEAR_RX)
			u->rx_full = false;
		break;
	case UART_LCR:
		u->lcr = value;
		break;
	case UART_MCR:
		u->mcr = value & MCR_MASK;
		break;
	case UART_SCR:
		u->scr = value;
		break;
	default:
		break;		/* LSR and MSR are read-only */
	}
}

/* Wider accesses reach consecutive byte registers, as on an ISA bus. */
static int vsnix_uart_read(struct vsnix_io_device *io, struct vsnix_vcpu *vcpu,
			   u64 addr, unsigned int len, void *val)
{
	struct vsnix_uart *u = to_uart(io);
	unsigned int i;

	mutex_lock(&u->lock);
	for (i = 0; i < len; i++)
		((u8 *)val)[i] = vsnix_uart_read_reg(u, addr + i - io->base);
	mutex_unlock(&u->lock);
	return VSNIX_IO_DONE;
}

static int vsnix_uart_write(struct vsnix_io_device *io,
			    struct vsnix_vcpu *vcpu, u64 addr,
			    unsigned int len, const void *val)
{
	struct vsnix_uart *u = to_uart(io);
	unsigned int i;

	mutex_lock(&u->lock);
	for (i = 0; i < len; i++)
		vsnix_uart_write_reg(u, addr + i - io->base,
				     ((const u8 *)val)[i]);
	mutex_unlock(&u->lock);
	return VSNIX_IO_DONE;
}

static void vsnix_uart_destroy(struct vsnix_io_device *io)
{
	struct vsnix_uart *u = to_uart(io);

	vsnix_console_put(u->console);
	kfree(u);
}

static const struct vsnix_io_ops vsnix_uart_ops = {
	.read = vsnix_uart_read,
	.write = vsnix_uart_write,
	.destroy = vsnix_uart_destroy,
};

int vsnix_uart_create(struct vsnix_vm *vm,
		      const struct vsnix_uart_config *cfg,
		      struct file *console)
{
	struct vsnix_uart *u;
	int ret;

	if (cfg->pad || !vsnix_dev_all_zero(cfg->reserved,
					    sizeof(cfg->reserved))) {
		pr_warn_ratelimited("uart: pad and reserved must be zero\n");
		return -EINVAL;
	}
	if (cfg->base > 0x10000 - UART_NR_PORTS) {
		pr_warn_ratelimited("uart: base port 0x%x leaves no room for its 8 ports\n",
				    cfg->base);
		return -EINVAL;
	}
	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u)
		return -ENOMEM;
	mutex_init(&u->lock);
	u->vm = vm;
	u->console = console;
	/* Reset values (8.6): 8 data bits is what firmware leaves behind. */
	u->lcr = 0x03;
	u->dll = 0x01;		/* 115200 baud */
	u->io.bus = VSNIX_BUS_PIO;
	u->io.base = cfg->base;
	u->io.len = UART_NR_PORTS;
	u->io.ops = &vsnix_uart_ops;
	ret = vsnix_dev_register(vm, &u->io, "uart");
	if (ret)
		kfree(u);
	return ret;
}
