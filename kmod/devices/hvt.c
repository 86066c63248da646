// SPDX-License-Identifier: GPL-2.0
/*
 * The Solo5 hvt hypercalls (hvt ABI version 2, uapi/linux/vsnix_hvt.h),
 * served inside RUN. A hypercall is an `outl` to port 0x500 + n whose value
 * is the low 32 bits of the guest-physical address of an argument struct.
 *
 * Everything the guest hands us is untrusted. Every guest range (argument
 * struct, data buffer, halt cookie) goes through hvt_check_range() before
 * it is used; a bad one ends the VM with an INTERNAL_ERROR exit, suberror
 * VSNIX_INTERNAL_GUEST_FAULT, data[] = { hypercall, gpa, length }. Errors
 * the ABI defines (bad handle, out-of-range block, no frame to read) are
 * returned to the guest in the struct's ret field instead.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uio.h>
#include <uapi/linux/vsnix_hvt.h>
#include "hvt.h"
#include "../core/compat.h"
#include "../core/trace.h"

/* One hypercall in progress. */
struct hvt_call {
	struct vsnix_hvt *hvt;
	struct vsnix_vcpu *vcpu;
	unsigned int nr;
};

static struct vsnix_hvt *to_hvt(struct vsnix_io_device *io)
{
	return container_of(io, struct vsnix_hvt, io);
}

/*
 * Ends the VM on a bad guest argument; returns what the hypercall returns.
 * addr/len: the guest range, or the port access, that was refused.
 */
static int hvt_guest_fault(struct hvt_call *hc, const char *what, u64 addr,
			   u64 len)
{
	u64 data[3] = { hc->nr, addr, len };

	pr_warn_ratelimited("hvt: hypercall %u: bad %s (0x%llx, %llu bytes); stopping the guest\n",
			    hc->nr, what, addr, len);
	vsnix_exit_internal(hc->vcpu, VSNIX_INTERNAL_GUEST_FAULT,
			    ARRAY_SIZE(data), data);
	return -EFAULT;
}

/* The one bounds check of every guest range: 0, or the VM is ended. */
static int hvt_check_range(struct hvt_call *hc, const char *what, u64 gpa,
			   u64 len)
{
	if (gpa + len < gpa || !vsnix_guest_range_ok(hc->hvt->vm, gpa, len))
		return hvt_guest_fault(hc, what, gpa, len);	/* not RAM */
	return 0;
}

/*
 * Copies to and from ranges hvt_check_range() passed. They can still fail
 * if userspace removes guest memory meanwhile: that ends the VM too.
 */
static int hvt_read_guest(struct hvt_call *hc, const char *what, u64 gpa,
			  void *buf, size_t len)
{
	if (vsnix_guest_read(hc->hvt->vm, gpa, buf, len))
		return hvt_guest_fault(hc, what, gpa, len);
	return 0;
}

static int hvt_write_guest(struct hvt_call *hc, const char *what, u64 gpa,
			   const void *buf, size_t len)
{
	if (vsnix_guest_write(hc->hvt->vm, gpa, buf, len))
		return hvt_guest_fault(hc, what, gpa, len);
	return 0;
}

/* Reads the argument struct at gpa: the range is checked first. */
static int hvt_read_args(struct hvt_call *hc, u64 gpa, void *args,
			 size_t size)
{
	int ret = hvt_check_range(hc, "argument struct", gpa, size);

	return ret ? ret : hvt_read_guest(hc, "argument struct", gpa, args,
					  size);
}

/* Writes the OUT field at offset off of the argument struct. */
static int hvt_write_field(struct hvt_call *hc, u64 gpa, size_t off,
			   const void *val, size_t size)
{
	return hvt_write_guest(hc, "argument struct", gpa + off, val, size);
}

#define hvt_put_field(hc, gpa, type, field, val)			\
	({								\
		typeof(((type *)0)->field) __v = (val);			\
		hvt_write_field(hc, gpa, offsetof(type, field), &__v,	\
				sizeof(__v));				\
	})

static struct vsnix_hvt_blk *hvt_find_block(struct vsnix_hvt *hvt, u64 handle)
{
	unsigned int i;

	for (i = 0; i < hvt->nr_block; i++)
		if (hvt->block[i].handle == handle)
			return &hvt->block[i];
	return NULL;
}

static struct vsnix_hvt_netdev *hvt_find_net(struct vsnix_hvt *hvt,
					     u64 handle)
{
	unsigned int i;

	for (i = 0; i < hvt->nr_net; i++)
		if (hvt->net[i].handle == handle)
			return &hvt->net[i];
	return NULL;
}

/* ---------------------------------------------------------------- calls */

static int hvt_walltime(struct hvt_call *hc, u64 gpa)
{
	int ret = hvt_check_range(hc, "argument struct", gpa,
				  sizeof(struct hvt_hc_walltime));

	if (ret)
		return ret;
	ret = hvt_put_field(hc, gpa, struct hvt_hc_walltime, nsecs,
			    ktime_get_real_ns());
	return ret ? ret : VSNIX_IO_DONE;
}

static int hvt_puts(struct hvt_call *hc, u64 gpa)
{
	struct vsnix_hvt *hvt = hc->hvt;
	struct hvt_hc_puts args;
	u64 done;
	int ret;

	ret = hvt_read_args(hc, gpa, &args, sizeof(args));
	if (!ret)
		ret = hvt_check_range(hc, "puts data", args.data, args.len);
	if (ret)
		return ret;

	mutex_lock(&hvt->bounce_lock);
	for (done = 0; done < args.len; ) {
		size_t n = min_t(u64, args.len - done, HVT_BOUNCE_SIZE);

		ret = hvt_read_guest(hc, "puts data", args.data + done,
				     hvt->bounce, n);
		if (ret)
			break;
		vsnix_console_write(hvt->vm, hvt->console, hvt->bounce, n);
		done += n;
		if (fatal_signal_pending(current))
			break;	/* the rest is moot: the process dies */
	}
	mutex_unlock(&hvt->bounce_lock);
	return ret ? ret : VSNIX_IO_DONE;
}

/*
 * Sleeps until one of the net devices has a frame or the timeout passes,
 * the way poll(2) does (fs/select.c): register on each file's wait queue
 * once, then sleep until woken or timed out. Returns the ready handles as
 * a bit set, or -EINTR on a signal.
 */
static s64 hvt_poll_wait(struct vsnix_hvt *hvt, u64 timeout_ns)
{
	ktime_t expires = ktime_add_safe(ktime_get(),
					 ns_to_ktime(min_t(u64, timeout_ns,
							   KTIME_MAX)));
	struct poll_wqueues table;
	poll_table *pt = &table.pt;
	bool timed_out = !timeout_ns;
	u64 ready = 0;
	unsigned int i;

	poll_initwait(&table);
	for (;;) {
		for (i = 0; i < hvt->nr_net; i++)
			if (hvt->net[i].be->ops->poll(hvt->net[i].be, pt) &
			    EPOLLIN)
				ready |= BIT_ULL(hvt->net[i].handle);
		/* Registered on every queue: later rounds only look. */
		pt->_qproc = NULL;
		if (ready || timed_out)
			break;
		if (signal_pending(current)) {
			poll_freewait(&table);
			return -EINTR;
		}
		set_current_state(TASK_INTERRUPTIBLE);
		if (!READ_ONCE(table.triggered) &&
		    !schedule_hrtimeout_range(&expires, current->timer_slack_ns,
					      HRTIMER_MODE_ABS))
			timed_out = true;
		__set_current_state(TASK_RUNNING);
		/* Pairs with the barrier in the wakeup (pollwake). */
		smp_store_mb(table.triggered, 0);
	}
	poll_freewait(&table);
	return ready;
}

static int hvt_poll(struct hvt_call *hc, u64 gpa)
{
	struct hvt_hc_poll args;
	s64 ready;
	int ret;

	ret = hvt_read_args(hc, gpa, &args, sizeof(args));
	if (ret)
		return ret;
	ready = hvt_poll_wait(hc->hvt, args.timeout_nsecs);
	if (ready < 0)
		return ready;	/* -EINTR: POLL runs again at the next RUN */
	ret = hvt_put_field(hc, gpa, struct hvt_hc_poll, ready_set, ready);
	if (!ret)
		ret = hvt_put_field(hc, gpa, struct hvt_hc_poll, ret,
				    hweight64(ready));
	return ret ? ret : VSNIX_IO_DONE;
}

/* An iterator over the first n bytes of the bounce buffer. */
static void hvt_bounce_iter(struct vsnix_hvt *hvt, struct iov_iter *iter,
			    struct kvec *kvec, size_t n, bool dest)
{
	lockdep_assert_held(&hvt->bounce_lock);
	kvec->iov_base = hvt->bounce;
	kvec->iov_len = n;
	iov_iter_kvec(iter, dest ? ITER_DEST : ITER_SOURCE, kvec, 1, n);
}

/*
 * Moves len bytes between guest RAM at gpa and the backend at pos, through
 * the bounce buffer. Returns SOLO5_R_OK or _EUNSPEC (host I/O error), -EINTR
 * when a signal stopped it (the whole hypercall runs again), or -EFAULT.
 */
static int hvt_block_io(struct hvt_call *hc, struct vsnix_hvt_blk *blk,
			u64 gpa, u64 pos, u64 len, bool write)
{
	struct vsnix_hvt *hvt = hc->hvt;
	struct iov_iter iter;
	struct kvec kvec;
	u64 done;
	int ret = SOLO5_R_OK;

	mutex_lock(&hvt->bounce_lock);
	for (done = 0; done < len; done += HVT_BOUNCE_SIZE) {
		size_t n = min_t(u64, len - done, HVT_BOUNCE_SIZE);
		ssize_t io;

		if (write) {
			ret = hvt_read_guest(hc, "block buffer", gpa + done,
					     hvt->bounce, n);
			if (ret)
				break;
		}
		hvt_bounce_iter(hvt, &iter, &kvec, n, !write);
		io = blk->be->ops->rw(blk->be, &iter, pos + done, write);
		if (io == -EINTR || io == -ERESTARTSYS) {
			ret = -EINTR;
			break;
		}
		if (io != n) {
			pr_warn_ratelimited("hvt: block '%s': %s of %zu bytes at %llu gave %zd\n",
					    blk->name, write ? "write" : "read",
					    n, pos + done, io);
			ret = SOLO5_R_EUNSPEC;
			break;
		}
		if (!write) {
			ret = hvt_write_guest(hc, "block buffer", gpa + done,
					      hvt->bounce, n);
			if (ret)
				break;
		}
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}
	mutex_unlock(&hvt->bounce_lock);
	return ret;
}

static int hvt_block_rw(struct hvt_call *hc, u64 gpa, bool write)
{
	struct hvt_hc_block_io args;
	struct vsnix_hvt_blk *blk;
	int ret;

	ret = hvt_read_args(hc, gpa, &args, sizeof(args));
	if (ret)
		return ret;
	blk = hvt_find_block(hc->hvt, args.handle);
	/* Whole sectors, inside the device (overflow-safe: offset < cap). */
	if (!blk || !args.len || args.offset >= blk->capacity ||
	    args.len > blk->capacity - args.offset ||
	    (args.offset | args.len) & (blk->sector_size - 1)) {
		ret = SOLO5_R_EINVAL;
	} else {
		ret = hvt_check_range(hc, "block buffer", args.data, args.len);
		if (ret)
			return ret;
		ret = hvt_block_io(hc, blk, args.data, args.offset, args.len,
				   write);
		if (ret < 0)
			return ret;
	}
	ret = hvt_put_field(hc, gpa, struct hvt_hc_block_io, ret, ret);
	return ret ? ret : VSNIX_IO_DONE;
}

static int hvt_net_write(struct hvt_call *hc, u64 gpa)
{
	struct vsnix_hvt *hvt = hc->hvt;
	struct vsnix_hvt_netdev *net;
	struct hvt_hc_net_io args;
	struct iov_iter iter;
	struct kvec kvec;
	ssize_t io;
	int ret;

	ret = hvt_read_args(hc, gpa, &args, sizeof(args));
	if (ret)
		return ret;
	net = hvt_find_net(hvt, args.handle);
	if (!net || !args.len || args.len > HVT_BOUNCE_SIZE) {
		ret = SOLO5_R_EINVAL;
		goto out;
	}
	ret = hvt_check_range(hc, "frame", args.data, args.len);
	if (ret)
		return ret;

	mutex_lock(&hvt->bounce_lock);
	ret = hvt_read_guest(hc, "frame", args.data, hvt->bounce, args.len);
	if (!ret) {
		hvt_bounce_iter(hvt, &iter, &kvec, args.len, false);
		io = net->be->ops->send(net->be, &iter);
		if (io == -EINTR || io == -ERESTARTSYS) {
			ret = -EINTR;	/* nothing sent: send it again */
		} else if (io != args.len) {
			pr_warn_ratelimited("hvt: net '%s': write of %llu bytes gave %zd\n",
					    net->name, args.len, io);
			ret = SOLO5_R_EUNSPEC;
		}
	}
	mutex_unlock(&hvt->bounce_lock);
	if (ret < 0)
		return ret;
out:
	ret = hvt_put_field(hc, gpa, struct hvt_hc_net_io, ret, ret);
	return ret ? ret : VSNIX_IO_DONE;
}

static int hvt_net_read(struct hvt_call *hc, u64 gpa)
{
	struct vsnix_hvt *hvt = hc->hvt;
	struct vsnix_hvt_netdev *net;
	struct hvt_hc_net_io args;
	struct iov_iter iter;
	struct kvec kvec;
	ssize_t io;
	int ret;

	ret = hvt_read_args(hc, gpa, &args, sizeof(args));
	if (ret)
		return ret;
	net = hvt_find_net(hvt, args.handle);
	if (!net || !args.len) {
		ret = SOLO5_R_EINVAL;
		goto out;
	}
	ret = hvt_check_range(hc, "frame buffer", args.data, args.len);
	if (ret)
		return ret;

	mutex_lock(&hvt->bounce_lock);
	hvt_bounce_iter(hvt, &iter, &kvec,
			min_t(u64, args.len, HVT_BOUNCE_SIZE), true);
	io = net->be->ops->recv(net->be, &iter);
	if (io == 0 || io == -EAGAIN) {
		ret = SOLO5_R_AGAIN;
	} else if (io < 0) {
		pr_warn_ratelimited("hvt: net '%s': read gave %zd\n",
				    net->name, io);
		ret = SOLO5_R_EUNSPEC;
	} else {
		ret = hvt_write_guest(hc, "frame buffer", args.data,
				      hvt->bounce, io);
		if (!ret)
			ret = hvt_put_field(hc, gpa, struct hvt_hc_net_io, len,
					    io);
	}
	mutex_unlock(&hvt->bounce_lock);
	if (ret < 0)
		return ret;
out:
	ret = hvt_put_field(hc, gpa, struct hvt_hc_net_io, ret, ret);
	return ret ? ret : VSNIX_IO_DONE;
}

static int hvt_halt(struct hvt_call *hc, u64 gpa)
{
	struct hvt_hc_halt args;
	int ret;

	ret = hvt_read_args(hc, gpa, &args, sizeof(args));
	/* The cookie is only a hint, but the ABI says it must be RAM. */
	if (!ret && args.cookie)
		ret = hvt_check_range(hc, "halt cookie", args.cookie,
				      HVT_HALT_COOKIE_MAX);
	if (ret)
		return ret;
	vsnix_exit_guest(hc->vcpu, args.exit_status,
			 VSNIX_GUEST_EXIT_HVT_HALT, args.cookie);
	return VSNIX_IO_EXIT;
}

static int hvt_call(struct vsnix_io_device *io, struct vsnix_vcpu *vcpu,
		    u64 addr, unsigned int len, const void *val)
{
	struct hvt_call hc = {
		.hvt = to_hvt(io),
		.vcpu = vcpu,
		.nr = addr - io->base,
	};
	u64 gpa;

	if (len != 4)
		return hvt_guest_fault(&hc, "hypercall: not a 32-bit outl",
				       addr, len);
	gpa = get_unaligned_le32(val);

	switch (hc.nr) {
	case HVT_HYPERCALL_WALLTIME:
		return hvt_walltime(&hc, gpa);
	case HVT_HYPERCALL_PUTS:
		return hvt_puts(&hc, gpa);
	case HVT_HYPERCALL_POLL:
		return hvt_poll(&hc, gpa);
	case HVT_HYPERCALL_BLOCK_WRITE:
		return hvt_block_rw(&hc, gpa, true);
	case HVT_HYPERCALL_BLOCK_READ:
		return hvt_block_rw(&hc, gpa, false);
	case HVT_HYPERCALL_NET_WRITE:
		return hvt_net_write(&hc, gpa);
	case HVT_HYPERCALL_NET_READ:
		return hvt_net_read(&hc, gpa);
	case HVT_HYPERCALL_HALT:
		return hvt_halt(&hc, gpa);
	default:
		return hvt_guest_fault(&hc, "hypercall number", addr, len);
	}
}

/* One hypercall, counted and traced (core/stats.h, core/trace.h). */
static int vsnix_hvt_write(struct vsnix_io_device *io, struct vsnix_vcpu *vcpu,
			   u64 addr, unsigned int len, const void *val)
{
	u32 nr = addr - io->base;
	u64 t0 = 0;
	int ret;

	if (trace_vsnix_hypercall_enabled())
		t0 = ktime_get_mono_fast_ns();
	ret = hvt_call(io, vcpu, addr, len, val);
	vcpu->stat.hypercalls++;
	vcpu->stat.hypercall[nr < VSNIX_STAT_HVT_NR ? nr : 0]++;
	if (trace_vsnix_hypercall_enabled())
		trace_vsnix_hypercall(vcpu->vm->id, vcpu->id, nr, ret,
				      t0 ? ktime_get_mono_fast_ns() - t0 : 0);
	return ret;
}

/* Hypercall ports are write-only; an `in` is a broken guest. */
static int vsnix_hvt_read(struct vsnix_io_device *io, struct vsnix_vcpu *vcpu,
			  u64 addr, unsigned int len, void *val)
{
	struct hvt_call hc = {
		.hvt = to_hvt(io),
		.vcpu = vcpu,
		.nr = addr - io->base,
	};

	return hvt_guest_fault(&hc, "hypercall: an in from the port", addr, len);
}

void vsnix_hvt_free(struct vsnix_hvt *hvt)
{
	unsigned int i;

	for (i = 0; i < hvt->nr_block; i++)
		if (hvt->block[i].be)
			hvt->block[i].be->ops->close(hvt->block[i].be);
	for (i = 0; i < hvt->nr_net; i++)
		if (hvt->net[i].be)
			hvt->net[i].be->ops->close(hvt->net[i].be);
	kfree(hvt->block);
	kfree(hvt->net);
	kvfree(hvt->bounce);
	kfree(hvt);
}

static void vsnix_hvt_destroy(struct vsnix_io_device *io)
{
	struct vsnix_hvt *hvt = to_hvt(io);

	vsnix_console_put(hvt->console);
	vsnix_hvt_free(hvt);
}

/* The guest sees no state: files and handles are fixed at creation. */
const struct vsnix_io_ops vsnix_hvt_ops = {
	.type = VSNIX_DEV_HVT,
	.read = vsnix_hvt_read,
	.write = vsnix_hvt_write,
	.destroy = vsnix_hvt_destroy,
	.state_version = VSNIX_STATELESS_VERSION,
};

