// SPDX-License-Identifier: GPL-2.0
/*
 * vsnix.ko: module init and the /dev/vsnix system ioctls.
 *
 * Init is a ladder undone in reverse on failure; /dev/vsnix is registered
 * last because it exposes the module to userspace.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include "vsnix.h"
#include "internal.h"
#include "arch.h"

static long vsnix_check_extension(unsigned long cap)
{
	switch (cap) {
	case VSNIX_CAP_NR_VCPUS:
		return VSNIX_MAX_VCPUS;
	case VSNIX_CAP_NR_MEMSLOTS:
		return VSNIX_MAX_MEMSLOTS;
	case VSNIX_CAP_MAX_MEM_MB:
		return VSNIX_MAX_MEM_MB;
	case VSNIX_CAP_READONLY_MEM:
	case VSNIX_CAP_DESTROY_DEVICE:
	case VSNIX_CAP_IOEVENTFD:
	case VSNIX_CAP_IRQFD:
	case VSNIX_CAP_DEVICE_STATE:
	case VSNIX_CAP_HALT_IN_KERNEL:
	case VSNIX_CAP_UART_IRQ:
	case VSNIX_CAP_STATS:
	case VSNIX_CAP_VM_LIST:
		return 1;
	case VSNIX_CAP_DEVICE_INPUT:
		return VSNIX_DEVICE_INPUT_MAX;
	case VSNIX_CAP_DEVICES:
		return vsnix_device_types();
	case VSNIX_CAP_HVT_MAX_DEVICES:
		return VSNIX_HVT_MAX_HANDLE;
	case VSNIX_CAP_MEM_ON_DEMAND:
	case VSNIX_CAP_DIRTY_LOG:
		return 1;
	default:
		return vsnix_arch_check_extension(cap);
	}
}

static long vsnix_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	long ret;

	switch (cmd) {
	case VSNIX_GET_API_VERSION:
		if (arg)
			return -EINVAL;
		return VSNIX_API_VERSION;
	case VSNIX_CHECK_EXTENSION:
		return vsnix_check_extension(arg);
	case VSNIX_CREATE_VM:
		return vsnix_vm_create_fd(arg);
	case VSNIX_GET_VCPU_MMAP_SIZE:
		if (arg)
			return -EINVAL;
		return 2 * PAGE_SIZE;
	}
	ret = vsnix_arch_dev_ioctl(cmd, arg);
	if (ret != -ENOIOCTLCMD)
		return ret;
	return vsnix_stats_dev_ioctl(cmd, arg);
}

static const struct file_operations vsnix_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vsnix_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/* Mode 0600 until the udev rule hands it to the vsnix group. */
static struct miscdevice vsnix_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vsnix",
	.fops = &vsnix_dev_fops,
	.mode = 0600,
};

static int __init vsnix_init(void)
{
	int ret;

	ret = vsnix_arch_init();
	if (ret)
		return ret;

	ret = vsnix_virt_init();
	if (ret)
		goto err_unprobe;

	ret = vsnix_irqfd_module_init();
	if (ret)
		goto err_virt;

	ret = misc_register(&vsnix_miscdev);
	if (ret)
		goto err_irqfd;

	pr_info("loaded, %s backend, API version %d\n", vsnix_arch_name(),
		VSNIX_API_VERSION);
	return 0;

err_irqfd:
	vsnix_irqfd_module_exit();
err_virt:
	vsnix_virt_exit();
err_unprobe:
	vsnix_arch_exit();
	return ret;
}

static void __exit vsnix_exit(void)
{
	misc_deregister(&vsnix_miscdev);
	vsnix_irqfd_module_exit();
	vsnix_virt_exit();
	vsnix_arch_exit();
	pr_info("unloaded\n");
}

module_init(vsnix_init);
module_exit(vsnix_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vSnix: a unikernel-style hypervisor (SVM/NPT and VMX/EPT)");
MODULE_AUTHOR("The vSnix developers");
