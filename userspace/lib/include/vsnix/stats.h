/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libvsnix: statistics fds and the VM list (VSNIX_CAP_STATS,
 * VSNIX_CAP_VM_LIST; Documentation/observability.rst). Functions return
 * 0 (or a count / fd) on success and -errno on failure.
 */
#ifndef VSNIX_STATS_H
#define VSNIX_STATS_H

#include <stdint.h>
#include <linux/vsnix.h>

/* A parsed stats fd: descriptors once, values at each vx_stats_read. */
struct vx_stats {
	int fd;
	struct vsnix_stats_header hdr;
	char id[64];
	unsigned int nr;
	char **names;
	uint32_t *flags;
	uint64_t *values;
};

/* Parse the header and descriptors of fd (taken over: closed at free). */
int vx_stats_parse(int fd, struct vx_stats **out);
/* pread() the values. */
int vx_stats_read(struct vx_stats *s);
/* Index of a name, or -1. */
int vx_stats_index(const struct vx_stats *s, const char *name);
/* Value by name; 0 when absent. */
uint64_t vx_stats_get(const struct vx_stats *s, const char *name);
void vx_stats_free(struct vx_stats *s);

/* VSNIX_LIST_VMS: *vms (malloc'd, free it) and the count. */
int vx_list_vms(int sys_fd, struct vsnix_vm_info **vms);
/* VSNIX_STATS_FD_BY_ID; vcpu VSNIX_STATS_VM for the VM's own fd. */
int vx_stats_fd_by_id(int sys_fd, uint32_t vm_id, uint32_t vcpu);
/* VSNIX_SET_VM_NAME / VSNIX_GET_VM_INFO on a VM fd. */
int vx_vm_set_name(int vm_fd, const char *name);
int vx_vm_get_info(int vm_fd, struct vsnix_vm_info *info);

#endif /* VSNIX_STATS_H */
