/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86 code shared by the SVM and VMX backends: port I/O and MMIO exits,
 * the MMIO instruction decoder, the guest page-table walker, CPUID policy
 * and the two-dimensional page tables (NPT/EPT) built from memory slots.
 */
#ifndef VSNIX_X86_H
#define VSNIX_X86_H

#include "../../core/vsnix.h"
#include "vendor.h"

/* ------------------------------------------------------ registers */

/*
 * The register cache (vcpu->gpr, rip, rflags) <-> struct vsnix_regs, for
 * both backends. set checks RFLAGS (reserved bits 0, bit 1 set; Intel SDM
 * Vol 1, 3.4.3) and a canonical RIP, and returns -EINVAL otherwise.
 */
void vsnix_x86_get_regs(const struct vsnix_vcpu *vcpu,
			struct vsnix_regs *regs);
int vsnix_x86_set_regs(struct vsnix_vcpu *vcpu,
		       const struct vsnix_regs *regs);
/* A 48-bit canonical address (SDM Vol 1, 3.3.7.1). */
bool vsnix_canonical(u64 addr);

/* ------------------------------------------------------ PIO and MMIO */

/*
 * A port I/O exit. Served by an in-kernel device on the PIO bus when one
 * claims the port (then RIP = next_rip and 1 is returned), else run->io is
 * filled, the completion is left pending and 0 is returned. String and REP
 * forms are emulated through guest memory.
 */
int vsnix_x86_handle_pio(struct vsnix_vcpu *vcpu, u16 port, u8 size,
			 bool in, bool string, bool rep, u64 next_rip);

/*
 * A nested-page/EPT fault on a GPA that no slot maps (or a write to a
 * read-only slot). insn/insn_len: instruction bytes the hardware gave (SVM
 * decode assists), or insn_len == 0 to fetch them through the guest's page
 * tables. Served by the MMIO bus or sent to userspace like handle_pio.
 */
int vsnix_x86_handle_mmio(struct vsnix_vcpu *vcpu, u64 gpa, const u8 *insn,
			  unsigned int insn_len);

/*
 * A nested-page/EPT fault on an instruction fetch: when a VSNIX_MEM_NOEXEC
 * slot holds gpa, fills a VSNIX_EXIT_MEMORY_FAULT exit and returns true.
 * Emulating the fetch as MMIO would run code the VMM forbade.
 */
bool vsnix_x86_fetch_fault(struct vsnix_vcpu *vcpu, u64 gpa);

/* Called by the core at the start of RUN: finish what userspace served. */
void vsnix_x86_complete_pending(struct vsnix_vcpu *vcpu);

/* CPUID exit: reads RAX/RCX, answers from the VM's policy, RIP += len. */
void vsnix_x86_emulate_cpuid(struct vsnix_vcpu *vcpu, unsigned int insn_len);

/* VMCALL/VMMCALL at CPL 0: no services, RAX = VSNIX_HYPERCALL_ENOSYS. */
void vsnix_x86_hypercall(struct vsnix_vcpu *vcpu, bool long_mode);

/* Looks up (function, index) per the policy, as CPUID would answer. */
void vsnix_cpuid_lookup(struct vsnix_vcpu *vcpu, u32 function, u32 index,
			u32 *eax, u32 *ebx, u32 *ecx, u32 *edx);
/* cpuid_policy.c: the VM's policy and its ioctls. */
int vsnix_vm_cpuid_init(struct vsnix_vm *vm);
void vsnix_vm_cpuid_free(struct vsnix_vm *vm);
long vsnix_vm_set_cpuid(struct vsnix_vm *vm, void __user *argp);
long vsnix_vm_get_cpuid(struct vsnix_vm *vm, void __user *argp);
long vsnix_get_supported_cpuid(void __user *argp);

/* Default CPUID policy for a new VM, from the host's, filtered. */
int vsnix_x86_cpuid_default(struct vsnix_cpuid_policy *policy);
/* What VSNIX_GET_SUPPORTED_CPUID reports. */
int vsnix_x86_cpuid_supported(struct vsnix_cpuid_entry *entries, u32 max,
			      u32 *nent);

/* CPUID helpers (cpuid.c); the filter and XCR0 rules are KUnit-tested. */
bool vsnix_cpuid_filter_entry(struct vsnix_cpuid_entry *e, u64 supported_xcr0);
bool vsnix_cpuid_needs_cr4(u32 function);
void vsnix_cpuid_apply_lapic(struct vsnix_cpuid_entry *e, bool in_kernel,
			     u64 apic_base);
void vsnix_cpuid_apply_dynamic(struct vsnix_cpuid_entry *e, u32 vcpu_id,
			       u64 cr4, u64 xcr0);
unsigned int vsnix_xsave_size(u64 xcr0);
u64 vsnix_x86_supported_xcr0(void);
bool vsnix_xcr0_valid(u64 xcr0, u64 supported);
/* CR4 bits a guest with these CPUID words may set (pure). */
u64 vsnix_cpuid_cr4_allowed(u32 l1_ecx, u32 l1_edx, u32 l7_ebx, u32 l7_ecx);
/* Leaves 0x15/0x16 for a TSC of tsc_khz and a crystal (APIC bus) of crystal_khz. */
void vsnix_cpuid_tsc_leaves(u32 tsc_khz, u32 crystal_khz,
			    struct vsnix_cpuid_entry *l15,
			    struct vsnix_cpuid_entry *l16);

/* ------------------------------------------------------ x86 vCPU state */

/*
 * What the x86 layer keeps per vCPU and per VM. Both vendors put these
 * first in their own vCPU and VM structures (vcpu->arch, vm->arch), so
 * that to_x86() works for either; BUILD_BUG_ON checks the offset.
 */
#define VSNIX_MCE_BANKS		4	/* MCG_CAP.Count (SDM Vol 3, 15.3.1.1) */
#define VSNIX_MTRR_VAR		8	/* MTRRcap.VCNT (SDM Vol 3, 12.11.2.1) */
#define VSNIX_MTRR_FIXED	11

struct vsnix_x86_msrs {
	u64 apic_base;		/* without an in-kernel LAPIC */
	u64 misc_enable;
	u64 mtrr_def_type;
	u64 mtrr_fixed[VSNIX_MTRR_FIXED];
	u64 mtrr_var[2 * VSNIX_MTRR_VAR];	/* PHYSBASEn, PHYSMASKn */
	u64 mcg_status;
	u64 mcg_ctl;
	u64 mc_bank[4 * VSNIX_MCE_BANKS];	/* CTL, STATUS, ADDR, MISC */
	u64 hwcr;
	u64 tsc_adjust;
	u64 tsc_offset;		/* guest TSC = host TSC + tsc_offset */
};

/* The guest's features, read from its CPUID at each RUN (and ioctl). */
struct vsnix_x86_features {
	u64 cr4_allowed;	/* CR4 bits MOV to CR4 may set */
	u8 maxphyaddr;
	bool amd;		/* CPUID vendor AuthenticAMD / HygonGenuine */
	bool mtrr, mce, mca, tsc_adjust;
	bool rdtscp, invpcid, rdpid;
	bool x2apic, tsc_deadline;	/* CPUID.1:ECX 21, 24 */
	bool pv_eoi;		/* KVM signature at 0x40000100, PV_EOI bit */
};

struct vsnix_x86_vcpu {
	struct vsnix_x86_msrs msrs;
	struct vsnix_x86_features feat;
};

struct vsnix_x86_vm {
	u64 tsc_base;		/* host TSC at VM creation: guest TSC 0 */
};

static inline struct vsnix_x86_vcpu *to_x86(struct vsnix_vcpu *vcpu)
{
	return vcpu->arch;
}

static inline struct vsnix_x86_vm *to_x86_vm(struct vsnix_vm *vm)
{
	return vm->arch;
}

/*
 * The narrow hooks a vendor gives the x86 layer for state that lives in
 * the VMCB/VMCS or that the vendor switches around entries.
 */
struct vsnix_x86_vendor_ops {
	/*
	 * EFER, PAT, SYSENTER_*, STAR/LSTAR/CSTAR/SFMASK, FS/GS/KERNEL_GS
	 * base, TSC_AUX, SPEC_CTRL: 0, -ENOENT (not on this host), -EINVAL.
	 */
	int (*get_msr)(struct vsnix_vcpu *vcpu, u32 index, u64 *data);
	int (*set_msr)(struct vsnix_vcpu *vcpu, u32 index, u64 data,
		       bool host);
	void (*set_tsc_offset)(struct vsnix_vcpu *vcpu, u64 offset);
	/* Debug registers (INIT/reset): DR0-3, DR6, DR7. */
	void (*set_dr)(struct vsnix_vcpu *vcpu, const u64 *dr03, u64 dr6,
		       u64 dr7);
};

extern const struct vsnix_x86_vendor_ops svm_x86_ops, vmx_x86_ops;

/* msr.c: the allow-list. 0, -ENOENT (not listed), -EINVAL (bad value). */
int vsnix_x86_get_msr(struct vsnix_vcpu *vcpu, u32 index, u64 *data);
int vsnix_x86_set_msr(struct vsnix_vcpu *vcpu, u32 index, u64 data);
/* Guest RDMSR/WRMSR: nonzero means #GP. */
int vsnix_x86_guest_rdmsr(struct vsnix_vcpu *vcpu, u32 index, u64 *data);
int vsnix_x86_guest_wrmsr(struct vsnix_vcpu *vcpu, u32 index, u64 data);
/* VSNIX_GET_MSR_INDEX_LIST on a VM fd. */
long vsnix_x86_msr_list(struct vsnix_vm *vm, void __user *argp);
/* IA32_APIC_BASE as SREGS carries it. */
u64 vsnix_x86_apic_base(struct vsnix_vcpu *vcpu);
int vsnix_x86_set_apic_base(struct vsnix_vcpu *vcpu, u64 data, bool host);
/* RESET values of the MSRs kept here, and the TSC (guest TSC = 0). */
void vsnix_x86_msr_reset(struct vsnix_vcpu *vcpu);
/* The VM's TSC base: called by the vendors' vm_init. */
void vsnix_x86_vm_init(struct vsnix_vm *vm);

/* state.c: features, reset and INIT, SREGS checks. */
void vsnix_x86_refresh_features(struct vsnix_vcpu *vcpu);
/* Architectural RESET (init false) or INIT (SDM Vol 3, 9.1.1, table 9-1). */
int vsnix_x86_vcpu_reset(struct vsnix_vcpu *vcpu, bool init);
/*
 * INIT semantics, for the event layer (events.c, INIT IPI): real mode at
 * F000:FFF0, MSRs kept. Process context with the vCPU's mutex held and
 * preemption on (it may sleep: CPUID lock, VMCS load): the run loop
 * before an entry is fine, not with IRQs off near VMRUN/VMLAUNCH.
 */
int vsnix_x86_vcpu_init_state(struct vsnix_vcpu *vcpu);
/* The checks every SET_SREGS passes on both vendors: 0 or -EINVAL. */
int vsnix_x86_check_sregs(struct vsnix_vcpu *vcpu,
			  const struct vsnix_sregs *sregs);
/* MOV to CR4: may the guest set these bits (its CPUID, the host)? */
bool vsnix_x86_cr4_valid(struct vsnix_vcpu *vcpu, u64 cr4);

/* ------------------------------------------------------ FPU / XSAVE */

/*
 * Guest FPU through the kernel's guest-fpstate API (fpu_alloc_guest_fpstate
 * and fpu_swap_kvm_fpstate, loaded for the whole RUN ioctl) or, where the
 * kernel exports that to KVM only or with fpu_own=1, the module's own
 * XSAVE switch (fpu_own.c). vsnix_x86_fpu_enter/exit run with IRQs off
 * around the hardware entry: they load/save the guest's registers as the
 * path needs and switch XCR0. See fpu.c.
 */
int vsnix_x86_fpu_init(struct vsnix_vcpu *vcpu);
void vsnix_x86_fpu_free(struct vsnix_vcpu *vcpu);
void vsnix_x86_fpu_load(struct vsnix_vcpu *vcpu);
void vsnix_x86_fpu_put(struct vsnix_vcpu *vcpu);
void vsnix_x86_fpu_enter(struct vsnix_vcpu *vcpu);
void vsnix_x86_fpu_exit(struct vsnix_vcpu *vcpu);
int vsnix_x86_get_xsave(struct vsnix_vcpu *vcpu, struct vsnix_xsave *xs);
int vsnix_x86_set_xsave(struct vsnix_vcpu *vcpu,
			const struct vsnix_xsave *xs);
/* XSETBV exit: validate ECX/EDX:EAX; false -> inject #GP. */
bool vsnix_x86_set_xcr(struct vsnix_vcpu *vcpu, u32 index, u64 value);

/* ------------------------------------------------------ decoder (pure) */

enum vsnix_cpu_mode {
	VSNIX_MODE_REAL,	/* 16-bit */
	VSNIX_MODE_PROT16,
	VSNIX_MODE_PROT32,
	VSNIX_MODE_LONG64,
};

/*
 * Decode a memory-operand instruction that caused an MMIO exit: MOV
 * (88/89/8A/8B/C6/C7/A0-A3), MOVZX/MOVSX (0F B6/B7/BE/BF) with 66/67,
 * segment, and REX prefixes. Returns 0 or -EINVAL when the instruction is
 * not one of those. Pure: no guest access, KUnit-tested.
 */
int vsnix_decode_mmio(const u8 *bytes, unsigned int avail,
		      enum vsnix_cpu_mode mode, struct vsnix_mmio_insn *out);

/* ------------------------------------------------------ guest paging */

struct vsnix_paging {
	enum vsnix_cpu_mode mode;
	u64 cr0, cr3, cr4, efer;
	u64 cs_base;
	u8 maxphyaddr;		/* the guest's MAXPHYADDR; 0: not known (52) */
};

/* The guest's MAXPHYADDR from its CPUID (8000_0008h EAX[7:0]). */
u8 vsnix_x86_maxphyaddr(struct vsnix_vcpu *vcpu);

/* Fill from the backend's state (uses vsnix_ops->get_sregs). */
void vsnix_x86_get_paging(struct vsnix_vcpu *vcpu, struct vsnix_paging *pg);
/* The same from segment registers the caller already has. */
void vsnix_x86_paging_from_sregs(const struct vsnix_sregs *sregs, u64 rflags,
				 struct vsnix_paging *pg);
/*
 * Translate a linear address with the guest's page tables (none, 32-bit,
 * PAE, 4-level). -EFAULT when a table lies outside guest RAM, -ENOENT when
 * an entry is not present.
 */
int vsnix_gva_to_gpa(struct vsnix_vm *vm, const struct vsnix_paging *pg,
		     u64 gva, u64 *gpa);
/* Read guest linear memory (instruction fetch for the decoder). */
int vsnix_read_gva(struct vsnix_vm *vm, const struct vsnix_paging *pg,
		   u64 gva, void *buf, unsigned int len);
/* Write guest linear memory (INS). */
int vsnix_write_gva(struct vsnix_vm *vm, const struct vsnix_paging *pg,
		    u64 gva, const void *buf, unsigned int len);

/* ------------------------------------------------------ TDP (NPT/EPT) */

/*
 * A 4-level table mapping guest-physical to host-physical 4 KiB or 2 MiB
 * pages. The vendor supplies how an entry is encoded: NPT entries are
 * ordinary x86 page-table entries (AMD APM Vol 2, 15.25.5), EPT entries are
 * not (Intel SDM Vol 3, 29.3.2).
 */
struct vsnix_tdp_format {
	u64 (*table_entry)(phys_addr_t table);	/* non-leaf pointing at table */
	u64 (*leaf_entry)(phys_addr_t page, bool writable, bool executable);
	bool (*present)(u64 entry);
	/* Host-physical address of the table an entry points at (optional). */
	phys_addr_t (*table_addr)(u64 entry);
	u64 write_bit;		/* the write permission of a leaf */
	u64 huge_bit;		/* a level-2 leaf (2 MiB); 0: none */
};

struct vsnix_tdp {
	const struct vsnix_tdp_format *fmt;
	spinlock_t *lock;	/* the VM's mmu_lock: every change */
	u64 *root;		/* PML4, one zeroed page */
	unsigned long nr_tables;
};

int vsnix_tdp_init(struct vsnix_tdp *tdp, const struct vsnix_tdp_format *fmt,
		   spinlock_t *lock);
void vsnix_tdp_destroy(struct vsnix_tdp *tdp);
/*
 * Map pinned pages (takes the lock itself). mem_flags: the slot's
 * VSNIX_MEM_READONLY, VSNIX_MEM_NOEXEC and VSNIX_MEM_LOG_DIRTY (mapped
 * read-only until the first write).
 */
int vsnix_tdp_map(struct vsnix_tdp *tdp, u64 gpa, struct page **pages,
		  unsigned long npages, u32 mem_flags);
/* With tdp->lock held; true when a leaf changed (flush the TLBs). */
bool vsnix_tdp_unmap(struct vsnix_tdp *tdp, u64 gpa, unsigned long npages);
bool vsnix_tdp_wrprotect(struct vsnix_tdp *tdp, u64 gpa, unsigned long npages);
int vsnix_tdp_set_leaf(struct vsnix_tdp *tdp, u64 gpa, phys_addr_t pa,
		       int level, bool writable, bool executable, u64 **spare);
u64 vsnix_tdp_lookup(struct vsnix_tdp *tdp, u64 gpa, int *level);
u64 *vsnix_tdp_alloc_spare(void);
/*
 * An NPT/EPT fault at gpa (access: VSNIX_MEMORY_FAULT_* bits) resolved for
 * both vendors (kmod/arch/x86/mmu.c): 1 when the page is mapped now (resume
 * the guest), 0 when run is filled (an exit to userspace), -ENOENT when gpa
 * is no RAM for this access (emulate MMIO), or -EINTR.
 */
int vsnix_x86_tdp_fault(struct vsnix_vcpu *vcpu, struct vsnix_tdp *tdp,
			u64 gpa, u32 access);
/* Index math, KUnit-tested: level 1 = page table ... 4 = PML4. */
unsigned int vsnix_tdp_level_shift(int level);
unsigned int vsnix_tdp_index(u64 gpa, int level);
/* 4 KiB-aligned and [gpa, +npages pages) below 2^VSNIX_GPA_BITS. */
bool vsnix_tdp_range_ok(u64 gpa, unsigned long npages);

/* ------------------------------------------------------ statistics */

/* Vendor exit code -> VSNIX_STAT_EXIT_* (exit_class.c). */
u32 vsnix_svm_exit_class(u64 code);
u32 vsnix_vmx_exit_class(u32 basic_reason);

/* ------------------------------------------------------ emergency paths */

/* NMI handler and, where exported, the kernel's emergency virt callback. */
int vsnix_x86_emergency_init(void);
void vsnix_x86_emergency_exit(void);
/* Panic: root mode off here and, by NMI, on every other online CPU. */
void vsnix_x86_emergency_leave_all(void);

#endif /* VSNIX_X86_H */
