// SPDX-License-Identifier: GPL-2.0
/*
 * irqfd: an eventfd whose signal raises a GSI (an edge) or sends an MSI in
 * the kernel, without a trip to userspace.
 *
 * The irqfd waits on the eventfd's wait queue with its own wakeup
 * callback, which runs with the queue's spinlock held and IRQs off: it
 * consumes the count and injects at once (vsnix_irq_set_line and
 * vsnix_irq_msi never sleep).
 *
 * Teardown is the one delicate part. An irqfd is active while it is on
 * vm->irqfds; whoever takes it off (DEASSIGN, the VM's end, or the
 * eventfd's release, seen as EPOLLHUP in the wakeup) queues its shutdown
 * work, and only that work frees it: it first leaves the wait queue under
 * the queue's lock (eventfd_ctx_remove_wait_queue), so no wakeup can run
 * on it afterwards. DEASSIGN and the VM's end flush the work before they
 * return, so the irqfd is gone when they do.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include "irq.h"
#include "internal.h"

#define VSNIX_MAX_IRQFDS	1024

struct vsnix_irqfd_entry {
	struct vsnix_vm *vm;
	struct eventfd_ctx *ctx;
	wait_queue_entry_t wait;
	poll_table pt;
	struct list_head node;		/* vm->irqfds; empty once inactive */
	struct work_struct shutdown;
	bool msi;
	u32 gsi;
	u32 msi_data;
	u64 msi_address;
};

/* irqfd shutdowns and deferred device destroys (iobus.c). */
struct workqueue_struct *vsnix_wq;

static void irqfd_inject(struct vsnix_irqfd_entry *irqfd)
{
	if (irqfd->msi) {
		vsnix_irq_msi(irqfd->vm, irqfd->msi_address, irqfd->msi_data);
	} else {
		vsnix_irq_set_line(irqfd->vm, irqfd->gsi, true);
		vsnix_irq_set_line(irqfd->vm, irqfd->gsi, false);
	}
}

static void irqfd_shutdown(struct work_struct *work)
{
	struct vsnix_irqfd_entry *irqfd =
		container_of(work, struct vsnix_irqfd_entry, shutdown);
	u64 cnt;

	/* Takes the wait queue's lock: no wakeup runs on irqfd after this. */
	eventfd_ctx_remove_wait_queue(irqfd->ctx, &irqfd->wait, &cnt);
	eventfd_ctx_put(irqfd->ctx);
	kfree(irqfd);
}

static bool irqfd_is_active(struct vsnix_irqfd_entry *irqfd)
{
	return !list_empty(&irqfd->node);
}

static void irqfd_deactivate(struct vsnix_irqfd_entry *irqfd)
{
	lockdep_assert_held(&irqfd->vm->irqfds_lock);
	list_del_init(&irqfd->node);
	queue_work(vsnix_wq, &irqfd->shutdown);
}

/* Wakeup callback: the eventfd's wait queue lock is held, IRQs are off. */
static int irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			int sync, void *key)
{
	struct vsnix_irqfd_entry *irqfd =
		container_of(wait, struct vsnix_irqfd_entry, wait);
	__poll_t flags = key_to_poll(key);
	struct vsnix_vm *vm = irqfd->vm;
	unsigned long irqflags;
	u64 cnt;

	if (flags & EPOLLIN) {
		eventfd_ctx_do_read(irqfd->ctx, &cnt);
		irqfd_inject(irqfd);
	}
	if (flags & EPOLLHUP) {
		/* The eventfd is being released: tear the irqfd down. */
		spin_lock_irqsave(&vm->irqfds_lock, irqflags);
		if (irqfd_is_active(irqfd))
			irqfd_deactivate(irqfd);
		spin_unlock_irqrestore(&vm->irqfds_lock, irqflags);
	}
	return 0;
}

static void irqfd_queue_proc(struct file *file, wait_queue_head_t *wqh,
			     poll_table *pt)
{
	struct vsnix_irqfd_entry *irqfd =
		container_of(pt, struct vsnix_irqfd_entry, pt);

	add_wait_queue(wqh, &irqfd->wait);
}

static int irqfd_check(struct vsnix_vm *vm, const struct vsnix_irqfd *a)
{
	bool msi = a->flags & VSNIX_IRQFD_MSI;

	if ((a->flags & ~VSNIX_IRQFD_FLAGS) ||
	    memchr_inv(a->reserved, 0, sizeof(a->reserved)) ||
	    (msi && a->gsi) || (!msi && (a->msi_address || a->msi_data))) {
		pr_warn_ratelimited("IRQFD: bad flags or fields that must be zero\n");
		return -EINVAL;
	}
	if (!(a->flags & VSNIX_IRQFD_DEASSIGN) && !msi &&
	    !vsnix_irq_gsi_routed(vm, a->gsi)) {
		pr_warn_ratelimited("IRQFD: no interrupt controller serves GSI %u\n",
				    a->gsi);
		return -EINVAL;
	}
	return 0;
}

/* With irq_lock: no DEASSIGN races with the registration below. */
static int irqfd_assign(struct vsnix_vm *vm, const struct vsnix_irqfd *a)
{
	struct vsnix_irqfd_entry *irqfd, *tmp;
	unsigned int n = 0;
	struct file *file;
	__poll_t events;
	int ret = 0;

	lockdep_assert_held(&vm->irq_lock);
	/* fget, not fdget: struct fd changed shape in 6.12. */
	file = fget(a->fd);
	if (!file)
		return -EBADF;
	irqfd = kzalloc(sizeof(*irqfd), GFP_KERNEL_ACCOUNT);
	if (!irqfd) {
		ret = -ENOMEM;
		goto out;
	}
	irqfd->ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(irqfd->ctx)) {
		ret = PTR_ERR(irqfd->ctx);
		kfree(irqfd);
		goto out;
	}
	irqfd->vm = vm;
	irqfd->msi = a->flags & VSNIX_IRQFD_MSI;
	irqfd->gsi = a->gsi;
	irqfd->msi_address = a->msi_address;
	irqfd->msi_data = a->msi_data;
	INIT_WORK(&irqfd->shutdown, irqfd_shutdown);
	init_waitqueue_func_entry(&irqfd->wait, irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, irqfd_queue_proc);

	spin_lock_irq(&vm->irqfds_lock);
	list_for_each_entry(tmp, &vm->irqfds, node) {
		n++;
		if (tmp->ctx == irqfd->ctx)
			ret = -EBUSY;
	}
	if (!ret && n >= VSNIX_MAX_IRQFDS)
		ret = -ENOSPC;
	if (!ret)
		list_add_tail(&irqfd->node, &vm->irqfds);
	spin_unlock_irq(&vm->irqfds_lock);
	if (ret) {
		eventfd_ctx_put(irqfd->ctx);
		kfree(irqfd);
		goto out;
	}
	/* Registers on the wait queue; a signal sent before counts too. */
	events = vfs_poll(file, &irqfd->pt);
	if (events & EPOLLIN)
		irqfd_inject(irqfd);	/* the count goes at the next wakeup */
out:
	fput(file);
	return ret;
}

static int irqfd_deassign(struct vsnix_vm *vm, const struct vsnix_irqfd *a)
{
	struct vsnix_irqfd_entry *irqfd, *tmp;
	struct eventfd_ctx *ctx;
	int ret = -ENOENT;

	lockdep_assert_held(&vm->irq_lock);
	ctx = eventfd_ctx_fdget(a->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	spin_lock_irq(&vm->irqfds_lock);
	list_for_each_entry_safe(irqfd, tmp, &vm->irqfds, node) {
		if (irqfd->ctx == ctx) {
			irqfd_deactivate(irqfd);
			ret = 0;
		}
	}
	spin_unlock_irq(&vm->irqfds_lock);
	eventfd_ctx_put(ctx);
	/* Once this returns, the eventfd no longer raises anything. */
	flush_workqueue(vsnix_wq);
	return ret;
}

long vsnix_vm_irqfd(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_irqfd a;
	long ret;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	ret = irqfd_check(vm, &a);
	if (ret)
		return ret;
	mutex_lock(&vm->irq_lock);
	if (a.flags & VSNIX_IRQFD_DEASSIGN)
		ret = irqfd_deassign(vm, &a);
	else
		ret = irqfd_assign(vm, &a);
	mutex_unlock(&vm->irq_lock);
	return ret;
}

long vsnix_vm_irq_line(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_irq_level l;

	if (copy_from_user(&l, argp, sizeof(l)))
		return -EFAULT;
	if (l.level > 1 || memchr_inv(l.reserved, 0, sizeof(l.reserved)))
		return -EINVAL;
	return vsnix_irq_set_line(vm, l.gsi, l.level);
}

/* The VM's end: every irqfd is shut down before the VM goes. */
void vsnix_irqfd_release(struct vsnix_vm *vm)
{
	struct vsnix_irqfd_entry *irqfd, *tmp;

	spin_lock_irq(&vm->irqfds_lock);
	list_for_each_entry_safe(irqfd, tmp, &vm->irqfds, node)
		irqfd_deactivate(irqfd);
	spin_unlock_irq(&vm->irqfds_lock);
	flush_workqueue(vsnix_wq);
}

int vsnix_irqfd_module_init(void)
{
	vsnix_wq = alloc_workqueue("vsnix", 0, 0);
	return vsnix_wq ? 0 : -ENOMEM;
}

void vsnix_irqfd_module_exit(void)
{
	destroy_workqueue(vsnix_wq);
}
