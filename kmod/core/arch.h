/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one interface between kmod/core and the architecture: every call the
 * core makes into arch code is declared here, and this is the only file of
 * kmod/core that includes a header of kmod/arch (its types). The x86 layer
 * implements it in kmod/arch/x86/arch.c, on top of the vendor's ops table;
 * scripts/check-core-arch.sh (make check) keeps the rule.
 *
 * Unless said otherwise: process context, may sleep; vCPU functions run
 * with the vCPU's mutex held, VM functions with no VM lock held.
 */
#ifndef VSNIX_CORE_ARCH_H
#define VSNIX_CORE_ARCH_H

#include <linux/types.h>
#include "../arch/x86/arch_types.h"

struct vsnix_vm;
struct vsnix_vcpu;
struct page;

/* vsnix_arch_vcpu_enter: an exit to handle, or the entry was refused. */
#define VSNIX_RAN	1
#define VSNIX_SKIPPED	0

/* ------------------------------------------------------- module, /dev */

/* Module init: pick the vendor and probe the CPU; -ENODEV + a message. */
int vsnix_arch_init(void);
void vsnix_arch_exit(void);
/* The backend's name for messages ("svm", "vmx"). */
const char *vsnix_arch_name(void);
/* VSNIX_CHECK_EXTENSION for the arch's capabilities; 0 when unknown. */
long vsnix_arch_check_extension(unsigned long cap);
/* /dev/vsnix ioctls of the arch; -ENOIOCTLCMD when cmd is not one. */
long vsnix_arch_dev_ioctl(unsigned int cmd, unsigned long arg);

/* ------------------------------------------------------- root mode */

/*
 * Enter/leave root mode on the calling CPU, IRQs off. enable: -EBUSY when
 * another hypervisor holds the CPU (nothing printed: the core then calls
 * vsnix_arch_report_busy once). disable is safe on a CPU not enabled.
 */
int vsnix_arch_cpu_enable(void);
void vsnix_arch_cpu_disable(void);
/* NMI and crash context: no lock, no message. */
void vsnix_arch_cpu_emergency_disable(void);
void vsnix_arch_report_busy(void);
/* The crash/NMI paths that leave root mode (kmod/arch/x86/emergency.c). */
int vsnix_arch_emergency_init(void);
void vsnix_arch_emergency_exit(void);
/* Panic: root mode off here and on every other online CPU. */
void vsnix_arch_emergency_leave_all(void);

/* ------------------------------------------------------- VM */

/* After root mode is held; undone by vsnix_arch_vm_destroy. */
int vsnix_arch_vm_init(struct vsnix_vm *vm);
void vsnix_arch_vm_destroy(struct vsnix_vm *vm);
/* VM fd ioctls of the arch; -ENOIOCTLCMD when cmd is not one. */
long vsnix_arch_vm_ioctl(struct vsnix_vm *vm, unsigned int cmd,
			 unsigned long arg);

/*
 * Two-dimensional paging (NPT/EPT). map: pinned pages [gpa, +npages) with
 * the slot's VSNIX_MEM_* flags; takes vm->mmu_lock. unmap/wrprotect: with
 * vm->mmu_lock held; true when an entry changed (the caller then flushes
 * with vsnix_vm_flush_tlbs before it drops the lock).
 */
int vsnix_arch_tdp_map(struct vsnix_vm *vm, u64 gpa, struct page **pages,
		       unsigned long npages, u32 mem_flags);
bool vsnix_arch_tdp_unmap(struct vsnix_vm *vm, u64 gpa,
			  unsigned long npages);
bool vsnix_arch_tdp_wrprotect(struct vsnix_vm *vm, u64 gpa,
			      unsigned long npages);
/* Can TDP entries refuse instruction fetches / map 2 MiB pages? */
bool vsnix_arch_tdp_noexec(void);
bool vsnix_arch_tdp_huge(void);

/* ------------------------------------------------------- vCPU */

/* The vCPU's arch state, in the reset state; vm->lock held. */
int vsnix_arch_vcpu_create(struct vsnix_vcpu *vcpu);
void vsnix_arch_vcpu_destroy(struct vsnix_vcpu *vcpu);

/*
 * The run loop, in this order: run_begin (the guest's CPUID may have
 * changed; finish the exit userspace served), load (guest FPU) once,
 * then per entry ready, enter, handle_exit, and put at the end.
 */
void vsnix_arch_vcpu_run_begin(struct vsnix_vcpu *vcpu);
void vsnix_arch_vcpu_load(struct vsnix_vcpu *vcpu);
void vsnix_arch_vcpu_put(struct vsnix_vcpu *vcpu);
/*
 * May the vCPU enter? 1: yes; 0: run is filled, back to userspace (the
 * vCPU halted with nothing to wake it); -EINTR: a signal while it slept.
 */
int vsnix_arch_vcpu_ready(struct vsnix_vcpu *vcpu);
/*
 * Enter the guest once, preemption disabled by the caller: VSNIX_RAN (an
 * exit to handle), VSNIX_SKIPPED (entry refused, retry) or -errno (the
 * entry failed, run->fail_entry is filled).
 */
int vsnix_arch_vcpu_enter(struct vsnix_vcpu *vcpu);
/* Preemptible. 1: resume; 0: run is filled, return to userspace; -errno. */
int vsnix_arch_handle_exit(struct vsnix_vcpu *vcpu);

/* vCPU fd ioctls of the arch; -ENOIOCTLCMD when cmd is not one. */
long vsnix_arch_vcpu_ioctl(struct vsnix_vcpu *vcpu, unsigned int cmd,
			   void __user *argp);
/* The same, for the ioctls that run without the vCPU's mutex. */
long vsnix_arch_vcpu_async_ioctl(struct vsnix_vcpu *vcpu, unsigned int cmd,
				 void __user *argp);

#endif /* VSNIX_CORE_ARCH_H */
