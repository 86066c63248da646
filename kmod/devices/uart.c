// SPDX-License-Identifier: GPL-2.0
/*
 * A 16550A UART (register set of the National Semiconductor PC16550D
 * datasheet, section 8) for the guest's console: output, input and an
 * interrupt line.
 *
 * Transmitted bytes go to the console file at once, so the transmitter is
 * always empty: LSR reports THRE|TEMT and the THRE interrupt is pending
 * again as soon as THR is written. Input (VSNIX_DEVICE_INPUT) fills the
 * 16-byte receive FIFO, never past it: the caller retries, nothing is
 * lost. With an IRQ (VSNIX_UART_HAS_IRQ), the line follows the IIR as on
 * a PC: high while an enabled source is pending and MCR.OUT2 is set
 * (OUT2 gates the ISA IRQ driver; in loopback the OUT pins are inactive,
 * 8.6.5). Loopback (MCR bit 4) is modelled because Linux's 8250 probe
 * tests it.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>
#include "devices.h"
#include "../core/irq.h"

#define UART_NR_PORTS	8
#define UART_FIFO	VSNIX_UART_FIFO_SIZE
#define UART_MAX_GSI	1024	/* VSNIX_MAX_GSI of core/irq.c */

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
#define LCR_WLEN	0x03	/* word length - 5 */
#define LCR_STOP	0x04
#define LCR_PARITY	0x08
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f
/* IER (8.6.4): received data, THR empty, line status, modem status. */
#define IER_RDI		0x01
#define IER_THRI	0x02
#define IER_RLSI	0x04
#define IER_MSI		0x08
#define IER_MASK	0x0f
/* FCR (8.6.6): enable, clear RX, clear TX, DMA mode, RX trigger. */
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_DMA		0x08
#define FCR_TRIGGER	0xc0
#define FCR_KEPT	(FCR_ENABLE | FCR_DMA | FCR_TRIGGER)
/* IIR (8.6.3, table IV): interrupt identification, highest first. */
#define IIR_NO_INT	0x01
#define IIR_RLS		0x06
#define IIR_RDI		0x04
#define IIR_TIMEOUT	0x0c
#define IIR_THRI	0x02
#define IIR_MSI		0x00
#define IIR_FIFO_ON	0xc0
#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_ERRORS	0x1e	/* OE, PE, FE, BI */
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MSR_DELTA	0x0f
#define MSR_TERI	0x04
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

/* All of the UART's state: what a guest can read back, and the line. */
struct vsnix_uart {
	struct vsnix_io_device io;
	struct vsnix_vm *vm;
	struct file *console;
	struct delayed_work timeout_work;	/* character timeout */
	bool has_irq;
	u32 gsi;
	struct mutex lock;	/* everything below; output order */
	u8 ier, lcr, mcr, scr, fcr;
	u8 dll, dlm;
	u8 rbr;			/* the last byte read from the FIFO */
	u8 lsr_errors;		/* LSR_ERRORS, cleared by reading LSR */
	u8 msr_delta;		/* MSR_DELTA, cleared by reading MSR */
	bool thre_pending;	/* THRE interrupt source (8.6.3) */
	bool timeout_pending;	/* character timeout indication */
	u8 rx[UART_FIFO];	/* ring: rx_head is the oldest */
	u8 rx_head, rx_count;
	u64 rx_active_ns;	/* last byte in or out of the FIFO */
	bool line;		/* level last driven on gsi */
};

static struct vsnix_uart *to_uart(struct vsnix_io_device *io)
{
	return container_of(io, struct vsnix_uart, io);
}

static bool uart_fifo_on(const struct vsnix_uart *u)
{
	return u->fcr & FCR_ENABLE;
}

/* Without FIFOs the receiver holds one byte (16450 mode). */
static unsigned int uart_rx_room(const struct vsnix_uart *u)
{
	return (uart_fifo_on(u) ? UART_FIFO : 1) - u->rx_count;
}

/* FCR bits 7:6: 1, 4, 8 or 14 bytes raise RDA (8.6.6). */
static unsigned int uart_rx_trigger(const struct vsnix_uart *u)
{
	static const u8 levels[4] = { 1, 4, 8, 14 };

	return uart_fifo_on(u) ? levels[u->fcr >> 6] : 1;
}

/*
 * Four character times at the programmed rate (8.6.3: the timeout
 * indication). The divisor's clock is 1.8432 MHz / 16 = 115200 baud.
 */
static u64 uart_timeout_ns(const struct vsnix_uart *u)
{
	unsigned int div = (u->dlm << 8 | u->dll) ?: 1;
	unsigned int bits = 1 + 5 + (u->lcr & LCR_WLEN) +
			    ((u->lcr & LCR_PARITY) ? 1 : 0) +
			    ((u->lcr & LCR_STOP) ? 2 : 1);

	return div_u64(4ull * bits * div * NSEC_PER_SEC, 115200);
}

/* The pending source of highest priority (table IV), IIR_NO_INT if none. */
static u8 uart_int_id(const struct vsnix_uart *u)
{
	if ((u->ier & IER_RLSI) && u->lsr_errors)
		return IIR_RLS;
	if (u->ier & IER_RDI) {
		if (u->rx_count >= uart_rx_trigger(u))
			return IIR_RDI;
		if (u->timeout_pending && u->rx_count)
			return IIR_TIMEOUT;
	}
	if ((u->ier & IER_THRI) && u->thre_pending)
		return IIR_THRI;
	if ((u->ier & IER_MSI) && u->msr_delta)
		return IIR_MSI;
	return IIR_NO_INT;
}

/* Drive the line after any change: only a change reaches the chips. */
static void uart_update_irq_locked(struct vsnix_uart *u)
{
	bool level;

	lockdep_assert_held(&u->lock);
	level = u->has_irq && (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2 &&
		uart_int_id(u) != IIR_NO_INT;
	if (level == u->line)
		return;
	u->line = level;
	/* -EINVAL: no chip serves the GSI (yet); the line has no listener. */
	vsnix_irq_set_line(u->vm, u->gsi, level);
}

/* Restart the timeout: bytes wait in the FIFO below nothing more moving. */
static void uart_rx_activity_locked(struct vsnix_uart *u)
{
	lockdep_assert_held(&u->lock);
	u->timeout_pending = false;
	u->rx_active_ns = ktime_get_ns();
	if (uart_fifo_on(u) && u->rx_count)
		mod_delayed_work(system_wq, &u->timeout_work,
				 nsecs_to_jiffies(uart_timeout_ns(u)) ?: 1);
}

static void uart_timeout_fn(struct work_struct *work)
{
	struct vsnix_uart *u = container_of(to_delayed_work(work),
					    struct vsnix_uart, timeout_work);
	u64 due;

	mutex_lock(&u->lock);
	if (uart_fifo_on(u) && u->rx_count && !u->timeout_pending) {
		due = u->rx_active_ns + uart_timeout_ns(u);
		if (ktime_get_ns() >= due) {
			u->timeout_pending = true;
			uart_update_irq_locked(u);
		} else {
			mod_delayed_work(system_wq, &u->timeout_work,
					 nsecs_to_jiffies(due - ktime_get_ns()) ?: 1);
		}
	}
	mutex_unlock(&u->lock);
}

/* A byte reaches the receiver; false (and OE, 8.6.3) when it has no room. */
static bool uart_rx_push_locked(struct vsnix_uart *u, u8 byte)
{
	if (!uart_rx_room(u))
		return false;
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO] = byte;
	u->rx_count++;
	return true;
}

static void uart_rx_clear_locked(struct vsnix_uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
	u->timeout_pending = false;
}

/* Loopback: the transmitter feeds the receiver; a full one overruns. */
static void uart_loopback_locked(struct vsnix_uart *u, u8 byte)
{
	if (!uart_rx_push_locked(u, byte)) {
		u->lsr_errors |= LSR_OE;
		/* 16450 mode: the new byte replaces the unread one. */
		if (!uart_fifo_on(u))
			u->rx[u->rx_head] = byte;
	}
	uart_rx_activity_locked(u);
}

static u8 uart_rx_pop_locked(struct vsnix_uart *u)
{
	if (u->rx_count) {
		u->rbr = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_FIFO;
		u->rx_count--;
	}
	uart_rx_activity_locked(u);
	return u->rbr;
}

/* Modem inputs: in loopback the MCR outputs feed them (8.6.5). */
static u8 uart_msr_inputs(const struct vsnix_uart *u)
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
	if (u->mcr & MCR_OUT2)
		msr |= MSR_DCD;
	return msr;
}

/* MSR bits 0-3 (8.6.8): CTS, DSR, DCD changed; RI went from on to off. */
static void uart_write_mcr_locked(struct vsnix_uart *u, u8 value)
{
	u8 old = uart_msr_inputs(u), new, changed;

	u->mcr = value & MCR_MASK;
	new = uart_msr_inputs(u);
	changed = old ^ new;
	if (changed & MSR_CTS)
		u->msr_delta |= 0x01;
	if (changed & MSR_DSR)
		u->msr_delta |= 0x02;
	if ((old & MSR_RI) && !(new & MSR_RI))
		u->msr_delta |= MSR_TERI;
	if (changed & MSR_DCD)
		u->msr_delta |= 0x08;
}

/* FCR (8.6.6): the other bits count only in a write that keeps FCR0 set. */
static void uart_write_fcr_locked(struct vsnix_uart *u, u8 value)
{
	if ((value ^ u->fcr) & FCR_ENABLE)
		uart_rx_clear_locked(u);
	if (!(value & FCR_ENABLE)) {
		u->fcr = 0;
		return;
	}
	u->fcr = value & FCR_KEPT;
	if (value & FCR_CLEAR_RX)
		uart_rx_clear_locked(u);
}

static u8 uart_read_iir_locked(struct vsnix_uart *u)
{
	u8 id = uart_int_id(u);

	/* Reading IIR while THRE is the source clears it (8.6.3). */
	if (id == IIR_THRI)
		u->thre_pending = false;
	return id | (uart_fifo_on(u) ? IIR_FIFO_ON : 0);
}

static u8 vsnix_uart_read_reg(struct vsnix_uart *u, unsigned int reg)
{
	bool dlab = u->lcr & LCR_DLAB;
	u8 v;

	switch (reg) {
	case UART_RBR_THR:
		return dlab ? u->dll : uart_rx_pop_locked(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		return uart_read_iir_locked(u);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = LSR_THRE | LSR_TEMT | u->lsr_errors |
		    (u->rx_count ? LSR_DR : 0);
		u->lsr_errors = 0;
		return v;
	case UART_MSR:
		v = uart_msr_inputs(u) | u->msr_delta;
		u->msr_delta = 0;
		return v;
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
			break;
		}
		if (u->mcr & MCR_LOOP)
			uart_loopback_locked(u, value);
		else
			vsnix_console_write(u->vm, u->console, &value, 1);
		/* Sent at once: THR is empty again, THRE pending again. */
		u->thre_pending = true;
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = value;
			break;
		}
		/* Enabling THRI with THR empty raises it (Linux's THRE test). */
		if (!(u->ier & IER_THRI) && (value & IER_THRI))
			u->thre_pending = true;
		u->ier = value & IER_MASK;
		break;
	case UART_IIR_FCR:
		uart_write_fcr_locked(u, value);
		break;
	case UART_LCR:
		u->lcr = value;
		break;
	case UART_MCR:
		uart_write_mcr_locked(u, value);
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
	uart_update_irq_locked(u);
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
	uart_update_irq_locked(u);
	mutex_unlock(&u->lock);
	return VSNIX_IO_DONE;
}

/* Console input: as much as the receiver has room for (none in loopback). */
static ssize_t vsnix_uart_input(struct vsnix_io_device *io, const u8 *buf,
				size_t len)
{
	struct vsnix_uart *u = to_uart(io);
	size_t n = 0;

	mutex_lock(&u->lock);
	/* Loopback disconnects the serial input (8.6.5). */
	if (!(u->mcr & MCR_LOOP)) {
		while (n < len && uart_rx_push_locked(u, buf[n]))
			n++;
	}
	if (n) {
		uart_rx_activity_locked(u);
		uart_update_irq_locked(u);
	}
	mutex_unlock(&u->lock);
	return n;
}

static void vsnix_uart_destroy(struct vsnix_io_device *io)
{
	struct vsnix_uart *u = to_uart(io);

	cancel_delayed_work_sync(&u->timeout_work);
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
	u->lsr_errors = 0;
	u->msr_delta = 0;
	u->thre_pending = false;
	uart_rx_clear_locked(u);
	u->lcr = 0x03;
	u->dll = 0x01;
	uart_update_irq_locked(u);
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
	unsigned int i;

	mutex_lock(&u->lock);
	st->ier = u->ier;
	st->lcr = u->lcr;
	st->mcr = u->mcr;
	st->scr = u->scr;
	st->fcr = u->fcr;
	st->dll = u->dll;
	st->dlm = u->dlm;
	st->rbr = u->rbr;
	st->lsr_errors = u->lsr_errors;
	st->msr_delta = u->msr_delta;
	st->flags = (u->thre_pending ? VSNIX_UART_THRE_PENDING : 0) |
		    (u->timeout_pending ? VSNIX_UART_TIMEOUT_PENDING : 0);
	st->rx_count = u->rx_count;
	for (i = 0; i < u->rx_count; i++)
		st->rx_fifo[i] = u->rx[(u->rx_head + i) % UART_FIFO];
	mutex_unlock(&u->lock);
}

/* Only values a guest could have brought about are taken. */
static bool uart_state_valid(const struct vsnix_uart_state *st)
{
	unsigned int room = (st->fcr & FCR_ENABLE) ? UART_FIFO : 1;

	return !(st->ier & ~IER_MASK) && !(st->mcr & ~MCR_MASK) &&
	       !(st->fcr & ~FCR_KEPT) && (st->fcr & FCR_ENABLE || !st->fcr) &&
	       !(st->lsr_errors & ~LSR_ERRORS) &&
	       !(st->msr_delta & ~MSR_DELTA) &&
	       !(st->flags & ~(VSNIX_UART_THRE_PENDING |
			       VSNIX_UART_TIMEOUT_PENDING)) &&
	       st->rx_count <= room &&
	       vsnix_dev_all_zero(st->pad, sizeof(st->pad)) &&
	       vsnix_dev_all_zero(st->rx_fifo + st->rx_count,
				  UART_FIFO - st->rx_count);
}

static int vsnix_uart_restore(struct vsnix_io_device *io, const void *state)
{
	const struct vsnix_uart_state *st = state;
	struct vsnix_uart *u = to_uart(io);

	if (!uart_state_valid(st))
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
	u->lsr_errors = st->lsr_errors;
	u->msr_delta = st->msr_delta;
	u->thre_pending = st->flags & VSNIX_UART_THRE_PENDING;
	u->rx_head = 0;
	u->rx_count = st->rx_count;
	memcpy(u->rx, st->rx_fifo, sizeof(u->rx));
	uart_rx_activity_locked(u);
	u->timeout_pending = st->flags & VSNIX_UART_TIMEOUT_PENDING;
	uart_update_irq_locked(u);
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
	.input = vsnix_uart_input,
	.state_version = VSNIX_UART_STATE_VERSION,
	.state_size = sizeof(struct vsnix_uart_state),
};

static int uart_config_check(const struct vsnix_uart_config *cfg)
{
	if (cfg->pad || (cfg->flags & ~VSNIX_UART_HAS_IRQ) ||
	    !vsnix_dev_all_zero(cfg->reserved, sizeof(cfg->reserved))) {
		pr_warn_ratelimited("uart: pad, unknown flags and reserved must be zero\n");
		return -EINVAL;
	}
	if (!(cfg->flags & VSNIX_UART_HAS_IRQ) ? cfg->gsi != 0 :
	    cfg->gsi >= UART_MAX_GSI) {
		pr_warn_ratelimited("uart: gsi %u (flags 0x%x)\n", cfg->gsi,
				    cfg->flags);
		return -EINVAL;
	}
	if (cfg->base > 0x10000 - UART_NR_PORTS) {
		pr_warn_ratelimited("uart: base port 0x%x leaves no room for its 8 ports\n",
				    cfg->base);
		return -EINVAL;
	}
	return 0;
}

int vsnix_uart_create(struct vsnix_vm *vm,
		      const struct vsnix_uart_config *cfg,
		      struct file *console)
{
	struct vsnix_uart *u;
	int ret;

	ret = uart_config_check(cfg);
	if (ret)
		return ret;
	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u)
		return -ENOMEM;
	mutex_init(&u->lock);
	INIT_DELAYED_WORK(&u->timeout_work, uart_timeout_fn);
	u->vm = vm;
	u->console = console;
	u->has_irq = cfg->flags & VSNIX_UART_HAS_IRQ;
	u->gsi = cfg->gsi;
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
