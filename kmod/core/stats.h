/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Statistics (Documentation/observability.rst): plain per-vCPU counters,
 * written only by the vCPU's own thread (no atomics on the hot path) and
 * summed per VM when a stats fd is read; per-device I/O counters are
 * per-CPU. Readers may see a counter a moment old, never a torn one
 * (aligned u64 stores on x86-64).
 */
#ifndef VSNIX_CORE_STATS_H
#define VSNIX_CORE_STATS_H

#include <linux/types.h>

/* Vendor-neutral exit reasons (the tracepoint's "reason" field). */
enum vsnix_stat_exit {
	VSNIX_STAT_EXIT_OTHER,		/* none of the below */
	VSNIX_STAT_EXIT_EXTINT,		/* a host interrupt */
	VSNIX_STAT_EXIT_NMI,
	VSNIX_STAT_EXIT_INTR_WINDOW,	/* the guest can take an interrupt */
	VSNIX_STAT_EXIT_NMI_WINDOW,
	VSNIX_STAT_EXIT_EXCEPTION,
	VSNIX_STAT_EXIT_CPUID,
	VSNIX_STAT_EXIT_HLT,
	VSNIX_STAT_EXIT_IO,		/* IN/OUT/INS/OUTS */
	VSNIX_STAT_EXIT_NPF,		/* NPF, EPT violation/misconfig: MMIO */
	VSNIX_STAT_EXIT_MSR,		/* RDMSR and WRMSR */
	VSNIX_STAT_EXIT_CR,
	VSNIX_STAT_EXIT_DR,
	VSNIX_STAT_EXIT_XSETBV,
	VSNIX_STAT_EXIT_INVD,		/* INVD, WBINVD */
	VSNIX_STAT_EXIT_SHUTDOWN,	/* shutdown, triple fault */
	VSNIX_STAT_EXIT_UD,		/* instructions answered with #UD */
	VSNIX_STAT_EXIT_NR
};

/* HVT hypercall numbers 1..8 (uapi/linux/vsnix_hvt.h); 0: out of range. */
#define VSNIX_STAT_HVT_NR	9

/* One vCPU's counters: all u64, in the order of the descriptors. */
struct vsnix_vcpu_stat {
	u64 exits;
	u64 exit_reason[VSNIX_STAT_EXIT_NR];
	u64 user_exits;		/* RUN returned to userspace */
	u64 halts;		/* HLT slept in the kernel */
	u64 halt_ns;
	u64 inj_irq;
	u64 inj_nmi;
	u64 inj_exception;
	u64 hypercalls;
	u64 hypercall[VSNIX_STAT_HVT_NR];
	u64 pio_kernel;		/* served by an in-kernel device */
	u64 pio_user;		/* exits to userspace */
	u64 mmio_kernel;
	u64 mmio_user;
	u64 io_bytes_kernel;
	u64 io_bytes_user;
	u64 ioeventfd;		/* writes an ioeventfd took */
	u64 pv_eoi;		/* EOIs the guest made through the PV EOI flag */
};

/* Per device, per CPU. */
struct vsnix_io_dev_stat {
	u64 accesses;
	u64 bytes;
};

/* Per-vCPU tracing timestamps: written only while the events are on. */
struct vsnix_vcpu_trace {
	u64 entry_ns;
	u64 exit_ns;
};

struct vsnix_vcpu;
struct vsnix_vm;

/*
 * Called by the vendor's handle_exit, once per exit: counts it and traces
 * it (reason: VSNIX_STAT_EXIT_*, raw: the vendor's exit code).
 */
void vsnix_vcpu_exited(struct vsnix_vcpu *vcpu, u32 reason, u64 raw);
/* Tracing on: the entry event and the entry's timestamp. */
void vsnix_trace_entry(struct vsnix_vcpu *vcpu);

/* stats.c: the VM list, stats fds and their ioctls. */
void vsnix_vm_register(struct vsnix_vm *vm);
void vsnix_vm_unregister(struct vsnix_vm *vm);
long vsnix_stats_vm_ioctl(struct vsnix_vm *vm, unsigned int cmd,
			  unsigned long arg);
long vsnix_stats_vcpu_fd(struct vsnix_vcpu *vcpu);
long vsnix_stats_dev_ioctl(unsigned int cmd, unsigned long arg);
int vsnix_io_dev_stat_alloc(struct vsnix_io_dev_stat __percpu **st);

#endif /* VSNIX_CORE_STATS_H */
