// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory slots. The slot set is an immutable array sorted by GPA,
 * published with rcu_assign_pointer and read under vm->srcu: a vCPU looks
 * slots up without a lock. Writers (SET_MEMORY_REGION) hold slots_lock,
 * publish a new copy and wait for readers with synchronize_srcu.
 *
 * Guest RAM is not pinned: NPT/EPT entries are made when the guest first
 * touches a page (kmod/arch/x86/mmu.c) and an MMU interval notifier on each
 * slot removes them, and flushes the vCPUs' TLBs, before the host changes
 * or frees the page (munmap, swap-out, migration, KSM, THP split). The
 * guest can thus never reach a page the host has reused. VSNIX_MEM_PIN
 * keeps the old behaviour: every page pinned (FOLL_LONGTERM) and charged to
 * RLIMIT_MEMLOCK as VFIO does, mapped up front.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/mm.h>
#include <linux/hugetlb_inline.h>
#include <linux/magic.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include "vsnix.h"
#include "internal.h"
#include "arch.h"
#include "trace.h"

static struct vsnix_memslots *vsnix_memslots(struct vsnix_vm *vm)
{
	return srcu_dereference_check(vm->memslots, &vm->srcu,
				      lockdep_is_held(&vm->slots_lock));
}

struct vsnix_memslot *vsnix_memslot_find(struct vsnix_vm *vm, u64 gpa)
{
	struct vsnix_memslots *ms = vsnix_memslots(vm);
	int lo = 0, hi;

	if (!ms)
		return NULL;
	/* The last slot that starts at or below gpa. */
	hi = (int)ms->nr - 1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (ms->by_gpa[mid]->gpa <= gpa)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	if (hi < 0)
		return NULL;
	if (gpa - ms->by_gpa[hi]->gpa < ms->by_gpa[hi]->size)
		return ms->by_gpa[hi];
	return NULL;
}

/* ------------------------------------------------------- TLB shootdown */

static void vsnix_flush_ipi(void *unused)
{
	/* Taking the IPI was the point: the vCPU left guest mode. */
}

void vsnix_vm_flush_tlbs(struct vsnix_vm *vm)
{
	struct cpumask *mask = vm->flush_mask;
	int i, me = smp_processor_id();

	lockdep_assert_held(&vm->mmu_lock);
	cpumask_clear(mask);
	for (i = 0; i < VSNIX_MAX_VCPUS; i++) {
		struct vsnix_vcpu *vcpu = READ_ONCE(vm->vcpus[i]);
		int cpu;

		if (!vcpu)
			continue;
		set_bit(VSNIX_REQ_TLB_FLUSH, &vcpu->requests);
		/*
		 * Request before mode; vsnix_vcpu_enter_prepare() publishes
		 * the mode before it reads requests and refuses the entry
		 * while this one is set, so a vCPU we see outside the guest
		 * flushes before it enters.
		 */
		smp_mb__after_atomic();
		/* Acquire: vcpu->cpu was set before the mode was published. */
		if (smp_load_acquire(&vcpu->mode) != VSNIX_IN_GUEST)
			continue;
		cpu = READ_ONCE(vcpu->cpu);
		if (cpu >= 0 && cpu != me)
			__cpumask_set_cpu(cpu, mask);
	}
	/*
	 * An interrupt makes a CPU in guest mode exit (INTR intercept,
	 * external-interrupt exiting), and the IPI runs only once it is back
	 * in the host with interrupts on: waiting for it means no vCPU still
	 * runs on the old entries.
	 */
	smp_call_function_many(mask, vsnix_flush_ipi, NULL, true);
}

/* ------------------------------------------------------- MMU notifier */

static bool vsnix_memslot_invalidate(struct mmu_interval_notifier *mni,
				     const struct mmu_notifier_range *range,
				     unsigned long cur_seq)
{
	struct vsnix_memslot *s = container_of(mni, struct vsnix_memslot, mni);
	struct vsnix_vm *vm = s->vm;
	u64 start = max_t(u64, range->start, s->uaddr) & PAGE_MASK;
	u64 end = PAGE_ALIGN(min_t(u64, range->end, s->uaddr + s->size));

	/*
	 * A spinlock, so this also works where the notifier may not block
	 * (the OOM reaper). Faults check the sequence under the same lock.
	 */
	spin_lock(&vm->mmu_lock);
	mmu_interval_set_seq(mni, cur_seq);
	if (start < end &&
	    vsnix_arch_tdp_unmap(vm, s->gpa + (start - s->uaddr),
				 (end - start) >> PAGE_SHIFT))
		vsnix_vm_flush_tlbs(vm);
	spin_unlock(&vm->mmu_lock);
	return true;
}

static const struct mmu_interval_notifier_ops vsnix_memslot_mn_ops = {
	.invalidate = vsnix_memslot_invalidate,
};

unsigned long vsnix_memslot_seq_begin(struct vsnix_memslot *s)
{
	if (s->pages)
		return 0;
	return mmu_interval_read_begin(&s->mni);
}

bool vsnix_memslot_retry(struct vsnix_memslot *s, unsigned long seq)
{
	lockdep_assert_held(&s->vm->mmu_lock);
	if (s->pages)
		return false;
	return mmu_interval_read_retry(&s->mni, seq);
}

/* ------------------------------------------------------- slot life */

/*
 * Guest memory may be anonymous, shmem (memfd, tmpfs files,
 * MAP_SHARED|MAP_ANONYMOUS, SysV shm) or hugetlb memory, as io_uring's
 * fixed buffers: other file pages (ext4, ramfs, a MAP_PRIVATE file
 * mapping) would be written behind the filesystem's back.
 */
static bool vsnix_vma_ok(struct vm_area_struct *vma)
{
	struct file *file = vma->vm_file;

	return vma_is_anonymous(vma) || is_vm_hugetlb_page(vma) ||
	       (file && file_inode(file)->i_sb->s_magic == TMPFS_MAGIC);
}

/*
 * -EFAULT for a hole in [uaddr, uaddr + size) or, for a writable slot, a
 * read-only VMA (the guest's writes would only fault); -EOPNOTSUPP (+ a
 * message) for memory of the wrong kind.
 */
static int vsnix_memslot_check_vmas(u64 uaddr, u64 size, bool write)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	u64 addr = uaddr;
	int ret = 0;

	mmap_read_lock(mm);
	while (addr < uaddr + size) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start > addr ||
		    (write && !(vma->vm_flags & VM_WRITE))) {
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

/* VSNIX_MEM_PIN: every page pinned now, charged to RLIMIT_MEMLOCK. */
static int vsnix_memslot_pin(struct vsnix_memslot *s)
{
	unsigned int gup = FOLL_LONGTERM;
	unsigned long done = 0;
	int ret;

	s->pages = kvmalloc_array(s->npages, sizeof(*s->pages),
				  GFP_KERNEL_ACCOUNT);
	if (!s->pages)
		return -ENOMEM;
	ret = account_locked_vm(s->mm, s->npages, true);
	if (ret) {
		pr_info_ratelimited("guest memory of %llu MiB exceeds RLIMIT_MEMLOCK of %s[%d]\n",
				    s->size >> 20, current->comm,
				    task_pid_nr(current));
		goto err_free;
	}
	if (!(s->flags & VSNIX_MEM_READONLY))
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
	return 0;

err_unpin:
	unpin_user_pages(s->pages, done);
	account_locked_vm(s->mm, s->npages, false);
err_free:
	kvfree(s->pages);
	s->pages = NULL;
	return ret;
}

static void vsnix_memslot_free(struct vsnix_memslot *s)
{
	if (s->pages) {
		unpin_user_pages_dirty_lock(s->pages, s->npages,
					    !(s->flags & VSNIX_MEM_READONLY));
		account_locked_vm(s->mm, s->npages, false);
		kvfree(s->pages);
	} else {
		mmu_interval_notifier_remove(&s->mni);
	}
	kvfree(s->dirty_bitmap);
	mmdrop(s->mm);
	kfree(s);
}

static struct vsnix_memslot *
vsnix_memslot_create(struct vsnix_vm *vm, const struct vsnix_memory_region *r)
{
	struct vsnix_memslot *s;
	int ret;

	ret = vsnix_memslot_check_vmas(r->userspace_addr, r->memory_size,
				       !(r->flags & VSNIX_MEM_READONLY));
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
	s->vm = vm;
	s->mm = current->mm;
	mmgrab(s->mm);
	if (s->flags & VSNIX_MEM_LOG_DIRTY) {
		s->dirty_bitmap = kvcalloc(BITS_TO_LONGS(s->npages),
					   sizeof(long), GFP_KERNEL_ACCOUNT);
		if (!s->dirty_bitmap) {
			ret = -ENOMEM;
			goto err;
		}
	}
	if (s->flags & VSNIX_MEM_PIN)
		ret = vsnix_memslot_pin(s);
	else
		ret = mmu_interval_notifier_insert(&s->mni, s->mm, s->uaddr,
						   s->size,
						   &vsnix_memslot_mn_ops);
	if (ret)
		goto err;
	return s;

err:
	kvfree(s->dirty_bitmap);
	mmdrop(s->mm);
	kfree(s);
	return ERR_PTR(ret);
}

/* A copy of the slot set with slot s added (or, when !add, taken out). */
static struct vsnix_memslots *
vsnix_memslots_copy(const struct vsnix_memslots *old, struct vsnix_memslot *s,
		    bool add)
{
	struct vsnix_memslots *ms = kzalloc(sizeof(*ms), GFP_KERNEL_ACCOUNT);
	unsigned int i;

	if (!ms)
		return NULL;
	for (i = 0; old && i < old->nr; i++) {
		struct vsnix_memslot *o = old->by_gpa[i];

		if (add && s->gpa < o->gpa && !ms->by_id[s->id]) {
			ms->by_gpa[ms->nr++] = s;
			ms->by_id[s->id] = s;
		}
		if (o == s)
			continue;
		ms->by_gpa[ms->nr++] = o;
		ms->by_id[o->id] = o;
	}
	if (add && !ms->by_id[s->id]) {
		ms->by_gpa[ms->nr++] = s;
		ms->by_id[s->id] = s;
	}
	return ms;
}

/* Publish ms and wait until no reader can see the old set. */
static void vsnix_memslots_publish(struct vsnix_vm *vm,
				   struct vsnix_memslots *ms)
{
	struct vsnix_memslots *old = vsnix_memslots(vm);

	lockdep_assert_held(&vm->slots_lock);
	rcu_assign_pointer(vm->memslots, ms);
	synchronize_srcu(&vm->srcu);
	kfree(old);
}

/* No reader can find s any more: take its pages out of the guest. */
static void vsnix_memslot_unmap(struct vsnix_vm *vm, struct vsnix_memslot *s)
{
	spin_lock(&vm->mmu_lock);
	if (vsnix_arch_tdp_unmap(vm, s->gpa, s->npages))
		vsnix_vm_flush_tlbs(vm);
	spin_unlock(&vm->mmu_lock);
}

static int vsnix_memslot_delete(struct vsnix_vm *vm, u32 id)
{
	struct vsnix_memslots *old = vsnix_memslots(vm), *ms;
	struct vsnix_memslot *s = old ? old->by_id[id] : NULL;

	lockdep_assert_held(&vm->slots_lock);
	if (!s)
		return 0;	/* deleting an empty slot is a no-op */
	ms = vsnix_memslots_copy(old, s, false);
	if (!ms)
		return -ENOMEM;
	vsnix_memslots_publish(vm, ms);
	/* Unmapped before the notifier goes, so no host change is missed. */
	vsnix_memslot_unmap(vm, s);
	vm->mem_bytes -= s->size;
	vsnix_memslot_free(s);
	return 0;
}

static int vsnix_memslot_add(struct vsnix_vm *vm,
			     const struct vsnix_memory_region *r)
{
	struct vsnix_memslot *s;
	struct vsnix_memslots *ms;
	int ret;

	lockdep_assert_held(&vm->slots_lock);
	s = vsnix_memslot_create(vm, r);
	if (IS_ERR(s))
		return PTR_ERR(s);
	ms = vsnix_memslots_copy(vsnix_memslots(vm), s, true);
	if (!ms) {
		ret = -ENOMEM;
		goto err;
	}
	if (s->pages) {
		/* Mapped before the slot is visible: a pinned guest never faults. */
		ret = vsnix_arch_tdp_map(vm, s->gpa, s->pages, s->npages,
					 s->flags);
		if (ret) {
			kfree(ms);
			goto err;
		}
	}
	vsnix_memslots_publish(vm, ms);
	vm->mem_bytes += s->size;
	return 0;

err:
	vsnix_memslot_free(s);
	return ret;
}

int vsnix_set_memory_region(struct vsnix_vm *vm,
			    const struct vsnix_memory_region *r)
{
	static struct vsnix_memslot *const none[VSNIX_MAX_MEMSLOTS];
	u64 max_bytes = (u64)VSNIX_MAX_MEM_MB << 20;
	struct vsnix_memslots *ms;
	int ret;

	mutex_lock(&vm->slots_lock);
	ms = vsnix_memslots(vm);
	ret = vsnix_memregion_check(r, ms ? ms->by_id : none,
				    VSNIX_MAX_MEMSLOTS,
				    max_bytes - vm->mem_bytes);
	if (ret)
		goto out;
	if ((r->flags & VSNIX_MEM_NOEXEC) && !vsnix_arch_tdp_noexec()) {
		pr_info_ratelimited("VSNIX_MEM_NOEXEC: this CPU's TDP tables cannot refuse execution\n");
		ret = -EINVAL;
		goto out;
	}
	if (r->memory_size)
		ret = vsnix_memslot_add(vm, r);
	else
		ret = vsnix_memslot_delete(vm, r->slot);
out:
	if (!ret)
		vm->memory_changes++;
	mutex_unlock(&vm->slots_lock);
	trace_vsnix_memory_region(vm->id, r->slot, r->flags,
				  r->guest_phys_addr, r->memory_size,
				  r->userspace_addr, ret);
	return ret;
}

int vsnix_vm_memory_init(struct vsnix_vm *vm)
{
	mutex_init(&vm->slots_lock);
	spin_lock_init(&vm->mmu_lock);
	RCU_INIT_POINTER(vm->memslots, NULL);
	if (!zalloc_cpumask_var(&vm->flush_mask, GFP_KERNEL_ACCOUNT))
		return -ENOMEM;
	return 0;
}

/* VM teardown: no vCPU can run any more. */
void vsnix_memslots_free(struct vsnix_vm *vm)
{
	struct vsnix_memslots *ms;
	unsigned int i;

	mutex_lock(&vm->slots_lock);
	ms = vsnix_memslots(vm);
	RCU_INIT_POINTER(vm->memslots, NULL);
	mutex_unlock(&vm->slots_lock);
	synchronize_srcu(&vm->srcu);
	for (i = 0; ms && i < ms->nr; i++) {
		vsnix_memslot_unmap(vm, ms->by_gpa[i]);
		vsnix_memslot_free(ms->by_gpa[i]);
	}
	kfree(ms);
	vsnix_vm_memory_free(vm);
}

void vsnix_vm_memory_free(struct vsnix_vm *vm)
{
	free_cpumask_var(vm->flush_mask);
}
