// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU objects, the vCPU fd and the run loop.
 *
 * The loop enters the guest with preemption disabled (so the backend's
 * per-CPU state stays valid from its checks to the hardware entry) and
 * handles each exit preemptibly, so in-kernel devices may sleep. It leaves
 * for userspace when an exit needs the VMM, on a pending signal (-EINTR)
 * and when a device ends the VM.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/timekeeping.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "vsnix.h"
#include "internal.h"
#include "compat.h"
#include "../arch/x86/x86.h"
#include "../arch/x86/events.h"
#include "../arch/x86/lapic.h"
#include "trace.h"

void vsnix_vcpu_request(struct vsnix_vcpu *vcpu, int req)
{
	set_bit(req, &vcpu->requests);
	/* Pairs with the barrier in vsnix_vcpu_enter_prepare(). */
	smp_mb__after_atomic();
	vsnix_vcpu_kick(vcpu);
}

void vsnix_vcpu_kick(struct vsnix_vcpu *vcpu)
{
	int cpu, me;

	/* A halted vCPU sleeps on wq (wq_has_sleeper orders the caller's stores). */
	if (wq_has_sleeper(&vcpu->wq))
		wake_up_interruptible(&vcpu->wq);
	if (READ_ONCE(vcpu->mode) != VSNIX_IN_GUEST)
		return;
	cpu = READ_ONCE(vcpu->cpu);
	me = get_cpu();
	/* Any interrupt makes the guest exit (INTR / external-interrupt exiting). */
	if (cpu >= 0 && cpu != me && cpu_online(cpu))
		smp_send_reschedule(cpu);
	put_cpu();
}

void vsnix_vm_kick_all(struct vsnix_vm *vm)
{
	int i;

	for (i = 0; i < VSNIX_MAX_VCPUS; i++) {
		struct vsnix_vcpu *vcpu = READ_ONCE(vm->vcpus[i]);

		if (vcpu)
			vsnix_vcpu_kick(vcpu);
	}
}

bool vsnix_vcpu_enter_prepare(struct vsnix_vcpu *vcpu)
{
	lockdep_assert_irqs_disabled();

	WRITE_ONCE(vcpu->mode, VSNIX_IN_GUEST);
	/*
	 * Publish the mode before reading requests: a kicker sets its request
	 * first and reads the mode second, so one of us sees the other.
	 */
	smp_mb();
	/* A TLB flush asked after the backend looked: it looks again. */
	if (test_bit(VSNIX_REQ_EXIT, &vcpu->requests) ||
	    test_bit(VSNIX_REQ_TLB_FLUSH, &vcpu->requests) ||
	    test_bit(VSNIX_REQ_EVENT, &vcpu->requests) || need_resched() ||
	    signal_pending(current) || READ_ONCE(vcpu->vm->exited) ||
	    vsnix_virt_rebooting()) {
		/* Nothing of the guest happened: order nothing but the mode. */
		smp_store_release(&vcpu->mode, VSNIX_OUTSIDE_GUEST);
		return false;
	}
	if (trace_vsnix_vcpu_entry_enabled() ||
	    trace_vsnix_vcpu_exit_enabled())
		vsnix_trace_entry(vcpu);
	return true;
}

void vsnix_vcpu_exit_done(struct vsnix_vcpu *vcpu)
{
	if (trace_vsnix_vcpu_entry_enabled() ||
	    trace_vsnix_vcpu_exit_enabled())
		vcpu->trace.exit_ns = ktime_get_mono_fast_ns();
	/* The exit's state is stored before a kicker can see us outside. */
	smp_store_release(&vcpu->mode, VSNIX_OUTSIDE_GUEST);
}

void vsnix_exit_internal(struct vsnix_vcpu *vcpu, u32 suberror,
			 unsigned int ndata, const u64 *data)
{
	struct vsnix_run *run = vcpu->run;

	ndata = min_t(unsigned int, ndata, ARRAY_SIZE(run->internal.data));
	run->exit_reason = VSNIX_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.ndata = ndata;
	memcpy(run->internal.data, data, ndata * sizeof(u64));
}

void vsnix_exit_guest(struct vsnix_vcpu *vcpu, int status, u32 source)
{
	struct vsnix_vm *vm = vcpu->vm;

	if (!READ_ONCE(vm->exited)) {
		WRITE_ONCE(vm->exit_status, status);
		/* Status first: readers test exited, then read the status. */
		smp_store_release(&vm->exited, true);
		vsnix_vm_kick_all(vm);
	}
	vcpu->run->exit_reason = VSNIX_EXIT_GUEST_EXIT;
	vcpu->run->guest_exit.status = READ_ONCE(vm->exit_status);
	vcpu->run->guest_exit.source = source;
}

/*
 * One guest entry. No memory lock: slots are read under SRCU when a fault
 * needs them, and TDP changes reach a running vCPU as a TLB flush request
 * and an IPI (vsnix_vm_flush_tlbs).
 */
static int vsnix_vcpu_enter_once(struct vsnix_vcpu *vcpu)
{
	int r;

	preempt_disable();
	r = vsnix_ops->vcpu_run(vcpu);
	preempt_enable();
	return r;
}

static long vsnix_vcpu_run(struct vsnix_vcpu *vcpu)
{
	struct vsnix_run *run = vcpu->run;
	struct vsnix_vm *vm = vcpu->vm;
	long r = 0;

	/* The guest's CPUID may have changed since the last RUN. */
	vsnix_x86_refresh_features(vcpu);
	/* Finish the last exit first, so immediate_exit leaves clean state. */
	if (vcpu->pending != VSNIX_PENDING_NONE)
		vsnix_x86_complete_pending(vcpu);
	if (READ_ONCE(run->immediate_exit)) {
		run->exit_reason = VSNIX_EXIT_INTR;
		return -EINTR;
	}

	vsnix_x86_fpu_load(vcpu);

	for (;;) {
		if (READ_ONCE(vm->exited)) {
			run->exit_reason = VSNIX_EXIT_GUEST_EXIT;
			run->guest_exit.status = READ_ONCE(vm->exit_status);
			run->guest_exit.source = 0;
			r = 0;
			break;
		}
		if (signal_pending(current)) {
			run->exit_reason = VSNIX_EXIT_INTR;
			r = -EINTR;
			break;
		}
		if (vsnix_virt_rebooting()) {
			/* Root mode is gone on the way to reboot or kexec. */
			run->exit_reason = VSNIX_EXIT_SHUTDOWN;
			r = -EIO;
			break;
		}
		/* Halted or waiting for SIPI: sleep until an event. */
		r = vsnix_x86_vcpu_ready(vcpu);
		if (r <= 0) {
			if (r == -EINTR)
				run->exit_reason = VSNIX_EXIT_INTR;
			break;
		}
		cond_resched();

		r = vsnix_vcpu_enter_once(vcpu);
		if (r < 0) {
			/* Entry failed: run->fail_entry is filled. */
			r = 0;
			break;
		}
		if (r == VSNIX_SKIPPED)
			continue;

		r = vsnix_ops->handle_exit(vcpu);
		if (r == 1)
			continue;
		if (r == -EINTR)
			run->exit_reason = VSNIX_EXIT_INTR;
		else if (r < 0 && run->exit_reason == VSNIX_EXIT_INTERNAL_ERROR)
			r = 0;	/* described in run->internal */
		break;
	}

	vsnix_x86_fpu_put(vcpu);
	return r;
}

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

static long vsnix_vcpu_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct vsnix_vcpu *vcpu = file->private_data;
	void __user *argp = (void __user *)arg;
	long r;

	if (cmd == VSNIX_INJECT_EVENT)
		return vsnix_vcpu_inject(vcpu, argp);
	/* No mutex: a tool reads the stats of a running vCPU. */
	if (cmd == VSNIX_GET_VCPU_STATS_FD)
		return arg ? -EINVAL : vsnix_stats_vcpu_fd(vcpu);
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;

	switch (cmd) {
	case VSNIX_RUN:
		if (arg) {
			r = -EINVAL;
			break;
		}
		r = vsnix_vcpu_run(vcpu);
		vcpu->stat.user_exits++;
		break;
	case VSNIX_GET_REGS:
		r = vsnix_vcpu_get_regs(vcpu, argp);
		break;
	case VSNIX_SET_REGS:
		r = vsnix_vcpu_set_regs(vcpu, argp);
		break;
	case VSNIX_GET_SREGS:
		r = vsnix_vcpu_get_sregs(vcpu, argp);
		break;
	case VSNIX_SET_SREGS:
		r = vsnix_vcpu_set_sregs(vcpu, argp);
		break;
	case VSNIX_GET_XSAVE:
		r = vsnix_vcpu_xsave(vcpu, argp, false);
		break;
	case VSNIX_SET_XSAVE:
		r = vsnix_vcpu_xsave(vcpu, argp, true);
		break;
	case VSNIX_GET_MSRS:
		r = vsnix_vcpu_msrs(vcpu, argp, false);
		break;
	case VSNIX_SET_MSRS:
		r = vsnix_vcpu_msrs(vcpu, argp, true);
		break;
	case VSNIX_GET_VCPU_EVENTS:
	case VSNIX_SET_VCPU_EVENTS:
	case VSNIX_GET_DEBUGREGS:
	case VSNIX_SET_DEBUGREGS:
		r = vsnix_vcpu_events_ioctl(vcpu, cmd, argp);
		break;
	case VSNIX_GET_LAPIC:
		r = vsnix_lapic_get_state(vcpu, argp);
		break;
	case VSNIX_SET_LAPIC:
		r = vsnix_lapic_set_state(vcpu, argp);
		break;
	default:
		r = -ENOTTY;
	}
	mutex_unlock(&vcpu->mutex);
	return r;
}

static vm_fault_t vsnix_vcpu_fault(struct vm_fault *vmf)
{
	struct vsnix_vcpu *vcpu = vmf->vma->vm_file->private_data;

	if (vmf->pgoff >= ARRAY_SIZE(vcpu->run_pages))
		return VM_FAULT_SIGBUS;
	get_page(vcpu->run_pages[vmf->pgoff]);
	vmf->page = vcpu->run_pages[vmf->pgoff];
	return 0;
}

static const struct vm_operations_struct vsnix_vcpu_vm_ops = {
	.fault = vsnix_vcpu_fault,
};

static int vsnix_vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff || vma_pages(vma) > 2)
		return -EINVAL;
	vma->vm_ops = &vsnix_vcpu_vm_ops;
	return 0;
}

static int vsnix_vcpu_release(struct inode *inode, struct file *file)
{
	struct vsnix_vcpu *vcpu = file->private_data;

	vsnix_vm_put(vcpu->vm);
	return 0;
}

static const struct file_operations vsnix_vcpu_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vsnix_vcpu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = vsnix_vcpu_mmap,
	.release = vsnix_vcpu_release,
	.llseek = noop_llseek,
};

void vsnix_vcpu_destroy(struct vsnix_vcpu *vcpu)
{
	vsnix_lapic_free(vcpu);
	vsnix_ops->vcpu_free(vcpu);
	vsnix_x86_events_free(vcpu);
	vsnix_x86_fpu_free(vcpu);
	vsnix_free_pages(vcpu->run_pages[0], 0);
	vsnix_free_pages(vcpu->run_pages[1], 0);
	kfree(vcpu);
}

static struct vsnix_vcpu *vsnix_vcpu_alloc(struct vsnix_vm *vm, u32 id)
{
	struct vsnix_vcpu *vcpu;
	int i, r;

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return ERR_PTR(-ENOMEM);
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->cpu = -1;
	mutex_init(&vcpu->mutex);
	init_waitqueue_head(&vcpu->wq);
	for (i = 0; i < ARRAY_SIZE(vcpu->run_pages); i++) {
		vcpu->run_pages[i] = vsnix_alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO,
							NUMA_NO_NODE, 0);
		if (!vcpu->run_pages[i]) {
			r = -ENOMEM;
			goto err_pages;
		}
	}
	/* Two contiguous pages are not needed: the data page is reached by offset. */
	vcpu->run = page_address(vcpu->run_pages[0]);

	r = vsnix_x86_fpu_init(vcpu);
	if (r)
		goto err_pages;
	r = vsnix_x86_events_create(vcpu);
	if (r)
		goto err_fpu;
	r = vsnix_ops->vcpu_create(vcpu);
	if (r)
		goto err_events;
	r = vsnix_lapic_create(vcpu);
	if (r)
		goto err_vcpu;
	return vcpu;

err_vcpu:
	vsnix_ops->vcpu_free(vcpu);
err_events:
	vsnix_x86_events_free(vcpu);
err_fpu:
	vsnix_x86_fpu_free(vcpu);
err_pages:
	for (i = 0; i < ARRAY_SIZE(vcpu->run_pages); i++)
		vsnix_free_pages(vcpu->run_pages[i], 0);
	kfree(vcpu);
	return ERR_PTR(r);
}

int vsnix_vcpu_create_fd(struct vsnix_vm *vm, unsigned long id)
{
	struct vsnix_vcpu *vcpu;
	int fd;

	if (id >= VSNIX_MAX_VCPUS)
		return -EINVAL;

	mutex_lock(&vm->lock);
	if (vm->vcpus[id]) {
		fd = -EEXIST;
		goto out;
	}
	vcpu = vsnix_vcpu_alloc(vm, id);
	if (IS_ERR(vcpu)) {
		fd = PTR_ERR(vcpu);
		goto out;
	}
	vsnix_vm_get(vm);
	fd = anon_inode_getfd("vsnix-vcpu", &vsnix_vcpu_fops, vcpu,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		vsnix_vm_put(vm);	/* not the last reference: the VM fd holds one */
		vsnix_vcpu_destroy(vcpu);
		goto out;
	}
	WRITE_ONCE(vm->vcpus[id], vcpu);
	atomic_inc(&vm->nr_vcpus);
out:
	mutex_unlock(&vm->lock);
	return fd;
}
