// SPDX-License-Identifier: GPL-2.0
/*
 * AMD SVM backend: root mode per CPU, the NPT, the VMCB of a vCPU and the
 * guest entry (AMD APM Vol 2, chapter 15).
 */
#define pr_fmt(fmt) "vsnix: svm: " fmt

#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <asm/cpufeature.h>
#include <asm/io.h>
#include <asm/debugreg.h>
#include <asm/mem_encrypt.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include "svm.h"
#include "../events.h"
#include "../lapic.h"

/* APM 15.10.1 / 15.11: an IOPM of 12 KiB and an MSRPM of 8 KiB. */
#define SVM_IOPM_ORDER		2
#define SVM_IOPM_BYTES		(12 * 1024)
#define SVM_MSRPM_ORDER		1
#define SVM_MSRPM_BYTES		(8 * 1024)

/* Real-mode segment attributes (VMCB format, APM 15.5.1 "Segment state"). */
#define SVM_ATTR_DATA16		0x0093	/* P, S, read/write, accessed */
#define SVM_ATTR_CODE16		0x009b	/* P, S, exec/read, accessed */
#define SVM_ATTR_LDT		0x0082	/* P, LDT */
#define SVM_ATTR_TSS16_BUSY	0x0083	/* P, busy 16-bit TSS */

struct svm_cpu {
	struct page *hsave;	/* VM_HSAVE_PA: the CPU's own host save area */
	struct page *host_vmcb;	/* host FS/GS/TR/... via VMSAVE/VMLOAD */
	bool enabled;		/* we set EFER.SVME on this CPU */
};

static DEFINE_PER_CPU(struct svm_cpu, svm_cpus);

static struct page *svm_iopm;
static struct page *svm_msrpm;
static DEFINE_IDA(svm_asids);
static u32 svm_nr_asids;
static u8 svm_flush_cmd;

bool svm_has_decode_assists;
bool svm_has_nrips;
bool svm_has_v_spec_ctrl;
bool svm_has_tsc_aux;
u64 svm_spec_ctrl_valid;

static u64 svm_page_pa(struct page *page)
{
	return __sme_set(page_to_phys(page));
}

/* ------------------------------------------------------------ probe */

#define SVM_MSR_READ	BIT(0)
#define SVM_MSR_WRITE	BIT(1)

/* APM 15.11: two bits per MSR (read, then write) in three 2 KiB blocks. */
static void svm_msrpm_allow(u8 *msrpm, u32 msr, u8 access)
{
	static const u32 base[] = { 0x00000000, 0xc0000000, 0xc0010000 };
	unsigned int i, bit;

	for (i = 0; i < ARRAY_SIZE(base); i++) {
		if (msr - base[i] < 0x2000) {
			bit = i * 2048 * 8 + (msr - base[i]) * 2;
			msrpm[bit / 8] &= ~(access << (bit % 8));
			return;
		}
	}
}

/*
 * MSRs VMLOAD/VMSAVE switch (APM 15.5.2): safe for the guest to own. The
 * SYSCALL set is written once per boot: its writes exit, so that the
 * canonical check holds where an emulator (QEMU TCG) skips it.
 */
static const struct {
	u32 msr;
	u8 access;
} svm_passthrough_msrs[] = {
	{ MSR_FS_BASE, SVM_MSR_READ | SVM_MSR_WRITE },
	{ MSR_GS_BASE, SVM_MSR_READ | SVM_MSR_WRITE },
	{ MSR_KERNEL_GS_BASE, SVM_MSR_READ | SVM_MSR_WRITE },
	{ MSR_IA32_SYSENTER_CS, SVM_MSR_READ | SVM_MSR_WRITE },
	{ MSR_IA32_SYSENTER_ESP, SVM_MSR_READ | SVM_MSR_WRITE },
	{ MSR_IA32_SYSENTER_EIP, SVM_MSR_READ | SVM_MSR_WRITE },
	{ MSR_STAR, SVM_MSR_READ },
	{ MSR_LSTAR, SVM_MSR_READ },
	{ MSR_CSTAR, SVM_MSR_READ },
	{ MSR_SYSCALL_MASK, SVM_MSR_READ },
};

static void svm_free_cpu_pages(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct svm_cpu *sc = per_cpu_ptr(&svm_cpus, cpu);

		vsnix_free_pages(sc->hsave, 0);
		vsnix_free_pages(sc->host_vmcb, 0);
		sc->hsave = NULL;
		sc->host_vmcb = NULL;
	}
}

static int svm_alloc_maps(void)
{
	unsigned int i;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct svm_cpu *sc = per_cpu_ptr(&svm_cpus, cpu);
		int node = cpu_to_node(cpu);

		sc->hsave = vsnix_alloc_pages(GFP_KERNEL | __GFP_ZERO, node, 0);
		sc->host_vmcb = vsnix_alloc_pages(GFP_KERNEL | __GFP_ZERO, node, 0);
		if (!sc->hsave || !sc->host_vmcb)
			goto fail;
	}

	/* Every port and every MSR exits, but for the pass-through list. */
	svm_iopm = vsnix_alloc_pages(GFP_KERNEL, NUMA_NO_NODE, SVM_IOPM_ORDER);
	svm_msrpm = vsnix_alloc_pages(GFP_KERNEL, NUMA_NO_NODE, SVM_MSRPM_ORDER);
	if (!svm_iopm || !svm_msrpm)
		goto fail;
	memset(page_address(svm_iopm), 0xff, PAGE_SIZE << SVM_IOPM_ORDER);
	memset(page_address(svm_msrpm), 0xff, PAGE_SIZE << SVM_MSRPM_ORDER);
	for (i = 0; i < ARRAY_SIZE(svm_passthrough_msrs); i++)
		svm_msrpm_allow(page_address(svm_msrpm),
				svm_passthrough_msrs[i].msr,
				svm_passthrough_msrs[i].access);
	return 0;

fail:
	vsnix_free_pages(svm_iopm, SVM_IOPM_ORDER);
	vsnix_free_pages(svm_msrpm, SVM_MSRPM_ORDER);
	svm_iopm = NULL;
	svm_msrpm = NULL;
	svm_free_cpu_pages();
	return -ENOMEM;
}

static int svm_hardware_probe(void)
{
	u64 vm_cr;
	int err;

	BUILD_BUG_ON(offsetof(struct svm_vmrun_args, vmcb_pa) != SVM_ARGS_VMCB_PA);
	BUILD_BUG_ON(offsetof(struct svm_vmrun_args, host_save_pa) !=
		     SVM_ARGS_HOST_SAVE_PA);
	BUILD_BUG_ON(offsetof(struct svm_vmrun_args, guest_spec_ctrl) !=
		     SVM_ARGS_GUEST_SPEC_CTRL);
	BUILD_BUG_ON(offsetof(struct svm_vmrun_args, host_spec_ctrl) !=
		     SVM_ARGS_HOST_SPEC_CTRL);
	BUILD_BUG_ON(offsetof(struct svm_vmrun_args, swap_spec_ctrl) !=
		     SVM_ARGS_SWAP_SPEC_CTRL);
	BUILD_BUG_ON(sizeof(struct vmcb) > PAGE_SIZE);
	BUILD_BUG_ON(SVM_IOPM_BYTES > (PAGE_SIZE << SVM_IOPM_ORDER));
	BUILD_BUG_ON(SVM_MSRPM_BYTES > (PAGE_SIZE << SVM_MSRPM_ORDER));

	if (boot_cpu_data.x86_vendor != X86_VENDOR_AMD &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_HYGON) {
		pr_info("not an AMD or Hygon CPU\n");
		return -ENODEV;
	}
	if (!boot_cpu_has(X86_FEATURE_SVM)) {
		pr_info("the CPU has no SVM (CPUID 8000_0001 ECX.SVM)\n");
		return -ENODEV;
	}
	/* APM 15.30.1: VM_CR.SVMDIS set means EFER.SVME cannot be set. */
	if (rdmsrl_safe(MSR_VM_CR, &vm_cr) || (vm_cr & SVM_VM_CR_SVM_DIS_MASK)) {
		pr_info("SVM is disabled by the BIOS (VM_CR.SVMDIS)\n");
		return -ENODEV;
	}
	if (!boot_cpu_has(X86_FEATURE_NPT)) {
		pr_info("the CPU has no nested paging (NPT)\n");
		return -ENODEV;
	}
	/*
	 * Without NRIP save (APM 15.7.1), as under QEMU TCG, the length of an
	 * intercepted instruction comes from its bytes (svm_exit.c).
	 */
	svm_has_nrips = boot_cpu_has(X86_FEATURE_NRIPS);
	svm_nr_asids = cpuid_ebx(SVM_CPUID_FUNC);
	if (svm_nr_asids < 3) {
		pr_info("the CPU reports %u ASIDs\n", svm_nr_asids);
		return -ENODEV;
	}
	svm_has_decode_assists = boot_cpu_has(X86_FEATURE_DECODEASSISTS);
	svm_flush_cmd = boot_cpu_has(X86_FEATURE_FLUSHBYASID) ?
			TLB_CONTROL_FLUSH_ASID : TLB_CONTROL_FLUSH_ALL_ASID;
	svm_has_v_spec_ctrl = boot_cpu_has(X86_FEATURE_V_SPEC_CTRL);
	/* TSC_AUX exists with RDTSCP or RDPID (APM Vol 3, RDTSCP, RDPID). */
	svm_has_tsc_aux = boot_cpu_has(X86_FEATURE_RDTSCP) ||
			  boot_cpu_has(X86_FEATURE_RDPID);
	svm_spec_ctrl_valid = 0;
	if (boot_cpu_has(X86_FEATURE_MSR_SPEC_CTRL)) {
		if (boot_cpu_has(X86_FEATURE_IBRS) ||
		    boot_cpu_has(X86_FEATURE_AMD_IBRS))
			svm_spec_ctrl_valid |= SPEC_CTRL_IBRS;
		if (boot_cpu_has(X86_FEATURE_STIBP) ||
		    boot_cpu_has(X86_FEATURE_AMD_STIBP))
			svm_spec_ctrl_valid |= SPEC_CTRL_STIBP;
		if (boot_cpu_has(X86_FEATURE_SPEC_CTRL_SSBD) ||
		    boot_cpu_has(X86_FEATURE_AMD_SSBD))
			svm_spec_ctrl_valid |= SPEC_CTRL_SSBD;
	}

	err = svm_alloc_maps();
	if (err)
		return err;
	pr_info("SVM with NPT, %u ASIDs%s%s%s\n", svm_nr_asids,
		svm_has_nrips ? ", NRIP save" : "",
		svm_has_decode_assists ? ", decode assists" : "",
		svm_flush_cmd == TLB_CONTROL_FLUSH_ASID ? ", flush by ASID" : "");
	return 0;
}

static void svm_hardware_unprobe(void)
{
	vsnix_free_pages(svm_iopm, SVM_IOPM_ORDER);
	vsnix_free_pages(svm_msrpm, SVM_MSRPM_ORDER);
	svm_iopm = NULL;
	svm_msrpm = NULL;
	svm_free_cpu_pages();
	ida_destroy(&svm_asids);
}

/* ------------------------------------------------------------ root mode */

static int svm_cpu_enable(void)
{
	struct svm_cpu *sc = this_cpu_ptr(&svm_cpus);
	u64 efer, vm_cr;

	rdmsrl(MSR_EFER, efer);
	/* Someone else (kvm_amd) holds SVM on this CPU. */
	if (efer & EFER_SVME)
		return -EBUSY;
	if (rdmsrl_safe(MSR_VM_CR, &vm_cr) || (vm_cr & SVM_VM_CR_SVM_DIS_MASK))
		return -ENODEV;
	if (!sc->hsave)
		return -ENOMEM;

	wrmsrl(MSR_EFER, efer | EFER_SVME);
	/* APM 15.30.4: where VMRUN saves the host's state. */
	wrmsrl(MSR_VM_HSAVE_PA, svm_page_pa(sc->hsave));
	sc->enabled = true;
	return 0;
}

/*
 * Also the emergency disable: it takes no lock and may run in NMI context,
 * even in an NMI that interrupted this very function.
 */
static void svm_cpu_disable(void)
{
	struct svm_cpu *sc = this_cpu_ptr(&svm_cpus);
	u64 efer;

	if (!sc->enabled)
		return;
	wrmsrl(MSR_VM_HSAVE_PA, 0);
	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME) {
		/*
		 * GIF=0 would keep blocking NMIs and INIT once SVM is off.
		 * STGI raises #UD when an NMI cleared EFER.SVME after the read
		 * above; then GIF is 1 already (the NMI was taken): go on.
		 */
		asm goto("1: stgi\n\t"
			 _ASM_EXTABLE(1b, %l[no_svm])
			 ::: "memory" : no_svm);
no_svm:
		wrmsrl(MSR_EFER, efer & ~EFER_SVME);
	}
	sc->enabled = false;
}

/* ------------------------------------------------------------ NPT */

/* NPT walks are user accesses (APM 15.25.5): every level needs U/S. */
#define NPT_TABLE_BITS	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED)

static u64 npt_table_entry(phys_addr_t table)
{
	return __sme_set(table) | NPT_TABLE_BITS;
}

static u64 npt_leaf_entry(phys_addr_t page, bool writable, bool executable)
{
	u64 e = __sme_set(page) | _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;

	/* Dirty set up front: the CPU need not write the entry back. */
	if (writable)
		e |= _PAGE_RW | _PAGE_DIRTY;
	/* Bit 63, valid as the host runs with EFER.NXE (svm_tdp_noexec). */
	if (!executable)
		e |= _PAGE_NX;
	return e;
}

static bool npt_present(u64 entry)
{
	return entry & _PAGE_PRESENT;
}

/* Address bits 51:12 (APM Vol 2, 5.3.3), without the C-bit (7.10.1). */
static phys_addr_t npt_table_addr(u64 entry)
{
	return __sme_clr(entry & GENMASK_ULL(51, 12));
}

/* A PDE with PS (bit 7) maps a 2 MiB page (APM Vol 2, 5.3.4). */
static const struct vsnix_tdp_format svm_npt_format = {
	.table_entry = npt_table_entry,
	.leaf_entry = npt_leaf_entry,
	.present = npt_present,
	.table_addr = npt_table_addr,
	.write_bit = _PAGE_RW,
	.huge_bit = _PAGE_PSE,
};

static int svm_vm_init(struct vsnix_vm *vm)
{
	struct svm_vm *svm_vm;
	int err;

	svm_vm = kzalloc(sizeof(*svm_vm), GFP_KERNEL_ACCOUNT);
	if (!svm_vm)
		return -ENOMEM;
	err = vsnix_tdp_init(&svm_vm->tdp, &svm_npt_format, &vm->mmu_lock);
	if (err) {
		kfree(svm_vm);
		return err;
	}
	vm->arch = svm_vm;
	vsnix_x86_vm_init(vm);
	return 0;
}

static void svm_vm_destroy(struct vsnix_vm *vm)
{
	struct svm_vm *svm_vm = vm->arch;

	if (!svm_vm)
		return;
	vsnix_tdp_destroy(&svm_vm->tdp);
	kfree(svm_vm);
	vm->arch = NULL;
}

static int svm_tdp_map(struct vsnix_vm *vm, u64 gpa, struct page **pages,
		       unsigned long npages, u32 mem_flags)
{
	struct svm_vm *svm_vm = vm->arch;

	return vsnix_tdp_map(&svm_vm->tdp, gpa, pages, npages, mem_flags);
}

/*
 * The nested walk takes EFER.NXE from the host (APM Vol 2, 15.25.5): NX in
 * an NPT entry is reserved unless the CPU has NX, which Linux then enables
 * at boot (head_64.S sets EFER.NX from CPUID 0x80000001 EDX[20]).
 */
static bool svm_tdp_noexec(void)
{
	return boot_cpu_has(X86_FEATURE_NX);
}

/* Long-mode nested tables always have 2 MiB pages (APM Vol 2, 15.25.5). */
static bool svm_tdp_huge(void)
{
	return true;
}

static bool svm_tdp_unmap(struct vsnix_vm *vm, u64 gpa, unsigned long npages)
{
	struct svm_vm *svm_vm = vm->arch;

	return vsnix_tdp_unmap(&svm_vm->tdp, gpa, npages);
}

static bool svm_tdp_wrprotect(struct vsnix_vm *vm, u64 gpa,
			      unsigned long npages)
{
	struct svm_vm *svm_vm = vm->arch;

	return vsnix_tdp_wrprotect(&svm_vm->tdp, gpa, npages);
}

/* ------------------------------------------------------------ vCPU */

static void svm_init_vmcb_control(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct svm_vm *svm_vm = vcpu->vm->arch;
	struct vmcb *vmcb = sv->vmcb;
	static const u32 intercepts[] = {
		INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_SMI, INTERCEPT_INIT,
		INTERCEPT_CPUID, INTERCEPT_HLT, INTERCEPT_IOIO_PROT,
		INTERCEPT_MSR_PROT, INTERCEPT_SHUTDOWN, INTERCEPT_INVD,
		INTERCEPT_TASK_SWITCH, INTERCEPT_RDPMC,
		/* APM 15.5.1: VMRUN must be intercepted. */
		INTERCEPT_VMRUN, INTERCEPT_VMMCALL, INTERCEPT_VMLOAD,
		INTERCEPT_VMSAVE, INTERCEPT_STGI, INTERCEPT_CLGI,
		INTERCEPT_SKINIT, INTERCEPT_INVLPGA, INTERCEPT_WBINVD,
		/* RDTSCP, INVPCID: see svm_follow_cpuid(). */
		INTERCEPT_RDTSCP, INTERCEPT_INVPCID, INTERCEPT_XSETBV, INTERCEPT_MONITOR,
		INTERCEPT_MWAIT, INTERCEPT_MWAIT_COND, INTERCEPT_RDPRU,
		/*
		 * DR0-3 are not in the VMCB: until the guest's are loaded the
		 * host's are live, so every access that could read them or arm
		 * them (a DR7 write, or DR5 aliasing DR7 with CR4.DE clear,
		 * APM Vol 2, 13.1.1) exits first; see svm_exit_dr().
		 */
		INTERCEPT_DR0_READ, INTERCEPT_DR1_READ, INTERCEPT_DR2_READ,
		INTERCEPT_DR3_READ, INTERCEPT_DR0_WRITE, INTERCEPT_DR1_WRITE,
		INTERCEPT_DR2_WRITE, INTERCEPT_DR3_WRITE, INTERCEPT_DR4_WRITE,
		INTERCEPT_DR5_WRITE, INTERCEPT_DR7_WRITE,
		/* CR4 bits follow the guest's CPUID (svm_exit_write_cr4). */
		INTERCEPT_CR4_WRITE,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(intercepts); i++)
		svm_set_intercept(vmcb, intercepts[i]);
	/* CR8 is the LAPIC's TPR: a write may unmask one (svm_load_cr8). */
	if (vcpu->vm->lapic)
		svm_set_intercept(vmcb, INTERCEPT_CR8_WRITE);
	/*
	 * #MC goes to the host. #DB and #AC are reflected so that a guest
	 * cannot loop the CPU in microcode delivering them (CVE-2015-5307,
	 * CVE-2015-8104).
	 */
	svm_set_intercept(vmcb, INTERCEPT_EXCEPTION_OFFSET + MC_VECTOR);
	svm_set_intercept(vmcb, INTERCEPT_EXCEPTION_OFFSET + DB_VECTOR);
	svm_set_intercept(vmcb, INTERCEPT_EXCEPTION_OFFSET + AC_VECTOR);

	vmcb->control.iopm_base_pa = svm_page_pa(svm_iopm);
	vmcb->control.msrpm_base_pa = svm_page_pa(svm_msrpm);
	vmcb->control.asid = sv->asid;
	vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	/* Guest RFLAGS.IF masks only virtual interrupts (APM 15.21.1). */
	vmcb->control.int_ctl = V_INTR_MASKING_MASK;
	vmcb->control.nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	vmcb->control.nested_cr3 = __sme_set(virt_to_phys(svm_vm->tdp.root));
	/* Clean bits 0: the CPU reloads everything at each VMRUN (15.15). */
	vmcb->control.clean = 0;
}

static void svm_vcpu_free(struct vsnix_vcpu *vcpu);

static int svm_vcpu_create(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv;
	struct page *page;
	int asid;

	/* to_x86() and to_x86_vm() rely on these being first. */
	BUILD_BUG_ON(offsetof(struct svm_vcpu, x86) != 0);
	BUILD_BUG_ON(offsetof(struct svm_vm, x86) != 0);
	sv = kzalloc(sizeof(*sv), GFP_KERNEL_ACCOUNT);
	if (!sv)
		return -ENOMEM;
	page = vsnix_alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO, NUMA_NO_NODE, 0);
	if (!page)
		goto no_mem;
	/*
	 * ASID 0 is the host's (APM 15.16). The last one is shared by the
	 * vCPUs that find the pool empty (QEMU TCG has 16): they flush it at
	 * every entry, which keeps them apart at the cost of their TLB.
	 */
	asid = ida_alloc_range(&svm_asids, 1, svm_nr_asids - 2, GFP_KERNEL);
	if (asid < 0) {
		asid = svm_nr_asids - 1;
		sv->asid_shared = true;
	}
	sv->vmcb = page_address(page);
	sv->vmcb_pa = svm_page_pa(page);
	sv->asid = asid;
	vcpu->arch = sv;

	svm_init_vmcb_control(vcpu);
	svm_init_vmcb_state(vcpu);
	if (vsnix_x86_vcpu_reset(vcpu, false)) {
		svm_vcpu_free(vcpu);
		return -EINVAL;
	}
	return 0;

no_mem:
	kfree(sv);
	return -ENOMEM;
}

static void svm_vcpu_free(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);

	if (!sv)
		return;
	if (!sv->asid_shared)
		ida_free(&svm_asids, sv->asid);
	vsnix_free_page(sv->vmcb);
	kfree(sv);
	vcpu->arch = NULL;
}

/* The host's debug registers around one entry. */
struct svm_host_dr {
	unsigned long dr[4];
	unsigned long dr6;
	unsigned long dr7;
};

/*
 * DR7 and DR6 of the guest come from the VMCB at VMRUN; DR0-3 do not
 * (APM Vol 2, 15.5.1). With the host's breakpoints disabled first, no
 * host #DB can fire on a guest address while DR0-3 are the guest's.
 */
static void svm_load_guest_dr(struct svm_vcpu *sv, struct svm_host_dr *h)
{
	int i;

	if (h->dr7 & (DR_LOCAL_ENABLE_MASK | DR_GLOBAL_ENABLE_MASK))
		set_debugreg(0, 7);
	for (i = 0; i < 4; i++) {
		get_debugreg(h->dr[i], i);
		set_debugreg(sv->dr[i], i);
	}
}

/*
 * #VMEXIT leaves all breakpoints disabled in DR7 (APM Vol 2, 15.6): the
 * host's DR0-3 go back before its DR7 arms them again.
 */
static void svm_put_guest_dr(struct svm_vcpu *sv, struct svm_host_dr *h)
{
	int i;

	for (i = 0; i < 4; i++) {
		get_debugreg(sv->dr[i], i);
		set_debugreg(h->dr[i], i);
	}
}

/*
 * RDPID cannot be intercepted (and RDTSCP, where it runs, reads the same
 * MSR): the guest's TSC_AUX is loaded for the entry only. GIF is clear
 * here, and the kernel itself never reads TSC_AUX.
 */
static u64 svm_tsc_aux_enter(struct svm_vcpu *sv)
{
	u64 host;

	if (!svm_has_tsc_aux)
		return 0;
	rdmsrl(MSR_TSC_AUX, host);
	if (host != sv->tsc_aux)
		wrmsrl(MSR_TSC_AUX, sv->tsc_aux);
	return host;
}

/* Guest writes to TSC_AUX exit (MSRPM), so the loaded value is known. */
static void svm_tsc_aux_exit(struct svm_vcpu *sv, u64 host)
{
	if (svm_has_tsc_aux && host != sv->tsc_aux)
		wrmsrl(MSR_TSC_AUX, host);
}

/*
 * CR4 is not intercepted, so a guest can set CR4.PKE and WRPKRU whatever
 * CPUID says; the kernel's FPU swap leaves PKRU alone. Keep the guest's
 * value apart so that host user memory is checked with the host's keys.
 */
static u32 svm_pkru_enter(struct svm_vcpu *sv)
{
	u32 host;

	if (!boot_cpu_has(X86_FEATURE_OSPKE))
		return 0;
	host = rdpkru();
	if ((sv->vmcb->save.cr4 & X86_CR4_PKE) && sv->pkru != host)
		wrpkru(sv->pkru);
	return host;
}

static void svm_pkru_exit(struct svm_vcpu *sv, u32 host)
{
	if (!boot_cpu_has(X86_FEATURE_OSPKE))
		return;
	if (sv->vmcb->save.cr4 & X86_CR4_PKE)
		sv->pkru = rdpkru();
	if (rdpkru() != host)
		wrpkru(host);
}

static int svm_fail_entry(struct vsnix_vcpu *vcpu, u64 reason)
{
	vcpu->run->exit_reason = VSNIX_EXIT_FAIL_ENTRY;
	vcpu->run->fail_entry.hardware_entry_failure_reason = reason;
	vcpu->run->fail_entry.cpu = smp_processor_id();
	return -EIO;
}

/*
 * RDTSCP and INVPCID run natively where the guest's CPUID has them and
 * raise #UD where it hides them (the intercepts, svm_exit_ud), as VMX's
 * secondary controls do. A host without the instruction raises #UD itself.
 */
static void svm_follow_cpuid(struct vsnix_vcpu *vcpu, struct vmcb *vmcb)
{
	const struct vsnix_x86_features *f = &to_x86(vcpu)->feat;

	if (f->rdtscp)
		svm_clr_intercept(vmcb, INTERCEPT_RDTSCP);
	else
		svm_set_intercept(vmcb, INTERCEPT_RDTSCP);
	if (f->invpcid)
		svm_clr_intercept(vmcb, INTERCEPT_INVPCID);
	else
		svm_set_intercept(vmcb, INTERCEPT_INVPCID);
}

/* The VMCB and the VMRUN arguments for one entry, with preemption off. */
static void svm_prepare_entry(struct vsnix_vcpu *vcpu, struct svm_cpu *sc,
			      struct svm_vmrun_args *args)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb *vmcb = sv->vmcb;
	int cpu = smp_processor_id();

	/*
	 * ASIDs are unique per vCPU, so only this vCPU's stale entries can
	 * be in this CPU's TLB: flush them when it arrives from elsewhere.
	 */
	if (vcpu->cpu != cpu) {
		vmcb->control.tlb_ctl = svm_flush_cmd;
		vcpu->cpu = cpu;
	}
	if (vsnix_vcpu_check_request(vcpu, VSNIX_REQ_TLB_FLUSH) ||
	    sv->asid_shared)
		vmcb->control.tlb_ctl = svm_flush_cmd;

	svm_follow_cpuid(vcpu, vmcb);
	if (vcpu->lapic)
		svm_load_cr8(vcpu, vmcb);

	vmcb->save.rax = vcpu->gpr[VSNIX_RAX];
	vmcb->save.rsp = vcpu->gpr[VSNIX_RSP];
	vmcb->save.rip = vcpu->rip;
	vmcb->save.rflags = vcpu->rflags;

	args->vmcb_pa = sv->vmcb_pa;
	args->host_save_pa = svm_page_pa(sc->host_vmcb);
	args->guest_spec_ctrl = sv->spec_ctrl;
	args->host_spec_ctrl = this_cpu_read(x86_spec_ctrl_current);
	args->swap_spec_ctrl = !svm_has_v_spec_ctrl &&
			       boot_cpu_has(X86_FEATURE_MSR_SPEC_CTRL);
	if (svm_has_v_spec_ctrl)
		vmcb->save.spec_ctrl = sv->spec_ctrl;
}

/*
 * A #VMEXIT saves the guest's state in the VMCB (APM 15.6). Under QEMU's
 * TCG (7.2), now and then the VMCB holds the host's own state instead: our
 * CR3, RAX = the VMCB's address (as at VMRUN), RIP just past VMRUN, as if
 * a second #VMEXIT had run right after the first. The guest's state is
 * gone then: entering again would run host values as the guest. Seen
 * only under that emulator; a guest cannot produce it (it does not know
 * the host's CR3 and the VMCB's address).
 */
static bool svm_exit_saved_host_state(const struct vmcb *vmcb,
				      const struct svm_vmrun_args *args,
				      unsigned long host_cr3)
{
	unsigned long vmrun = (unsigned long)__vsnix_svm_vmrun;

	return vmcb->save.cr3 == host_cr3 && vmcb->save.rax == args->vmcb_pa &&
	       vmcb->save.rip - vmrun < SZ_1K;
}

static int svm_vcpu_run(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb *vmcb = sv->vmcb;
	struct svm_cpu *sc = this_cpu_ptr(&svm_cpus);
	struct svm_vmrun_args args;
	struct svm_host_dr host_dr;
	unsigned long host_cr3 = __read_cr3();
	u64 host_tsc_aux;
	u32 host_pkru;

	/* After SHUTDOWN the VMCB is undefined (APM 15.12) until reset. */
	if (sv->shutdown) {
		sv->exit_code = SVM_EXIT_SHUTDOWN;
		return VSNIX_RAN;
	}
	svm_prepare_entry(vcpu, sc, &args);

	local_irq_disable();
	/*
	 * Root mode is checked with interrupts off: the reboot IPI that
	 * clears EFER.SVME cannot come between the check and CLGI, which
	 * raises #UD without it (APM Vol 3, CLGI).
	 */
	if (!sc->enabled) {
		local_irq_enable();
		return svm_fail_entry(vcpu, SVM_EXIT_ERR);
	}
	/* Events after IRQs are off: see vsnix_x86_inject_events(). */
	svm_clear_events(vcpu);
	vsnix_x86_inject_events(vcpu);
	svm_shadow_entry(vcpu);
	asm volatile("clgi" ::: "memory");
	if (!vsnix_vcpu_enter_prepare(vcpu)) {
		asm volatile("stgi" ::: "memory");
		local_irq_enable();
		return VSNIX_SKIPPED;
	}

	vsnix_x86_fpu_enter(vcpu);
	host_pkru = svm_pkru_enter(sv);
	host_tsc_aux = svm_tsc_aux_enter(sv);
	get_debugreg(host_dr.dr7, 7);
	get_debugreg(host_dr.dr6, 6);
	if (sv->dr_active)
		svm_load_guest_dr(sv, &host_dr);

	/* The host's FS, GS, TR, KernelGSbase, STAR, ... for the way back. */
	asm volatile("vmsave %%rax" : : "a"(args.host_save_pa) : "memory");

	/*
	 * The host's RFLAGS.IF at VMRUN decides whether physical interrupts
	 * exit the guest (V_INTR_MASKING, APM 15.21.1). GIF=0 keeps them
	 * pending until stgi, so IF=1 here delivers nothing to the host.
	 */
	raw_local_irq_enable();
	amd_clear_divider();
	__vsnix_svm_vmrun(vcpu->gpr, &args);
	raw_local_irq_disable();
	sv->lost_state = svm_exit_saved_host_state(vmcb, &args, host_cr3);

	if (sv->dr_active)
		svm_put_guest_dr(sv, &host_dr);
	set_debugreg(host_dr.dr6, 6);
	set_debugreg(host_dr.dr7, 7);
	svm_tsc_aux_exit(sv, host_tsc_aux);
	svm_pkru_exit(sv, host_pkru);
	vsnix_x86_fpu_exit(vcpu);

	vcpu->gpr[VSNIX_RAX] = vmcb->save.rax;
	vcpu->gpr[VSNIX_RSP] = vmcb->save.rsp;
	vcpu->rip = vmcb->save.rip;
	sv->exit_rip = vcpu->rip;
	vcpu->rflags = vmcb->save.rflags;
	if (svm_has_v_spec_ctrl)
		sv->spec_ctrl = vmcb->save.spec_ctrl;
	sv->exit_code = vmcb->control.exit_code |
			((u64)vmcb->control.exit_code_hi << 32);
	vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	svm_events_exited(vcpu);

	asm volatile("stgi" ::: "memory");
	vsnix_vcpu_exit_done(vcpu);
	local_irq_enable();
	return VSNIX_RAN;
}

const struct vsnix_arch_ops vsnix_svm_ops = {
	.name = "svm",
	.vendor = VSNIX_VENDOR_SVM,
	.hardware_probe = svm_hardware_probe,
	.hardware_unprobe = svm_hardware_unprobe,
	.cpu_enable = svm_cpu_enable,
	.cpu_disable = svm_cpu_disable,
	.cpu_emergency_disable = svm_cpu_disable,
	.vm_init = svm_vm_init,
	.vm_destroy = svm_vm_destroy,
	.tdp_map = svm_tdp_map,
	.tdp_unmap = svm_tdp_unmap,
	.tdp_wrprotect = svm_tdp_wrprotect,
	.tdp_huge = svm_tdp_huge,
	.tdp_noexec = svm_tdp_noexec,
	.vcpu_create = svm_vcpu_create,
	.vcpu_free = svm_vcpu_free,
	.vcpu_run = svm_vcpu_run,
	.handle_exit = svm_handle_exit,
	.get_regs = svm_get_regs,
	.set_regs = svm_set_regs,
	.get_sregs = svm_get_sregs,
	.set_sregs = svm_set_sregs,
	.get_msr = vsnix_x86_get_msr,
	.set_msr = vsnix_x86_set_msr,
	.inject_irq = svm_inject_irq,
	.inject_nmi = svm_inject_nmi,
	.inject_exception = svm_inject_exception,
	.enable_irq_window = svm_enable_irq_window,
	.enable_nmi_window = svm_enable_nmi_window,
	.interrupt_allowed = svm_interrupt_allowed,
	.nmi_allowed = svm_nmi_allowed,
	.get_interrupt_shadow = svm_get_interrupt_shadow,
	.set_interrupt_shadow = svm_set_interrupt_shadow,
	.get_nmi_mask = svm_get_nmi_mask,
	.set_nmi_mask = svm_set_nmi_mask,
	.get_exit_event = svm_get_exit_event,
	.set_virq = svm_set_virq,
	.virq_taken = svm_virq_taken,
	.get_debugregs = svm_get_debugregs,
	.set_debugregs = svm_set_debugregs,
	.vcpu_reset = svm_vcpu_reset,
};
