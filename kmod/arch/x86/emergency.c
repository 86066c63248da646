// SPDX-License-Identifier: GPL-2.0
/*
 * Leaving root mode on every CPU where the kernel is dying: panic, crash
 * dump (kdump) and emergency restart. VMX blocks INIT (Intel SDM Vol 3,
 * 24.8) and CR4.VMXE cannot be cleared in VMX operation (SDM 24.8), so a CPU
 * left in VMX root mode cannot be started again by a kexec'd kernel. SVM
 * with GIF=0 holds INIT and NMI pending (AMD APM Vol 2, 15.17).
 *
 * Two layers, each enough on its own for the paths it sees
 * (Documentation/design.rst, "Emergency paths"):
 *  - panic: the panic notifier leaves root mode on this CPU, then sends an
 *    NMI to the others, which panic() has already parked with IRQs off; our
 *    NMI handler leaves root mode there. NMIs still reach a parked CPU
 *    whose local APIC is software-disabled (SDM Vol 3, 10.4.7.2).
 *  - crash dump and emergency restart: the kernel parks the other CPUs with
 *    its own emergency NMI handler, which runs no other handler, then calls
 *    the one "emergency virt callback" on every CPU. Where the kernel exports
 *    it to any module we hold that callback, but never while kvm.ko is
 *    loaded: the slot takes one owner and KVM's own callback (6.1: from
 *    kvm_intel load; 6.12: while KVM has virtualization on) turns off
 *    VMX and SVM on the CPU whoever owns them.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/smp.h>
#include <asm/apic.h>
#include <asm/nmi.h>
#include <asm/reboot.h>
#include "x86.h"

/* CPUs asked to leave root mode by NMI that have not answered yet. */
static struct cpumask vsnix_emerg_pending;
/* CPUs that went through the emergency disable (callback or NMI). */
static struct cpumask vsnix_emerg_left;
/* CPUs the NMI was sent to. */
static struct cpumask vsnix_emerg_asked;
static bool vsnix_emerg_armed;

/* Any context, NMI included: atomic bit ops only. */
static void vsnix_emerg_leave_this_cpu(void)
{
	vsnix_ops->cpu_emergency_disable();
	cpumask_set_cpu(raw_smp_processor_id(), &vsnix_emerg_left);
}

static int vsnix_emerg_nmi(unsigned int type, struct pt_regs *regs)
{
	int cpu = raw_smp_processor_id();

	if (!READ_ONCE(vsnix_emerg_armed))
		return NMI_DONE;
	/* The mask is read after the flag; pairs with the smp_wmb() below. */
	smp_rmb();
	if (!cpumask_test_cpu(cpu, &vsnix_emerg_pending))
		return NMI_DONE;
	vsnix_emerg_leave_this_cpu();
	cpumask_clear_cpu(cpu, &vsnix_emerg_pending);
	return NMI_HANDLED;
}

/*
 * Panic, on the panicking CPU, other CPUs already stopped (IRQs off): leave
 * root mode here and on every other CPU, one line per CPU. Where we hold
 * the kernel's callback, the stop IPI has run it on the others already;
 * the rest get an NMI. Waits at most a second for CPUs that do not answer
 * (a crash kernel's shootdown parks them in its own NMI handler, where
 * NMIs are blocked).
 */
void vsnix_x86_emergency_leave_all(void)
{
	int this = raw_smp_processor_id();
	unsigned int ms;
	int cpu;

	vsnix_emerg_leave_this_cpu();
	pr_emerg("panic: root mode off on CPU %d\n", this);

	/* panic's stop has marked the others offline: take every present CPU. */
	cpumask_andnot(&vsnix_emerg_pending, cpu_present_mask, &vsnix_emerg_left);
	cpumask_copy(&vsnix_emerg_asked, &vsnix_emerg_pending);
	if (!cpumask_empty(&vsnix_emerg_pending)) {
		/* The mask is visible before the flag (vsnix_emerg_nmi). */
		smp_wmb();
		WRITE_ONCE(vsnix_emerg_armed, true);
		apic->send_IPI_mask(&vsnix_emerg_pending, NMI_VECTOR);
		for (ms = 0; ms < 1000 && !cpumask_empty(&vsnix_emerg_pending); ms++)
			mdelay(1);
	}

	for_each_present_cpu(cpu) {
		if (cpu == this)
			continue;
		if (cpumask_test_cpu(cpu, &vsnix_emerg_left))
			pr_emerg("panic: root mode off on CPU %d (%s)\n", cpu,
				 cpumask_test_cpu(cpu, &vsnix_emerg_asked) ?
				 "NMI" : "stop IPI");
		else
			pr_emerg("panic: CPU %d did not answer the NMI, its root mode is left to the kernel\n",
				 cpu);
	}
}

#ifdef VSNIX_HAVE_EMERGENCY_VIRT_CB
static DEFINE_MUTEX(vsnix_cb_lock);
static bool vsnix_cb_held;
static bool vsnix_kvm_loaded;

/* Runs on every CPU the kernel stops or shoots down, and on the crashing one. */
static void vsnix_emerg_cb(void)
{
	vsnix_emerg_leave_this_cpu();
}

/* Hold the callback slot exactly while kvm.ko is not loaded. */
static void vsnix_cb_update(bool want)
{
	lockdep_assert_held(&vsnix_cb_lock);
	if (want == vsnix_cb_held)
		return;
	if (want)
		cpu_emergency_register_virt_callback(vsnix_emerg_cb);
	else
		cpu_emergency_unregister_virt_callback(vsnix_emerg_cb);
	vsnix_cb_held = want;
}

/*
 * COMING runs before kvm's init registers its own callback, GOING after its
 * exit removed it (kernel/module/main.c), so the slot is handed over
 * without a second registration, which would WARN.
 */
static int vsnix_module_notify(struct notifier_block *nb, unsigned long state,
			       void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, "kvm"))
		return NOTIFY_DONE;
	mutex_lock(&vsnix_cb_lock);
	if (state == MODULE_STATE_COMING)
		vsnix_kvm_loaded = true;
	else if (state == MODULE_STATE_GOING)
		vsnix_kvm_loaded = false;
	vsnix_cb_update(!vsnix_kvm_loaded);
	mutex_unlock(&vsnix_cb_lock);
	return NOTIFY_OK;
}

static struct notifier_block vsnix_module_nb = {
	.notifier_call = vsnix_module_notify,
};

/* kvm.ko exports kvm_rebooting on 6.1 and 6.12: is it loaded and live? */
static bool vsnix_kvm_present(void)
{
	void *sym = __symbol_get("kvm_rebooting");

	if (!sym)
		return false;
	__symbol_put("kvm_rebooting");
	return true;
}

static int vsnix_cb_init(void)
{
	int ret = register_module_notifier(&vsnix_module_nb);

	if (ret)
		return ret;
	mutex_lock(&vsnix_cb_lock);
	if (vsnix_kvm_present())
		vsnix_kvm_loaded = true;
	vsnix_cb_update(!vsnix_kvm_loaded);
	mutex_unlock(&vsnix_cb_lock);
	return 0;
}

static void vsnix_cb_exit(void)
{
	unregister_module_notifier(&vsnix_module_nb);
	mutex_lock(&vsnix_cb_lock);
	vsnix_cb_update(false);
	mutex_unlock(&vsnix_cb_lock);
}
#else
static int vsnix_cb_init(void) { return 0; }
static void vsnix_cb_exit(void) { }
#endif

int vsnix_x86_emergency_init(void)
{
	int ret = register_nmi_handler(NMI_LOCAL, vsnix_emerg_nmi, 0,
				       "vsnix_emerg");

	if (ret)
		return ret;
	ret = vsnix_cb_init();
	if (ret)
		unregister_nmi_handler(NMI_LOCAL, "vsnix_emerg");
	return ret;
}

void vsnix_x86_emergency_exit(void)
{
	vsnix_cb_exit();
	unregister_nmi_handler(NMI_LOCAL, "vsnix_emerg");
}
