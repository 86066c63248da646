// SPDX-License-Identifier: GPL-2.0
/*
 * Guest linear-to-physical translation through the guest's own page tables,
 * used to fetch the instruction of an MMIO exit and to run string I/O.
 * Intel SDM Vol 3, chapter 4 (paging); AMD APM Vol 2, chapter 5.
 *
 * Every table entry is read with vsnix_guest_read(), which bounds-checks
 * the guest-physical address: a guest pointing CR3 or an entry outside its
 * RAM gets -EFAULT, never a host access.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/bits.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>
#include "x86.h"

#define PTE_PRESENT	BIT_ULL(0)
#define PTE_LARGE	BIT_ULL(7)	/* PS: maps a 4M/2M/1G page */
/* SDM Vol 3, 4.5: address bits 51:12 (MAXPHYADDR at most 52). */
#define PTE_ADDR_MASK	GENMASK_ULL(51, 12)
#define PAGE_4K_SIZE	4096ULL

void vsnix_x86_get_paging(struct vsnix_vcpu *vcpu, struct vsnix_paging *pg)
{
	struct vsnix_sregs sregs;

	vsnix_ops->get_sregs(vcpu, &sregs);
	vsnix_x86_paging_from_sregs(&sregs, vcpu->rflags, pg);
	pg->maxphyaddr = vsnix_x86_maxphyaddr(vcpu);
}

void vsnix_x86_paging_from_sregs(const struct vsnix_sregs *s, u64 rflags,
				 struct vsnix_paging *pg)
{
	pg->cr0 = s->cr0;
	pg->cr3 = s->cr3;
	pg->cr4 = s->cr4;
	pg->efer = s->efer;
	pg->cs_base = s->cs.base;
	pg->maxphyaddr = 0;

	/* SDM Vol 3, 2.2: the mode comes from CR0.PE, EFER.LMA, CS.L/D. */
	if (!(s->cr0 & X86_CR0_PE) || (rflags & X86_EFLAGS_VM))
		pg->mode = VSNIX_MODE_REAL;
	else if ((s->efer & EFER_LMA) && s->cs.l)
		pg->mode = VSNIX_MODE_LONG64;
	else if (s->cs.db)
		pg->mode = VSNIX_MODE_PROT32;
	else
		pg->mode = VSNIX_MODE_PROT16;

	/* In 64-bit mode CS.base is treated as 0 (SDM Vol 3, 3.4.4). */
	if (pg->mode == VSNIX_MODE_LONG64)
		pg->cs_base = 0;
}

/*
 * Address bits at and above the guest's MAXPHYADDR are reserved in CR3 and
 * in every entry (SDM Vol 3, 4.4.2 and 4.5.4; APM Vol 2, 5.3.3): the walk
 * fails (a #PF with RSVD on hardware) rather than keep them as address.
 */
static bool gpa_ok(const struct vsnix_paging *pg, u64 gpa)
{
	return !pg->maxphyaddr || pg->maxphyaddr >= 52 ||
	       !(gpa >> pg->maxphyaddr);
}

static int read_entry64(struct vsnix_vm *vm, u64 gpa, u64 *entry)
{
	if (vsnix_guest_read(vm, gpa, entry, sizeof(*entry)))
		return -EFAULT;
	return 0;
}

/*
 * Walk 8-byte-entry tables from a table at level 'level' (4 or 5 = PML4/5,
 * 2 = PD for PAE after the PDPTE). Large pages are allowed at levels 2
 * and 3 (SDM Vol 3, 4.4.2 and 4.5.4).
 */
static int walk_long(struct vsnix_vm *vm, const struct vsnix_paging *pg,
		     u64 table, int level, u64 gva, u64 *gpa)
{
	for (; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);
		u64 idx = (gva >> shift) & 511;
		u64 entry;

		if (!gpa_ok(pg, table) ||
		    read_entry64(vm, table + idx * 8, &entry))
			return -EFAULT;
		if (!(entry & PTE_PRESENT))
			return -ENOENT;
		if (!gpa_ok(pg, entry & PTE_ADDR_MASK))
			return -EFAULT;
		if (level == 1 || ((level == 2 || level == 3) &&
				   (entry & PTE_LARGE))) {
			u64 offset_mask = (1ULL << shift) - 1;

			*gpa = ((entry & PTE_ADDR_MASK) & ~offset_mask) |
			       (gva & offset_mask);
			return 0;
		}
		table = entry & PTE_ADDR_MASK;
	}
	return -ENOENT;
}

/* 32-bit paging, 4-byte entries (SDM Vol 3, 4.3). */
static int walk_32bit(struct vsnix_vm *vm, const struct vsnix_paging *pg,
		      u32 gva, u64 *gpa)
{
	u64 table = pg->cr3 & GENMASK_ULL(31, 12);
	u32 pde, pte;

	if (vsnix_guest_read(vm, table + (gva >> 22) * 4, &pde, sizeof(pde)))
		return -EFAULT;
	if (!(pde & PTE_PRESENT))
		return -ENOENT;
	if ((pde & PTE_LARGE) && (pg->cr4 & X86_CR4_PSE)) {
		/* 4 MiB page; PDE bits 20:13 are physical bits 39:32 (PSE-36). */
		*gpa = (pde & GENMASK(31, 22)) |
		       ((u64)((pde >> 13) & 0xff) << 32) | (gva & GENMASK(21, 0));
		return gpa_ok(pg, *gpa) ? 0 : -EFAULT;
	}
	table = pde & GENMASK(31, 12);
	if (vsnix_guest_read(vm, table + ((gva >> 12) & 1023) * 4, &pte,
			     sizeof(pte)))
		return -EFAULT;
	if (!(pte & PTE_PRESENT))
		return -ENOENT;
	*gpa = (pte & GENMASK(31, 12)) | (gva & 0xfff);
	return 0;
}

/* PAE paging: 4 PDPTEs at CR3[31:5] (SDM Vol 3, 4.4.1). */
static int walk_pae(struct vsnix_vm *vm, const struct vsnix_paging *pg,
		    u32 gva, u64 *gpa)
{
	u64 pdpte_gpa = (pg->cr3 & GENMASK_ULL(31, 5)) + (gva >> 30) * 8;
	u64 pdpte;

	if (read_entry64(vm, pdpte_gpa, &pdpte))
		return -EFAULT;
	if (!(pdpte & PTE_PRESENT))
		return -ENOENT;
	if (!gpa_ok(pg, pdpte & PTE_ADDR_MASK))
		return -EFAULT;
	return walk_long(vm, pg, pdpte & PTE_ADDR_MASK, 2, gva, gpa);
}

int vsnix_gva_to_gpa(struct vsnix_vm *vm, const struct vsnix_paging *pg,
		     u64 gva, u64 *gpa)
{
	if (!(pg->cr0 & X86_CR0_PG)) {
		/* No paging: linear is physical, 32 bits wide outside IA-32e. */
		*gpa = (pg->efer & EFER_LMA) ? gva : (u32)gva;
		return 0;
	}
	if (pg->efer & EFER_LMA) {
		int levels = (pg->cr4 & X86_CR4_LA57) ? 5 : 4;
		unsigned int va_bits = levels == 5 ? 57 : 48;

		/* Non-canonical addresses fault (#GP) on hardware. */
		if (sign_extend64(gva, va_bits - 1) != gva)
			return -EFAULT;
		return walk_long(vm, pg, pg->cr3 & PTE_ADDR_MASK, levels, gva,
				 gpa);
	}
	if (pg->cr4 & X86_CR4_PAE)
		return walk_pae(vm, pg, (u32)gva, gpa);
	return walk_32bit(vm, pg, (u32)gva, gpa);
}

/* Copy in 4 KiB steps: each page of the range may map anywhere. */
static int access_gva(struct vsnix_vm *vm, const struct vsnix_paging *pg,
		      u64 gva, void *buf, unsigned int len, bool write)
{
	u8 *p = buf;

	while (len) {
		unsigned int chunk = min_t(u64, len,
					   PAGE_4K_SIZE - (gva & (PAGE_4K_SIZE - 1)));
		u64 gpa;
		int ret;

		ret = vsnix_gva_to_gpa(vm, pg, gva, &gpa);
		if (ret)
			return ret;
		if (write)
			ret = vsnix_guest_write(vm, gpa, p, chunk);
		else
			ret = vsnix_guest_read(vm, gpa, p, chunk);
		if (ret)
			return -EFAULT;
		gva += chunk;
		p += chunk;
		len -= chunk;
	}
	return 0;
}

int vsnix_read_gva(struct vsnix_vm *vm, const struct vsnix_paging *pg,
		   u64 gva, void *buf, unsigned int len)
{
	return access_gva(vm, pg, gva, buf, len, false);
}

int vsnix_write_gva(struct vsnix_vm *vm, const struct vsnix_paging *pg,
		    u64 gva, const void *buf, unsigned int len)
{
	return access_gva(vm, pg, gva, (void *)buf, len, true);
}
