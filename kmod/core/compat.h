/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernel series vsnix is built for: Debian
 * bookworm's 6.1 and the 6.12 series. Every version check lives here.
 */
#ifndef VSNIX_COMPAT_H
#define VSNIX_COMPAT_H

#include <linux/version.h>

/*
 * 6.2: the non-IST NMI entry that VMX calls after an NMI exit was renamed
 * for KVM's VMX (and is built only with CONFIG_KVM_INTEL).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define VSNIX_ASM_EXC_NMI_NOIST	asm_exc_nmi_kvm_vmx
#else
#define VSNIX_ASM_EXC_NMI_NOIST	asm_exc_nmi_noist
#endif

#ifndef __ASSEMBLY__
#include <linux/smp.h>
#include <linux/syscore_ops.h>

/* 6.5: get_user_pages_remote() lost its vmas argument. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define vsnix_gup_remote(mm, addr, flags, pagep) \
	get_user_pages_remote(mm, addr, 1, flags, pagep, NULL)
#else
#define vsnix_gup_remote(mm, addr, flags, pagep) \
	get_user_pages_remote(mm, addr, 1, flags, pagep, NULL, NULL)
#endif

/* 6.4: smp_send_reschedule() became a macro that traces the IPI. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#include <trace/events/ipi.h>
#endif

/* 6.12: the unaligned accessors moved from asm/ to linux/. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/*
 * Syscore callbacks take a context pointer and register a struct syscore
 * in newer kernels and in 6.12.117 of the stable series: no version number
 * tells 6.12.116 from .117, so Kbuild probes the header for it.
 */
#ifdef VSNIX_SYSCORE_DATA
#define VSNIX_SYSCORE_ARGS	void *data
#define VSNIX_SYSCORE(name, suspend_fn, resume_fn, shutdown_fn)	\
	static const struct syscore_ops name##_ops = {			\
		.suspend = suspend_fn,					\
		.resume = resume_fn,					\
		.shutdown = shutdown_fn,				\
	};								\
	static struct syscore name = { .ops = &name##_ops }
#define vsnix_register_syscore(s)	register_syscore(s)
#define vsnix_unregister_syscore(s)	unregister_syscore(s)
#else
#define VSNIX_SYSCORE_ARGS	void
#define VSNIX_SYSCORE(name, suspend_fn, resume_fn, shutdown_fn)	\
	static struct syscore_ops name = {				\
		.suspend = suspend_fn,					\
		.resume = resume_fn,					\
		.shutdown = shutdown_fn,				\
	}
#define vsnix_register_syscore(s)	register_syscore_ops(s)
#define vsnix_unregister_syscore(s)	unregister_syscore_ops(s)
#endif

/*
 * 6.7: vfs_iter_write() takes the file's freeze protection itself; before,
 * its caller does (as kernel_write() does for its own callers).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#define vsnix_file_start_write(file)	do { } while (0)
#define vsnix_file_end_write(file)	do { } while (0)
#else
#define vsnix_file_start_write(file)	file_start_write(file)
#define vsnix_file_end_write(file)	file_end_write(file)
#endif

/* 6.8: eventfd_signal() lost its count argument (always 1 since). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define vsnix_eventfd_signal(ctx)	eventfd_signal(ctx)
#else
#define vsnix_eventfd_signal(ctx)	eventfd_signal(ctx, 1)
#endif

#endif /* !__ASSEMBLY__ */
#endif /* VSNIX_COMPAT_H */
