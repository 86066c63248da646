// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU fd's x86 ioctls (registers, segment registers, XSAVE, MSRs,
 * events, debug registers, the LAPIC), reached from the core through
 * vsnix_arch_vcpu_ioctl and vsnix_arch_vcpu_async_ioctl (core/arch.h).
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include "../../core/arch.h"
#include "x86.h"
#include "events.h"
#include "lapic.h"

/*
 * Userspace that sets the state owns it: the completion still pending from
 * the last IO or MMIO exit would overwrite RIP/RAX at the next RUN, so it
 * is dropped (RUN with immediate_exit first to complete it).
 */
static long vsnix_vcpu_state_set(struct vsnix_vcpu *vcpu, int ret)
{
	if (!ret)
		vcpu->pending = VSNIX_PENDING_NONE;
	return ret;
}

static long vsnix_vcpu_get_regs(struct vsnix_vcpu *vcpu, void __user *argp)
{
	struct vsnix_regs regs = { };

	vsnix_ops->get_regs(vcpu, &regs);
	return copy_to_user(argp, &regs, sizeof(regs)) ? -EFAULT : 0;
}

static long vsnix_vcpu_set_regs(struct vsnix_vcpu *vcpu, void __user *argp)
{
	struct vsnix_regs regs;

	if (copy_from_user(&regs, argp, sizeof(regs)))
		return -EFAULT;
	return vsnix_vcpu_state_set(vcpu, vsnix_ops->set_regs(vcpu, &regs));
}

static long vsnix_vcpu_get_sregs(struct vsnix_vcpu *vcpu, void __user *argp)
{
	struct vsnix_sregs sregs = { };

	vsnix_ops->get_sregs(vcpu, &sregs);
	return copy_to_user(argp, &sregs, sizeof(sregs)) ? -EFAULT : 0;
}

static bool vsnix_segment_pads_zero(const struct vsnix_segment *s)
{
	return !s->pad;
}

static long vsnix_vcpu_set_sregs(struct vsnix_vcpu *vcpu, void __user *argp)
{
	struct vsnix_sregs sregs;
	const struct vsnix_segment *segs[] = {
		&sregs.cs, &sregs.ds, &sregs.es, &sregs.fs, &sregs.gs,
		&sregs.ss, &sregs.tr, &sregs.ldt,
	};
	int i;

	if (copy_from_user(&sregs, argp, sizeof(sregs)))
		return -EFAULT;
	for (i = 0; i < ARRAY_SIZE(segs); i++)
		if (!vsnix_segment_pads_zero(segs[i]))
			return -EINVAL;
	if (memchr_inv(sregs.gdt.pad, 0, sizeof(sregs.gdt.pad)) ||
	    memchr_inv(sregs.idt.pad, 0, sizeof(sregs.idt.pad)) ||
	    memchr_inv(sregs.reserved, 0, sizeof(sregs.reserved)))
		return -EINVAL;
	return vsnix_vcpu_state_set(vcpu, vsnix_ops->set_sregs(vcpu, &sregs));
}

static long vsnix_vcpu_xsave(struct vsnix_vcpu *vcpu, void __user *argp,
			     bool set)
{
	struct vsnix_xsave *xs;
	long r;

	if (set) {
		xs = memdup_user(argp, sizeof(*xs));
		if (IS_ERR(xs))
			return PTR_ERR(xs);
		r = vsnix_x86_set_xsave(vcpu, xs);
	} else {
		xs = kzalloc(sizeof(*xs), GFP_KERNEL);
		if (!xs)
			return -ENOMEM;
		r = vsnix_x86_get_xsave(vcpu, xs);
		if (!r && copy_to_user(argp, xs, sizeof(*xs)))
			r = -EFAULT;
	}
	kfree(xs);
	return r;
}

/* Returns how many entries were processed; stops at the first failure. */
static long vsnix_vcpu_msrs(struct vsnix_vcpu *vcpu, void __user *argp,
			    bool set)
{
	struct vsnix_msr_entry __user *uent;
	struct vsnix_msr_entry e;
	struct vsnix_msrs hdr;
	u32 i;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.pad)
		return -EINVAL;
	if (hdr.nmsrs > VSNIX_MAX_MSR_ENTRIES)
		return -E2BIG;
	uent = argp + sizeof(hdr);
	for (i = 0; i < hdr.nmsrs; i++) {
		if (copy_from_user(&e, &uent[i], sizeof(e)))
			return -EFAULT;
		if (e.reserved)
			return -EINVAL;
		if (set) {
			if (vsnix_ops->set_msr(vcpu, e.index, e.data))
				break;
		} else {
			if (vsnix_ops->get_msr(vcpu, e.index, &e.data))
				break;
			if (copy_to_user(&uent[i].data, &e.data, sizeof(e.data)))
				return -EFAULT;
		}
	}
	return i;
}

/*
 * INJECT_EVENT runs without the vCPU's mutex, so another thread can queue
 * interrupts while RUN runs; an exception only between two RUNs.
 */
static long vsnix_vcpu_inject(struct vsnix_vcpu *vcpu, void __user *argp)
{
	struct vsnix_event ev;
	long r;

	if (copy_from_user(&ev, argp, sizeof(ev)))
		return -EFAULT;
	if (ev.pad || memchr_inv(ev.reserved, 0, sizeof(ev.reserved)) ||
	    (ev.flags & ~VSNIX_EVENT_HAS_ERROR_CODE))
		return -EINVAL;
	switch (ev.type) {
	case VSNIX_EVENT_EXTINT:
		/* Vectors 0-31 are exceptions (Intel SDM Vol 3, 6.2). */
		if (ev.vector < 32 || ev.flags)
			return -EINVAL;
		break;
	case VSNIX_EVENT_NMI:
		if (ev.vector != 2 || ev.flags)
			return -EINVAL;
		break;
	case VSNIX_EVENT_EXCEPTION:
		if (ev.vector >= 32 || ev.vector == 2)
			return -EINVAL;
		/*
		 * The flag must match the vector: VMX refuses an entry that
		 * disagrees (SDM Vol 3, 27.2.1.3) and SVM would push a frame
		 * the guest's handler does not expect (APM Vol 2, 15.20).
		 */
		if (!(ev.flags & VSNIX_EVENT_HAS_ERROR_CODE) !=
		    !vsnix_x86_exception_has_error_code(ev.vector))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (!(ev.flags & VSNIX_EVENT_HAS_ERROR_CODE) && ev.error_code)
		return -EINVAL;
	if (ev.type != VSNIX_EVENT_EXCEPTION)
		return vsnix_x86_inject_user(vcpu, &ev);
	/* RUN holds the mutex: the vCPU is running. */
	if (!mutex_trylock(&vcpu->mutex))
		return -EBUSY;
	r = vsnix_x86_inject_user(vcpu, &ev);
	mutex_unlock(&vcpu->mutex);
	return r;
}

static long vsnix_vcpu_events_ioctl(struct vsnix_vcpu *vcpu, unsigned int cmd,
				    void __user *argp)
{
	struct vsnix_vcpu_events ev;
	struct vsnix_debugregs dr;
	long r;

	switch (cmd) {
	case VSNIX_GET_VCPU_EVENTS:
		r = vsnix_x86_get_vcpu_events(vcpu, &ev);
		if (!r && copy_to_user(argp, &ev, sizeof(ev)))
			r = -EFAULT;
		return r;
	case VSNIX_SET_VCPU_EVENTS:
		if (copy_from_user(&ev, argp, sizeof(ev)))
			return -EFAULT;
		return vsnix_x86_set_vcpu_events(vcpu, &ev);
	case VSNIX_GET_DEBUGREGS:
		vsnix_x86_get_debugregs(vcpu, &dr);
		return copy_to_user(argp, &dr, sizeof(dr)) ? -EFAULT : 0;
	case VSNIX_SET_DEBUGREGS:
		if (copy_from_user(&dr, argp, sizeof(dr)))
			return -EFAULT;
		return vsnix_x86_set_debugregs(vcpu, &dr);
	}
	return -ENOTTY;
}

/* With the vCPU's mutex held. */
long vsnix_arch_vcpu_ioctl(struct vsnix_vcpu *vcpu, unsigned int cmd,
			   void __user *argp)
{
	lockdep_assert_held(&vcpu->mutex);

	switch (cmd) {
	case VSNIX_GET_REGS:
		return vsnix_vcpu_get_regs(vcpu, argp);
	case VSNIX_SET_REGS:
		return vsnix_vcpu_set_regs(vcpu, argp);
	case VSNIX_GET_SREGS:
		return vsnix_vcpu_get_sregs(vcpu, argp);
	case VSNIX_SET_SREGS:
		return vsnix_vcpu_set_sregs(vcpu, argp);
	case VSNIX_GET_XSAVE:
		return vsnix_vcpu_xsave(vcpu, argp, false);
	case VSNIX_SET_XSAVE:
		return vsnix_vcpu_xsave(vcpu, argp, true);
	case VSNIX_GET_MSRS:
		return vsnix_vcpu_msrs(vcpu, argp, false);
	case VSNIX_SET_MSRS:
		return vsnix_vcpu_msrs(vcpu, argp, true);
	case VSNIX_GET_VCPU_EVENTS:
	case VSNIX_SET_VCPU_EVENTS:
	case VSNIX_GET_DEBUGREGS:
	case VSNIX_SET_DEBUGREGS:
		return vsnix_vcpu_events_ioctl(vcpu, cmd, argp);
	case VSNIX_GET_LAPIC:
		return vsnix_lapic_get_state(vcpu, argp);
	case VSNIX_SET_LAPIC:
		return vsnix_lapic_set_state(vcpu, argp);
	}
	return -ENOIOCTLCMD;
}

/* Without the vCPU's mutex: RUN may hold it. */
long vsnix_arch_vcpu_async_ioctl(struct vsnix_vcpu *vcpu, unsigned int cmd,
				 void __user *argp)
{
	if (cmd == VSNIX_INJECT_EVENT)
		return vsnix_vcpu_inject(vcpu, argp);
	return -ENOIOCTLCMD;
}
