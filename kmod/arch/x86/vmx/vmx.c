// SPDX-License-Identifier: GPL-2.0
/*
 * vSnix Intel VMX backend: feature probe, VMX root mode per CPU, EPT, VMCS
 * life cycle and the ops table. The run loop is in vmx_run.c, exit
 * handlers in vmx_exit.c, register state in vmx_state.c.
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/gfp.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <asm/cpu_entry_area.h>
#include <asm/desc.h>
#include <asm/trapnr.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/tsc.h>
#include "vmx.h"
#include "vmcs.h"

struct vmx_config vmx_cfg;

/* Per-CPU root-mode state. */
struct vmx_cpu {
	void *vmxon_region;
	bool enabled;			/* VMXON done by us */
	struct list_head loaded;	/* vmx_vcpu.loaded_node, active here */
	struct vmx_vcpu *current_vmcs;	/* VMPTRLDed, NULL when none */
};

static DEFINE_PER_CPU(struct vmx_cpu, vmx_cpus);
static DEFINE_IDA(vmx_vpids);

struct vmx_vm {
	struct vsnix_x86_vm x86;	/* first: see to_x86_vm() */
	struct vsnix_tdp tdp;
	u64 eptp;
};

void vmx_report_insn_failure(const char *insn, u64 operand)
{
	u64 err = 0;

	__vmx_vmread(VM_INSTRUCTION_ERROR, &err);
	pr_err_ratelimited("vsnix: %s %#llx failed on CPU %d (VM-instruction error %llu)\n",
			   insn, operand, raw_smp_processor_id(), err);
}

/* ------------------------------------------------------------ probe */

static int vmx_missing(const char *what)
{
	pr_info("vsnix: VMX lacks %s, not usable\n", what);
	return -ENODEV;
}

/*
 * Control values from a capability MSR: the low half holds the bits that
 * must be 1 (allowed-0 settings), the high half the bits that may be 1
 * (allowed-1 settings). SDM Vol 3, Appendix A.3-A.5.
 */
static int vmx_adjust(u32 msr, u32 required, u32 optional, u32 *out,
		      const char *what)
{
	u64 cap;
	u32 must1, may1;

	if (rdmsrl_safe(msr, &cap))
		return vmx_missing(what);
	must1 = lower_32_bits(cap);
	may1 = upper_32_bits(cap);
	if (required & ~may1) {
		pr_info("vsnix: VMX lacks %s controls %#x, not usable\n", what,
			required & ~may1);
		return -ENODEV;
	}
	*out = ((required | optional) & may1) | must1;
	return 0;
}

/*
 * The VMX-preemption timer (SDM 26.5.1) bounds how long an entry with
 * RFLAGS.IF=0 may run. Hardware exits on host interrupts whatever the
 * guest's IF is; Bochs 2.7 only does so once the guest changes IF, so a
 * guest spinning with interrupts off would otherwise starve the host.
 */
static void vmx_probe_preempt_timer(bool true_ctls)
{
	u64 pin, misc;
	u64 ticks;

	if (rdmsrl_safe(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS :
			MSR_IA32_VMX_PINBASED_CTLS, &pin) ||
	    !((pin >> 32) & PIN_BASED_VMX_PREEMPTION_TIMER) ||
	    rdmsrl_safe(MSR_IA32_VMX_MISC, &misc))
		return;
	/* SDM A.6: the timer counts once every 2^MISC[4:0] TSC cycles. */
	ticks = ((u64)(tsc_khz ? tsc_khz : 1000000)) >>
		vmx_misc_preemption_timer_rate(misc);
	vmx_cfg.preempt_timer_value = clamp_t(u64, ticks, 1, U32_MAX);
	vmx_cfg.preempt_timer = true;
}

static int vmx_probe_controls(u64 basic, u64 ept_vpid)
{
	bool true_ctls = basic & BIT_ULL(55);
	/* WBINVD exiting (SDM 25.6.2): no guest flushes the host's caches. */
	u32 proc2_opt = SECONDARY_EXEC_ENABLE_RDTSCP |
			SECONDARY_EXEC_ENABLE_INVPCID |
			SECONDARY_EXEC_WBINVD_EXITING;
	u32 windows = CPU_BASED_INTR_WINDOW_EXITING |
		      CPU_BASED_NMI_WINDOW_EXITING;
	u32 unused;
	int r;

	r = vmx_adjust(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS :
		       MSR_IA32_VMX_PINBASED_CTLS,
		       PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING |
		       PIN_BASED_VIRTUAL_NMIS, 0, &vmx_cfg.pin_ctls,
		       "pin-based (external-interrupt, NMI exiting, virtual NMIs)");
	if (r)
		return r;

	vmx_probe_preempt_timer(true_ctls);

	r = vmx_adjust(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
		       MSR_IA32_VMX_PROCBASED_CTLS,
		       CPU_BASED_HLT_EXITING | CPU_BASED_CR8_LOAD_EXITING |
		       CPU_BASED_CR8_STORE_EXITING |
		       CPU_BASED_UNCOND_IO_EXITING |
		       CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_MOV_DR_EXITING |
		       CPU_BASED_MWAIT_EXITING | CPU_BASED_MONITOR_EXITING |
		       CPU_BASED_RDPMC_EXITING |
		       CPU_BASED_USE_TSC_OFFSETTING |
		       CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, 0,
		       &vmx_cfg.proc_ctls, "processor-based");
	if (r)
		return r;
	vmx_probe_tpr_shadow(true_ctls);
	/* The window-exiting bits are set per entry, only when needed. */
	r = vmx_adjust(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
		       MSR_IA32_VMX_PROCBASED_CTLS, windows, 0, &unused,
		       "interrupt/NMI-window exiting");
	if (r)
		return r;

	/* VPID only with INVVPID to flush it (SDM 28.3.3.3). */
	if ((ept_vpid >> 32) & VMX_VPID_INVVPID_BIT &&
	    (ept_vpid >> 32) & (VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT |
				VMX_VPID_EXTENT_GLOBAL_CONTEXT_BIT))
		proc2_opt |= SECONDARY_EXEC_ENABLE_VPID;
	r = vmx_adjust(MSR_IA32_VMX_PROCBASED_CTLS2,
		       SECONDARY_EXEC_ENABLE_EPT |
		       SECONDARY_EXEC_UNRESTRICTED_GUEST, proc2_opt,
		       &vmx_cfg.proc2_ctls,
		       "secondary (EPT, unrestricted guest)");
	if (r)
		return r;
	vmx_cfg.vpid = vmx_cfg.proc2_ctls & SECONDARY_EXEC_ENABLE_VPID;
	vmx_cfg.rdtscp = vmx_cfg.proc2_ctls & SECONDARY_EXEC_ENABLE_RDTSCP;
	vmx_cfg.wbinvd_exiting = vmx_cfg.proc2_ctls &
				 SECONDARY_EXEC_WBINVD_EXITING;

	/*
	 * Debug controls: entry loads the guest's DR7 and DEBUGCTL, exit
	 * saves them (SDM Vol 3, 24.7.1, 24.8.1); with TRUE controls they
	 * may be off, and then guest breakpoints would never be armed.
	 */
	r = vmx_adjust(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS :
		       MSR_IA32_VMX_EXIT_CTLS,
		       VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_IA32_EFER |
		       VM_EXIT_LOAD_IA32_EFER | VM_EXIT_SAVE_IA32_PAT |
		       VM_EXIT_LOAD_IA32_PAT | VM_EXIT_SAVE_DEBUG_CONTROLS, 0,
		       &vmx_cfg.exit_ctls,
		       "VM-exit (host address-space size, EFER, PAT, DR7)");
	if (r)
		return r;
	if (vmx_cfg.exit_ctls & VM_EXIT_ACK_INTR_ON_EXIT)
		return vmx_missing("a way to leave \"acknowledge interrupt on exit\" clear");

	r = vmx_adjust(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
		       MSR_IA32_VMX_ENTRY_CTLS,
		       VM_ENTRY_LOAD_IA32_EFER | VM_ENTRY_LOAD_IA32_PAT |
		       VM_ENTRY_LOAD_DEBUG_CONTROLS, 0,
		       &vmx_cfg.entry_ctls, "VM-entry (EFER, PAT, DR7)");
	if (r)
		return r;
	r = vmx_adjust(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
		       MSR_IA32_VMX_ENTRY_CTLS, VM_ENTRY_IA32E_MODE, 0,
		       &unused, "IA-32e mode guest entry");
	if (r)
		return r;
	vmx_cfg.entry_ctls &= ~VM_ENTRY_IA32E_MODE;
	return 0;
}

static void vmx_free_vmxon_regions(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *c = per_cpu_ptr(&vmx_cpus, cpu);

		vsnix_free_page(c->vmxon_region);
		c->vmxon_region = NULL;
	}
}

/*
 * L1TF (CPUs with X86_BUG_L1TF): flush L1D before each entry unless the
 * host turned the mitigation off (l1tf=off, mitigations=off, or KVM's
 * vmentry_l1d_flush=never), or a hypervisor below flushes for us
 * (IA32_ARCH_CAPABILITIES.SKIP_L1DFL_VMENTRY, SDM Vol 4, table 2-2).
 */
static int vmx_probe_l1d_flush(void)
{
	u64 caps = 0;

	vmx_cfg.l1d_flush = false;
	vmx_cfg.l1d_flush_buf = NULL;
	if (!boot_cpu_has_bug(X86_BUG_L1TF))
		return 0;
	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES))
		rdmsrl_safe(MSR_IA32_ARCH_CAPABILITIES, &caps);
	if ((caps & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH) ||
	    l1tf_mitigation == L1TF_MITIGATION_OFF ||
	    l1tf_vmx_mitigation == VMENTER_L1D_FLUSH_NEVER)
		return 0;
	if (!boot_cpu_has(X86_FEATURE_FLUSH_L1D)) {
		struct page *page = vsnix_alloc_pages(GFP_KERNEL | __GFP_ZERO,
						      NUMA_NO_NODE,
						      VMX_L1D_FLUSH_ORDER);

		if (!page)
			return -ENOMEM;
		vmx_cfg.l1d_flush_buf = page_address(page);
	}
	vmx_cfg.l1d_flush = true;
	return 0;
}

static void vmx_free_l1d_flush(void)
{
	if (vmx_cfg.l1d_flush_buf)
		vsnix_free_pages(virt_to_page(vmx_cfg.l1d_flush_buf),
				 VMX_L1D_FLUSH_ORDER);
	vmx_cfg.l1d_flush_buf = NULL;
	vmx_cfg.l1d_flush = false;
}

static int vmx_hardware_probe(void)
{
	u64 basic, procbased, ept_vpid, fixed0, fixed1;
	int cpu, r;

	if (!(cpuid_ecx(1) & BIT(5)))
		return vmx_missing("CPUID.1:ECX.VMX");
	if (rdmsrl_safe(MSR_IA32_VMX_BASIC, &basic))
		return vmx_missing("IA32_VMX_BASIC");
	vmx_cfg.revision_id = basic & 0x7fffffff;
	vmx_cfg.vmcs_size = (basic >> 32) & 0x1fff;
	/* SDM Appendix A.1: VMCS size, 32-bit address limit, memory type. */
	if (vmx_cfg.vmcs_size > PAGE_SIZE || (basic & BIT_ULL(48)))
		return vmx_missing("a VMCS that fits a page above 4 GiB");
	if (((basic >> 50) & 0xf) != VMX_EPTP_MT_WB)
		return vmx_missing("write-back VMCS memory");

	if (rdmsrl_safe(MSR_IA32_VMX_PROCBASED_CTLS, &procbased) ||
	    !((procbased >> 32) & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
		return vmx_missing("secondary processor-based controls");
	if (rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &ept_vpid))
		return vmx_missing("IA32_VMX_EPT_VPID_CAP");
	if (!(ept_vpid & VMX_EPT_PAGE_WALK_4_BIT))
		return vmx_missing("EPT 4-level walk");
	if (!(ept_vpid & VMX_EPTP_WB_BIT))
		return vmx_missing("EPT write-back memory type");
	if (!(ept_vpid & VMX_EPT_INVEPT_BIT) ||
	    !(ept_vpid & (VMX_EPT_EXTENT_CONTEXT_BIT |
			  VMX_EPT_EXTENT_GLOBAL_BIT)))
		return vmx_missing("INVEPT");
	vmx_cfg.invept_single = ept_vpid & VMX_EPT_EXTENT_CONTEXT_BIT;
	vmx_cfg.invept_all = ept_vpid & VMX_EPT_EXTENT_GLOBAL_BIT;
	/* SDM Appendix A.10: bit 16, EPT PDEs may map 2 MiB pages. */
	vmx_cfg.ept_2m = ept_vpid & VMX_EPT_2MB_PAGE_BIT;

	r = vmx_probe_controls(basic, ept_vpid);
	if (r)
		return r;

	/*
	 * Fixed CR bits (SDM Appendix A.7, A.8): FIXED0 bits must be 1,
	 * bits clear in FIXED1 must be 0. Unrestricted guest frees PE and PG
	 * (SDM 26.3.1.1).
	 */
	if (rdmsrl_safe(MSR_IA32_VMX_CR0_FIXED0, &fixed0) ||
	    rdmsrl_safe(MSR_IA32_VMX_CR0_FIXED1, &fixed1))
		return vmx_missing("IA32_VMX_CR0_FIXED0/1");
	vmx_cfg.cr0_must1 = fixed0 & ~(u64)(X86_CR0_PE | X86_CR0_PG);
	vmx_cfg.cr0_must0 = ~fixed1 & 0xffffffffull;
	if (rdmsrl_safe(MSR_IA32_VMX_CR4_FIXED0, &fixed0) ||
	    rdmsrl_safe(MSR_IA32_VMX_CR4_FIXED1, &fixed1))
		return vmx_missing("IA32_VMX_CR4_FIXED0/1");
	vmx_cfg.cr4_must1 = fixed0;
	vmx_cfg.cr4_must0 = ~fixed1 & 0xffffffffull;

	vmx_cfg.spec_ctrl = boot_cpu_has(X86_FEATURE_MSR_SPEC_CTRL);
	vmx_cfg.debugctl = !rdmsrl_safe(MSR_IA32_DEBUGCTLMSR, &fixed0);
	r = vmx_probe_l1d_flush();
	if (r)
		return r;

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *c = per_cpu_ptr(&vmx_cpus, cpu);
		struct page *page;

		INIT_LIST_HEAD(&c->loaded);
		page = vsnix_alloc_pages(GFP_KERNEL | __GFP_ZERO,
					 cpu_to_node(cpu), 0);
		if (!page) {
			vmx_free_vmxon_regions();
			vmx_free_l1d_flush();
			return -ENOMEM;
		}
		c->vmxon_region = page_address(page);
		/* SDM 25.11.5: the VMXON region starts with the revision id. */
		*(u32 *)c->vmxon_region = vmx_cfg.revision_id;
	}
	pr_info("vsnix: VMX with EPT, unrestricted guest%s%s%s%s\n",
		vmx_cfg.vpid ? ", VPID" : "", vmx_cfg.rdtscp ? ", RDTSCP" : "",
		vmx_cfg.wbinvd_exiting ? "" : ", no WBINVD exiting",
		!vmx_cfg.l1d_flush ? "" : vmx_cfg.l1d_flush_buf ?
		", L1D flush (software)" : ", L1D flush");
	return 0;
}

static void vmx_hardware_unprobe(void)
{
	vmx_free_vmxon_regions();
	vmx_free_l1d_flush();
}

/* ------------------------------------------------------------ root mode */

static void vmx_invept_all_local(void)
{
	if (vmx_cfg.invept_all)
		vmx_invept(VMX_EPT_EXTENT_GLOBAL, 0);
}

static int vmx_cpu_enable(void)
{
	struct vmx_cpu *c = this_cpu_ptr(&vmx_cpus);
	unsigned long cr0, want;
	u64 feat;

	if (__read_cr4() & X86_CR4_VMXE)
		return -EBUSY;
	if (!c->vmxon_region)
		return -ENOMEM;

	/* SDM 24.7: VMXON needs IA32_FEATURE_CONTROL locked with VMX on. */
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &feat))
		return -EIO;
	if (feat & FEAT_CTL_LOCKED) {
		if (!(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
			pr_err_once("vsnix: VMX disabled by BIOS (IA32_FEATURE_CONTROL locked without VMX outside SMX); enable VT-x in the firmware setup\n");
			return -EIO;
		}
	} else if (wrmsrl_safe(MSR_IA32_FEAT_CTL, feat | FEAT_CTL_LOCKED |
			       FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		return -EIO;
	}

	cr0 = read_cr0();
	want = (cr0 | vmx_cfg.cr0_must1) & ~vmx_cfg.cr0_must0;
	if (want != cr0)
		write_cr0(want);
	cr4_set_bits(X86_CR4_VMXE | (unsigned long)vmx_cfg.cr4_must1);
	if (__read_cr4() & vmx_cfg.cr4_must0)
		cr4_clear_bits(__read_cr4() & vmx_cfg.cr4_must0);

	if (!vmx_vmxon(__pa(c->vmxon_region))) {
		cr4_clear_bits(X86_CR4_VMXE);
		pr_err_once("vsnix: VMXON failed on CPU %d\n",
			    smp_processor_id());
		return -EIO;
	}
	c->current_vmcs = NULL;
	c->enabled = true;
	/* Mappings cached before VMXON belong to nobody we know. */
	vmx_invept_all_local();
	return 0;
}

/* IRQs off, this CPU's VMCS list is ours. */
static void vmx_vmclear_local(struct vmx_vcpu *vmx)
{
	struct vmx_cpu *c = this_cpu_ptr(&vmx_cpus);

	vmx_vmclear(vmx->vmcs_pa);
	list_del_init(&vmx->loaded_node);
	if (c->current_vmcs == vmx)
		c->current_vmcs = NULL;
	vmx->launched = false;
	/*
	 * Release: the VMCLEAR and list update are done before a CPU that
	 * reads loaded_cpu == -1 (acquire) VMPTRLDs the VMCS.
	 */
	smp_store_release(&vmx->loaded_cpu, -1);
}

static void vmx_cpu_disable(void)
{
	struct vmx_cpu *c = this_cpu_ptr(&vmx_cpus);
	struct vmx_vcpu *vmx, *tmp;

	if (!c->enabled)
		return;
	list_for_each_entry_safe(vmx, tmp, &c->loaded, loaded_node)
		vmx_vmclear_local(vmx);
	vmx_vmxoff();
	cr4_clear_bits(X86_CR4_VMXE);
	c->enabled = false;
}

/*
 * NMI and crash context: VMCLEAR what is active here (its data reaches
 * memory, for a crash dump; SDM 25.11.1) and VMXOFF, without touching the
 * lists. VMCLEAR and VMXOFF fault harmlessly (extable) should the NMI have
 * hit vmx_cpu_disable after its VMXOFF.
 */
static void vmx_cpu_emergency_disable(void)
{
	struct vmx_cpu *c = this_cpu_ptr(&vmx_cpus);
	struct vmx_vcpu *vmx;

	if (!c->enabled)
		return;
	list_for_each_entry(vmx, &c->loaded, loaded_node)
		vmx_vmclear(vmx->vmcs_pa);
	vmx_vmxoff();
	cr4_clear_bits(X86_CR4_VMXE);
	c->enabled = false;
}

/* ------------------------------------------------------------ EPT */

/* EPT entries: SDM 29.3.2, tables 29-1 to 29-6. */
static u64 vmx_ept_table_entry(phys_addr_t table)
{
	return table | VMX_EPT_READABLE_MASK | VMX_EPT_WRITABLE_MASK |
	       VMX_EPT_EXECUTABLE_MASK;
}

/*
 * Leaves are write-back and ignore the guest PAT (bit 6): guest RAM is
 * ordinary host memory (SDM 29.3.7.2).
 */
static u64 vmx_ept_leaf_entry(phys_addr_t page, bool writable, bool executable)
{
	/*
	 * Always readable: no write-only (a misconfiguration) nor
	 * execute-only leaf (needs IA32_VMX_EPT_VPID_CAP[0]), SDM 29.3.3.1.
	 * Bit 2 governs all fetches: mode-based execute control is off.
	 */
	return page | VMX_EPT_READABLE_MASK |
	       (executable ? VMX_EPT_EXECUTABLE_MASK : 0) |
	       (writable ? VMX_EPT_WRITABLE_MASK : 0) |
	       (VMX_EPTP_MT_WB << VMX_EPT_MT_EPTE_SHIFT) | VMX_EPT_IPAT_BIT;
}

static bool vmx_ept_present(u64 entry)
{
	return entry & (VMX_EPT_READABLE_MASK | VMX_EPT_WRITABLE_MASK |
			VMX_EPT_EXECUTABLE_MASK);
}

/* Bit 1 is write access; bit 7 in a PDE maps a 2 MiB page (table 29-4). */
static const struct vsnix_tdp_format vmx_ept_format = {
	.table_entry = vmx_ept_table_entry,
	.leaf_entry = vmx_ept_leaf_entry,
	.present = vmx_ept_present,
	.write_bit = VMX_EPT_WRITABLE_MASK,
	.huge_bit = BIT_ULL(7),
};

/* The format without 2 MiB leaves, for CPUs without them. */
static const struct vsnix_tdp_format vmx_ept_format_4k = {
	.table_entry = vmx_ept_table_entry,
	.leaf_entry = vmx_ept_leaf_entry,
	.present = vmx_ept_present,
	.write_bit = VMX_EPT_WRITABLE_MASK,
};

struct vsnix_tdp *vmx_tdp(struct vsnix_vm *vm)
{
	struct vmx_vm *vvm = vm->arch;

	return &vvm->tdp;
}

static int vmx_vm_init(struct vsnix_vm *vm)
{
	struct vmx_vm *vvm;
	int r;

	vvm = kzalloc(sizeof(*vvm), GFP_KERNEL_ACCOUNT);
	if (!vvm)
		return -ENOMEM;
	r = vsnix_tdp_init(&vvm->tdp, vmx_cfg.ept_2m ? &vmx_ept_format :
			   &vmx_ept_format_4k, &vm->mmu_lock);
	if (r) {
		kfree(vvm);
		return r;
	}
	/* EPTP: SDM 24.6.11; write-back walks, 4 levels, no A/D flags. */
	vvm->eptp = __pa(vvm->tdp.root) | VMX_EPTP_PWL_4 | VMX_EPTP_MT_WB;
	vm->arch = vvm;
	vsnix_x86_vm_init(vm);
	return 0;
}

static void vmx_invept_all_ipi(void *unused)
{
	if (this_cpu_ptr(&vmx_cpus)->enabled)
		vmx_invept_all_local();
}

static void vmx_vm_destroy(struct vsnix_vm *vm)
{
	struct vmx_vm *vvm = vm->arch;

	if (!vvm)
		return;
	/*
	 * The EPT root page (so the EPTP) and the VPIDs may be reused by the
	 * next VM: drop every CPU's cached translations for them.
	 */
	on_each_cpu(vmx_invept_all_ipi, NULL, 1);
	vsnix_tdp_destroy(&vvm->tdp);
	kfree(vvm);
	vm->arch = NULL;
}

static int vmx_tdp_map(struct vsnix_vm *vm, u64 gpa, struct page **pages,
		       unsigned long npages, u32 mem_flags)
{
	struct vmx_vm *vvm = vm->arch;

	return vsnix_tdp_map(&vvm->tdp, gpa, pages, npages, mem_flags);
}

/* EPT bit 2 is the execute permission on every EPT CPU (SDM 29.3.2). */
static bool vmx_tdp_noexec(void)
{
	return true;
}

static bool vmx_tdp_huge(void)
{
	return vmx_cfg.ept_2m;
}

static bool vmx_tdp_unmap(struct vsnix_vm *vm, u64 gpa, unsigned long npages)
{
	struct vmx_vm *vvm = vm->arch;

	return vsnix_tdp_unmap(&vvm->tdp, gpa, npages);
}

static bool vmx_tdp_wrprotect(struct vsnix_vm *vm, u64 gpa,
			      unsigned long npages)
{
	struct vmx_vm *vvm = vm->arch;

	return vsnix_tdp_wrprotect(&vvm->tdp, gpa, npages);
}

void vmx_flush_guest_tlb(struct vsnix_vcpu *vcpu)
{
	struct vmx_vm *vvm = vcpu->vm->arch;

	/* INVEPT drops the combined mappings of every VPID (SDM 28.3.3.1). */
	if (vmx_cfg.invept_single)
		vmx_invept(VMX_EPT_EXTENT_CONTEXT, vvm->eptp);
	else
		vmx_invept(VMX_EPT_EXTENT_GLOBAL, 0);
}

/* ------------------------------------------------------------ VMCS */

static void vmx_vmclear_ipi(void *arg)
{
	struct vmx_vcpu *vmx = arg;

	if (READ_ONCE(vmx->loaded_cpu) == smp_processor_id())
		vmx_vmclear_local(vmx);
}

/* Host state that differs between CPUs (SDM 24.5, 26.2.3). */
static void vmx_set_host_percpu_state(int cpu)
{
	u64 msr;

	vmcs_write(HOST_TR_BASE,
		   (unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss);
	vmcs_write(HOST_GDTR_BASE, (unsigned long)get_current_gdt_ro());
	rdmsrl(MSR_GS_BASE, msr);
	vmcs_write(HOST_GS_BASE, msr);
	rdmsrl(MSR_IA32_SYSENTER_ESP, msr);
	vmcs_write(HOST_IA32_SYSENTER_ESP, msr);
}

int vmx_vmcs_load(struct vmx_vcpu *vmx)
{
	struct vmx_cpu *c = this_cpu_ptr(&vmx_cpus);
	int cpu = smp_processor_id();
	unsigned long flags;
	int prev;

	if (!c->enabled) {
		pr_err_ratelimited("vsnix: VMX is off on CPU %d\n", cpu);
		return -EIO;
	}
	/* Pairs with the release in vmx_vmclear_local. */
	prev = smp_load_acquire(&vmx->loaded_cpu);
	if (prev == cpu) {
		if (c->current_vmcs != vmx) {
			if (!vmx_vmptrld(vmx->vmcs_pa))
				return -EIO;
			c->current_vmcs = vmx;
		}
		return 0;
	}
	/* SDM 25.11.1: a VMCS is active on one CPU at a time. */
	if (prev >= 0)
		smp_call_function_single(prev, vmx_vmclear_ipi, vmx, 1);
	/* The IPI ran the VMCLEAR, unless that CPU went away first. */
	if (smp_load_acquire(&vmx->loaded_cpu) >= 0) {
		pr_err_ratelimited("vsnix: cannot VMCLEAR a VMCS on CPU %d\n",
				   prev);
		return -EIO;
	}

	local_irq_save(flags);
	if (!vmx_vmptrld(vmx->vmcs_pa)) {
		local_irq_restore(flags);
		return -EIO;
	}
	list_add(&vmx->loaded_node, &c->loaded);
	vmx->loaded_cpu = cpu;
	c->current_vmcs = vmx;
	local_irq_restore(flags);

	vmx_set_host_percpu_state(cpu);
	/* This CPU may hold stale translations of this guest. */
	vmx->need_flush = true;
	return 0;
}

int vmx_vmcs_get(struct vsnix_vcpu *vcpu)
{
	int r;

	preempt_disable();
	r = vmx_vmcs_load(to_vmx(vcpu));
	if (r)
		preempt_enable();
	return r;
}

void vmx_vmcs_put(struct vsnix_vcpu *vcpu)
{
	preempt_enable();
}

/* Pass-through MSRs: those the VMCS or vmx_run.c switch. */
static const u32 vmx_passthrough_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE,
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
};

/* MSR bitmap layout: SDM 24.6.9 (read low, read high, write low, high). */
static void vmx_msr_bitmap_init(unsigned long *bitmap)
{
	unsigned int i;

	memset(bitmap, 0xff, PAGE_SIZE);
	for (i = 0; i < ARRAY_SIZE(vmx_passthrough_msrs); i++) {
		u32 msr = vmx_passthrough_msrs[i];
		unsigned int base = msr >= 0xc0000000 ? 1024 : 0;
		unsigned int bit = msr & 0x1fff;

		__clear_bit(bit, (unsigned long *)((u8 *)bitmap + base));
		__clear_bit(bit, (unsigned long *)((u8 *)bitmap + base + 2048));
	}
}

static void vmx_setup_vmcs(struct vmx_vcpu *vmx)
{
	struct vmx_vm *vvm = vmx->vcpu->vm->arch;
	struct desc_ptr idt;
	u64 msr;

	vmx->pin_ctls = vmx_cfg.pin_ctls;
	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, vmx->pin_ctls);
	vmx->proc_ctls = vmx->base_proc;
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, vmx->proc_ctls);
	vmx_tpr_setup_vmcs(vmx);
	vmx->proc2_ctls = vmx_cfg.proc2_ctls;
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, vmx->proc2_ctls);
	vmcs_write(VM_EXIT_CONTROLS, vmx_cfg.exit_ctls);
	vmcs_write(VM_ENTRY_CONTROLS, vmx_cfg.entry_ctls);
	/*
	 * #MC goes to the host. #DB and #AC are reflected back to the guest
	 * so that a guest cannot loop in microcode on them (CVE-2015-5307,
	 * CVE-2015-8104).
	 */
	vmcs_write(EXCEPTION_BITMAP, BIT(X86_TRAP_MC) | BIT(X86_TRAP_DB) |
		   BIT(X86_TRAP_AC));
	vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(CR3_TARGET_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write(MSR_BITMAP, __pa(vmx->msr_bitmap));
	vmcs_write(EPT_POINTER, vvm->eptp);
	if (vmx_cfg.vpid)
		vmcs_write(VIRTUAL_PROCESSOR_ID, vmx->vpid);
	vmcs_write(TSC_OFFSET, 0);
	/* Masked CR bits: the guest reads the shadow, writes exit. */
	vmcs_write(CR0_GUEST_HOST_MASK, vmx_cr0_mask());
	vmcs_write(CR4_GUEST_HOST_MASK, ~vmx_cr4_guest_owned());
	vmcs_write(VMCS_LINK_POINTER, ~0ull);

	/* Host state that is the same on every CPU (SDM 24.5). */
	vmcs_write(HOST_CR0, read_cr0());
	vmcs_write(HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write(HOST_SS_SELECTOR, __KERNEL_DS);
	vmcs_write(HOST_DS_SELECTOR, 0);
	vmcs_write(HOST_ES_SELECTOR, 0);
	vmcs_write(HOST_FS_SELECTOR, 0);
	vmcs_write(HOST_GS_SELECTOR, 0);
	vmcs_write(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	store_idt(&idt);
	vmcs_write(HOST_IDTR_BASE, idt.address);
	vmcs_write(HOST_RIP, (unsigned long)__vsnix_vmx_exit);
	rdmsrl(MSR_IA32_SYSENTER_CS, msr);
	vmcs_write(HOST_IA32_SYSENTER_CS, msr);
	rdmsrl(MSR_IA32_SYSENTER_EIP, msr);
	vmcs_write(HOST_IA32_SYSENTER_EIP, msr);
	rdmsrl(MSR_IA32_CR_PAT, msr);
	vmcs_write(HOST_IA32_PAT, msr);
	rdmsrl(MSR_EFER, msr);
	vmcs_write(HOST_IA32_EFER, msr);
	/* Set before each entry; force the first write. */
	vmx->host_cr3 = 0;
	vmx->host_cr4 = 0;
	vmx->host_fs_base = ~0ull;
}

static void vmx_vcpu_free(struct vsnix_vcpu *vcpu);

static int vmx_vcpu_create(struct vsnix_vcpu *vcpu)
{
	struct vmx_vcpu *vmx;
	int r = -ENOMEM;

	/* to_x86() and to_x86_vm() rely on these being first. */
	BUILD_BUG_ON(offsetof(struct vmx_vcpu, x86) != 0);
	BUILD_BUG_ON(offsetof(struct vmx_vm, x86) != 0);
	vmx = kzalloc(sizeof(*vmx), GFP_KERNEL_ACCOUNT);
	if (!vmx)
		return -ENOMEM;
	vmx->vcpu = vcpu;
	vmx->loaded_cpu = -1;
	INIT_LIST_HEAD(&vmx->loaded_node);
	vmx->vmcs = vsnix_zalloc_page(GFP_KERNEL_ACCOUNT);
	vmx->msr_bitmap = vsnix_zalloc_page(GFP_KERNEL_ACCOUNT);
	if (!vmx->vmcs || !vmx->msr_bitmap || vmx_tpr_create(vmx))
		goto err_free;
	/* SDM 25.2: the VMCS region starts with the revision identifier. */
	*(u32 *)vmx->vmcs = vmx_cfg.revision_id;
	vmx->vmcs_pa = __pa(vmx->vmcs);
	vmx_msr_bitmap_init(vmx->msr_bitmap);
	if (vmx_cfg.vpid) {
		r = ida_alloc_range(&vmx_vpids, 1, 0xffff, GFP_KERNEL);
		if (r < 0)
			goto err_free;
		vmx->vpid = r;
	}
	vcpu->arch = vmx;

	preempt_disable();
	r = -EIO;
	if (!this_cpu_ptr(&vmx_cpus)->enabled) {
		pr_err_ratelimited("vsnix: VMX is off on CPU %d\n",
				   smp_processor_id());
		goto err_preempt;
	}
	/* SDM 25.11.3: VMCLEAR a new VMCS before its first VMPTRLD. */
	if (!vmx_vmclear(vmx->vmcs_pa))
		goto err_preempt;
	r = vmx_vmcs_load(vmx);
	if (r)
		goto err_preempt;
	vmx_setup_vmcs(vmx);
	vmx_set_reset_state(vcpu);
	preempt_enable();
	/* The architectural state, as on SVM (kmod/arch/x86/state.c). */
	r = vsnix_x86_vcpu_reset(vcpu, false);
	if (r) {
		vmx_vcpu_free(vcpu);
		return r;
	}
	return 0;

err_preempt:
	preempt_enable();
	vcpu->arch = NULL;
	if (vmx->vpid)
		ida_free(&vmx_vpids, vmx->vpid);
	if (READ_ONCE(vmx->loaded_cpu) >= 0)
		smp_call_function_single(vmx->loaded_cpu, vmx_vmclear_ipi, vmx,
					 1);
err_free:
	vmx_tpr_free(vmx);
	vsnix_free_page(vmx->msr_bitmap);
	vsnix_free_page(vmx->vmcs);
	kfree(vmx);
	return r;
}

static void vmx_vcpu_free(struct vsnix_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int cpu;

	if (!vmx)
		return;
	/* Acquire pairs with the release in vmx_vmclear_local. */
	cpu = smp_load_acquire(&vmx->loaded_cpu);
	if (cpu >= 0)
		smp_call_function_single(cpu, vmx_vmclear_ipi, vmx, 1);
	/* Still active somewhere: leak it rather than free it. */
	if (smp_load_acquire(&vmx->loaded_cpu) >= 0) {
		pr_err("vsnix: VMCS of vCPU %u still active on CPU %d, leaked\n",
		       vcpu->id, cpu);
	} else {
		vsnix_free_page(vmx->vmcs);
	}
	if (vmx->vpid)
		ida_free(&vmx_vpids, vmx->vpid);
	vmx_tpr_free(vmx);
	vsnix_free_page(vmx->msr_bitmap);
	kfree(vmx);
	vcpu->arch = NULL;
}

const struct vsnix_arch_ops vsnix_vmx_ops = {
	.name = "vmx",
	.vendor = VSNIX_VENDOR_VMX,
	.hardware_probe = vmx_hardware_probe,
	.hardware_unprobe = vmx_hardware_unprobe,
	.cpu_enable = vmx_cpu_enable,
	.cpu_disable = vmx_cpu_disable,
	.cpu_emergency_disable = vmx_cpu_emergency_disable,
	.vm_init = vmx_vm_init,
	.vm_destroy = vmx_vm_destroy,
	.tdp_map = vmx_tdp_map,
	.tdp_unmap = vmx_tdp_unmap,
	.tdp_wrprotect = vmx_tdp_wrprotect,
	.tdp_huge = vmx_tdp_huge,
	.tdp_noexec = vmx_tdp_noexec,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_free = vmx_vcpu_free,
	.vcpu_run = vmx_vcpu_run,
	.handle_exit = vmx_handle_exit,
	.get_regs = vmx_get_regs,
	.set_regs = vmx_set_regs,
	.get_sregs = vmx_get_sregs,
	.set_sregs = vmx_set_sregs,
	.get_msr = vsnix_x86_get_msr,
	.set_msr = vsnix_x86_set_msr,
	.inject_irq = vmx_inject_irq,
	.inject_nmi = vmx_inject_nmi,
	.inject_exception = vmx_inject_exception,
	.enable_irq_window = vmx_enable_irq_window,
	.enable_nmi_window = vmx_enable_nmi_window,
	.interrupt_allowed = vmx_interrupt_allowed,
	.nmi_allowed = vmx_nmi_allowed,
	.get_interrupt_shadow = vmx_get_interrupt_shadow,
	.set_interrupt_shadow = vmx_set_interrupt_shadow,
	.get_nmi_mask = vmx_get_nmi_mask,
	.set_nmi_mask = vmx_set_nmi_mask,
	.get_exit_event = vmx_get_exit_event,
	.get_debugregs = vmx_get_debugregs,
	.set_debugregs = vmx_set_debugregs,
	.vcpu_reset = vmx_vcpu_reset,
};
