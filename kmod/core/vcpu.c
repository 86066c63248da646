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
#include "vsnix.h"
#include "internal.h"
#include "compat.h"
#include "arch.h"
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

void vsnix_exit_guest(struct vsnix_vcpu *vcpu, int status, u32 source,
		      u64 data)
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
	vcpu->run->guest_exit.data = data;
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
	r = vsnix_arch_vcpu_enter(vcpu);
	preempt_enable();
	return r;
}

static long vsnix_vcpu_run(struct vsnix_vcpu *vcpu)
{
	struct vsnix_run *run = vcpu->run;
	struct vsnix_vm *vm = vcpu->vm;
	long r = 0;

	/* Finish the last exit first, so immediate_exit leaves clean state. */
	vsnix_arch_vcpu_run_begin(vcpu);
	if (READ_ONCE(run->immediate_exit)) {
		run->exit_reason = VSNIX_EXIT_INTR;
		return -EINTR;
	}

	vsnix_arch_vcpu_load(vcpu);

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
		r = vsnix_arch_vcpu_ready(vcpu);
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

		r = vsnix_arch_handle_exit(vcpu);
		if (r == 1)
			continue;
		if (r == -EINTR)
			run->exit_reason = VSNIX_EXIT_INTR;
		else if (r < 0 && run->exit_reason == VSNIX_EXIT_INTERNAL_ERROR)
			r = 0;	/* described in run->internal */
		break;
	}

	vsnix_arch_vcpu_put(vcpu);
	return r;
}

static long vsnix_vcpu_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct vsnix_vcpu *vcpu = file->private_data;
	void __user *argp = (void __user *)arg;
	long r;

	r = vsnix_arch_vcpu_async_ioctl(vcpu, cmd, argp);
	if (r != -ENOIOCTLCMD)
		return r;
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
	default:
		r = vsnix_arch_vcpu_ioctl(vcpu, cmd, argp);
		if (r == -ENOIOCTLCMD)
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
	vsnix_arch_vcpu_destroy(vcpu);
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

	r = vsnix_arch_vcpu_create(vcpu);
	if (r)
		goto err_pages;
	return vcpu;

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
