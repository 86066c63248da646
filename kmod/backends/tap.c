// SPDX-License-Identifier: GPL-2.0
/*
 * Net backend on a tap file (/dev/net/tun, char 10:200, whatever its
 * path) or an AF_PACKET SOCK_RAW socket: one read or write is one frame.
 * Neither kind can hold another file, so a VM cannot end up holding
 * itself through its backend.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/file.h>
#include <linux/major.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/if_tun.h>
#include <linux/slab.h>
#include "backend.h"

struct vsnix_tap {
	struct vsnix_net_backend be;
	struct file *file;
	struct socket *sock;	/* a tap's own socket (tun_get_socket) */
};

static struct file *tap_file(struct vsnix_net_backend *be)
{
	return container_of(be, struct vsnix_tap, be)->file;
}

/*
 * A tap's socket takes the frame straight (tun_sendmsg, as vhost-net
 * sends): no file layer per frame (permission hook, fsnotify, kiocb).
 * Blocking or not as the file was opened, as a write would be.
 */
static ssize_t tap_send(struct vsnix_net_backend *be, struct iov_iter *iter)
{
	struct vsnix_tap *tap = container_of(be, struct vsnix_tap, be);
	struct msghdr msg = { };
	loff_t pos = 0;

	if (!tap->sock)
		return vfs_iter_write(tap->file, iter, &pos, 0);
	if (tap->file->f_flags & O_NONBLOCK)
		msg.msg_flags = MSG_DONTWAIT;
	msg.msg_iter = *iter;
	return tap->sock->ops->sendmsg(tap->sock, &msg, iov_iter_count(iter));
}

/*
 * Never waits (IOCB_NOWAIT, which tun and packet sockets honour; a tap's
 * socket with MSG_DONTWAIT, as vhost-net reads it). A frame larger than
 * iter is cut to its size (tun_recvmsg without MSG_TRUNC, as a read).
 */
static ssize_t tap_recv(struct vsnix_net_backend *be, struct iov_iter *iter)
{
	struct vsnix_tap *tap = container_of(be, struct vsnix_tap, be);
	struct file *file = tap->file;
	struct msghdr msg = { };
	struct kiocb kiocb;
	ssize_t ret;

	if (tap->sock) {
		msg.msg_iter = *iter;
		ret = tap->sock->ops->recvmsg(tap->sock, &msg,
					      iov_iter_count(iter),
					      MSG_DONTWAIT);
		return ret ? ret : -EAGAIN;
	}
	/* Only a poll says a frame is there: a read must not block. */
	if (!(vfs_poll(file, NULL) & EPOLLIN))
		return -EAGAIN;
	init_sync_kiocb(&kiocb, file);
	kiocb.ki_flags |= IOCB_NOWAIT;
	ret = vfs_iocb_iter_read(file, &kiocb, iter);
	return ret ? ret : -EAGAIN;
}

/*
 * The size of the frame at the head of a tap's queue, without the vnet
 * header (tun's peek_len, as vhost-net asks it): 0 when none.
 */
static int tap_peek_len(struct vsnix_net_backend *be)
{
	struct socket *sock = container_of(be, struct vsnix_tap, be)->sock;

	if (!sock || !sock->ops || !sock->ops->peek_len)
		return -EOPNOTSUPP;
	return sock->ops->peek_len(sock);
}

static __poll_t tap_poll(struct vsnix_net_backend *be, poll_table *pt)
{
	return vfs_poll(tap_file(be), pt);
}

/*
 * TUNSETOFFLOAD takes its argument by value, so tun's ioctl can be called
 * from the kernel; it takes the RTNL itself.
 */
static int tap_set_offload(struct vsnix_net_backend *be, unsigned int tun_f)
{
	struct file *file = tap_file(be);

	if (!be->is_tun || !file->f_op->unlocked_ioctl)
		return -EOPNOTSUPP;
	return file->f_op->unlocked_ioctl(file, TUNSETOFFLOAD, tun_f);
}

static void tap_close(struct vsnix_net_backend *be)
{
	struct vsnix_tap *tap = container_of(be, struct vsnix_tap, be);

	fput(tap->file);
	kfree(tap);
}

static const struct vsnix_net_backend_ops tap_ops = {
	.send = tap_send,
	.recv = tap_recv,
	.peek_len = tap_peek_len,
	.poll = tap_poll,
	.set_offload = tap_set_offload,
	.close = tap_close,
};

static bool tap_file_ok(struct file *file)
{
	struct inode *inode = file_inode(file);
	struct socket *sock;

	if (!(file->f_mode & FMODE_CAN_READ) ||
	    !(file->f_mode & FMODE_CAN_WRITE) ||
	    !file->f_op->read_iter || !file->f_op->write_iter)
		return false;
	if (S_ISCHR(inode->i_mode))
		return inode->i_rdev == MKDEV(MISC_MAJOR, TUN_MINOR);
	sock = sock_from_file(file);
	return sock && sock->ops && sock->ops->family == PF_PACKET &&
	       sock->type == SOCK_RAW;
}

/*
 * A tap file's socket, looked up at run time: tun is a module the file
 * already holds, and a symbol reference would make vsnix.ko need it.
 */
static struct socket *tap_tun_socket(struct file *file)
{
	struct socket *(*get)(struct file *file) = symbol_get(tun_get_socket);
	struct socket *sock;

	if (!get)
		return NULL;
	sock = get(file);
	symbol_put(tun_get_socket);
	return IS_ERR(sock) ? NULL : sock;
}

struct vsnix_net_backend *vsnix_tap_open(struct file *file, const char *who)
{
	struct vsnix_tap *tap;

	if (!tap_file_ok(file)) {
		pr_warn_ratelimited("%s: neither a tun/tap file nor a raw packet socket\n",
				    who);
		return ERR_PTR(-EINVAL);
	}
	tap = kzalloc(sizeof(*tap), GFP_KERNEL_ACCOUNT);
	if (!tap)
		return ERR_PTR(-ENOMEM);
	tap->file = file;
	tap->be.ops = &tap_ops;
	tap->be.is_tun = S_ISCHR(file_inode(file)->i_mode);
	if (tap->be.is_tun)
		tap->sock = tap_tun_socket(file);
	return &tap->be;
}
