// SPDX-License-Identifier: GPL-2.0
/*
 * The x86 event layer, once for both vendors: the vCPU's queue of events
 * (userspace EXTINT vectors, the in-kernel LAPIC, a latched NMI, one
 * pending exception, INIT and SIPI), the choice of the one event each
 * entry delivers (Intel SDM Vol 3, 6.9 priorities; AMD APM Vol 2, 15.20),
 * the event an exit cut short, HLT in the kernel, and the event state of
 * the ABI. Vendors load events and open windows through the hooks of
 * struct vsnix_arch_ops.
 *
 * Threads: other threads queue under ev->lock and then call
 * vsnix_x86_event_update(), which sets VSNIX_REQ_EVENT, wakes a halted
 * vCPU and kicks one in guest mode. Everything else is the vCPU thread's,
 * under the vCPU's mutex. The injection clears VSNIX_REQ_EVENT before it
 * reads the queue and vsnix_vcpu_enter_prepare() refuses the entry while
 * the bit is set, so nothing queued in between waits for a later exit.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>
#include "events.h"
#include "x86.h"
#include "lapic.h"
#include "intr.h"
#include "../../core/internal.h"
#include "../../core/trace.h"

/*
 * A vCPU that halts with nothing to do spins this long for an event
 * before it sleeps: a wake-up within it costs no schedule (0: never spin).
 */
static unsigned int halt_poll_ns = 20000;
module_param(halt_poll_ns, uint, 0644);
MODULE_PARM_DESC(halt_poll_ns,
		 "ns a halted vCPU polls for an event before it sleeps (0: no polling)");

/*
 * Where the vendor can (SVM: V_IRQ, AMD APM Vol 2, 15.21.4), hand each
 * external interrupt to the CPU, which takes it when the guest can, and
 * let its source give it up only then (the default); 0: inject it with
 * the event injection of the entry (SVM EVENTINJ) once the guest can take
 * it. QEMU's TCG replays an EVENTINJ interrupt now and then
 * (selftests/EXPECTED_SKIPS), never a virtual one.
 */
static bool virq = true;
module_param(virq, bool, 0644);
MODULE_PARM_DESC(virq,
		 "SVM: deliver interrupts as virtual interrupts (V_IRQ), not EVENTINJ (default 1)");

int vsnix_x86_events_create(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev;

	ev = kzalloc(sizeof(*ev), GFP_KERNEL_ACCOUNT);
	if (!ev)
		return -ENOMEM;
	spin_lock_init(&ev->lock);
	ev->requeued_irq = -1;
	ev->virq = -1;
	ev->mp_state = VSNIX_MP_RUNNABLE;
	vcpu->events = ev;
	return 0;
}

void vsnix_x86_events_free(struct vsnix_vcpu *vcpu)
{
	kfree(vcpu->events);
	vcpu->events = NULL;
}

/* ------------------------------------------------ intr.h, any thread */

void vsnix_x86_event_update(struct vsnix_vcpu *vcpu)
{
	/* Sets the bit, orders it before the mode read, wakes or kicks. */
	vsnix_vcpu_request(vcpu, VSNIX_REQ_EVENT);
}

void vsnix_x86_queue_nmi(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;
	unsigned long flags;

	/*
	 * A CPU takes an NMI at its next instruction boundary; a vCPU only
	 * at its next entry, far later. One that comes meanwhile is kept as
	 * a second: had the first been taken at once, this one would have
	 * been latched during its handler (SDM Vol 3, 6.7.1). The entry
	 * drops it if NMIs are blocked (vsnix_x86_inject_events).
	 */
	spin_lock_irqsave(&ev->lock, flags);
	if (ev->nmi_pending)
		ev->nmi_second = true;
	ev->nmi_pending = true;
	spin_unlock_irqrestore(&ev->lock, flags);
	vsnix_x86_event_update(vcpu);
}

void vsnix_x86_queue_init(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;
	unsigned long flags;

	spin_lock_irqsave(&ev->lock, flags);
	ev->init_pending = true;
	/* A SIPI sent before this INIT is not for the new wait (8.4.4). */
	ev->sipi_pending = false;
	spin_unlock_irqrestore(&ev->lock, flags);
	vsnix_x86_event_update(vcpu);
}

void vsnix_x86_queue_sipi(struct vsnix_vcpu *vcpu, u8 vector)
{
	struct vsnix_x86_events *ev = vcpu->events;
	unsigned long flags;

	spin_lock_irqsave(&ev->lock, flags);
	/* The first SIPI of a wait counts; later ones are ignored (8.4.4). */
	if (!ev->sipi_pending) {
		ev->sipi_pending = true;
		ev->sipi_vector = vector;
	}
	spin_unlock_irqrestore(&ev->lock, flags);
	vsnix_x86_event_update(vcpu);
}

/* ------------------------------------------------------ userspace */

static int vsnix_x86_queue_extint(struct vsnix_vcpu *vcpu, u8 vector)
{
	struct vsnix_x86_events *ev = vcpu->events;
	unsigned long flags;
	int r = 0;

	spin_lock_irqsave(&ev->lock, flags);
	if (ev->irq_count == VSNIX_X86_IRQ_QUEUE) {
		r = -EAGAIN;
	} else {
		ev->irq_ring[(ev->irq_head + ev->irq_count) %
			     VSNIX_X86_IRQ_QUEUE] = vector;
		ev->irq_count++;
	}
	spin_unlock_irqrestore(&ev->lock, flags);
	if (!r)
		vsnix_x86_event_update(vcpu);
	return r;
}

int vsnix_x86_inject_user(struct vsnix_vcpu *vcpu,
			  const struct vsnix_event *uev)
{
	struct vsnix_x86_events *ev = vcpu->events;

	switch (uev->type) {
	case VSNIX_EVENT_EXTINT:
		return vsnix_x86_queue_extint(vcpu, uev->vector);
	case VSNIX_EVENT_NMI:
		vsnix_x86_queue_nmi(vcpu);
		return 0;
	case VSNIX_EVENT_EXCEPTION:
		/* Only between two RUNs: the caller holds the mutex. */
		lockdep_assert_held(&vcpu->mutex);
		if (ev->exception.type != VSNIX_X86_EV_NONE)
			return -EBUSY;
		ev->exception = (struct vsnix_x86_event){
			.type = VSNIX_X86_EV_EXCEPTION,
			.vector = uev->vector,
			.has_error_code = uev->flags & VSNIX_EVENT_HAS_ERROR_CODE,
			.error_code = uev->error_code,
		};
		if (ev->mp_state == VSNIX_MP_HALTED)
			ev->mp_state = VSNIX_MP_RUNNABLE;
		return 0;
	default:
		return -EINVAL;
	}
}

/* ------------------------------------------------- exit handlers */

void vsnix_x86_set_injected(struct vsnix_vcpu *vcpu,
			    const struct vsnix_x86_event *e)
{
	struct vsnix_x86_events *ev = vcpu->events;

	if (e)
		ev->injected = *e;
	else
		ev->injected.type = VSNIX_X86_EV_NONE;
}

/*
 * An exception while an interrupt or NMI was being delivered: that one
 * goes back to its queue and comes after the exception, as it would on
 * hardware (the handler of the exception runs first).
 */
static void vsnix_x86_requeue_injected(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;
	unsigned long flags;

	switch (ev->injected.type) {
	case VSNIX_X86_EV_IRQ:
		ev->requeued_irq = ev->injected.vector;
		break;
	case VSNIX_X86_EV_NMI:
		spin_lock_irqsave(&ev->lock, flags);
		ev->nmi_pending = true;
		spin_unlock_irqrestore(&ev->lock, flags);
		vsnix_ops->set_nmi_mask(vcpu, false);
		break;
	default:
		/* INT n, INT3, INTO, INT1: RIP is at the instruction, it runs again. */
		break;
	}
	ev->injected.type = VSNIX_X86_EV_NONE;
}

void vsnix_x86_queue_exception(struct vsnix_vcpu *vcpu, u8 vector,
			       bool has_error_code, u32 error_code)
{
	struct vsnix_x86_events *ev = vcpu->events;
	struct vsnix_x86_event *first = NULL;

	if (ev->injected.type == VSNIX_X86_EV_EXCEPTION)
		first = &ev->injected;
	else if (ev->exception.type == VSNIX_X86_EV_EXCEPTION)
		first = &ev->exception;
	else if (ev->injected.type != VSNIX_X86_EV_NONE)
		vsnix_x86_requeue_injected(vcpu);

	if (first) {
		switch (vsnix_x86_merge_exception(first->vector, vector)) {
		case VSNIX_X86_MERGE_DOUBLE_FAULT:
			vector = X86_TRAP_DF;
			has_error_code = true;
			error_code = 0;	/* #DF pushes 0 (SDM Vol 3, 6.15) */
			break;
		case VSNIX_X86_MERGE_TRIPLE_FAULT:
			ev->triple_fault = true;
			break;
		case VSNIX_X86_MERGE_SERIAL:
			/* A fault comes back when its instruction runs again. */
			break;
		}
		first->type = VSNIX_X86_EV_NONE;
		if (ev->triple_fault)
			return;
	}
	ev->exception = (struct vsnix_x86_event){
		.type = VSNIX_X86_EV_EXCEPTION,
		.vector = vector,
		.has_error_code = has_error_code,
		.error_code = has_error_code ? error_code : 0,
	};
}

/* ------------------------------------------------------- injection */

/* Is an external interrupt waiting, from any source? Peek only. */
static bool vsnix_x86_irq_waiting(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;

	return ev->requeued_irq >= 0 || READ_ONCE(ev->irq_count) ||
	       vsnix_lapic_pending_vector(vcpu) >= 0;
}

/* Take the next interrupt: requeued, then userspace's FIFO, then the LAPIC. */
static int vsnix_x86_take_irq(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;
	int vector = -1;

	if (ev->requeued_irq >= 0) {
		vector = ev->requeued_irq;
		ev->requeued_irq = -1;
		return vector;
	}
	spin_lock(&ev->lock);
	if (ev->irq_count) {
		vector = ev->irq_ring[ev->irq_head];
		ev->irq_head = (ev->irq_head + 1) % VSNIX_X86_IRQ_QUEUE;
		ev->irq_count--;
	}
	spin_unlock(&ev->lock);
	if (vector >= 0)
		return vector;
	vector = vsnix_lapic_pending_vector(vcpu);
	if (vector >= 0)
		vsnix_lapic_ack_vector(vcpu, vector);
	return vector;
}

static void vsnix_x86_load(struct vsnix_vcpu *vcpu,
			   const struct vsnix_x86_event *e)
{
	trace_vsnix_inject(vcpu->vm->id, vcpu->id, e->type, e->vector);
	switch (e->type) {
	case VSNIX_X86_EV_IRQ:
		vcpu->stat.inj_irq++;
		vsnix_ops->inject_irq(vcpu, e);
		break;
	case VSNIX_X86_EV_NMI:
		vcpu->stat.inj_nmi++;
		vsnix_ops->inject_nmi(vcpu);
		break;
	default:
		vcpu->stat.inj_exception++;
		vsnix_ops->inject_exception(vcpu, e);
		break;
	}
}

/* ------------------------------------------- virtual interrupts (V_IRQ) */

/* The next interrupt, left with its source: its vector, or -1. */
static int vsnix_x86_peek_irq(struct vsnix_vcpu *vcpu, u8 *src)
{
	struct vsnix_x86_events *ev = vcpu->events;
	int vector = -1;

	if (ev->requeued_irq >= 0) {
		*src = VSNIX_X86_VIRQ_REQUEUED;
		return ev->requeued_irq;
	}
	spin_lock(&ev->lock);
	if (ev->irq_count)
		vector = ev->irq_ring[ev->irq_head];
	spin_unlock(&ev->lock);
	if (vector >= 0) {
		*src = VSNIX_X86_VIRQ_FIFO;
		return vector;
	}
	*src = VSNIX_X86_VIRQ_LAPIC;
	/* An 8259 vector stays held in the LAPIC until acknowledged. */
	return vsnix_lapic_pending_vector(vcpu);
}

/*
 * Once the guest took @vector from @src, could it take another one before
 * it exits again? Not behind a LAPIC vector: it goes to ISR and PPR holds
 * back the rest until the EOI, which exits (SDM Vol 3, 10.8.3-5); what
 * arrives later kicks the vCPU out. Behind the others, anything waiting.
 */
static bool vsnix_x86_irq_behind(struct vsnix_vcpu *vcpu, u8 src, int vector)
{
	struct vsnix_x86_events *ev = vcpu->events;

	switch (src) {
	case VSNIX_X86_VIRQ_REQUEUED:
		return READ_ONCE(ev->irq_count) ||
		       vsnix_lapic_pending_vector(vcpu) >= 0;
	case VSNIX_X86_VIRQ_FIFO:
		return READ_ONCE(ev->irq_count) > 1 ||
		       vsnix_lapic_pending_vector(vcpu) >= 0;
	default:
		return vsnix_lapic_vector_is_extint(vcpu, vector);
	}
}

/*
 * Hand the next interrupt to the CPU. It takes it when IF=1 and no
 * shadow, without an exit; nothing is acknowledged before that. With more
 * behind it, hand it over only where the guest takes it at once, so that
 * the window for the next one follows it (enable_irq_window). Returns
 * whether a window is needed.
 */
static bool vsnix_x86_load_virq(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;
	bool more;
	int vector;
	u8 src;

	vector = vsnix_x86_peek_irq(vcpu, &src);
	if (vector < 0)
		return false;
	more = vsnix_x86_irq_behind(vcpu, src, vector);
	/*
	 * In a shadow, the window instead: it opens right after the next
	 * instruction (SDM Vol 3, 6.8.3), and it does not rely on the CPU
	 * loading the shadow at entry (svm_enable_irq_window).
	 */
	if ((more || vsnix_ops->get_interrupt_shadow(vcpu)) &&
	    !vsnix_ops->interrupt_allowed(vcpu))
		return true;
	ev->virq = vector;
	ev->virq_src = src;
	if (src == VSNIX_X86_VIRQ_LAPIC)
		vsnix_lapic_virq_loaded(vcpu, vector);
	trace_vsnix_inject(vcpu->vm->id, vcpu->id, VSNIX_X86_EV_IRQ, vector);
	vsnix_ops->set_virq(vcpu, vector);
	return more;
}

/* Right after the exit: the source gives up the vector the guest took. */
static void vsnix_x86_virq_exited(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;
	int vector = ev->virq;
	bool taken;

	ev->virq = -1;
	/*
	 * An exit that cut its delivery short reports it (EXITINTINFO, now
	 * ev->injected, to deliver again): taken too, whatever V_IRQ says
	 * (QEMU's TCG leaves V_IRQ set then). Nothing else was being
	 * delivered: a V_IRQ is loaded only on an entry without EVENTINJ.
	 * Not taken: the source still has it, as if never handed over.
	 */
	taken = (ev->injected.type == VSNIX_X86_EV_IRQ &&
		 ev->injected.vector == vector) || vsnix_ops->virq_taken(vcpu);
	if (taken)
		vcpu->stat.inj_irq++;
	switch (ev->virq_src) {
	case VSNIX_X86_VIRQ_REQUEUED:
		if (taken)
			ev->requeued_irq = -1;
		break;
	case VSNIX_X86_VIRQ_FIFO:
		if (!taken)
			break;
		spin_lock(&ev->lock);
		/* Only this thread takes from the ring: the head is ours. */
		if (ev->irq_count && ev->irq_ring[ev->irq_head] == vector) {
			ev->irq_head = (ev->irq_head + 1) % VSNIX_X86_IRQ_QUEUE;
			ev->irq_count--;
		}
		spin_unlock(&ev->lock);
		break;
	default:
		/* IRR -> ISR now, when the guest took it (SDM Vol 3, 10.8.4). */
		vsnix_lapic_virq_exited(vcpu, vector, taken);
		break;
	}
}

/*
 * At most one event per entry, in this order: the one an exit cut short,
 * a pending exception, an NMI, an external interrupt (SDM Vol 3, 6.9).
 * What stays queued gets a window so that the next entry comes soon.
 */
static void vsnix_x86_load_events(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;
	bool use_virq = vsnix_ops->set_virq && READ_ONCE(virq);
	bool irq_window;
	int vector;

	lockdep_assert_irqs_disabled();
	clear_bit(VSNIX_REQ_EVENT, &vcpu->requests);
	/* Pairs with vsnix_vcpu_request(): queue first, then the bit. */
	smp_mb__after_atomic();
	ev->virq = -1;

	/*
	 * An interrupt restored as "injected" (SET_VCPU_EVENTS) that the
	 * guest cannot take now waits in the queue: VMX refuses an entry
	 * that injects one with IF=0 or in a shadow (SDM Vol 3, 26.3.1.5).
	 * As a virtual interrupt, it is served from there first, always.
	 */
	if (ev->injected.type == VSNIX_X86_EV_IRQ && ev->requeued_irq < 0 &&
	    (use_virq || !vsnix_ops->interrupt_allowed(vcpu))) {
		ev->requeued_irq = ev->injected.vector;
		ev->injected.type = VSNIX_X86_EV_NONE;
	}

	/* NMIs blocked: only one can wait for the IRET (SDM Vol 3, 6.7.1). */
	if (READ_ONCE(ev->nmi_second) &&
	    (ev->injected.type == VSNIX_X86_EV_NMI ||
	     vsnix_ops->get_nmi_mask(vcpu))) {
		spin_lock(&ev->lock);
		ev->nmi_second = false;
		spin_unlock(&ev->lock);
	}

	if (ev->injected.type != VSNIX_X86_EV_NONE) {
		vsnix_x86_load(vcpu, &ev->injected);
	} else if (ev->exception.type != VSNIX_X86_EV_NONE) {
		ev->injected = ev->exception;
		ev->exception.type = VSNIX_X86_EV_NONE;
		vsnix_x86_load(vcpu, &ev->injected);
	} else if (READ_ONCE(ev->nmi_pending) && vsnix_ops->nmi_allowed(vcpu)) {
		spin_lock(&ev->lock);
		ev->nmi_pending = ev->nmi_second;
		ev->nmi_second = false;
		spin_unlock(&ev->lock);
		ev->injected = (struct vsnix_x86_event){
			.type = VSNIX_X86_EV_NMI, .vector = X86_TRAP_NMI,
		};
		vsnix_x86_load(vcpu, &ev->injected);
	} else if (use_virq) {
		irq_window = vsnix_x86_load_virq(vcpu);
		if (READ_ONCE(ev->nmi_pending))
			vsnix_ops->enable_nmi_window(vcpu);
		if (irq_window)
			vsnix_ops->enable_irq_window(vcpu);
		return;
	} else if (vsnix_ops->interrupt_allowed(vcpu)) {
		vector = vsnix_x86_take_irq(vcpu);
		if (vector >= 0) {
			ev->injected = (struct vsnix_x86_event){
				.type = VSNIX_X86_EV_IRQ, .vector = vector,
			};
			vsnix_x86_load(vcpu, &ev->injected);
		}
	}

	if (READ_ONCE(ev->nmi_pending))
		vsnix_ops->enable_nmi_window(vcpu);
	if (vsnix_x86_irq_waiting(vcpu))
		vsnix_ops->enable_irq_window(vcpu);
}

/*
 * The events of this entry, then the PV EOI flag: only when every
 * interrupt the guest may take comes from the LAPIC (not userspace's
 * queue, not one cut short and handed over again).
 */
void vsnix_x86_inject_events(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;
	bool lapic_only = ev->requeued_irq < 0 && !READ_ONCE(ev->irq_count);

	vsnix_x86_load_events(vcpu);
	if (!lapic_only || ev->requeued_irq >= 0)
		return;
	if (ev->virq >= 0 && ev->virq_src != VSNIX_X86_VIRQ_LAPIC)
		return;
	vsnix_lapic_pv_eoi_arm(vcpu, ev->virq);
}

void vsnix_x86_events_exited(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;

	/* Delivered, unless the exit says its delivery was cut short. */
	ev->injected.type = VSNIX_X86_EV_NONE;
	vsnix_ops->get_exit_event(vcpu, &ev->injected);
	if (ev->virq >= 0)
		vsnix_x86_virq_exited(vcpu);
}

/* ------------------------------------------------------ HLT, INIT */

/* Would the vCPU leave HLT now? vCPU thread. */
static bool vsnix_x86_wakeup_pending(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;

	if (ev->mp_state == VSNIX_MP_WAIT_FOR_SIPI)
		return false;
	if (ev->injected.type != VSNIX_X86_EV_NONE ||
	    ev->exception.type != VSNIX_X86_EV_NONE)
		return true;
	if (READ_ONCE(ev->nmi_pending) && !vsnix_ops->get_nmi_mask(vcpu))
		return true;
	return (vcpu->rflags & X86_EFLAGS_IF) && vsnix_x86_irq_waiting(vcpu);
}

int vsnix_x86_halt(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;
	bool opted = READ_ONCE(vcpu->vm->halt_flags) & VSNIX_HALT_IN_KERNEL;

	/* Something is already queued for it: the HLT ends at once. */
	if (vsnix_x86_wakeup_pending(vcpu))
		return 1;
	/*
	 * Sleep only where the kernel can wake it: a LAPIC (NMI, INIT and
	 * interrupts with IF=1), or userspace's injections when it asked for
	 * this and IF=1. Else userspace gets the HLT, as before.
	 */
	if (vsnix_lapic_in_kernel(vcpu) ||
	    (opted && (vcpu->rflags & X86_EFLAGS_IF))) {
		ev->mp_state = VSNIX_MP_HALTED;
		return 1;
	}
	vcpu->run->exit_reason = VSNIX_EXIT_HLT;
	return 0;
}

/* SDM Vol 3, 8.4.4 / 10.6.1: CS = vector << 8, base vector << 12, IP 0. */
static void vsnix_x86_start_at_sipi(struct vsnix_vcpu *vcpu, u8 vector)
{
	struct vsnix_sregs sregs;
	struct vsnix_regs regs;

	vsnix_ops->get_sregs(vcpu, &sregs);
	sregs.cs.selector = vector << 8;
	sregs.cs.base = (u64)vector << 12;
	if (vsnix_ops->set_sregs(vcpu, &sregs))
		pr_warn_ratelimited("vCPU %u: SIPI state refused\n", vcpu->id);
	vsnix_ops->get_regs(vcpu, &regs);
	regs.rip = 0;
	if (vsnix_ops->set_regs(vcpu, &regs))
		pr_warn_ratelimited("vCPU %u: SIPI RIP refused\n", vcpu->id);
	vcpu->events->mp_state = VSNIX_MP_RUNNABLE;
}

static void vsnix_x86_do_init(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;

	/*
	 * INIT resets the registers (MSRs kept, SDM Vol 3, 9.1.1) and drops
	 * what was being delivered. From the run loop before the entry:
	 * process context, vCPU mutex held, preemptible (state.c may sleep).
	 */
	lockdep_assert_held(&vcpu->mutex);
	if (vsnix_x86_vcpu_init_state(vcpu))
		pr_warn_ratelimited("vsnix: vCPU %u: INIT state refused\n",
				    vcpu->id);
	vsnix_ops->vcpu_reset(vcpu);
	/* And the LAPIC, but its ID and base (SDM Vol 3, 10.4.7.3). */
	vsnix_lapic_init_reset(vcpu);
	vcpu->pending = VSNIX_PENDING_NONE;
	ev->injected.type = VSNIX_X86_EV_NONE;
	ev->exception.type = VSNIX_X86_EV_NONE;
	ev->requeued_irq = -1;
	ev->triple_fault = false;
	vsnix_ops->set_nmi_mask(vcpu, false);
	/* The BSP restarts at the reset vector; APs wait for a SIPI (8.4). */
	ev->mp_state = vcpu->id ? VSNIX_MP_WAIT_FOR_SIPI : VSNIX_MP_RUNNABLE;
}

static void vsnix_x86_check_init_sipi(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;
	bool init, sipi;
	u8 vector;

	if (!READ_ONCE(ev->init_pending) && !READ_ONCE(ev->sipi_pending))
		return;
	spin_lock_irq(&ev->lock);
	init = ev->init_pending;
	ev->init_pending = false;
	sipi = ev->sipi_pending;
	vector = ev->sipi_vector;
	/* A SIPI outside wait-for-SIPI is dropped (SDM Vol 3, 8.4.4). */
	if (!init && ev->mp_state != VSNIX_MP_WAIT_FOR_SIPI)
		ev->sipi_pending = sipi = false;
	else if (sipi)
		ev->sipi_pending = false;
	spin_unlock_irq(&ev->lock);

	if (init)
		vsnix_x86_do_init(vcpu);
	if (sipi && ev->mp_state == VSNIX_MP_WAIT_FOR_SIPI)
		vsnix_x86_start_at_sipi(vcpu, vector);
}

/* Spin up to halt_poll_ns for a wake-up; true when one came. */
static bool vsnix_x86_halt_poll(struct vsnix_vcpu *vcpu)
{
	unsigned int ns = READ_ONCE(halt_poll_ns);
	ktime_t stop;

	if (!ns)
		return false;
	stop = ktime_add_ns(ktime_get(), ns);
	do {
		if (test_bit(VSNIX_REQ_EVENT, &vcpu->requests))
			return true;
		cpu_relax();
	} while (!need_resched() && !signal_pending(current) &&
		 ktime_before(ktime_get(), stop));
	return false;
}

static bool vsnix_x86_must_stop_waiting(struct vsnix_vcpu *vcpu)
{
	return test_bit(VSNIX_REQ_EVENT, &vcpu->requests) ||
	       test_bit(VSNIX_REQ_EXIT, &vcpu->requests) ||
	       READ_ONCE(vcpu->vm->exited) || vsnix_virt_rebooting();
}

/* Sleep while halted or waiting for SIPI; see vsnix_x86_vcpu_ready. */
static int vsnix_x86_block(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;
	bool polled = false;

	for (;;) {
		vsnix_x86_check_init_sipi(vcpu);
		if (ev->mp_state == VSNIX_MP_RUNNABLE)
			return 1;
		if (vsnix_x86_wakeup_pending(vcpu)) {
			ev->mp_state = VSNIX_MP_RUNNABLE;
			return 1;
		}
		if (signal_pending(current))
			return -EINTR;
		/* The run loop (and the entry) see these and stop. */
		if (READ_ONCE(vcpu->vm->exited) || vsnix_virt_rebooting() ||
		    test_bit(VSNIX_REQ_EXIT, &vcpu->requests))
			return 1;
		/* The bit only says "look again": clear it, look once more. */
		clear_bit(VSNIX_REQ_EVENT, &vcpu->requests);
		/* A queuer sets it after its event: one of us sees the other. */
		smp_mb__after_atomic();
		if (vsnix_x86_wakeup_pending(vcpu) ||
		    READ_ONCE(ev->init_pending) || READ_ONCE(ev->sipi_pending))
			continue;
		if (!polled) {
			polled = true;
			if (vsnix_x86_halt_poll(vcpu))
				continue;
		}
		if (wait_event_interruptible(vcpu->wq,
					     vsnix_x86_must_stop_waiting(vcpu)))
			return -EINTR;
	}
}

/* A sleep of a halted vCPU, counted and traced (core/stats.h). */
static int vsnix_x86_halt_wait(struct vsnix_vcpu *vcpu)
{
	u64 ns = ktime_get_ns();
	int r;

	trace_vsnix_halt(vcpu->vm->id, vcpu->id);
	r = vsnix_x86_block(vcpu);
	ns = ktime_get_ns() - ns;
	vcpu->stat.halts++;
	vcpu->stat.halt_ns += ns;
	trace_vsnix_wake(vcpu->vm->id, vcpu->id, r, ns);
	return r;
}

int vsnix_x86_vcpu_ready(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_events *ev = vcpu->events;
	struct vsnix_run *run = vcpu->run;

	lockdep_assert_held(&vcpu->mutex);
	if (ev->triple_fault) {
		/* A fault while delivering #DF: shutdown (SDM Vol 3, 6.15). */
		ev->triple_fault = false;
		run->exit_reason = VSNIX_EXIT_SHUTDOWN;
		memset(run->shutdown.data, 0, sizeof(run->shutdown.data));
		return 0;
	}
	vsnix_x86_check_init_sipi(vcpu);
	if (ev->mp_state == VSNIX_MP_RUNNABLE)
		return 1;
	return vsnix_x86_halt_wait(vcpu);
}
