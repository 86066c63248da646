// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory: slots backed by the VMM's anonymous, shmem or hugetlb
 * memory, pinned for the slot's life (FOLL_LONGTERM) and charged to the
 * owner's RLIMIT_MEMLOCK like VFIO does. Pinning is what makes munmap() or process exit safe: the pages the
 * TDP tables point at cannot be freed while the guest can still reach them.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/highmem.h>
#include <linux/hugetlb_inline.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include "vsnix.h"
#include "internal.h"

struct vsnix_memslot *vsnix_memslot_find(struct vsnix_vm *vm, u64 gpa)
{
	int i;

	for (i = 0; i < VSNIX_MAX_MEMSLOTS; i++) {
		struct vsnix_memslot *s = vm->slots[i];

		if (s && gpa >= s->gpa && gpa - s->gpa < s->size)
			return s;
	}
	return NULL;
}

static void vsnix_memslot_release(struct vsnix_memslot *s)
{
	unpin_user_pages_dirty_lock(s->pages, s->npages,
				    !(s->flags & VSNIX_MEM_READONLY));
	account_locked_vm(s->mm, s->npages, false);
	mmdrop(s->mm);
	kvfree(s->pages);
	kfree(s);
}

/*
 * Guest memory may be anonymous, shmem (memfd, tmpfs files,
 * MAP_SHARED|MAP_ANONYMOUS, SysV shm) or hugetlb memory, as io_uring's
 * fixed buffers: a long-term pin of other file pages (ext4, ramfs, a
 * MAP_PRIVATE file mapping) would be written behind the filesystem's back,
 * without dirty tracking or writeback, for the VM's whole life.
 */
static bool vsnix_vma_ok(struct vm_area_struct *vma)
{
	struct file *file = vma->vm_file;

	return vma_is_anonymous(vma) || is_vm_hugetlb_page(vma) ||
	       (file && file_inode(file)->i_sb->s_magic == TMPFS_MAGIC);
}

/* -EFAULT for a hole in [uaddr, uaddr + size), -EOPNOTSUPP (+ message). */
static int vsnix_memslot_check_vmas(u64 uaddr, u64 size)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	u64 addr = uaddr;
	int ret = 0;

	mmap_read_lock(mm);
	while (addr < uaddr + size) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start > addr) {
			ret = -EFAULT;
			break;
		}
		if (!vsnix_vma_ok(vma)) {
			pr_info_ratelimited("guest memory at 0x%llx is neither anonymous, shmem nor hugetlb memory\n",
					    addr);
			ret = -EOPNOTSUPP;
			break;
		}
		addr = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return ret;
}

/*
 * The VMAs can change between the check and the pin: the pinned pages
 * themselves must be anonymous, shmem (swap-backed) or hugetlb. Only for
 * writable slots: a read-only pin may give the shared zero page.
 */
static int vsnix_memslot_check_pages(struct page **pages, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		struct folio *folio = page_folio(pages[i]);

		if (!folio_test_anon(folio) && !folio_test_swapbacked(folio) &&
		    !folio_test_hugetlb(folio)) {
			pr_info_ratelimited("guest memory changed to a file mapping while it was pinned\n");
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

static struct vsnix_memslot *
vsnix_memslot_pin(const struct vsnix_memory_region *r)
{
	unsigned int gup = FOLL_LONGTERM;
	struct vsnix_memslot *s;
	unsigned long done = 0;
	int ret;

	ret = vsnix_memslot_check_vmas(r->userspace_addr, r->memory_size);
	if (ret)
		return ERR_PTR(ret);
	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->id = r->slot;
	s->flags = r->flags;
	s->gpa = r->guest_phys_addr;
	s->size = r->memory_size;
	s->uaddr = r->userspace_addr;
	s->npages = r->memory_size >> PAGE_SHIFT;
	s->pages = kvmalloc_array(s->npages, sizeof(*s->pages),
				  GFP_KERNEL_ACCOUNT);
	if (!s->pages) {
		ret = -ENOMEM;
		goto err_free;
	}
	s->mm = current->mm;
	mmgrab(s->mm);
	ret = account_locked_vm(s->mm, s->npages, true);
	if (ret) {
		pr_info_ratelimited("guest memory of %llu MiB exceeds RLIMIT_MEMLOCK of %s[%d]\n",
				    r->memory_size >> 20, current->comm,
				    task_pid_nr(current));
		goto err_mm;
	}

	if (!(r->flags & VSNIX_MEM_READONLY))
		gup |= FOLL_WRITE;
	while (done < s->npages) {
		ret = pin_user_pages_fast(s->uaddr + (done << PAGE_SHIFT),
					  min_t(unsigned long,
						s->npages - done, INT_MAX >> 1),
					  gup, s->pages + done);
		if (ret <= 0) {
			ret = ret ? ret : -EFAULT;
			goto err_unpin;
		}
		done += ret;
		cond_resched();
	}
	if (gup & FOLL_WRITE) {
		ret = vsnix_memslot_check_pages(s->pages, done);
		if (ret)
			goto err_unpin;
	}
	return s;

err_unpin:
	unpin_user_pages(s->pages, done);
	account_locked_vm(s->mm, s->npages, false);
err_mm:
	mmdrop(s->mm);
	kvfree(s->pages);
err_free:
	kfree(s);
	return ERR_PTR(ret);
}

/*
 * Keeps vCPUs out of the guest while slots and TDP tables change: new
 * entries are refused (vsnix_vcpu_enter_prepare), running ones are kicked
 * out, and the write lock waits for them.
 */
static void vsnix_mem_update_begin(struct vsnix_vm *vm)
{
	atomic_inc(&vm->mem_update);
	vsnix_vm_kick_all(vm);
	down_write(&vm->mem_lock);
}

static void vsnix_mem_update_end(struct vsnix_vm *vm)
{
	int i;

	for (i = 0; i < VSNIX_MAX_VCPUS; i++)
		if (vm->vcpus[i])
			vsnix_vcpu_request(vm->vcpus[i], VSNIX_REQ_TLB_FLUSH);
	up_write(&vm->mem_lock);
	atomic_dec(&vm->mem_update);
}

int vsnix_set_memory_region(struct vsnix_vm *vm,
			    const struct vsnix_memory_region *r)
{
	struct vsnix_memslot *old = NULL, *new = NULL;
	u64 max_bytes = (u64)VSNIX_MAX_MEM_MB << 20;
	int ret;

	mutex_lock(&vm->lock);
	ret = vsnix_memregion_check(r, vm->slots, VSNIX_MAX_MEMSLOTS,
				    max_bytes - vm->mem_bytes);
	if (ret)
		goto out;
	if ((r->flags & VSNIX_MEM_NOEXEC) && !vsnix_ops->tdp_noexec()) {
		pr_info_ratelimited("VSNIX_MEM_NOEXEC: this CPU's TDP tables cannot refuse execution\n");
		ret = -EINVAL;
		goto out;
	}

	if (r->memory_size) {
		new = vsnix_memslot_pin(r);
		if (IS_ERR(new)) {
			ret = PTR_ERR(new);
			goto out;
		}
	} else {
		old = vm->slots[r->slot];
		if (!old)
			goto out;	/* deleting an empty slot is a no-op */
	}

	vsnix_mem_update_begin(vm);
	if (old) {
		vsnix_ops->tdp_unmap(vm, old->gpa, old->npages);
		vm->slots[r->slot] = NULL;
		vm->mem_bytes -= old->size;
	} else {
		ret = vsnix_ops->tdp_map(vm, new->gpa, new->pages, new->npages,
					 new->flags);
		if (ret) {
			vsnix_ops->tdp_unmap(vm, new->gpa, new->npages);
			old = new;	/* released below */
		} else {
			vm->slots[r->slot] = new;
			vm->mem_bytes += new->size;
		}
	}
	vsnix_mem_update_end(vm);
	if (old)
		vsnix_memslot_release(old);
out:
	mutex_unlock(&vm->lock);
	return ret;
}

/* VM teardown: no vCPU can run any more. */
void vsnix_memslots_free(struct vsnix_vm *vm)
{
	int i;

	for (i = 0; i < VSNIX_MAX_MEMSLOTS; i++) {
		struct vsnix_memslot *s = vm->slots[i];

		if (!s)
			continue;
		vsnix_ops->tdp_unmap(vm, s->gpa, s->npages);
		vm->slots[i] = NULL;
		vsnix_memslot_release(s);
	}
}

/* Walks [gpa, gpa + len) page by page; stops at the first hole. */
static int vsnix_guest_access(struct vsnix_vm *vm, u64 gpa, void *buf,
			      size_t len, bool write)
{
	int ret = 0;

	if (gpa + len < gpa)
		return -EFAULT;

	down_read(&vm->mem_lock);
	while (len) {
		struct vsnix_memslot *s = vsnix_memslot_find(vm, gpa);
		u64 off = gpa & ~PAGE_MASK;
		size_t chunk = min_t(size_t, len, PAGE_SIZE - off);
		void *va;

		if (!s || (write && (s->flags & VSNIX_MEM_READONLY))) {
			ret = -EFAULT;
			break;
		}
		va = kmap_local_page(s->pages[(gpa - s->gpa) >> PAGE_SHIFT]);
		if (write)
			memcpy(va + off, buf, chunk);
		else
			memcpy(buf, va + off, chunk);
		kunmap_local(va);
		gpa += chunk;
		buf += chunk;
		len -= chunk;
	}
	up_read(&vm->mem_lock);
	return ret;
}

int vsnix_guest_read(struct vsnix_vm *vm, u64 gpa, void *buf, size_t len)
{
	return vsnix_guest_access(vm, gpa, buf, len, false);
}

int vsnix_guest_write(struct vsnix_vm *vm, u64 gpa, const void *buf,
		      size_t len)
{
	return vsnix_guest_access(vm, gpa, (void *)buf, len, true);
}

bool vsnix_guest_range_ok(struct vsnix_vm *vm, u64 gpa, u64 len)
{
	bool ok = true;

	if (gpa + len < gpa)
		return false;
	down_read(&vm->mem_lock);
	while (len) {
		struct vsnix_memslot *s = vsnix_memslot_find(vm, gpa);
		u64 left;

		if (!s) {
			ok = false;
			break;
		}
		left = s->gpa + s->size - gpa;
		if (left >= len)
			break;
		gpa += left;
		len -= left;
	}
	up_read(&vm->mem_lock);
	return ok;
}
