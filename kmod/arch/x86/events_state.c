// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU event state of the ABI (VSNIX_GET/SET_VCPU_EVENTS) and the
 * debug registers (VSNIX_GET/SET_DEBUGREGS): what save and restore of a
 * vCPU need beyond its registers, MSRs and XSAVE image. vCPU mutex held.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/trapnr.h>
#include "events.h"

int vsnix_x86_get_vcpu_events(struct vsnix_vcpu *vcpu,
			      struct vsnix_vcpu_events *out)
{
	struct vsnix_x86_events *ev = vcpu->events;
	unsigned int i;

	lockdep_assert_held(&vcpu->mutex);
	memset(out, 0, sizeof(*out));
	if (ev->exception.type != VSNIX_X86_EV_NONE) {
		out->exception.pending = 1;
		out->exception.vector = ev->exception.vector;
		out->exception.has_error_code = ev->exception.has_error_code;
		out->exception.error_code = ev->exception.error_code;
	}
	if (ev->injected.type != VSNIX_X86_EV_NONE) {
		out->injected.type = ev->injected.type;
		out->injected.vector = ev->injected.vector;
		out->injected.has_error_code = ev->injected.has_error_code;
		out->injected.error_code = ev->injected.error_code;
		out->injected.insn_len = ev->injected.insn_len;
	}
	out->nmi_masked = vsnix_ops->get_nmi_mask(vcpu);
	out->interrupt_shadow = vsnix_ops->get_interrupt_shadow(vcpu);
	out->mp_state = ev->mp_state;
	if (ev->requeued_irq >= 0) {
		out->irq_requeued = 1;
		out->requeued_vector = ev->requeued_irq;
	}

	spin_lock_irq(&ev->lock);
	out->nmi_pending = ev->nmi_pending;
	out->init_pending = ev->init_pending;
	out->sipi_pending = ev->sipi_pending;
	out->sipi_vector = ev->sipi_pending ? ev->sipi_vector : 0;
	out->nr_irqs = ev->irq_count;
	for (i = 0; i < ev->irq_count; i++)
		out->irqs[i] = ev->irq_ring[(ev->irq_head + i) %
					    VSNIX_X86_IRQ_QUEUE];
	spin_unlock_irq(&ev->lock);
	return 0;
}

/* The same rules as VSNIX_INJECT_EVENT for an exception. */
static bool vsnix_x86_exception_ok(u8 vector, u8 has_err, u32 err)
{
	if (vector >= 32 || vector == X86_TRAP_NMI || has_err > 1)
		return false;
	if (!has_err != !vsnix_x86_exception_has_error_code(vector))
		return false;
	return has_err || !err;
}

static bool vsnix_x86_injected_ok(const struct vsnix_vcpu_events *in)
{
	u8 type = in->injected.type, vector = in->injected.vector;
	u32 len = in->injected.insn_len;
	bool soft = type == VSNIX_INJECTED_SOFT_INT ||
		    type == VSNIX_INJECTED_SOFT_EXC ||
		    type == VSNIX_INJECTED_PRIV_SOFT_EXC;

	if (in->injected.pad || in->injected.pad2)
		return false;
	if (type != VSNIX_INJECTED_EXCEPTION &&
	    (in->injected.has_error_code || in->injected.error_code))
		return false;
	/* An instruction is 1 to 15 bytes (SDM Vol 2, 2.3.11). */
	if (soft != (len != 0) || len > 15)
		return false;
	switch (type) {
	case VSNIX_INJECTED_NONE:
		return !vector;
	case VSNIX_INJECTED_EXTINT:
		return vector >= 32;
	case VSNIX_INJECTED_NMI:
		return vector == X86_TRAP_NMI;
	case VSNIX_INJECTED_EXCEPTION:
		return vsnix_x86_exception_ok(vector,
					      in->injected.has_error_code,
					      in->injected.error_code);
	case VSNIX_INJECTED_SOFT_INT:
		return true;
	case VSNIX_INJECTED_SOFT_EXC:
		return vector == X86_TRAP_BP || vector == X86_TRAP_OF;
	case VSNIX_INJECTED_PRIV_SOFT_EXC:
		return vector == X86_TRAP_DB;
	default:
		return false;
	}
}

static int vsnix_x86_vcpu_events_check(const struct vsnix_vcpu_events *in)
{
	unsigned int i;

	if (in->flags || in->exception.pad || in->pad2[0] || in->pad2[1] ||
	    in->pad2[2] || in->pad3 ||
	    memchr_inv(in->reserved, 0, sizeof(in->reserved)))
		return -EINVAL;
	if (in->exception.pending > 1 ||
	    (in->exception.pending &&
	     !vsnix_x86_exception_ok(in->exception.vector,
				     in->exception.has_error_code,
				     in->exception.error_code)) ||
	    (!in->exception.pending &&
	     (in->exception.vector || in->exception.has_error_code ||
	      in->exception.error_code)))
		return -EINVAL;
	if (!vsnix_x86_injected_ok(in))
		return -EINVAL;
	if (in->nmi_pending > 1 || in->nmi_masked > 1 ||
	    in->init_pending > 1 || in->sipi_pending > 1 ||
	    in->irq_requeued > 1 ||
	    (in->interrupt_shadow & ~(VSNIX_SHADOW_STI | VSNIX_SHADOW_MOV_SS)) ||
	    in->mp_state > VSNIX_MP_WAIT_FOR_SIPI)
		return -EINVAL;
	if ((!in->sipi_pending && in->sipi_vector) ||
	    (in->irq_requeued ? in->requeued_vector < 32 : in->requeued_vector))
		return -EINVAL;
	if (in->nr_irqs > VSNIX_MAX_QUEUED_IRQS)
		return -EINVAL;
	for (i = 0; i < VSNIX_MAX_QUEUED_IRQS; i++)
		if (i < in->nr_irqs ? in->irqs[i] < 32 : in->irqs[i])
			return -EINVAL;
	return 0;
}

static void vsnix_x86_event_from_user(struct vsnix_x86_event *e, u8 type,
				      u8 vector, u8 has_err, u32 err, u32 len)
{
	*e = (struct vsnix_x86_event){
		.type = type, .vector = vector, .has_error_code = has_err,
		.error_code = err, .insn_len = len,
	};
}

int vsnix_x86_set_vcpu_events(struct vsnix_vcpu *vcpu,
			      const struct vsnix_vcpu_events *in)
{
	struct vsnix_x86_events *ev = vcpu->events;
	unsigned int i;
	int r;

	lockdep_assert_held(&vcpu->mutex);
	r = vsnix_x86_vcpu_events_check(in);
	if (r)
		return r;

	vsnix_x86_event_from_user(&ev->exception,
				  in->exception.pending ?
				  VSNIX_X86_EV_EXCEPTION : VSNIX_X86_EV_NONE,
				  in->exception.vector,
				  in->exception.has_error_code,
				  in->exception.error_code, 0);
	vsnix_x86_event_from_user(&ev->injected, in->injected.type,
				  in->injected.vector,
				  in->injected.has_error_code,
				  in->injected.error_code, in->injected.insn_len);
	ev->requeued_irq = in->irq_requeued ? in->requeued_vector : -1;
	ev->triple_fault = false;
	ev->mp_state = in->mp_state;
	vsnix_ops->set_nmi_mask(vcpu, in->nmi_masked);
	vsnix_ops->set_interrupt_shadow(vcpu, in->interrupt_shadow);

	spin_lock_irq(&ev->lock);
	ev->nmi_pending = in->nmi_pending;
	ev->nmi_second = false;
	ev->init_pending = in->init_pending;
	ev->sipi_pending = in->sipi_pending;
	ev->sipi_vector = in->sipi_vector;
	ev->irq_head = 0;
	ev->irq_count = in->nr_irqs;
	for (i = 0; i < in->nr_irqs; i++)
		ev->irq_ring[i] = in->irqs[i];
	spin_unlock_irq(&ev->lock);
	/* Queued events are looked at before the next entry. */
	set_bit(VSNIX_REQ_EVENT, &vcpu->requests);
	return 0;
}

void vsnix_x86_get_debugregs(struct vsnix_vcpu *vcpu,
			     struct vsnix_debugregs *out)
{
	lockdep_assert_held(&vcpu->mutex);
	memset(out, 0, sizeof(*out));
	vsnix_ops->get_debugregs(vcpu, out);
}

int vsnix_x86_set_debugregs(struct vsnix_vcpu *vcpu,
			    const struct vsnix_debugregs *in)
{
	lockdep_assert_held(&vcpu->mutex);
	if (in->flags || in->pad ||
	    memchr_inv(in->reserved, 0, sizeof(in->reserved)))
		return -EINVAL;
	/* DR6 and DR7 bits 63:32 are reserved, must be 0 (SDM Vol 3, 18.2). */
	if ((in->dr6 >> 32) || (in->dr7 >> 32))
		return -EINVAL;
	return vsnix_ops->set_debugregs(vcpu, in);
}
