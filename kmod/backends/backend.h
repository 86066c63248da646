/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Backends: where a device's data goes on the host, apart from the device
 * model (hvt today; virtio-blk and virtio-net next) and from the
 * transport. kvmtool's split: a device knows a backend only through these
 * narrow ops, and a backend knows nothing of guests: data moves through
 * an iov_iter, which the device builds over a bounce buffer (kvec) or
 * straight over pinned guest pages (bvec).
 */
#ifndef VSNIX_BACKEND_H
#define VSNIX_BACKEND_H

#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/uio.h>

/* ------------------------------------------------------------ block */

struct vsnix_blk_backend;
struct vsnix_blk_aio;

/*
 * The end of an asynchronous request: the bytes done (short: a host I/O
 * error) or -errno. Called once, from any context (a bio's completion in
 * interrupt context, or the submitter itself): it may not sleep.
 */
typedef void (*vsnix_blk_aio_done_t)(struct vsnix_blk_aio *aio, long ret);

/* One asynchronous request, embedded in the device's request. */
struct vsnix_blk_aio {
	struct kiocb iocb;
	vsnix_blk_aio_done_t done;
};

struct vsnix_blk_backend_ops {
	/*
	 * Moves iov_iter_count(iter) bytes at byte offset pos. Returns the
	 * bytes done (a short count is a host I/O error for the caller),
	 * -EINTR when a signal stopped it, or -errno. May sleep.
	 */
	ssize_t (*rw)(struct vsnix_blk_backend *be, struct iov_iter *iter,
		      u64 pos, bool write);
	/*
	 * Starts moving iter's bytes at byte offset pos without waiting, as
	 * the loop driver and io_uring do: direct I/O where the file allows
	 * it and the buffers are aligned, else buffered (which completes
	 * before submit returns). Returns 0: aio->done is called exactly
	 * once, and the pages under iter stay valid until then. With
	 * nowait, -EAGAIN instead of a buffered transfer that may wait for
	 * a disk (nothing was done, done is not called). Process context.
	 */
	int (*submit)(struct vsnix_blk_backend *be, struct vsnix_blk_aio *aio,
		      struct iov_iter *iter, u64 pos, bool write, bool nowait);
	/*
	 * Makes [pos, pos + len) read as zeroes; unmap: deallocate it too
	 * (discard). -EOPNOTSUPP when the file cannot, -EROFS, -errno.
	 */
	int (*zero)(struct vsnix_blk_backend *be, u64 pos, u64 len,
		    bool unmap);
	/* Written data reaches stable storage. */
	int (*flush)(struct vsnix_blk_backend *be);
	void (*close)(struct vsnix_blk_backend *be);
};

struct vsnix_blk_backend {
	const struct vsnix_blk_backend_ops *ops;
	u64 size;		/* bytes */
	bool read_only;		/* the file was not opened for writing */
	u32 lbs;		/* logical block size: direct I/O alignment */
	/* The page cache is the only storage (tmpfs): nothing waits on a disk. */
	bool memory_only;
};

/*
 * A regular file or block device (blockfile.c). Takes over the file
 * reference on success; who names the device in messages. ERR_PTR:
 * -EINVAL for another kind of file or O_APPEND, -ENOMEM.
 */
struct vsnix_blk_backend *vsnix_blockfile_open(struct file *file,
					       const char *who);

/* ------------------------------------------------------------ net */

struct vsnix_net_backend;

struct vsnix_net_backend_ops {
	/* Sends one Ethernet frame: bytes sent, -EINTR, or -errno. */
	ssize_t (*send)(struct vsnix_net_backend *be, struct iov_iter *iter);
	/* Receives one frame if one is there: its size, or -EAGAIN. */
	ssize_t (*recv)(struct vsnix_net_backend *be, struct iov_iter *iter);
	/* poll(2) of the backend: EPOLLIN when a frame waits. */
	__poll_t (*poll)(struct vsnix_net_backend *be, poll_table *pt);
	/*
	 * A tap with IFF_VNET_HDR only: the offloads (TUN_F_*) that frames
	 * read from it may carry (TUNSETOFFLOAD). -EOPNOTSUPP elsewhere.
	 */
	int (*set_offload)(struct vsnix_net_backend *be, unsigned int tun_f);
	void (*close)(struct vsnix_net_backend *be);
};

struct vsnix_net_backend {
	const struct vsnix_net_backend_ops *ops;
	bool is_tun;		/* a tun/tap file, not a packet socket */
};

/*
 * A tap (/dev/net/tun attached with IFF_TAP | IFF_NO_PI) or an AF_PACKET
 * SOCK_RAW socket (tap.c), open for reading and writing. Takes over the
 * file reference on success; ERR_PTR(-EINVAL) for another kind of file.
 */
struct vsnix_net_backend *vsnix_tap_open(struct file *file, const char *who);

#endif /* VSNIX_BACKEND_H */
