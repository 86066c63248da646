/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The x86 event layer (events.c): what a vCPU must be delivered (queued
 * external interrupts, a latched NMI, one pending exception, INIT/SIPI),
 * the event an exit interrupted, HLT in the kernel, and the vCPU event
 * state of the ABI. The vendors only load one event into the VMCB/VMCS
 * and open windows, through the hooks of struct vsnix_arch_ops.
 */
#ifndef VSNIX_X86_EVENTS_H
#define VSNIX_X86_EVENTS_H

#include "../../core/vsnix.h"
#include "vendor.h"

/* Kinds of struct vsnix_x86_event; the values are VSNIX_INJECTED_*. */
enum vsnix_x86_ev_type {
	VSNIX_X86_EV_NONE = VSNIX_INJECTED_NONE,
	VSNIX_X86_EV_IRQ = VSNIX_INJECTED_EXTINT,
	VSNIX_X86_EV_NMI = VSNIX_INJECTED_NMI,
	VSNIX_X86_EV_EXCEPTION = VSNIX_INJECTED_EXCEPTION,
	VSNIX_X86_EV_SOFT_INT = VSNIX_INJECTED_SOFT_INT,	/* INT n */
	VSNIX_X86_EV_SOFT_EXC = VSNIX_INJECTED_SOFT_EXC,	/* INT3, INTO */
	VSNIX_X86_EV_PRIV_SOFT_EXC = VSNIX_INJECTED_PRIV_SOFT_EXC, /* INT1 */
};

/* One event for one entry. insn_len: the software kinds (VMX only). */
struct vsnix_x86_event {
	u8 type;		/* enum vsnix_x86_ev_type */
	u8 vector;
	bool has_error_code;
	u32 error_code;
	u32 insn_len;
};

/* Interrupt shadow bits (SDM Vol 3, 6.8.3; table 24-3). */
#define VSNIX_X86_SHADOW_STI	VSNIX_SHADOW_STI
#define VSNIX_X86_SHADOW_MOV_SS	VSNIX_SHADOW_MOV_SS

#define VSNIX_X86_IRQ_QUEUE	VSNIX_MAX_QUEUED_IRQS

/*
 * Per-vCPU event state. lock guards the fields that other threads set
 * (irq ring, nmi_pending/second, init/sipi); the rest belongs to the thread that
 * holds the vCPU's mutex.
 */
struct vsnix_x86_events {
	spinlock_t lock;
	u8 irq_ring[VSNIX_X86_IRQ_QUEUE];	/* userspace EXTINT, FIFO */
	unsigned int irq_head, irq_count;
	bool nmi_pending;	/* latched: more NMIs collapse into one */
	bool nmi_second;	/* came while nmi_pending, not yet taken */
	bool init_pending;
	bool sipi_pending;
	u8 sipi_vector;

	/* vCPU thread only (mutex). */
	struct vsnix_x86_event injected;	/* delivery cut short by an exit */
	struct vsnix_x86_event exception;	/* pending; type NONE if none */
	bool triple_fault;	/* merge of a fault with #DF: shutdown */
	s16 requeued_irq;	/* interrupted IRQ to deliver first, or -1 */
	u8 mp_state;		/* VSNIX_MP_* */
	/*
	 * From one entry to its exit only: the vector handed to the CPU
	 * (set_virq), or -1, and where it came from (VSNIX_X86_VIRQ_*). Its
	 * source gives it up only when the guest took it.
	 */
	s16 virq;
	u8 virq_src;
};

/* Sources of ev->virq, in the order they are served. */
enum {
	VSNIX_X86_VIRQ_REQUEUED,	/* ev->requeued_irq (an interrupted one) */
	VSNIX_X86_VIRQ_FIFO,		/* the head of userspace's irq_ring */
	VSNIX_X86_VIRQ_LAPIC,		/* the LAPIC (or the 8259 through it) */
};

/* ---------------------------------------------- exception merging (pure) */

enum vsnix_x86_merge {
	VSNIX_X86_MERGE_SERIAL,		/* deliver the second; the first is lost */
	VSNIX_X86_MERGE_DOUBLE_FAULT,	/* deliver #DF(0) */
	VSNIX_X86_MERGE_TRIPLE_FAULT,	/* shutdown */
};

/*
 * A second exception raised while delivering the first: SDM Vol 3, 6.15,
 * table 6-5 (and "Interrupt 8"). Pure, KUnit-tested (exception.c).
 */
enum vsnix_x86_merge vsnix_x86_merge_exception(u8 first, u8 second);
/* Vectors that push an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC. */
bool vsnix_x86_exception_has_error_code(u8 vector);

/* ---------------------------------------------------- vCPU lifetime */

int vsnix_x86_events_create(struct vsnix_vcpu *vcpu);
void vsnix_x86_events_free(struct vsnix_vcpu *vcpu);

/* ------------------------------------------- called by the vendors */

/*
 * Queue an exception for the guest (exit handlers: #UD, #GP, a reflected
 * #DB or #AC). Merged with the event whose delivery the exit cut short
 * (table 6-5). vCPU thread.
 */
void vsnix_x86_queue_exception(struct vsnix_vcpu *vcpu, u8 vector,
			       bool has_error_code, u32 error_code);
/* Set (or, NULL, drop) the event to deliver again at the next entry. */
void vsnix_x86_set_injected(struct vsnix_vcpu *vcpu,
			    const struct vsnix_x86_event *e);
/*
 * Right before an entry, IRQs off, vendor state loaded, after the vendor
 * cleared the last entry's event and windows: load at most one event
 * through the inject hooks and open the windows still needed.
 */
void vsnix_x86_inject_events(struct vsnix_vcpu *vcpu);
/* Right after an exit (IRQs off): read back what was being delivered. */
void vsnix_x86_events_exited(struct vsnix_vcpu *vcpu);
/*
 * HLT exit, RIP already past the HLT: 1 to sleep in the kernel until an
 * event arrives (mp_state HALTED), or 0 with run filled (VSNIX_EXIT_HLT)
 * when nothing in the kernel could wake the vCPU.
 */
int vsnix_x86_halt(struct vsnix_vcpu *vcpu);

/* ------------------------------------------------- called by the core */

/*
 * Before each entry, preemptible: INIT/SIPI, a triple fault from merging,
 * sleep while halted or waiting for SIPI. 1: enter; 0: run is filled,
 * return to userspace; -EINTR: a signal (RUN returns it).
 */
int vsnix_x86_vcpu_ready(struct vsnix_vcpu *vcpu);
/* VSNIX_INJECT_EVENT, validated; any thread, without the vCPU's mutex. */
int vsnix_x86_inject_user(struct vsnix_vcpu *vcpu,
			  const struct vsnix_event *ev);
/* VSNIX_GET/SET_VCPU_EVENTS and _DEBUGREGS; vCPU mutex held. */
int vsnix_x86_get_vcpu_events(struct vsnix_vcpu *vcpu,
			      struct vsnix_vcpu_events *out);
int vsnix_x86_set_vcpu_events(struct vsnix_vcpu *vcpu,
			      const struct vsnix_vcpu_events *in);
int vsnix_x86_set_debugregs(struct vsnix_vcpu *vcpu,
			    const struct vsnix_debugregs *in);
void vsnix_x86_get_debugregs(struct vsnix_vcpu *vcpu,
			     struct vsnix_debugregs *out);

#endif /* VSNIX_X86_EVENTS_H */
