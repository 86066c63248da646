// SPDX-License-Identifier: GPL-2.0
/*
 * The Solo5 hvt hypercalls (hvt ABI version 2, Solo5 include/hvt_abi.h),
 * served inside RUN. A hypercall is an `outl` to port 0x500 + n whose value
 * is the low 32 bits of the guest-physical address of an argument struct.
 * The structs below are the guest's x86-64 layout of those structs.
 *
 * Everything the guest hands us is untrusted. Every guest range (argument
 * struct, data buffer, halt cookie) goes through hvt_check_range() before
 * it is used; a bad one ends the VM with an INTERNAL_ERROR exit, suberror
 * VSNIX_INTERNAL_GUEST_FAULT, data[] = { hypercall, gpa, length }. Errors
 * the ABI defines (bad handle, out-of-range block, no frame to read) are
 * returned to the guest in the struct's ret field instead.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/major.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uio.h>
#include "devices.h"
#include "../core/compat.h"

#define HVT_HYPERCALL_PIO_BASE	0x500
/* 0x500..0x50f: room for an outl at the last hypercall (HALT = 8). */
#define HVT_NR_PORTS		16

enum hvt_hypercall {
	HVT_HC_WALLTIME = 1,
	HVT_HC_PUTS,
	HVT_HC_POLL,
	HVT_HC_BLOCK_WRITE,
	HVT_HC_BLOCK_READ,
	HVT_HC_NET_WRITE,
	HVT_HC_NET_READ,
	HVT_HC_HALT,
};

/* solo5_result_t (Solo5 include/solo5.h). */
#define SOLO5_R_OK	0
#define SOLO5_R_AGAIN	1
#define SOLO5_R_EINVAL	2
#define SOLO5_R_EUNSPEC	3

/* Bytes the tender may read behind a non-NULL halt cookie. */
#define HVT_HALT_COOKIE_MAX	512

/* The guest's argument structs; size_t and pointers are 64-bit. */
struct hvt_arg_walltime {
	u64 nsecs;		/* out */
};

struct hvt_arg_puts {
	u64 data;
	u64 len;
};

struct hvt_arg_poll {
	u64 timeout_nsecs;
	u64 ready_set;		/* out */
	s32 ret;		/* out */
	u32 pad;
};

/* hvt_hc_block_write and hvt_hc_block_read share this layout. */
struct hvt_arg_block {
	u64 handle;
	u64 offset;
	u64 data;
	u64 len;
	s32 ret;		/* out */
	u32 pad;
};

/* hvt_hc_net_write and hvt_hc_net_read; read writes len back. */
struct hvt_arg_net {
	u64 handle;
	u64 data;
	u64 len;
	s32 ret;		/* out */
	u32 pad;
};

struct hvt_arg_halt {
	u64 cookie;
	s32 exit_status;
	u32 pad;
};

/*
 * Data moves between files and guest RAM through one buffer per device.
 * It holds the largest tap frame (64 KiB MTU + Ethernet and VLAN headers).
 */
#define HVT_BOUNCE_SIZE		(68 * 1024)
#define HVT_MAX_SECTOR_SIZE	32768	/* Solo5's block_size is a u16 */

struct vsnix_hvt_blk {
	struct file *file;
	u64 capacity;		/* bytes, a multiple of sector_size */
	u32 sector_size;
	u8 handle;
	char name[VSNIX_DEV_NAME_LEN];
};

struct vsnix_hvt_netdev {
	struct file *file;	/* tap */
	u8 handle;
	char name[VSNIX_DEV_NAME_LEN];
};

/* All of one hvt device's state. */
struct vsnix_hvt {
	struct vsnix_io_device io;
	struct vsnix_vm *vm;
	struct file *console;
	unsigned int nr_block;
	unsigned int nr_net;
	struct vsnix_hvt_blk *block;	/* nr_block of them */
	struct vsnix_hvt_netdev *net;	/* nr_net of them */
	struct mutex bounce_lock;	/* bounce */
	void *bounce;
};

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
				  sizeof(struct hvt_arg_walltime));

	if (ret)
		return ret;
	ret = hvt_put_field(hc, gpa, struct hvt_arg_walltime, nsecs,
			    ktime_get_real_ns());
	return ret ? ret : VSNIX_IO_DONE;
}

static int hvt_puts(struct hvt_call *hc, u64 gpa)
{
	struct vsnix_hvt *hvt = hc->hvt;
	struct hvt_arg_puts args;
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
			if (vfs_poll(hvt->net[i].file, pt) & EPOLLIN)
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
	struct hvt_arg_poll args;
	s64 ready;
	int ret;

	ret = hvt_read_args(hc, gpa, &args, sizeof(args));
	if (ret)
		return ret;
	ready = hvt_poll_wait(hc->hvt, args.timeout_nsecs);
	if (ready < 0)
		return ready;	/* -EINTR: POLL runs again at the next RUN */
	ret = hvt_put_field(hc, gpa, struct hvt_arg_poll, ready_set, ready);
	if (!ret)
		ret = hvt_put_field(hc, gpa, struct hvt_arg_poll, ret,
				    hweight64(ready));
	return ret ? ret : VSNIX_IO_DONE;
}

/*
 * Moves len bytes between guest RAM at gpa and the file at pos, through the
 * bounce buffer. Returns SOLO5_R_OK or _EUNSPEC (host I/O error), -EINTR
 * when a signal stopped it (the whole hypercall runs again), or -EFAULT.
 */
static int hvt_block_io(struct hvt_call *hc, struct vsnix_hvt_blk *blk,
			u64 gpa, u64 pos, u64 len, bool write)
{
	struct vsnix_hvt *hvt = hc->hvt;
	u64 done;
	int ret = SOLO5_R_OK;

	mutex_lock(&hvt->bounce_lock);
	for (done = 0; done < len; done += HVT_BOUNCE_SIZE) {
		size_t n = min_t(u64, len - done, HVT_BOUNCE_SIZE);
		loff_t off = pos + done;
		ssize_t io;

		if (write) {
			ret = hvt_read_guest(hc, "block buffer", gpa + done,
					     hvt->bounce, n);
			if (ret)
				break;
			io = kernel_write(blk->file, hvt->bounce, n, &off);
		} else {
			io = kernel_read(blk->file, hvt->bounce, n, &off);
		}
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
	struct hvt_arg_block args;
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
	ret = hvt_put_field(hc, gpa, struct hvt_arg_block, ret, ret);
	return ret ? ret : VSNIX_IO_DONE;
}

static int hvt_net_write(struct hvt_call *hc, u64 gpa)
{
	struct vsnix_hvt *hvt = hc->hvt;
	struct vsnix_hvt_netdev *net;
	struct hvt_arg_net args;
	loff_t pos = 0;
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
		io = kernel_write(net->file, hvt->bounce, args.len, &pos);
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
	ret = hvt_put_field(hc, gpa, struct hvt_arg_net, ret, ret);
	return ret ? ret : VSNIX_IO_DONE;
}

/* Reads one frame without waiting for one (IOCB_NOWAIT, as tun honours). */
static ssize_t hvt_tap_read_nowait(struct file *file, void *buf, size_t len)
{
	struct kvec kvec = { .iov_base = buf, .iov_len = len };
	struct iov_iter iter;
	struct kiocb kiocb;

	init_sync_kiocb(&kiocb, file);
	kiocb.ki_flags |= IOCB_NOWAIT;
	iov_iter_kvec(&iter, ITER_DEST, &kvec, 1, len);
	return vfs_iocb_iter_read(file, &kiocb, &iter);
}

static int hvt_net_read(struct hvt_call *hc, u64 gpa)
{
	struct vsnix_hvt *hvt = hc->hvt;
	struct vsnix_hvt_netdev *net;
	struct hvt_arg_net args;
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
	/* Only a poll says a frame is there: a read must not block. */
	if (!(vfs_poll(net->file, NULL) & EPOLLIN)) {
		io = -EAGAIN;
	} else {
		io = hvt_tap_read_nowait(net->file, hvt->bounce,
					 min_t(u64, args.len,
					       HVT_BOUNCE_SIZE));
	}
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
			ret = hvt_put_field(hc, gpa, struct hvt_arg_net, len,
					    io);
	}
	mutex_unlock(&hvt->bounce_lock);
	if (ret < 0)
		return ret;
out:
	ret = hvt_put_field(hc, gpa, struct hvt_arg_net, ret, ret);
	return ret ? ret : VSNIX_IO_DONE;
}

static int hvt_halt(struct hvt_call *hc, u64 gpa)
{
	struct hvt_arg_halt args;
	int ret;

	ret = hvt_read_args(hc, gpa, &args, sizeof(args));
	/* The cookie is only a hint, but the ABI says it must be RAM. */
	if (!ret && args.cookie)
		ret = hvt_check_range(hc, "halt cookie", args.cookie,
				      HVT_HALT_COOKIE_MAX);
	if (ret)
		return ret;
	vsnix_exit_guest(hc->vcpu, args.exit_status,
			 VSNIX_GUEST_EXIT_HVT_HALT);
	return VSNIX_IO_EXIT;
}

static int vsnix_hvt_write(struct vsnix_io_device *io, struct vsnix_vcpu *vcpu,
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
	case HVT_HC_WALLTIME:
		return hvt_walltime(&hc, gpa);
	case HVT_HC_PUTS:
		return hvt_puts(&hc, gpa);
	case HVT_HC_POLL:
		return hvt_poll(&hc, gpa);
	case HVT_HC_BLOCK_WRITE:
		return hvt_block_rw(&hc, gpa, true);
	case HVT_HC_BLOCK_READ:
		return hvt_block_rw(&hc, gpa, false);
	case HVT_HC_NET_WRITE:
		return hvt_net_write(&hc, gpa);
	case HVT_HC_NET_READ:
		return hvt_net_read(&hc, gpa);
	case HVT_HC_HALT:
		return hvt_halt(&hc, gpa);
	default:
		return hvt_guest_fault(&hc, "hypercall number", addr, len);
	}
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

static void vsnix_hvt_free(struct vsnix_hvt *hvt)
{
	unsigned int i;

	for (i = 0; i < hvt->nr_block; i++)
		if (hvt->block[i].file)
			fput(hvt->block[i].file);
	for (i = 0; i < hvt->nr_net; i++)
		if (hvt->net[i].file)
			fput(hvt->net[i].file);
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
static const struct vsnix_io_ops vsnix_hvt_ops = {
	.type = VSNIX_DEV_HVT,
	.read = vsnix_hvt_read,
	.write = vsnix_hvt_write,
	.destroy = vsnix_hvt_destroy,
	.state_version = VSNIX_STATELESS_VERSION,
};

/* ------------------------------------------------------------ creation */

static const char *hvt_kind_name(u32 kind)
{
	return kind == VSNIX_HVT_DEV_BLOCK ? "block" : "net";
}

/* A device name: NUL-terminated inside its field (used in messages). */
static int hvt_copy_name(char *dst, const struct vsnix_hvt_dev *in,
			 unsigned int i)
{
	if (!memchr(in->name, 0, VSNIX_DEV_NAME_LEN)) {
		pr_warn_ratelimited("hvt: device %u (%s): name is not NUL-terminated\n",
				    i, hvt_kind_name(in->kind));
		return -EINVAL;
	}
	strscpy(dst, in->name, VSNIX_DEV_NAME_LEN);
	return 0;
}

/* Handles are manifest indices: 1..63, each used once. */
static int hvt_check_handle(u64 *used, const struct vsnix_hvt_dev *in,
			    unsigned int i)
{
	const char *kind = hvt_kind_name(in->kind);

	if (!in->handle || in->handle > VSNIX_HVT_MAX_HANDLE) {
		pr_warn_ratelimited("hvt: %s %u '%s': handle %u is not a manifest index in 1..%d\n",
				    kind, i, in->name, in->handle,
				    VSNIX_HVT_MAX_HANDLE);
		return -EINVAL;
	}
	if (*used & BIT_ULL(in->handle)) {
		pr_warn_ratelimited("hvt: %s %u '%s': handle %u is given twice\n",
				    kind, i, in->name, in->handle);
		return -EINVAL;
	}
	*used |= BIT_ULL(in->handle);
	return 0;
}

/* fget(fd), requiring it open for reading and writing. */
static struct file *hvt_get_rw_file(const struct vsnix_hvt_dev *in,
				    unsigned int i)
{
	const char *kind = hvt_kind_name(in->kind);
	struct file *file = fget(in->fd);

	if (!file) {
		pr_warn_ratelimited("hvt: %s %u '%s': fd %d is not an open file\n",
				    kind, i, in->name, in->fd);
		return ERR_PTR(-EBADF);
	}
	if ((file->f_mode & (FMODE_READ | FMODE_WRITE)) !=
	    (FMODE_READ | FMODE_WRITE)) {
		pr_warn_ratelimited("hvt: %s %u '%s': fd %d is not open O_RDWR\n",
				    kind, i, in->name, in->fd);
		fput(file);
		return ERR_PTR(-EBADF);
	}
	return file;
}

static int hvt_setup_block(struct vsnix_hvt_blk *blk,
			   const struct vsnix_hvt_dev *in, unsigned int i)
{
	struct inode *inode;
	int ret;

	ret = hvt_copy_name(blk->name, in, i);
	if (ret)
		return ret;
	blk->handle = in->handle;
	blk->sector_size = in->sector_size ? in->sector_size : 512;
	if (blk->sector_size < 512 || blk->sector_size > HVT_MAX_SECTOR_SIZE ||
	    !is_power_of_2(blk->sector_size)) {
		pr_warn_ratelimited("hvt: block %u '%s': sector size %u is not a power of 2 in 512..%d\n",
				    i, blk->name, blk->sector_size,
				    HVT_MAX_SECTOR_SIZE);
		return -EINVAL;
	}

	blk->file = hvt_get_rw_file(in, i);
	if (IS_ERR(blk->file)) {
		ret = PTR_ERR(blk->file);
		blk->file = NULL;
		return ret;
	}
	/* For a block device, the mapping's host is the bdev inode. */
	inode = blk->file->f_mapping->host;
	/* Anonymous inodes are S_IFREG on newer kernels: not a disk. */
	if ((!S_ISREG(file_inode(blk->file)->i_mode) &&
	     !S_ISBLK(file_inode(blk->file)->i_mode)) ||
	    vsnix_file_may_hold_files(blk->file)) {
		pr_warn_ratelimited("hvt: block %u '%s': fd %d is neither a regular file nor a block device\n",
				    i, blk->name, in->fd);
		return -EINVAL;
	}
	if (blk->file->f_flags & O_APPEND) {
		/* Writes would land at the end, not at the guest's offset. */
		pr_warn_ratelimited("hvt: block %u '%s': fd %d is O_APPEND\n",
				    i, blk->name, in->fd);
		return -EINVAL;
	}
	blk->capacity = round_down(i_size_read(inode), blk->sector_size);
	if (!blk->capacity) {
		pr_warn_ratelimited("hvt: block %u '%s': smaller than one %u-byte sector\n",
				    i, blk->name, blk->sector_size);
		return -EINVAL;
	}
	return 0;
}

/*
 * A net fd carries Ethernet frames: /dev/net/tun attached to a tap (char
 * 10:200, whatever its path) or an AF_PACKET SOCK_RAW socket. Neither can
 * hold another file, so the VM cannot end up holding itself.
 */
static bool hvt_net_file_ok(struct file *file)
{
	struct inode *inode = file_inode(file);
	struct socket *sock;

	if (S_ISCHR(inode->i_mode))
		return inode->i_rdev == MKDEV(MISC_MAJOR, TUN_MINOR);
	sock = sock_from_file(file);
	return sock && sock->ops && sock->ops->family == PF_PACKET &&
	       sock->type == SOCK_RAW;
}

static int hvt_setup_net(struct vsnix_hvt_netdev *net,
			 const struct vsnix_hvt_dev *in, unsigned int i)
{
	int ret;

	ret = hvt_copy_name(net->name, in, i);
	if (ret)
		return ret;
	if (in->sector_size) {
		pr_warn_ratelimited("hvt: net %u '%s': sector_size must be zero\n",
				    i, net->name);
		return -EINVAL;
	}
	net->handle = in->handle;
	net->file = hvt_get_rw_file(in, i);
	if (IS_ERR(net->file)) {
		ret = PTR_ERR(net->file);
		net->file = NULL;
		return ret;
	}
	if (!hvt_net_file_ok(net->file) ||
	    !(net->file->f_mode & FMODE_CAN_READ) ||
	    !(net->file->f_mode & FMODE_CAN_WRITE) ||
	    !net->file->f_op->read_iter || !net->file->f_op->write_iter) {
		pr_warn_ratelimited("hvt: net %u '%s': fd %d is neither a tun/tap file nor a raw packet socket\n",
				    i, net->name, in->fd);
		return -EINVAL;
	}
	return 0;
}

/* Counts the devices of each kind; rejects unknown kinds and set reserved. */
static int hvt_count_devs(const struct vsnix_hvt_dev *devs, unsigned int n,
			  unsigned int *nr_block, unsigned int *nr_net)
{
	unsigned int i;

	*nr_block = *nr_net = 0;
	for (i = 0; i < n; i++) {
		if (!vsnix_dev_all_zero(devs[i].reserved,
					sizeof(devs[i].reserved))) {
			pr_warn_ratelimited("hvt: device %u: reserved must be zero\n",
					    i);
			return -EINVAL;
		}
		if (devs[i].kind == VSNIX_HVT_DEV_BLOCK) {
			(*nr_block)++;
		} else if (devs[i].kind == VSNIX_HVT_DEV_NET) {
			(*nr_net)++;
		} else {
			pr_warn_ratelimited("hvt: device %u: unknown kind %u\n",
					    i, devs[i].kind);
			return -EINVAL;
		}
	}
	return 0;
}

static struct vsnix_hvt *hvt_alloc(unsigned int nr_block, unsigned int nr_net)
{
	struct vsnix_hvt *hvt = kzalloc(sizeof(*hvt), GFP_KERNEL_ACCOUNT);

	if (!hvt)
		return NULL;
	hvt->block = kcalloc(nr_block, sizeof(*hvt->block), GFP_KERNEL_ACCOUNT);
	hvt->net = kcalloc(nr_net, sizeof(*hvt->net), GFP_KERNEL_ACCOUNT);
	hvt->bounce = kvmalloc(HVT_BOUNCE_SIZE, GFP_KERNEL_ACCOUNT);
	if ((nr_block && !hvt->block) || (nr_net && !hvt->net) ||
	    !hvt->bounce) {
		vsnix_hvt_free(hvt);
		return NULL;
	}
	mutex_init(&hvt->bounce_lock);
	return hvt;
}

/* Creates the device from n checked-size entries (both config versions). */
static int hvt_create_devs(struct vsnix_vm *vm,
			   const struct vsnix_hvt_dev *devs, unsigned int n,
			   struct file *console)
{
	unsigned int i, nr_block, nr_net;
	struct vsnix_hvt *hvt;
	u64 used_handles = 0;
	int ret;

	ret = hvt_count_devs(devs, n, &nr_block, &nr_net);
	if (ret)
		return ret;
	hvt = hvt_alloc(nr_block, nr_net);
	if (!hvt)
		return -ENOMEM;
	hvt->vm = vm;

	/* nr_* grow as devices are set up, so a failure frees what exists. */
	for (i = 0; i < n; i++) {
		ret = hvt_check_handle(&used_handles, &devs[i], i);
		if (ret)
			goto fail;
		if (devs[i].kind == VSNIX_HVT_DEV_BLOCK)
			ret = hvt_setup_block(&hvt->block[hvt->nr_block++],
					      &devs[i], i);
		else
			ret = hvt_setup_net(&hvt->net[hvt->nr_net++],
					    &devs[i], i);
		if (ret)
			goto fail;
	}

	hvt->console = console;	/* not put by vsnix_hvt_free(): caller's */
	hvt->io.bus = VSNIX_BUS_PIO;
	hvt->io.base = HVT_HYPERCALL_PIO_BASE;
	hvt->io.len = HVT_NR_PORTS;
	hvt->io.ops = &vsnix_hvt_ops;
	ret = vsnix_dev_register(vm, &hvt->io, "hvt");
	if (ret < 0)
		goto fail;
	return ret;

fail:
	vsnix_hvt_free(hvt);
	return ret;
}

/* The first config: fixed arrays of 4 block and 4 net devices. */
int vsnix_hvt_create(struct vsnix_vm *vm, const struct vsnix_hvt_config *cfg,
		     struct file *console)
{
	struct vsnix_hvt_dev *devs;
	unsigned int i, n = 0;
	int ret;

	if (!vsnix_dev_all_zero(cfg->reserved, sizeof(cfg->reserved))) {
		pr_warn_ratelimited("hvt: reserved must be zero\n");
		return -EINVAL;
	}
	if (cfg->nr_block > VSNIX_HVT_MAX_BLOCK ||
	    cfg->nr_net > VSNIX_HVT_MAX_NET) {
		pr_warn_ratelimited("hvt: %u block and %u net devices; at most %d of each (VSNIX_DEV_HVT2 takes more)\n",
				    cfg->nr_block, cfg->nr_net,
				    VSNIX_HVT_MAX_BLOCK);
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_net; i++) {
		const struct vsnix_hvt_net *in = &cfg->net[i];

		if (in->pad || in->pad2[0] || in->pad2[1]) {
			pr_warn_ratelimited("hvt: net[%u]: pad must be zero\n",
					    i);
			return -EINVAL;
		}
	}
	devs = kcalloc(VSNIX_HVT_MAX_BLOCK + VSNIX_HVT_MAX_NET, sizeof(*devs),
		       GFP_KERNEL);
	if (!devs)
		return -ENOMEM;
	for (i = 0; i < cfg->nr_block; i++, n++) {
		devs[n].kind = VSNIX_HVT_DEV_BLOCK;
		devs[n].fd = cfg->block[i].fd;
		devs[n].handle = cfg->block_handle[i];
		devs[n].sector_size = cfg->block[i].sector_size;
		memcpy(devs[n].name, cfg->block[i].name, VSNIX_DEV_NAME_LEN);
	}
	for (i = 0; i < cfg->nr_net; i++, n++) {
		devs[n].kind = VSNIX_HVT_DEV_NET;
		devs[n].fd = cfg->net[i].fd;
		devs[n].handle = cfg->net_handle[i];
		memcpy(devs[n].name, cfg->net[i].name, VSNIX_DEV_NAME_LEN);
	}
	ret = hvt_create_devs(vm, devs, n, console);
	kfree(devs);
	return ret;
}

/* The second config: up to one device per manifest handle. */
int vsnix_hvt2_create(struct vsnix_vm *vm,
		      const struct vsnix_hvt2_config *cfg,
		      struct file *console)
{
	struct vsnix_hvt_dev *devs;
	int ret;

	if (cfg->pad || !vsnix_dev_all_zero(cfg->reserved,
					    sizeof(cfg->reserved))) {
		pr_warn_ratelimited("hvt2: pad and reserved must be zero\n");
		return -EINVAL;
	}
	if (cfg->nr_devices > VSNIX_HVT_MAX_HANDLE) {
		pr_warn_ratelimited("hvt2: %u devices; at most %d\n",
				    cfg->nr_devices, VSNIX_HVT_MAX_HANDLE);
		return -EINVAL;
	}
	if (!cfg->nr_devices)
		return hvt_create_devs(vm, NULL, 0, console);
	devs = memdup_user(u64_to_user_ptr(cfg->devices),
			   cfg->nr_devices * sizeof(*devs));
	if (IS_ERR(devs))
		return PTR_ERR(devs);
	ret = hvt_create_devs(vm, devs, cfg->nr_devices, console);
	kfree(devs);
	return ret;
}
