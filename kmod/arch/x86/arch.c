// SPDX-License-Identifier: GPL-2.0
/*
 * The x86 side of the core's arch interface (kmod/core/arch.h): thin
 * functions over the vendor's ops table (vsnix_ops, picked at load from
 * the CPU vendor) and the x86 layer. The vCPU ioctls are in vcpu_ioctl.c.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <asm/processor.h>
#include "../../core/arch.h"
#include "x86.h"
#include "events.h"
#include "lapic.h"

const struct vsnix_arch_ops *vsnix_ops;

/* ------------------------------------------------------- module, /dev */

static const struct vsnix_arch_ops *vsnix_pick_backend(void)
{
	switch (boot_cpu_data.x86_vendor) {
	case X86_VENDOR_AMD:
	case X86_VENDOR_HYGON:
		return &vsnix_svm_ops;
	case X86_VENDOR_INTEL:
	case X86_VENDOR_ZHAOXIN:
	case X86_VENDOR_CENTAUR:
		return &vsnix_vmx_ops;
	default:
		return NULL;
	}
}

int vsnix_arch_init(void)
{
	vsnix_ops = vsnix_pick_backend();
	if (!vsnix_ops) {
		pr_info("no supported CPU vendor\n");
		return -ENODEV;
	}
	return vsnix_ops->hardware_probe();
}

void vsnix_arch_exit(void)
{
	vsnix_ops->hardware_unprobe();
}

const char *vsnix_arch_name(void)
{
	return vsnix_ops->name;
}

long vsnix_arch_check_extension(unsigned long cap)
{
	switch (cap) {
	case VSNIX_CAP_VENDOR:
		return vsnix_ops->vendor;
	case VSNIX_CAP_XSAVE:
	case VSNIX_CAP_REAL_MODE:
	case VSNIX_CAP_INJECT_EVENT:
	case VSNIX_CAP_MSR_LIST:
	case VSNIX_CAP_VCPU_EVENTS:
	case VSNIX_CAP_LAPIC:
		return 1;
	case VSNIX_CAP_EXTINT_QUEUE:
		return VSNIX_MAX_QUEUED_IRQS;
	case VSNIX_CAP_NOEXEC_MEM:
		return vsnix_ops->tdp_noexec();
	case VSNIX_CAP_HUGE_TDP:
		return vsnix_ops->tdp_huge();
	default:
		return 0;
	}
}

long vsnix_arch_dev_ioctl(unsigned int cmd, unsigned long arg)
{
	if (cmd == VSNIX_GET_SUPPORTED_CPUID)
		return vsnix_get_supported_cpuid((void __user *)arg);
	return -ENOIOCTLCMD;
}

/* ------------------------------------------------------- root mode */

int vsnix_arch_cpu_enable(void)
{
	return vsnix_ops->cpu_enable();
}

void vsnix_arch_cpu_disable(void)
{
	vsnix_ops->cpu_disable();
}

void vsnix_arch_cpu_emergency_disable(void)
{
	vsnix_ops->cpu_emergency_disable();
}

/*
 * KVM holds SVM/VMX while it has VMs and, from Linux 6.12, from the moment
 * it loads unless kvm.enable_virt_at_load=0: name both ways out.
 */
void vsnix_arch_report_busy(void)
{
	bool svm = vsnix_ops->vendor == VSNIX_VENDOR_SVM;

	pr_err("%s is in use by another hypervisor (%s already set): unload %s, or load kvm with kvm.enable_virt_at_load=0 and close its VMs\n",
	       vsnix_ops->name, svm ? "EFER.SVME" : "CR4.VMXE",
	       svm ? "kvm_amd" : "kvm_intel");
}

int vsnix_arch_emergency_init(void)
{
	return vsnix_x86_emergency_init();
}

void vsnix_arch_emergency_exit(void)
{
	vsnix_x86_emergency_exit();
}

void vsnix_arch_emergency_leave_all(void)
{
	vsnix_x86_emergency_leave_all();
}

/* ------------------------------------------------------- VM */

int vsnix_arch_vm_init(struct vsnix_vm *vm)
{
	int ret;

	mutex_init(&vm->cpuid_lock);
	ret = vsnix_vm_cpuid_init(vm);
	if (ret)
		return ret;
	ret = vsnix_ops->vm_init(vm);
	if (ret)
		vsnix_vm_cpuid_free(vm);
	return ret;
}

void vsnix_arch_vm_destroy(struct vsnix_vm *vm)
{
	vsnix_ops->vm_destroy(vm);
	vsnix_vm_cpuid_free(vm);
}

long vsnix_arch_vm_ioctl(struct vsnix_vm *vm, unsigned int cmd,
			 unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case VSNIX_SET_CPUID:
		return vsnix_vm_set_cpuid(vm, argp);
	case VSNIX_GET_CPUID:
		return vsnix_vm_get_cpuid(vm, argp);
	case VSNIX_GET_MSR_INDEX_LIST:
		return vsnix_x86_msr_list(vm, argp);
	case VSNIX_CREATE_LAPIC:
		return vsnix_lapic_vm_enable(vm, arg);
	}
	return -ENOIOCTLCMD;
}

int vsnix_arch_tdp_map(struct vsnix_vm *vm, u64 gpa, struct page **pages,
		       unsigned long npages, u32 mem_flags)
{
	return vsnix_ops->tdp_map(vm, gpa, pages, npages, mem_flags);
}

bool vsnix_arch_tdp_unmap(struct vsnix_vm *vm, u64 gpa, unsigned long npages)
{
	lockdep_assert_held(&vm->mmu_lock);
	return vsnix_ops->tdp_unmap(vm, gpa, npages);
}

bool vsnix_arch_tdp_wrprotect(struct vsnix_vm *vm, u64 gpa,
			      unsigned long npages)
{
	lockdep_assert_held(&vm->mmu_lock);
	return vsnix_ops->tdp_wrprotect(vm, gpa, npages);
}

bool vsnix_arch_tdp_noexec(void)
{
	return vsnix_ops->tdp_noexec();
}

bool vsnix_arch_tdp_huge(void)
{
	return vsnix_ops->tdp_huge();
}

/* ------------------------------------------------------- vCPU */

int vsnix_arch_vcpu_create(struct vsnix_vcpu *vcpu)
{
	int r;

	r = vsnix_x86_fpu_init(vcpu);
	if (r)
		return r;
	r = vsnix_x86_events_create(vcpu);
	if (r)
		goto err_fpu;
	r = vsnix_ops->vcpu_create(vcpu);
	if (r)
		goto err_events;
	r = vsnix_lapic_create(vcpu);
	if (r)
		goto err_vcpu;
	return 0;

err_vcpu:
	vsnix_ops->vcpu_free(vcpu);
err_events:
	vsnix_x86_events_free(vcpu);
err_fpu:
	vsnix_x86_fpu_free(vcpu);
	return r;
}

void vsnix_arch_vcpu_destroy(struct vsnix_vcpu *vcpu)
{
	vsnix_lapic_free(vcpu);
	vsnix_ops->vcpu_free(vcpu);
	vsnix_x86_events_free(vcpu);
	vsnix_x86_fpu_free(vcpu);
}

void vsnix_arch_vcpu_run_begin(struct vsnix_vcpu *vcpu)
{
	/* The guest's CPUID may have changed since the last RUN. */
	vsnix_x86_refresh_features(vcpu);
	if (vcpu->pending != VSNIX_PENDING_NONE)
		vsnix_x86_complete_pending(vcpu);
}

void vsnix_arch_vcpu_load(struct vsnix_vcpu *vcpu)
{
	vsnix_x86_fpu_load(vcpu);
}

/* PV EOI: an entry that did not happen left the flag set; take it back. */
void vsnix_arch_vcpu_put(struct vsnix_vcpu *vcpu)
{
	vsnix_lapic_pv_eoi_sync(vcpu);
	vsnix_x86_fpu_put(vcpu);
}

int vsnix_arch_vcpu_ready(struct vsnix_vcpu *vcpu)
{
	vsnix_lapic_pv_eoi_sync(vcpu);
	return vsnix_x86_vcpu_ready(vcpu);
}

int vsnix_arch_vcpu_enter(struct vsnix_vcpu *vcpu)
{
	return vsnix_ops->vcpu_run(vcpu);
}

int vsnix_arch_handle_exit(struct vsnix_vcpu *vcpu)
{
	/* The guest's EOI through the flag comes before what made it exit. */
	vsnix_lapic_pv_eoi_sync(vcpu);
	return vsnix_ops->handle_exit(vcpu);
}
