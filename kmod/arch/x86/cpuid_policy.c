// SPDX-License-Identifier: GPL-2.0
/*
 * The per-VM CPUID policy: what CPUID answers inside the guest. It starts
 * as the host's, filtered (cpuid.c), and userspace may replace it with
 * VSNIX_SET_CPUID.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "x86.h"

int vsnix_vm_cpuid_init(struct vsnix_vm *vm)
{
	return vsnix_x86_cpuid_default(&vm->cpuid);
}

void vsnix_vm_cpuid_free(struct vsnix_vm *vm)
{
	kvfree(vm->cpuid.entries);
	vm->cpuid.entries = NULL;
	vm->cpuid.nent = 0;
}

void vsnix_cpuid_lookup(struct vsnix_vcpu *vcpu, u32 function, u32 index,
			u32 *eax, u32 *ebx, u32 *ecx, u32 *edx)
{
	struct vsnix_vm *vm = vcpu->vm;
	u32 i;

	*eax = *ebx = *ecx = *edx = 0;
	mutex_lock(&vm->cpuid_lock);
	for (i = 0; i < vm->cpuid.nent; i++) {
		const struct vsnix_cpuid_entry *e = &vm->cpuid.entries[i];

		if (e->function != function)
			continue;
		if ((e->flags & VSNIX_CPUID_FLAG_SIGNIFICANT_INDEX) &&
		    e->index != index)
			continue;
		*eax = e->eax;
		*ebx = e->ebx;
		*ecx = e->ecx;
		*edx = e->edx;
		break;
	}
	mutex_unlock(&vm->cpuid_lock);
}

static int vsnix_cpuid_header(void __user *argp, struct vsnix_cpuid *hdr)
{
	if (copy_from_user(hdr, argp, sizeof(*hdr)))
		return -EFAULT;
	if (hdr->pad)
		return -EINVAL;
	return 0;
}

long vsnix_vm_set_cpuid(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_cpuid_entry *entries;
	struct vsnix_cpuid hdr;
	u32 i;
	int ret;

	ret = vsnix_cpuid_header(argp, &hdr);
	if (ret)
		return ret;
	if (hdr.nent > VSNIX_MAX_CPUID_ENTRIES)
		return -E2BIG;
	entries = kvmalloc_array(hdr.nent ? hdr.nent : 1, sizeof(*entries),
				 GFP_KERNEL_ACCOUNT);
	if (!entries)
		return -ENOMEM;
	if (copy_from_user(entries, argp + sizeof(hdr),
			   hdr.nent * sizeof(*entries))) {
		kvfree(entries);
		return -EFAULT;
	}
	for (i = 0; i < hdr.nent; i++) {
		if (entries[i].pad ||
		    (entries[i].flags & ~VSNIX_CPUID_FLAG_SIGNIFICANT_INDEX)) {
			kvfree(entries);
			return -EINVAL;
		}
	}

	mutex_lock(&vm->cpuid_lock);
	swap(vm->cpuid.entries, entries);
	vm->cpuid.nent = hdr.nent;
	mutex_unlock(&vm->cpuid_lock);
	kvfree(entries);
	return 0;
}

static long vsnix_cpuid_copy_out(void __user *argp, u32 room,
				 const struct vsnix_cpuid_entry *entries,
				 u32 nent)
{
	struct vsnix_cpuid hdr = { .nent = nent };

	if (room < nent) {
		/* Tell the caller how much room it needs. */
		if (copy_to_user(argp, &hdr, sizeof(hdr)))
			return -EFAULT;
		return -E2BIG;
	}
	if (copy_to_user(argp + sizeof(hdr), entries,
			 nent * sizeof(*entries)) ||
	    copy_to_user(argp, &hdr, sizeof(hdr)))
		return -EFAULT;
	return 0;
}

/*
 * A snapshot is taken under cpuid_lock and copied out without it: a fault
 * on the user buffer (userfaultfd, a FUSE mapping) must not hold the lock
 * that every guest CPUID exit takes.
 */
long vsnix_vm_get_cpuid(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_cpuid_entry *copy = NULL;
	struct vsnix_cpuid hdr;
	u32 nent;
	long ret;

	ret = vsnix_cpuid_header(argp, &hdr);
	if (ret)
		return ret;
	mutex_lock(&vm->cpuid_lock);
	nent = vm->cpuid.nent;
	if (hdr.nent >= nent) {
		copy = kvmalloc_array(nent ? nent : 1, sizeof(*copy),
				      GFP_KERNEL_ACCOUNT);
		if (copy)
			memcpy(copy, vm->cpuid.entries, nent * sizeof(*copy));
	}
	mutex_unlock(&vm->cpuid_lock);
	if (hdr.nent >= nent && !copy)
		return -ENOMEM;
	ret = vsnix_cpuid_copy_out(argp, hdr.nent, copy, nent);
	kvfree(copy);
	return ret;
}

long vsnix_get_supported_cpuid(void __user *argp)
{
	struct vsnix_cpuid_entry *entries;
	struct vsnix_cpuid hdr;
	u32 nent = 0;
	long ret;

	ret = vsnix_cpuid_header(argp, &hdr);
	if (ret)
		return ret;
	entries = kvmalloc_array(VSNIX_MAX_CPUID_ENTRIES, sizeof(*entries),
				 GFP_KERNEL);
	if (!entries)
		return -ENOMEM;
	ret = vsnix_x86_cpuid_supported(entries, VSNIX_MAX_CPUID_ENTRIES,
					&nent);
	if (!ret)
		ret = vsnix_cpuid_copy_out(argp, hdr.nent, entries, nent);
	kvfree(entries);
	return ret;
}
