// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix: error messages, /dev/vsnix, guest memory and the VM object.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vsnix/libvsnix.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB	0x0004U
#endif

static __thread char errbuf[512];

const char *vx_errmsg(void)
{
	return errbuf;
}

int vx_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return -err;
}

/* "what: strerror(errno)" and -errno, for a failed system call. */
#define vx_fail_errno(fmt, ...)						\
	({								\
		int __e = errno ? errno : EIO;				\
		vx_fail(__e, fmt ": %s", ##__VA_ARGS__, strerror(__e));	\
	})

/* -------------------------------------------------------- /dev/vsnix */

int vx_open(void)
{
	int fd, version;

	fd = open(VX_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		return vx_fail(e, "cannot open %s: %s%s", VX_DEV_PATH, strerror(e),
			       e == ENOENT ? " (is vsnix.ko loaded? `insmod kmod/vsnix.ko`)" : "");
	}
	version = ioctl(fd, VSNIX_GET_API_VERSION, 0);
	if (version != VSNIX_API_VERSION) {
		close(fd);
		return vx_fail(EPROTO, "%s speaks API version %d, expected %d",
			       VX_DEV_PATH, version, VSNIX_API_VERSION);
	}
	return fd;
}

long vx_check_cap(int sys_fd, unsigned int cap)
{
	long r = ioctl(sys_fd, VSNIX_CHECK_EXTENSION, cap);

	return r < 0 ? vx_fail_errno("VSNIX_CHECK_EXTENSION %u", cap) : r;
}

/* ------------------------------------------------------ guest memory */

static int mem_memfd(struct vx_mem *mem, unsigned int flags)
{
	mem->fd = memfd_create("vsnix-guest", MFD_CLOEXEC | flags);
	if (mem->fd < 0)
		return vx_fail_errno("memfd_create%s", flags ? " (hugetlb)" : "");
	if (ftruncate(mem->fd, mem->size) < 0)
		return vx_fail_errno("ftruncate of the guest memfd to %llu bytes",
				     (unsigned long long)mem->size);
	mem->hva = mmap(NULL, mem->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			mem->fd, 0);
	return 0;
}

int vx_mem_alloc(struct vx_mem *mem, enum vx_mem_kind kind, uint64_t size)
{
	uint64_t align = kind == VX_MEM_HUGETLB ? VX_HUGE_PAGE_SIZE : VX_PAGE_SIZE;
	int r = 0;

	memset(mem, 0, sizeof(*mem));
	mem->fd = -1;
	mem->kind = kind;
	mem->size = (size + align - 1) & ~(align - 1);
	if (!mem->size || mem->size < size)
		return vx_fail(EINVAL, "guest memory of %llu bytes",
			       (unsigned long long)size);
	if (kind == VX_MEM_ANON)
		mem->hva = mmap(NULL, mem->size, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	else if (kind == VX_MEM_MEMFD || kind == VX_MEM_HUGETLB)
		r = mem_memfd(mem, kind == VX_MEM_HUGETLB ? MFD_HUGETLB : 0);
	else
		return vx_fail(EINVAL, "unknown guest memory kind %d", kind);
	if (!r && mem->hva == MAP_FAILED)
		r = vx_fail_errno("cannot allocate %llu bytes of guest memory",
				  (unsigned long long)mem->size);
	if (r) {
		if (mem->hva == MAP_FAILED)
			mem->hva = NULL;
		vx_mem_free(mem);
	}
	return r;
}

void vx_mem_free(struct vx_mem *mem)
{
	if (mem->hva)
		munmap(mem->hva, mem->size);
	if (mem->fd >= 0)
		close(mem->fd);
	mem->hva = NULL;
	mem->fd = -1;
}

/* ---------------------------------------------------------------- VM */

int vx_vm_create(int sys_fd, struct vx_vm **out)
{
	struct vx_vm *vm = calloc(1, sizeof(*vm));
	int e;

	if (!vm)
		return vx_fail(ENOMEM, "out of memory");
	vm->sys_fd = sys_fd;
	vm->mem_fd = -1;
	vm->done_fd = -1;	/* made by the first vCPU thread */
	vm->fd = ioctl(sys_fd, VSNIX_CREATE_VM, 0);
	if (vm->fd < 0) {
		e = errno;
		free(vm);
		return vx_fail(e, "VSNIX_CREATE_VM: %s%s", strerror(e), e == EBUSY ?
			       " (another hypervisor holds VMX/SVM: unload kvm_intel/kvm_amd, or load kvm with enable_virt_at_load=0; see dmesg)" :
			       "");
	}
	*out = vm;
	return 0;
}

static void vcpu_free(struct vx_vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	free(vcpu);
}

void vx_vm_destroy(struct vx_vm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	vx_vm_threads_stop(vm);
	vx_vm_threads_join(vm);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_free(vm->vcpus[i]);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	if (vm->mem_fd >= 0)
		close(vm->mem_fd);
	if (vm->done_fd >= 0)
		close(vm->done_fd);
	free(vm);
}

int vx_vm_set_region(struct vx_vm *vm, uint32_t slot, uint32_t flags,
		     uint64_t gpa, uint64_t size, void *hva)
{
	struct vsnix_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	if (ioctl(vm->fd, VSNIX_SET_MEMORY_REGION, &r) < 0)
		return vx_fail_errno("VSNIX_SET_MEMORY_REGION slot %u [%#llx, +%#llx) flags %#x",
				     slot, (unsigned long long)gpa,
				     (unsigned long long)size, flags);
	return 0;
}

int vx_vm_alloc_ram(struct vx_vm *vm, enum vx_mem_kind kind, uint64_t size)
{
	struct vx_mem mem;
	int r;

	if (vm->mem)
		return vx_fail(EEXIST, "the VM has guest RAM already");
	r = vx_mem_alloc(&mem, kind, size);
	if (r)
		return r;
	vm->mem = mem.hva;
	vm->mem_size = mem.size;
	vm->mem_fd = mem.fd;
	return 0;
}

/* The VSNIX_MAX_MEMSLOTS of vsnix.ko (VSNIX_CAP_NR_MEMSLOTS tells). */
static long vm_nr_slots(struct vx_vm *vm)
{
	long n = ioctl(vm->sys_fd, VSNIX_CHECK_EXTENSION, VSNIX_CAP_NR_MEMSLOTS);

	return n > 0 ? n : 1;
}

/*
 * One slot per run of pages with the same flags, so that the TDP tables,
 * not the guest's own page tables, enforce what the VMM allows.
 */
int vx_vm_map_ram(struct vx_vm *vm, const uint8_t *page_flags)
{
	uint64_t npages = vm->mem_size / VX_PAGE_SIZE, start = 0, i;
	long slot = 0, max = vm_nr_slots(vm);
	int r;

	if (!vm->mem)
		return vx_fail(EINVAL, "the VM has no guest RAM to map");
	if (!page_flags)
		return vx_vm_set_region(vm, 0, 0, 0, vm->mem_size, vm->mem);
	for (i = 1; i <= npages; i++) {
		if (i < npages && page_flags[i] == page_flags[start])
			continue;
		if (slot == max)
			return vx_fail(ENOSPC, "guest memory needs more than the %ld slots of vsnix.ko (too many segments with distinct permissions)",
				       max);
		r = vx_vm_set_region(vm, slot++, page_flags[start],
				     start * VX_PAGE_SIZE, (i - start) * VX_PAGE_SIZE,
				     vm->mem + start * VX_PAGE_SIZE);
		if (r)
			return r;
		start = i;
	}
	return 0;
}

int vx_vm_add_ram(struct vx_vm *vm, enum vx_mem_kind kind, uint64_t size)
{
	int r = vx_vm_alloc_ram(vm, kind, size);

	return r ? r : vx_vm_map_ram(vm, NULL);
}

void *vx_gpa(struct vx_vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa > vm->mem_size || len > vm->mem_size - gpa)
		return NULL;
	return vm->mem + gpa;
}

uint64_t vx_vm_alloc(struct vx_vm *vm, uint64_t size, uint64_t align)
{
	uint64_t gpa;

	if (!align || (align & (align - 1)) || !vm->alloc_next)
		return 0;
	gpa = (vm->alloc_next + align - 1) & ~(align - 1);
	if (gpa < vm->alloc_next || !vx_gpa(vm, gpa, size))
		return 0;
	vm->alloc_next = gpa + size;
	memset(vm->mem + gpa, 0, size);
	return gpa;
}

/* Give the guest everything the host supports (as Solo5's tender does). */
int vx_vm_set_cpuid_host(struct vx_vm *vm)
{
	return vx_vm_set_cpuid_host_masked(vm, 0);
}

int vx_vm_set_cpuid_host_masked(struct vx_vm *vm, uint32_t l1_ecx_clear)
{
	size_t len = sizeof(struct vsnix_cpuid) +
		     VSNIX_MAX_CPUID_ENTRIES * sizeof(struct vsnix_cpuid_entry);
	struct vsnix_cpuid *cpuid = calloc(1, len);
	int r = 0;

	if (!cpuid)
		return vx_fail(ENOMEM, "out of memory");
	cpuid->nent = VSNIX_MAX_CPUID_ENTRIES;
	if (ioctl(vm->sys_fd, VSNIX_GET_SUPPORTED_CPUID, cpuid) < 0) {
		r = vx_fail_errno("VSNIX_GET_SUPPORTED_CPUID");
		goto out;
	}
	for (uint32_t i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 1)
			cpuid->entries[i].ecx &= ~l1_ecx_clear;
	if (ioctl(vm->fd, VSNIX_SET_CPUID, cpuid) < 0)
		r = vx_fail_errno("VSNIX_SET_CPUID");
out:
	free(cpuid);
	return r;
}

int vx_vm_create_device(struct vx_vm *vm, struct vsnix_device_config *cfg)
{
	if (ioctl(vm->fd, VSNIX_CREATE_DEVICE, cfg) < 0)
		return vx_fail_errno("VSNIX_CREATE_DEVICE (type %u)", cfg->type);
	return 0;
}

int vx_vm_get_status(struct vx_vm *vm, struct vsnix_vm_status *st)
{
	memset(st, 0, sizeof(*st));
	if (ioctl(vm->fd, VSNIX_GET_VM_STATUS, st) < 0)
		return vx_fail_errno("VSNIX_GET_VM_STATUS");
	return 0;
}
