// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory seen from the host: the host page behind a guest page for
 * an NPT/EPT fault, host reads and writes of guest RAM (devices, the
 * emulator), and dirty-page logging.
 *
 * Unpinned memory is reached through the owner's page tables, as the VMM
 * itself reaches it: the callers are vCPU threads of the VMM process, so
 * current->mm is the slot's mm and copy_{to,from}_user work; from any
 * other process get_user_pages_remote() does.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include "vsnix.h"
#include "internal.h"
#include "arch.h"
#include "compat.h"

static unsigned long vsnix_memslot_hva(const struct vsnix_memslot *s, u64 gpa)
{
	return s->uaddr + (gpa - s->gpa);
}

void vsnix_memslot_mark_dirty(struct vsnix_memslot *s, u64 gpa)
{
	if (s->dirty_bitmap)
		set_bit((gpa - s->gpa) >> PAGE_SHIFT, s->dirty_bitmap);
}

/*
 * Is hva mapped by one host PMD (a THP or a hugetlb page) or larger? A
 * lockless walk like GUP-fast: interrupts off keep the page tables from
 * being freed under us (x86 frees them after an IPI or an RCU grace
 * period), and the notifier sequence, checked by the caller under
 * mmu_lock, catches any split or unmap since.
 */
static bool vsnix_host_huge(struct mm_struct *mm, unsigned long hva)
{
	unsigned long flags;
	bool huge = false;
	pgd_t pgd;
	p4d_t p4d;
	pud_t pud;
	pmd_t pmd;

	local_irq_save(flags);
	pgd = READ_ONCE(*pgd_offset(mm, hva));
	if (pgd_none(pgd) || pgd_bad(pgd))
		goto out;
	p4d = READ_ONCE(*p4d_offset(&pgd, hva));
	if (p4d_none(p4d) || p4d_bad(p4d))
		goto out;
	pud = READ_ONCE(*pud_offset(&p4d, hva));
	if (pud_none(pud) || !pud_present(pud))
		goto out;
	if (pud_leaf(pud)) {
		huge = true;
		goto out;
	}
	if (pud_bad(pud))
		goto out;
	pmd = READ_ONCE(*pmd_offset(&pud, hva));
	huge = pmd_present(pmd) && pmd_leaf(pmd);
out:
	local_irq_restore(flags);
	return huge;
}

/* May gpa be mapped by a 2 MiB TDP entry over the host page at hva? */
static bool vsnix_memslot_huge_ok(struct vsnix_memslot *s, u64 gpa,
				  struct page *page)
{
	u64 base = gpa & PMD_MASK;
	unsigned long hva = vsnix_memslot_hva(s, gpa);

	/* Dirty logging tracks 4 KiB pages; pinned slots keep 4 KiB. */
	if (s->dirty_bitmap || s->pages || !vsnix_arch_tdp_huge())
		return false;
	if (base < s->gpa || base + PMD_SIZE > s->gpa + s->size)
		return false;
	if ((hva ^ gpa) & ~PMD_MASK)
		return false;
	/* The huge page's first 4 KiB is 2 MiB aligned in host memory. */
	if (!IS_ALIGNED(page_to_phys(page) - (hva & ~PMD_MASK & PAGE_MASK),
			PMD_SIZE))
		return false;
	return vsnix_host_huge(s->mm, hva);
}

int vsnix_memslot_get_page(struct vsnix_memslot *s, u64 gpa, bool write,
			   struct page **page, bool *writable, bool *huge)
{
	unsigned long hva = vsnix_memslot_hva(s, gpa) & PAGE_MASK;
	bool ro = s->flags & VSNIX_MEM_READONLY;
	long n;

	*huge = false;
	if (s->pages) {
		*page = s->pages[(gpa - s->gpa) >> PAGE_SHIFT];
		get_page(*page);
		*writable = !ro && (write || !s->dirty_bitmap);
		return 0;
	}
	if (current->mm != s->mm) {
		pr_info_ratelimited("guest RAM faulted from %s[%d], not the process that set the slot\n",
				    current->comm, task_pid_nr(current));
		return -EFAULT;
	}
	/*
	 * A read of a page the host already maps writable maps it writable
	 * at once (no second fault for the first write); else a read maps
	 * what the host has (maybe the zero page) read-only, and a write
	 * breaks copy-on-write first. Dirty logging waits for the write.
	 */
	*writable = write;
	if (!write && !ro && !s->dirty_bitmap &&
	    get_user_page_fast_only(hva, FOLL_WRITE, page)) {
		*writable = true;
	} else {
		n = get_user_pages_unlocked(hva, 1, page,
					    write ? FOLL_WRITE : 0);
		if (n != 1)
			return fatal_signal_pending(current) ? -EINTR : -EFAULT;
	}
	*huge = vsnix_memslot_huge_ok(s, gpa, *page);
	return 0;
}

/* ------------------------------------------------------- host access */

/* One chunk within a page of a slot, from a process other than the owner. */
static int vsnix_slot_copy_remote(struct vsnix_memslot *s, unsigned long hva,
				  void *buf, size_t len, bool write)
{
	struct page *page;
	long n = -EFAULT;
	void *va;

	if (!mmget_not_zero(s->mm))
		return -EFAULT;
	mmap_read_lock(s->mm);
	n = vsnix_gup_remote(s->mm, hva, write ? FOLL_WRITE : 0, &page);
	mmap_read_unlock(s->mm);
	mmput(s->mm);
	if (n != 1)
		return -EFAULT;
	va = kmap_local_page(page);
	if (write)
		memcpy(va + offset_in_page(hva), buf, len);
	else
		memcpy(buf, va + offset_in_page(hva), len);
	kunmap_local(va);
	if (write)
		set_page_dirty_lock(page);
	put_page(page);
	return 0;
}

static int vsnix_slot_copy(struct vsnix_memslot *s, u64 gpa, void *buf,
			   size_t len, bool write)
{
	unsigned long hva = vsnix_memslot_hva(s, gpa);
	void *va;

	if (s->pages) {
		va = kmap_local_page(s->pages[(gpa - s->gpa) >> PAGE_SHIFT]);
		if (write)
			memcpy(va + offset_in_page(gpa), buf, len);
		else
			memcpy(buf, va + offset_in_page(gpa), len);
		kunmap_local(va);
		return 0;
	}
	if (current->mm != s->mm)
		return vsnix_slot_copy_remote(s, hva, buf, len, write);
	if (write)
		return copy_to_user((void __user *)hva, buf, len) ? -EFAULT : 0;
	return copy_from_user(buf, (void __user *)hva, len) ? -EFAULT : 0;
}

/* Walks [gpa, gpa + len) page by page; stops at the first hole. */
static int vsnix_guest_access(struct vsnix_vm *vm, u64 gpa, void *buf,
			      size_t len, bool write)
{
	int idx, ret = 0;

	if (gpa + len < gpa)
		return -EFAULT;
	might_fault();
	idx = srcu_read_lock(&vm->srcu);
	while (len) {
		struct vsnix_memslot *s = vsnix_memslot_find(vm, gpa);
		size_t chunk = min_t(size_t, len,
				     PAGE_SIZE - offset_in_page(gpa));

		if (!s || (write && (s->flags & VSNIX_MEM_READONLY))) {
			ret = -EFAULT;
			break;
		}
		ret = vsnix_slot_copy(s, gpa, buf, chunk, write);
		if (ret)
			break;
		if (write)
			vsnix_memslot_mark_dirty(s, gpa);
		gpa += chunk;
		buf += chunk;
		len -= chunk;
	}
	srcu_read_unlock(&vm->srcu, idx);
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

int vsnix_guest_write_atomic(struct vsnix_vm *vm, u64 gpa, const void *buf,
			     size_t len)
{
	struct vsnix_memslot *s;
	int idx, ret = -EFAULT;
	unsigned long hva;
	void *va;

	if (!len || offset_in_page(gpa) + len > PAGE_SIZE)
		return -EINVAL;
	idx = srcu_read_lock(&vm->srcu);
	s = vsnix_memslot_find(vm, gpa);
	if (!s || (s->flags & VSNIX_MEM_READONLY))
		goto out;
	if (s->pages) {
		va = kmap_local_page(s->pages[(gpa - s->gpa) >> PAGE_SHIFT]);
		memcpy(va + offset_in_page(gpa), buf, len);
		kunmap_local(va);
		ret = 0;
	} else if (current->mm == s->mm) {
		hva = vsnix_memslot_hva(s, gpa);
		pagefault_disable();
		if (access_ok((void __user *)hva, len) &&
		    !__copy_to_user_inatomic((void __user *)hva, buf, len))
			ret = 0;
		pagefault_enable();
	}
	if (!ret)
		vsnix_memslot_mark_dirty(s, gpa);
out:
	srcu_read_unlock(&vm->srcu, idx);
	return ret;
}

bool vsnix_guest_slot_range(struct vsnix_vm *vm, u64 gpa, u64 len,
			    u64 *lo, u64 *hi)
{
	struct vsnix_memslot *s;
	bool ok;
	int idx;

	if (gpa + len < gpa)
		return false;
	idx = srcu_read_lock(&vm->srcu);
	s = vsnix_memslot_find(vm, gpa);
	ok = s && gpa + len <= s->gpa + s->size;
	if (ok) {
		*lo = s->gpa;
		*hi = s->gpa + s->size;
	}
	srcu_read_unlock(&vm->srcu, idx);
	return ok;
}

bool vsnix_guest_range_ok(struct vsnix_vm *vm, u64 gpa, u64 len)
{
	bool ok = true;
	int idx;

	if (gpa + len < gpa)
		return false;
	idx = srcu_read_lock(&vm->srcu);
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
	srcu_read_unlock(&vm->srcu, idx);
	return ok;
}

/* ------------------------------------------------------- dirty log */

/*
 * Fetch and clear: under mmu_lock each word is taken and zeroed, and the
 * pages it named are write-protected again before the lock goes, so a
 * write after this call faults and sets its bit anew. Host writes
 * (vsnix_guest_write) set bits without the lock: they land in this copy or
 * the next one.
 */
int vsnix_get_dirty_log(struct vsnix_vm *vm, const struct vsnix_dirty_log *log)
{
	void __user *ubuf = u64_to_user_ptr(log->dirty_bitmap);
	struct vsnix_memslots *ms;
	struct vsnix_memslot *s;
	unsigned long i, nwords, *copy;
	bool flush = false;
	int ret = 0;

	if (log->slot >= VSNIX_MAX_MEMSLOTS)
		return -EINVAL;
	mutex_lock(&vm->slots_lock);
	ms = rcu_dereference_protected(vm->memslots,
				       lockdep_is_held(&vm->slots_lock));
	s = ms ? ms->by_id[log->slot] : NULL;
	if (!s || !s->dirty_bitmap) {
		ret = -ENOENT;
		goto out;
	}
	nwords = BITS_TO_LONGS(s->npages);
	copy = kvcalloc(nwords, sizeof(long), GFP_KERNEL_ACCOUNT);
	if (!copy) {
		ret = -ENOMEM;
		goto out;
	}
	spin_lock(&vm->mmu_lock);
	for (i = 0; i < nwords; i++) {
		unsigned long w = xchg(&s->dirty_bitmap[i], 0);
		unsigned long first = i * BITS_PER_LONG;

		copy[i] = w;
		if (w)
			flush |= vsnix_arch_tdp_wrprotect(vm, s->gpa +
				(first << PAGE_SHIFT),
				min_t(unsigned long, BITS_PER_LONG,
				      s->npages - first));
	}
	if (flush)
		vsnix_vm_flush_tlbs(vm);
	spin_unlock(&vm->mmu_lock);
	/* Whole 64-bit words; on x86-64 a long is one. */
	if (copy_to_user(ubuf, copy, DIV_ROUND_UP(s->npages, 64) * 8))
		ret = -EFAULT;
	kvfree(copy);
out:
	mutex_unlock(&vm->slots_lock);
	return ret;
}
