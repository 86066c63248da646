// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl fuzzer's calls on statistics and the VM list: stats fds of VMs
 * and vCPUs (read, seeked and closed while the VM runs or goes away),
 * VM names and info, VSNIX_LIST_VMS and VSNIX_STATS_FD_BY_ID.
 */
#define _GNU_SOURCE
#include <unistd.h>

#include "fuzz.h"

atomic_int stats_header_bad;
static atomic_uint last_vm_id;	/* the newest VM id GET_VM_INFO saw */

long op_stats_fd(struct fuzz_thread *t)
{
	bool vcpu = one_in(t, 2);
	unsigned long arg = one_in(t, 16) ? interesting_u64(t) : 0;
	long fd;

	fd = ioctl(fd_pick(t, vcpu ? FD_VCPU : FD_VM),
		   vcpu ? VSNIX_GET_VCPU_STATS_FD : VSNIX_GET_STATS_FD, arg);
	if (fd >= 0)
		fd_put(fd, FD_STATS);
	return fd;
}

/* A header read whole at offset 0 must describe a sane layout. */
static void check_header(const struct vsnix_stats_header *h)
{
	bool ok = h->magic == VSNIX_STATS_MAGIC &&
		  h->version == VSNIX_STATS_VERSION && h->nr_desc &&
		  h->desc_offset >= h->id_offset + 1 &&
		  h->data_offset >= h->desc_offset + h->nr_desc * h->desc_size &&
		  h->data_size == h->nr_desc * sizeof(uint64_t);

	if (!ok && atomic_fetch_add(&stats_header_bad, 1) < 5)
		tap_diag("stats header: magic 0x%x version %u nr_desc %u data %u+%u",
			 h->magic, h->version, h->nr_desc, h->data_offset,
			 h->data_size);
}

/* pread, read after lseek, or a bad buffer, at random offsets and sizes. */
long op_stats_read(struct fuzz_thread *t)
{
	int fd = fd_pick(t, one_in(t, 16) ? FD_FREE : FD_STATS);
	size_t len = one_in(t, 8) ? interesting_u64(t) : rnd_below(t, 4096);
	off_t off = one_in(t, 4) ? 0 : one_in(t, 8) ? (off_t)interesting_u64(t) :
		    (off_t)rnd_below(t, 8192);
	void *buf = t->arg;
	long ret;

	if (len > ARG_SIZE && !one_in(t, 4))
		len = ARG_SIZE;
	else if (len > ARG_SIZE)	/* a read past scratch faults on the guard */
		buf = scratch;
	if (one_in(t, 32))
		buf = (void *)(uintptr_t)bad_pointer(t);	/* EFAULT */
	switch (rnd_below(t, 3)) {
	case 0:
		ret = pread(fd, buf, len, off);
		break;
	case 1:
		ret = lseek(fd, off, rnd_below(t, 4));	/* SEEK_SET..SEEK_DATA */
		if (ret >= 0)
			ret = read(fd, buf, len);
		break;
	default:
		/* The write a read-only file refuses (a stats fd only). */
		return write(fd_pick(t, FD_STATS), t->arg, rnd_below(t, 64));
	}
	/* A stats header read at offset 0 (not a pipe's or a socket's). */
	if (!off && ret >= (long)sizeof(struct vsnix_stats_header) &&
	    buf == t->arg && ((uint32_t *)buf)[0] == VSNIX_STATS_MAGIC)
		check_header(buf);
	return ret;
}

/* Printable names, too long, not NUL-terminated, non-ASCII. */
long op_vm_name(struct fuzz_thread *t)
{
	struct vsnix_vm_name *n = (void *)t->arg;

	memset(n, 0, sizeof(*n));
	if (one_in(t, 4))
		fill_random(t, n->name, sizeof(n->name));
	else
		snprintf(n->name, sizeof(n->name), "fuzz-%u-%u", t->index,
			 (unsigned int)rnd_below(t, 1000));
	if (one_in(t, 16))
		n->reserved[rnd_below(t, 2)] = rnd(t);
	return ioctl(fd_pick(t, FD_VM), VSNIX_SET_VM_NAME, n);
}

long op_vm_info(struct fuzz_thread *t)
{
	void *arg = one_in(t, 16) ? (void *)(uintptr_t)bad_pointer(t) : t->arg;
	struct vsnix_vm_info *info = arg;
	long ret = ioctl(fd_pick(t, FD_VM), VSNIX_GET_VM_INFO, arg);

	if (!ret && info->id > last_vm_id)
		last_vm_id = info->id;
	return ret;
}

long op_list_vms(struct fuzz_thread *t)
{
	struct vsnix_vm_list *l = (void *)t->arg;
	size_t room = (ARG_SIZE - 256) / sizeof(struct vsnix_vm_info);

	memset(l, 0, sizeof(*l));
	l->nr = rnd_below(t, room + 1);
	l->entries = (uintptr_t)(t->arg + 256);
	if (one_in(t, 8)) {
		/* Reads past the buffer end where a pointer is bad: EFAULT. */
		l->nr = interesting_u64(t);
		l->entries = bad_pointer(t);
	}
	if (one_in(t, 16))
		l->flags = rnd(t);
	return ioctl(fd_pick(t, FD_SYS), VSNIX_LIST_VMS, l);
}

long op_stats_by_id(struct fuzz_thread *t)
{
	struct vsnix_stats_fd_req *r = (void *)t->arg;
	long fd;

	memset(r, 0, sizeof(*r));
	r->vm_id = one_in(t, 8) ? interesting_u64(t) :
		    last_vm_id - rnd_below(t, 8);
	r->vcpu = one_in(t, 2) ? VSNIX_STATS_VM :
		  one_in(t, 8) ? interesting_u64(t) : rnd_below(t, 4);
	if (one_in(t, 16))
		r->flags = rnd(t);
	fd = ioctl(fd_pick(t, FD_SYS), VSNIX_STATS_FD_BY_ID, r);
	if (fd >= 0)
		fd_put(fd, FD_STATS);
	return fd;
}
