// SPDX-License-Identifier: GPL-2.0
/*
 * VM objects and the VM fd. A VM lives while its fd or any of its vCPU fds
 * is open (each holds a reference); its vCPUs, memory and devices go with
 * it. Root mode is held for as long as any VM lives.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "vsnix.h"
#include "internal.h"
#include "arch.h"
#include "irq.h"

static void vsnix_vm_free(struct kref *ref)
{
	struct vsnix_vm *vm = container_of(ref, struct vsnix_vm, ref);
	int i;

	vsnix_vm_unregister(vm);
	/* First: an eventfd signal must not reach a vCPU being freed. */
	vsnix_irqfd_release(vm);
	/* Then devices: their timers (PIT) raise interrupts to vCPUs. */
	vsnix_io_destroy_all(vm);
	/* Then the slots: their MMU notifiers look at the vCPUs. */
	vsnix_memslots_free(vm);
	for (i = 0; i < VSNIX_MAX_VCPUS; i++)
		if (vm->vcpus[i])
			vsnix_vcpu_destroy(vm->vcpus[i]);
	vsnix_irq_destroy(vm);
	vsnix_arch_vm_destroy(vm);
	cleanup_srcu_struct(&vm->srcu);
	kfree(vm);
	vsnix_virt_put();
	module_put(THIS_MODULE);
}

void vsnix_vm_get(struct vsnix_vm *vm)
{
	kref_get(&vm->ref);
}

void vsnix_vm_put(struct vsnix_vm *vm)
{
	kref_put(&vm->ref, vsnix_vm_free);
}

static long vsnix_vm_ioctl_memory(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_memory_region r;

	if (copy_from_user(&r, argp, sizeof(r)))
		return -EFAULT;
	return vsnix_set_memory_region(vm, &r);
}

static long vsnix_vm_ioctl_dirty_log(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_dirty_log log;

	if (copy_from_user(&log, argp, sizeof(log)))
		return -EFAULT;
	if (log.flags || log.reserved[0] || log.reserved[1])
		return -EINVAL;
	return vsnix_get_dirty_log(vm, &log);
}

static long vsnix_vm_ioctl_device(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_device_config *cfg;
	long ret;

	cfg = memdup_user(argp, sizeof(*cfg));
	if (IS_ERR(cfg))
		return PTR_ERR(cfg);
	/*
	 * id is out only, and ignored in: callers that reuse a config after
	 * a CREATE_DEVICE (which writes it) must not start to fail.
	 */
	if (cfg->flags || memchr_inv(cfg->reserved, 0, sizeof(cfg->reserved))) {
		ret = -EINVAL;
		goto out;
	}
	mutex_lock(&vm->lock);
	ret = vsnix_device_create(vm, cfg);
	mutex_unlock(&vm->lock);
	/* The new device's id goes back in the config (_IOWR). */
	if (ret > 0) {
		cfg->id = ret;
		ret = 0;
		if (put_user(cfg->id, &((struct vsnix_device_config __user *)
					argp)->id))
			ret = -EFAULT;
	}
out:
	kfree(cfg);
	return ret;
}

static long vsnix_vm_ioctl_status(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_vm_status st = { };

	st.exited = READ_ONCE(vm->exited);
	st.exit_status = READ_ONCE(vm->exit_status);
	st.console_bytes = atomic64_read(&vm->console_bytes);
	st.console_dropped = atomic64_read(&vm->console_dropped);
	return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
}

/* VSNIX_SET_HALT_CONFIG: may HLT sleep in the kernel (arch/x86/events.c)? */
static long vsnix_vm_ioctl_halt(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_halt_config cfg;

	if (copy_from_user(&cfg, argp, sizeof(cfg)))
		return -EFAULT;
	if ((cfg.flags & ~VSNIX_HALT_IN_KERNEL) || cfg.pad ||
	    memchr_inv(cfg.reserved, 0, sizeof(cfg.reserved)))
		return -EINVAL;
	WRITE_ONCE(vm->halt_flags, cfg.flags);
	return 0;
}

static long vsnix_vm_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct vsnix_vm *vm = file->private_data;
	void __user *argp = (void __user *)arg;
	long ret;

	switch (cmd) {
	case VSNIX_SET_MEMORY_REGION:
		return vsnix_vm_ioctl_memory(vm, argp);
	case VSNIX_CREATE_VCPU:
		return vsnix_vcpu_create_fd(vm, arg);
	case VSNIX_CREATE_DEVICE:
		return vsnix_vm_ioctl_device(vm, argp);
	case VSNIX_GET_VM_STATUS:
		return vsnix_vm_ioctl_status(vm, argp);
	case VSNIX_GET_DIRTY_LOG:
		return vsnix_vm_ioctl_dirty_log(vm, argp);
	case VSNIX_DESTROY_DEVICE:
		if (!arg || arg > U32_MAX)
			return -EINVAL;
		return vsnix_io_destroy_id(vm, arg);
	case VSNIX_IOEVENTFD:
		return vsnix_vm_ioeventfd(vm, argp);
	case VSNIX_IRQ_LINE:
		return vsnix_vm_irq_line(vm, argp);
	case VSNIX_IRQFD:
		return vsnix_vm_irqfd(vm, argp);
	case VSNIX_GET_DEVICE_STATE:
		return vsnix_vm_get_device_state(vm, argp);
	case VSNIX_SET_DEVICE_STATE:
		return vsnix_vm_set_device_state(vm, argp);
	case VSNIX_DEVICE_INPUT:
		return vsnix_vm_device_input(vm, argp);
	case VSNIX_SET_HALT_CONFIG:
		return vsnix_vm_ioctl_halt(vm, argp);
	}
	ret = vsnix_arch_vm_ioctl(vm, cmd, arg);
	if (ret != -ENOIOCTLCMD)
		return ret;
	return vsnix_stats_vm_ioctl(vm, cmd, arg);
}

static int vsnix_vm_release(struct inode *inode, struct file *file)
{
	vsnix_vm_put(file->private_data);
	return 0;
}

static const struct file_operations vsnix_vm_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vsnix_vm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = vsnix_vm_release,
	.llseek = noop_llseek,
};

static struct vsnix_vm *vsnix_vm_create(void)
{
	struct vsnix_vm *vm;
	int ret;

	if (vsnix_virt_rebooting())
		return ERR_PTR(-EBUSY);

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return ERR_PTR(-ENOMEM);
	kref_init(&vm->ref);
	mutex_init(&vm->lock);
	vsnix_io_init(vm);
	vsnix_irq_init(vm);
	atomic_set(&vm->nr_vcpus, 0);
	atomic64_set(&vm->console_bytes, 0);
	atomic64_set(&vm->console_dropped, 0);
	mutex_init(&vm->console_lock);

	ret = vsnix_vm_memory_init(vm);
	if (ret)
		goto err_free;
	ret = init_srcu_struct(&vm->srcu);
	if (ret)
		goto err_mem;
	ret = vsnix_virt_get();
	if (ret)
		goto err_srcu;
	ret = vsnix_arch_vm_init(vm);
	if (ret)
		goto err_virt;
	/* Dropped in vsnix_vm_free: vCPU files can outlive the VM fd. */
	__module_get(THIS_MODULE);
	vsnix_vm_register(vm);
	return vm;

err_virt:
	vsnix_virt_put();
err_srcu:
	cleanup_srcu_struct(&vm->srcu);
err_mem:
	vsnix_vm_memory_free(vm);
err_free:
	kfree(vm);
	return ERR_PTR(ret);
}

int vsnix_vm_create_fd(unsigned long flags)
{
	struct vsnix_vm *vm;
	int fd;

	if (flags)
		return -EINVAL;
	vm = vsnix_vm_create();
	if (IS_ERR(vm))
		return PTR_ERR(vm);
	fd = anon_inode_getfd("vsnix-vm", &vsnix_vm_fops, vm,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0)
		vsnix_vm_put(vm);
	return fd;
}
