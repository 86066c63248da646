// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix: vCPUs, their run area and register state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vsnix/libvsnix.h"

static int fail_ioctl(const char *what, uint32_t id)
{
	int e = errno ? errno : EIO;

	return vx_fail(e, "%s on vCPU %u: %s", what, id, strerror(e));
}

int vx_vcpu_create(struct vx_vm *vm, uint32_t id, struct vx_vcpu **out)
{
	struct vx_vcpu *vcpu;
	long size;
	int r;

	if (vm->nr_vcpus == VX_MAX_VCPUS)
		return vx_fail(ENOSPC, "more than %d vCPUs", VX_MAX_VCPUS);
	size = ioctl(vm->sys_fd, VSNIX_GET_VCPU_MMAP_SIZE, 0);
	if (size < (long)sizeof(struct vsnix_run))
		return vx_fail(size < 0 ? errno : EPROTO, "VSNIX_GET_VCPU_MMAP_SIZE gave %ld: %s",
			       size, size < 0 ? strerror(errno) : "too small");
	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu)
		return vx_fail(ENOMEM, "out of memory");
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->fd, VSNIX_CREATE_VCPU, id);
	if (vcpu->fd < 0) {
		r = fail_ioctl("VSNIX_CREATE_VCPU", id);
		free(vcpu);
		return r;
	}
	vcpu->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		r = fail_ioctl("mmap of the run area", id);
		close(vcpu->fd);
		free(vcpu);
		return r;
	}
	vcpu->run_size = size;
	vm->vcpus[vm->nr_vcpus++] = vcpu;
	*out = vcpu;
	return 0;
}

int vx_vcpu_run(struct vx_vcpu *vcpu)
{
	if (ioctl(vcpu->fd, VSNIX_RUN, 0) < 0)
		return fail_ioctl("VSNIX_RUN", vcpu->id);
	return 0;
}

#define VCPU_IOCTL(name, nr, type)					\
int vx_vcpu_##name(struct vx_vcpu *vcpu, type arg)			\
{									\
	if (ioctl(vcpu->fd, nr, arg) < 0)				\
		return fail_ioctl(#nr, vcpu->id);			\
	return 0;							\
}

VCPU_IOCTL(get_regs, VSNIX_GET_REGS, struct vsnix_regs *)
VCPU_IOCTL(set_regs, VSNIX_SET_REGS, const struct vsnix_regs *)
VCPU_IOCTL(get_sregs, VSNIX_GET_SREGS, struct vsnix_sregs *)
VCPU_IOCTL(set_sregs, VSNIX_SET_SREGS, const struct vsnix_sregs *)

int vx_vcpu_set_state(struct vx_vcpu *vcpu, const struct vsnix_regs *regs,
		      const struct vsnix_sregs *in)
{
	struct vsnix_sregs cur, s = *in;
	const struct vsnix_sregs *sregs = &s;
	int r;

	/*
	 * The loaders leave apic_base 0, which would turn an in-kernel LAPIC
	 * off: keep the vCPU's own (enabled at 0xfee00000 after reset).
	 */
	if (!s.apic_base && !vx_vcpu_get_sregs(vcpu, &cur))
		s.apic_base = cur.apic_base;
	r = vx_vcpu_set_sregs(vcpu, sregs);

	return r ? r : vx_vcpu_set_regs(vcpu, regs);
}

struct one_msr {
	struct vsnix_msrs hdr;
	struct vsnix_msr_entry entry;
};

int vx_vcpu_get_msr(struct vx_vcpu *vcpu, uint32_t index, uint64_t *data)
{
	struct one_msr msrs = { .hdr.nmsrs = 1, .entry.index = index };
	int r = ioctl(vcpu->fd, VSNIX_GET_MSRS, &msrs);

	*data = msrs.entry.data;
	return r < 0 ? fail_ioctl("VSNIX_GET_MSRS", vcpu->id) : r;
}

int vx_vcpu_set_msr(struct vx_vcpu *vcpu, uint32_t index, uint64_t data)
{
	struct one_msr msrs = {
		.hdr.nmsrs = 1,
		.entry = { .index = index, .data = data },
	};
	int r = ioctl(vcpu->fd, VSNIX_SET_MSRS, &msrs);

	return r < 0 ? fail_ioctl("VSNIX_SET_MSRS", vcpu->id) : r;
}

void *vx_vcpu_io_data(struct vx_vcpu *vcpu)
{
	struct vsnix_run *run = vcpu->run;
	uint64_t bytes = (uint64_t)run->io.size * run->io.count;

	if (run->io.data_offset < sizeof(*run) || run->io.data_offset > vcpu->run_size ||
	    bytes > vcpu->run_size - run->io.data_offset) {
		vx_fail(EPROTO, "VSNIX_EXIT_IO data outside the run area");
		return NULL;
	}
	return (uint8_t *)run + run->io.data_offset;
}
