// SPDX-License-Identifier: GPL-2.0
/*
 * Root mode (SVM or VMX) on every online CPU while at least one VM exists,
 * and never across anything that can end a CPU's life: CPU offline,
 * suspend, reboot, kexec and panic leave root mode first. VMX blocks INIT
 * (Intel SDM Vol 3, 24.8), so a CPU left in VMX root mode cannot be woken
 * again by the next kernel.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/panic_notifier.h>
#include <linux/reboot.h>
#include <linux/smp.h>
#include "vsnix.h"
#include "internal.h"
#include "arch.h"
#include "compat.h"

static DEFINE_MUTEX(vsnix_virt_lock);
/* VMs alive; changed under vsnix_virt_lock with CPU hotplug held off. */
static unsigned int vsnix_virt_users;
static bool vsnix_rebooting;
static enum cpuhp_state vsnix_cpuhp_state;

struct vsnix_enable_result {
	atomic_t busy;
	atomic_t failed;
	int err;
};

static void vsnix_cpu_enable_fn(void *data)
{
	struct vsnix_enable_result *res = data;
	int err = vsnix_arch_cpu_enable();

	if (err == -EBUSY)
		atomic_inc(&res->busy);
	else if (err) {
		atomic_inc(&res->failed);
		res->err = err;
	}
}

static void vsnix_cpu_disable_fn(void *unused)
{
	vsnix_arch_cpu_disable();
}

int vsnix_virt_get(void)
{
	struct vsnix_enable_result res = { };
	int err = 0;

	cpus_read_lock();
	mutex_lock(&vsnix_virt_lock);
	if (vsnix_rebooting) {
		err = -EBUSY;
		goto out;
	}
	if (vsnix_virt_users++)
		goto out;

	on_each_cpu(vsnix_cpu_enable_fn, &res, 1);
	if (atomic_read(&res.busy) || atomic_read(&res.failed)) {
		on_each_cpu(vsnix_cpu_disable_fn, NULL, 1);
		vsnix_virt_users = 0;
		if (atomic_read(&res.busy)) {
			vsnix_arch_report_busy();
			err = -EBUSY;
		} else {
			pr_err("could not enable %s on %d CPU(s): error %d\n",
			       vsnix_arch_name(), atomic_read(&res.failed),
			       res.err);
			err = res.err;
		}
	}
out:
	mutex_unlock(&vsnix_virt_lock);
	cpus_read_unlock();
	return err;
}

void vsnix_virt_put(void)
{
	cpus_read_lock();
	mutex_lock(&vsnix_virt_lock);
	if (!--vsnix_virt_users)
		on_each_cpu(vsnix_cpu_disable_fn, NULL, 1);
	mutex_unlock(&vsnix_virt_lock);
	cpus_read_unlock();
}

/* CPU hotplug callbacks run on the CPU concerned with hotplug locked. */
static int vsnix_cpu_online(unsigned int cpu)
{
	unsigned long flags;
	int err = 0;

	/* Never back into root mode once reboot or panic has begun. */
	if (!vsnix_virt_users || READ_ONCE(vsnix_rebooting))
		return 0;
	local_irq_save(flags);
	err = vsnix_arch_cpu_enable();
	local_irq_restore(flags);
	if (err == -EBUSY)
		vsnix_arch_report_busy();
	return err;
}

static int vsnix_cpu_offline(unsigned int cpu)
{
	unsigned long flags;

	local_irq_save(flags);
	vsnix_arch_cpu_disable();
	local_irq_restore(flags);
	return 0;
}

/* Reboot and kexec (kernel_restart_prepare runs this chain). */
static int vsnix_reboot_notify(struct notifier_block *nb, unsigned long code,
			       void *unused)
{
	/* No new VM from now on; running ones fail their next entry. */
	WRITE_ONCE(vsnix_rebooting, true);
	on_each_cpu(vsnix_cpu_disable_fn, NULL, 1);
	return NOTIFY_OK;
}

static struct notifier_block vsnix_reboot_nb = {
	.notifier_call = vsnix_reboot_notify,
	.priority = INT_MAX,	/* before devices go away */
};

/*
 * Panic without a crash kernel (with one, panic() never gets here; see
 * arch/x86/emergency.c): the other CPUs are already stopped, so they are
 * reached by NMI. Lock-free: vsnix_virt_lock may be held by a stopped CPU.
 */
static int vsnix_panic_notify(struct notifier_block *nb, unsigned long code,
			      void *unused)
{
	WRITE_ONCE(vsnix_rebooting, true);
	if (READ_ONCE(vsnix_virt_users))
		vsnix_arch_emergency_leave_all();
	else
		vsnix_arch_cpu_emergency_disable();
	return NOTIFY_DONE;
}

static struct notifier_block vsnix_panic_nb = {
	.notifier_call = vsnix_panic_notify,
	.priority = INT_MAX,
};

/*
 * Suspend: syscore ops run on the last CPU with IRQs off, after the others
 * went through the hotplug offline callback above.
 */
static int vsnix_syscore_suspend(VSNIX_SYSCORE_ARGS)
{
	vsnix_arch_cpu_disable();
	return 0;
}

static void vsnix_syscore_resume(VSNIX_SYSCORE_ARGS)
{
	if (vsnix_virt_users && vsnix_arch_cpu_enable())
		pr_err("could not re-enable %s after resume\n", vsnix_arch_name());
}

/*
 * kexec and reboot run this on the one CPU left after the reboot notifier:
 * a second chance should a CPU have re-entered root mode in between.
 */
static void vsnix_syscore_shutdown(VSNIX_SYSCORE_ARGS)
{
	unsigned long flags;

	WRITE_ONCE(vsnix_rebooting, true);
	local_irq_save(flags);
	vsnix_arch_cpu_disable();
	local_irq_restore(flags);
}

VSNIX_SYSCORE(vsnix_syscore, vsnix_syscore_suspend, vsnix_syscore_resume,
	      vsnix_syscore_shutdown);

bool vsnix_virt_rebooting(void)
{
	return READ_ONCE(vsnix_rebooting);
}

int vsnix_virt_init(void)
{
	int ret;

	ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "vsnix:online",
				vsnix_cpu_online, vsnix_cpu_offline);
	if (ret < 0)
		return ret;
	vsnix_cpuhp_state = ret;

	ret = vsnix_arch_emergency_init();
	if (ret)
		goto err_cpuhp;
	ret = register_reboot_notifier(&vsnix_reboot_nb);
	if (ret)
		goto err_emergency;
	atomic_notifier_chain_register(&panic_notifier_list, &vsnix_panic_nb);
	vsnix_register_syscore(&vsnix_syscore);
	return 0;

err_emergency:
	vsnix_arch_emergency_exit();
err_cpuhp:
	cpuhp_remove_state(vsnix_cpuhp_state);
	return ret;
}

void vsnix_virt_exit(void)
{
	vsnix_unregister_syscore(&vsnix_syscore);
	atomic_notifier_chain_unregister(&panic_notifier_list, &vsnix_panic_nb);
	unregister_reboot_notifier(&vsnix_reboot_nb);
	vsnix_arch_emergency_exit();
	/* Runs the offline callback on every CPU: leaves root mode blindly. */
	cpuhp_remove_state(vsnix_cpuhp_state);
}
