// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix: reading stats fds (a header, an id, descriptors, then u64
 * values; uapi/linux/vsnix.h) and the VM list of /dev/vsnix.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vsnix/stats.h"

#define MAX_DESC	65536

static int pread_all(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int stats_check_header(const struct vsnix_stats_header *h)
{
	if (h->magic != VSNIX_STATS_MAGIC || h->version != VSNIX_STATS_VERSION)
		return -EPROTO;
	if (h->nr_desc > MAX_DESC || !h->name_size || h->name_size > 4096 ||
	    h->desc_size < sizeof(struct vsnix_stats_desc) + h->name_size ||
	    h->data_size < (uint64_t)h->nr_desc * 8)
		return -EPROTO;
	return 0;
}

static int stats_load_descs(struct vx_stats *s, const uint8_t *buf)
{
	const struct vsnix_stats_header *h = &s->hdr;
	unsigned int i;

	for (i = 0; i < s->nr; i++) {
		const struct vsnix_stats_desc *d =
			(const void *)(buf + (size_t)i * h->desc_size);

		/* This reader knows scalars at u64-aligned offsets. */
		if (d->count != 1 || d->offset % 8 ||
		    d->offset + 8 > h->data_size)
			return -EPROTO;
		s->names[i] = strndup(d->name, h->name_size);
		if (!s->names[i])
			return -ENOMEM;
		s->flags[i] = d->flags;
	}
	return 0;
}

int vx_stats_parse(int fd, struct vx_stats **out)
{
	struct vx_stats *s = calloc(1, sizeof(*s));
	uint8_t *buf = NULL;
	int ret;

	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	s->fd = fd;
	ret = pread_all(fd, &s->hdr, sizeof(s->hdr), 0);
	if (!ret)
		ret = stats_check_header(&s->hdr);
	if (!ret)
		ret = pread_all(fd, s->id, sizeof(s->id) - 1, s->hdr.id_offset);
	if (ret)
		goto err;
	s->nr = s->hdr.nr_desc;
	s->names = calloc(s->nr + 1, sizeof(*s->names));
	s->flags = calloc(s->nr + 1, sizeof(*s->flags));
	s->values = calloc(s->hdr.data_size / 8 + 1, sizeof(*s->values));
	buf = malloc((size_t)s->nr * s->hdr.desc_size + 1);
	if (!s->names || !s->flags || !s->values || !buf) {
		ret = -ENOMEM;
		goto err;
	}
	ret = pread_all(fd, buf, (size_t)s->nr * s->hdr.desc_size,
			s->hdr.desc_offset);
	if (!ret)
		ret = stats_load_descs(s, buf);
	free(buf);
	if (ret)
		goto err;
	*out = s;
	return 0;
err:
	vx_stats_free(s);
	return ret;
}

int vx_stats_read(struct vx_stats *s)
{
	return pread_all(s->fd, s->values, s->hdr.data_size, s->hdr.data_offset);
}

int vx_stats_index(const struct vx_stats *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->nr; i++)
		if (!strcmp(s->names[i], name))
			return i;
	return -1;
}

uint64_t vx_stats_get(const struct vx_stats *s, const char *name)
{
	int i = vx_stats_index(s, name);

	return i < 0 ? 0 : s->values[i];
}

void vx_stats_free(struct vx_stats *s)
{
	unsigned int i;

	if (!s)
		return;
	for (i = 0; s->names && i < s->nr; i++)
		free(s->names[i]);
	free(s->names);
	free(s->flags);
	free(s->values);
	close(s->fd);
	free(s);
}

int vx_list_vms(int sys_fd, struct vsnix_vm_info **vms)
{
	struct vsnix_vm_list req = { 0 };
	struct vsnix_vm_info *v = NULL;
	uint32_t cap = 16;

	for (;;) {
		free(v);
		v = calloc(cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		req.nr = cap;
		req.entries = (uintptr_t)v;
		if (!ioctl(sys_fd, VSNIX_LIST_VMS, &req))
			break;
		if (errno != E2BIG) {
			int e = -errno;

			free(v);
			return e;
		}
		cap = req.nr + 16;	/* more VMs came meanwhile: ask again */
	}
	*vms = v;
	return req.nr;
}

int vx_stats_fd_by_id(int sys_fd, uint32_t vm_id, uint32_t vcpu)
{
	struct vsnix_stats_fd_req req = { .vm_id = vm_id, .vcpu = vcpu };
	int fd = ioctl(sys_fd, VSNIX_STATS_FD_BY_ID, &req);

	return fd < 0 ? -errno : fd;
}

int vx_vm_set_name(int vm_fd, const char *name)
{
	struct vsnix_vm_name n = { 0 };

	if (strlen(name) >= sizeof(n.name))
		return -ENAMETOOLONG;
	strcpy(n.name, name);
	return ioctl(vm_fd, VSNIX_SET_VM_NAME, &n) ? -errno : 0;
}

int vx_vm_get_info(int vm_fd, struct vsnix_vm_info *info)
{
	return ioctl(vm_fd, VSNIX_GET_VM_INFO, info) ? -errno : 0;
}
