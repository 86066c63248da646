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

/* Reset values (8.6), but 8 data bits at 115200 as firmware leaves it. */
static void vsnix_uart_reset_locked(struct vsnix_uart *u)
{
	lockdep_assert_held(&u->lock);
	u->ier = 0;
	u->mcr = 0;
	u->scr = 0;
	u->fcr = 0;
	u->dlm = 0;
	u->rbr = 0;
	u->rx_full = false;
	u->lcr = 0x03;
	u->dll = 0x01;
}

static void vsnix_uart_reset(struct vsnix_io_device *io)
{
	struct vsnix_uart *u = to_uart(io);

	mutex_lock(&u->lock);
	vsnix_uart_reset_locked(u);
	mutex_unlock(&u->lock);
}

static void vsnix_uart_save(struct vsnix_io_device *io, void *state)
{
	struct vsnix_uart *u = to_uart(io);
	struct vsnix_uart_state *st = state;

	mutex_lock(&u->lock);
	st->ier = u->ier;
	st->lcr = u->lcr;
	st->mcr = u->mcr;
	st->scr = u->scr;
	st->fcr = u->fcr;
	st->dll = u->dll;
	st->dlm = u->dlm;
	st->rbr = u->rbr;
	st->rx_full = u->rx_full;
	mutex_unlock(&u->lock);
}

/* Only values a guest could have written are taken. */
static int vsnix_uart_restore(struct vsnix_io_device *io, const void *state)
{
	const struct vsnix_uart_state *st = state;
	struct vsnix_uart *u = to_uart(io);

	if ((st->ier & ~IER_MASK) || (st->mcr & ~MCR_MASK) ||
	    (st->fcr & ~FCR_ENABLE) || st->rx_full > 1 ||
	    !vsnix_dev_all_zero(st->pad, sizeof(st->pad)))
		return -EINVAL;
	mutex_lock(&u->lock);
	u->ier = st->ier;
	u->lcr = st->lcr;
	u->mcr = st->mcr;
	u->scr = st->scr;
	u->fcr = st->fcr;
	u->dll = st->dll;
	u->dlm = st->dlm;
	u->rbr = st->rbr;
	u->rx_full = st->rx_full;
	mutex_unlock(&u->lock);
	return 0;
}

static const struct vsnix_io_ops vsnix_uart_ops = {
	.type = VSNIX_DEV_UART16550,
	.read = vsnix_uart_read,
	.write = vsnix_uart_write,
	.destroy = vsnix_uart_destroy,
	.reset = vsnix_uart_reset,
	.save = vsnix_uart_save,
	.restore = vsnix_uart_restore,
	.state_version = VSNIX_UART_STATE_VERSION,
	.state_size = sizeof(struct vsnix_uart_state),
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
	mutex_lock(&u->lock);
	vsnix_uart_reset_locked(u);
	mutex_unlock(&u->lock);
	u->io.bus = VSNIX_BUS_PIO;
	u->io.base = cfg->base;
	u->io.len = UART_NR_PORTS;
	u->io.ops = &vsnix_uart_ops;
	ret = vsnix_dev_register(vm, &u->io, "uart");
	if (ret < 0)
		kfree(u);
	return ret;
}
