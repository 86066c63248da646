// SPDX-License-Identifier: GPL-2.0
/*
 * NPT/EPT faults on guest RAM, for both vendors: the first touch of a page
 * maps it, a write to a page that dirty logging write-protected records
 * it. The host page is held only until its entry is in: the entry is
 * written under mmu_lock after the slot's notifier sequence showed no
 * invalidation since the page was looked up, and from then on the MMU
 * notifier removes it before the host lets the page go.
 */
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include "x86.h"

#define TDP_2M_MASK	(~((1ULL << 21) - 1))

/* With mmu_lock: install the page for gpa; 0, -ENOMEM (spare needed). */
static int tdp_fault_install(struct vsnix_tdp *tdp, struct vsnix_memslot *s,
			     u64 gpa, struct page *page, bool writable,
			     bool huge, bool write, u64 **spare)
{
	bool exec = !(s->flags & VSNIX_MEM_NOEXEC);
	phys_addr_t pa = page_to_phys(page);
	int level, ret = -EEXIST;
	u64 e;

	/* Another vCPU was first, or a stale TLB entry: nothing to do. */
	e = vsnix_tdp_lookup(tdp, gpa, &level);
	if (e && (!write || (e & tdp->fmt->write_bit)))
		return 0;
	/* A read-only 2 MiB leaf where the write needs 4 KiB: it goes. */
	if (e && level == 2 && !huge &&
	    vsnix_tdp_unmap(tdp, gpa & TDP_2M_MASK, 512))
		vsnix_vm_flush_tlbs(s->vm);
	if (huge)
		ret = vsnix_tdp_set_leaf(tdp, gpa & TDP_2M_MASK,
					 pa - ((gpa & ~TDP_2M_MASK) & PAGE_MASK),
					 2, writable, exec, spare);
	if (ret == -EEXIST)
		ret = vsnix_tdp_set_leaf(tdp, gpa & PAGE_MASK, pa, 1, writable,
					 exec, spare);
	if (!ret && write)
		vsnix_memslot_mark_dirty(s, gpa);
	return ret;
}

static void tdp_fault_exit(struct vsnix_vcpu *vcpu, u64 gpa, u32 access)
{
	struct vsnix_run *run = vcpu->run;

	run->exit_reason = VSNIX_EXIT_MEMORY_FAULT;
	run->memory_fault.gpa = gpa;
	run->memory_fault.access = access;
	run->memory_fault.pad = 0;
}

static int tdp_fault_slot(struct vsnix_vcpu *vcpu, struct vsnix_tdp *tdp,
			  struct vsnix_memslot *s, u64 gpa, u32 access,
			  u64 **spare)
{
	bool write = access & VSNIX_MEMORY_FAULT_WRITE;
	struct vsnix_vm *vm = vcpu->vm;
	bool writable, huge;
	struct page *page;
	unsigned long seq;
	int ret;

	for (;;) {
		seq = vsnix_memslot_seq_begin(s);
		ret = vsnix_memslot_get_page(s, gpa, write, &page, &writable,
					     &huge);
		if (ret == -EFAULT) {
			/* The host has no page there (munmap): the VMM decides. */
			tdp_fault_exit(vcpu, gpa, access);
			return 0;
		}
		if (ret)
			return ret;
		spin_lock(&vm->mmu_lock);
		if (vsnix_memslot_retry(s, seq))
			ret = -EAGAIN;
		else
			ret = tdp_fault_install(tdp, s, gpa, page, writable,
						huge, write, spare);
		spin_unlock(&vm->mmu_lock);
		put_page(page);
		if (!ret)
			return 1;
		if (ret == -ENOMEM) {
			*spare = vsnix_tdp_alloc_spare();
			if (!*spare)
				return -ENOMEM;
		}
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
}

int vsnix_x86_tdp_fault(struct vsnix_vcpu *vcpu, struct vsnix_tdp *tdp,
			u64 gpa, u32 access)
{
	struct vsnix_vm *vm = vcpu->vm;
	struct vsnix_memslot *s;
	u64 *spare = NULL;
	int idx, ret;

	idx = srcu_read_lock(&vm->srcu);
	s = vsnix_memslot_find(vm, gpa);
	/* Writes to read-only slots are MMIO; NOEXEC fetches the caller's. */
	if (!s || ((access & VSNIX_MEMORY_FAULT_WRITE) &&
		   (s->flags & VSNIX_MEM_READONLY)) ||
	    ((access & VSNIX_MEMORY_FAULT_EXEC) &&
	     (s->flags & VSNIX_MEM_NOEXEC)))
		ret = -ENOENT;
	else
		ret = tdp_fault_slot(vcpu, tdp, s, gpa, access, &spare);
	srcu_read_unlock(&vm->srcu, idx);
	vsnix_free_page(spare);
	return ret;
}
