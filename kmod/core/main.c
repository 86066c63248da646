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
#include <asm/processor.h>
#include "vsnix.h"
#include "internal.h"
#include "../arch/x86/x86.h"

const struct vsnix_arch_ops *vsnix_ops;

static const struct vsnix_arch_ops *vsnix_pick_backend(void)
{
	switch (boot_cpu_data.x86_vendor) {
	case X86_VENDOR_AMD:
	case X86_VENDOR_HYGON:
		return &vsnix_svm_ops;
	case X86_VENDOR_INTEL:
	case X86_VENDOR_ZHAOXIN:
	case X86_VENDOR_CENTAUR:
		return &vsnix_vmx_ops;
	default:
		return NULL;
	}
}

static long vsnix_check_extension(unsigned long cap)
{
	switch (cap) {
	case VSNIX_CAP_VENDOR:
		return vsnix_ops->vendor;
	case VSNIX_CAP_NR_VCPUS:
		return VSNIX_MAX_VCPUS;
	case VSNIX_CAP_NR_MEMSLOTS:
		return VSNIX_MAX_MEMSLOTS;
	case VSNIX_CAP_MAX_MEM_MB:
		return VSNIX_MAX_MEM_MB;
	case VSNIX_CAP_READONLY_MEM:
	case VSNIX_CAP_XSAVE:
	case VSNIX_CAP_REAL_MODE:
	case VSNIX_CAP_INJECT_EVENT:
	case VSNIX_CAP_MSR_LIST:
	case VSNIX_CAP_DESTROY_DEVICE:
	case VSNIX_CAP_IOEVENTFD:
	case VSNIX_CAP_IRQFD:
	case VSNIX_CAP_DEVICE_STATE:
	case VSNIX_CAP_VCPU_EVENTS:
	case VSNIX_CAP_HALT_IN_KERNEL:
	case VSNIX_CAP_LAPIC:
	case VSNIX_CAP_UART_IRQ:
	case VSNIX_CAP_STATS:
	case VSNIX_CAP_VM_LIST:
		return 1;
	case VSNIX_CAP_DEVICE_INPUT:
		return VSNIX_DEVICE_INPUT_MAX;
	case VSNIX_CAP_EXTINT_QUEUE:
		return VSNIX_MAX_QUEUED_IRQS;
	case VSNIX_CAP_DEVICES:
		return vsnix_device_types();
	case VSNIX_CAP_HVT_MAX_DEVICES:
		return VSNIX_HVT_MAX_HANDLE;
	case VSNIX_CAP_NOEXEC_MEM:
		return vsnix_ops->tdp_noexec();
	case VSNIX_CAP_MEM_ON_DEMAND:
	case VSNIX_CAP_DIRTY_LOG:
		return 1;
	case VSNIX_CAP_HUGE_TDP:
		return vsnix_ops->tdp_huge();
	default:
		return 0;
	}
}

static long vsnix_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
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
	case VSNIX_GET_SUPPORTED_CPUID:
		return vsnix_get_supported_cpuid((void __user *)arg);
	default:
		return vsnix_stats_dev_ioctl(cmd, arg);
	}
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

	vsnix_ops = vsnix_pick_backend();
	if (!vsnix_ops) {
		pr_info("no supported CPU vendor\n");
		return -ENODEV;
	}
	ret = vsnix_ops->hardware_probe();
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

	pr_info("loaded, %s backend, API version %d\n", vsnix_ops->name,
		VSNIX_API_VERSION);
	return 0;

err_irqfd:
	vsnix_irqfd_module_exit();
err_virt:
	vsnix_virt_exit();
err_unprobe:
	vsnix_ops->hardware_unprobe();
	return ret;
}

static void __exit vsnix_exit(void)
{
	misc_deregister(&vsnix_miscdev);
	vsnix_irqfd_module_exit();
	vsnix_virt_exit();
	vsnix_ops->hardware_unprobe();
	pr_info("unloaded\n");
}

module_init(vsnix_init);
module_exit(vsnix_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vSnix: a unikernel-style hypervisor (SVM/NPT and VMX/EPT)");
MODULE_AUTHOR("The vSnix developers");
