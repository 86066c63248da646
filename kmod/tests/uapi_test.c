// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the layout of the userspace ABI (uapi/linux/vsnix.h). Userspace
 * and the module agree on these structs only by their bytes: no field may
 * move, and no padding may be implicit (the compiler would leave it
 * uninitialized, and a "must be zero" rule could not cover it).
 */
#include <kunit/test.h>
#include <linux/ioctl.h>
#include <linux/stddef.h>
#include <uapi/linux/vsnix.h>

/* Field b starts exactly where field a ends: no hidden padding between. */
#define EXPECT_ADJACENT(test, type, a, b)					\
	KUNIT_EXPECT_EQ_MSG(test, offsetof(type, b),				\
			    offsetof(type, a) + sizeof_field(type, a),		\
			    "hidden padding between " #type "." #a " and ." #b)

/* The last field ends the struct: no tail padding. */
#define EXPECT_LAST(test, type, a)						\
	KUNIT_EXPECT_EQ_MSG(test, sizeof(type),					\
			    offsetof(type, a) + sizeof_field(type, a),		\
			    "tail padding after " #type "." #a)

static void uapi_regs_layout(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_regs), 18 * sizeof(__u64));
	KUNIT_EXPECT_EQ(test, offsetof(struct vsnix_regs, r15), 15 * sizeof(__u64));
	KUNIT_EXPECT_EQ(test, offsetof(struct vsnix_regs, rip), 16 * sizeof(__u64));
	KUNIT_EXPECT_EQ(test, offsetof(struct vsnix_regs, rflags), 17 * sizeof(__u64));
}

static void uapi_run_layout(struct kunit *test)
{
	/* The run struct is page 0 of the vCPU mapping, I/O data page 1. */
	KUNIT_EXPECT_LE(test, sizeof(struct vsnix_run), (size_t)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, VSNIX_RUN_IO_DATA_OFFSET, PAGE_SIZE);

	EXPECT_ADJACENT(test, struct vsnix_run, immediate_exit, pad1);
	EXPECT_ADJACENT(test, struct vsnix_run, pad1, exit_reason);
	EXPECT_ADJACENT(test, struct vsnix_run, exit_reason, flags);
	EXPECT_ADJACENT(test, struct vsnix_run, flags, reserved);
	EXPECT_ADJACENT(test, struct vsnix_run, reserved, io);
	KUNIT_EXPECT_EQ(test, offsetof(struct vsnix_run, io), 64);
	/* The union is as big as its padding member: later exits fit in it. */
	EXPECT_LAST(test, struct vsnix_run, padding);
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_run), 64 + 256);

	KUNIT_EXPECT_EQ(test, offsetof(struct vsnix_run, io.data_offset) -
			offsetof(struct vsnix_run, io), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct vsnix_run, mmio.data) -
			offsetof(struct vsnix_run, mmio), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct vsnix_run, internal.data) -
			offsetof(struct vsnix_run, internal), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct vsnix_run, memory_fault.access) -
			offsetof(struct vsnix_run, memory_fault), 8);
	KUNIT_EXPECT_EQ(test, sizeof(((struct vsnix_run *)0)->memory_fault), 16);
}

static void uapi_sregs_layout(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_segment), 24);
	EXPECT_ADJACENT(test, struct vsnix_segment, avl, unusable);
	EXPECT_LAST(test, struct vsnix_segment, pad);
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_dtable), 16);
	EXPECT_LAST(test, struct vsnix_dtable, pad);

	EXPECT_ADJACENT(test, struct vsnix_sregs, ldt, gdt);
	EXPECT_ADJACENT(test, struct vsnix_sregs, idt, cr0);
	EXPECT_ADJACENT(test, struct vsnix_sregs, cr8, efer);
	EXPECT_ADJACENT(test, struct vsnix_sregs, apic_base, reserved);
	EXPECT_LAST(test, struct vsnix_sregs, reserved);
}

static void uapi_vm_structs_layout(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_memory_region), 48);
	EXPECT_LAST(test, struct vsnix_memory_region, reserved);

	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_cpuid_entry), 32);
	KUNIT_EXPECT_EQ(test, offsetof(struct vsnix_cpuid, entries), 8);
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_msr_entry), 16);
	KUNIT_EXPECT_EQ(test, offsetof(struct vsnix_msrs, entries), 8);
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_xsave), 4096);

	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_event), 32);
	EXPECT_LAST(test, struct vsnix_event, reserved);
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_vm_status), 64);
	EXPECT_LAST(test, struct vsnix_vm_status, reserved);
}

static void uapi_device_config_layout(struct kunit *test)
{
	EXPECT_ADJACENT(test, struct vsnix_device_config, console_fd, id);
	EXPECT_ADJACENT(test, struct vsnix_device_config, id, reserved);
	EXPECT_ADJACENT(test, struct vsnix_device_config, reserved, raw);
	EXPECT_LAST(test, struct vsnix_device_config, raw);
	/* Every device's config fits the union's fixed 1 KiB. */
	KUNIT_EXPECT_LE(test, sizeof(struct vsnix_hvt_config), 1024);
	KUNIT_EXPECT_LE(test, sizeof(struct vsnix_uart_config), 1024);
	KUNIT_EXPECT_LE(test, sizeof(struct vsnix_exit_port_config), 1024);
	KUNIT_EXPECT_LE(test, sizeof(struct vsnix_fw_cfg_config), 1024);
	EXPECT_LAST(test, struct vsnix_hvt_config, net);
	EXPECT_LAST(test, struct vsnix_hvt_block, name);
	EXPECT_LAST(test, struct vsnix_hvt_net, name);
	KUNIT_EXPECT_LE(test, sizeof(struct vsnix_hvt2_config), 1024);
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_hvt2_config), 48);
	EXPECT_LAST(test, struct vsnix_hvt2_config, reserved);
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_hvt_dev), 64);
	EXPECT_ADJACENT(test, struct vsnix_hvt_dev, sector_size, name);
	EXPECT_LAST(test, struct vsnix_hvt_dev, reserved);
}

/* The device model's ioctls: ioeventfd, irq lines, irqfd, device state. */
static void uapi_devmodel_layout(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_ioeventfd_config), 64);
	EXPECT_ADJACENT(test, struct vsnix_ioeventfd_config, datamatch, len);
	EXPECT_ADJACENT(test, struct vsnix_ioeventfd_config, flags, pad);
	EXPECT_LAST(test, struct vsnix_ioeventfd_config, reserved);
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_irq_level), 24);
	EXPECT_LAST(test, struct vsnix_irq_level, reserved);
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_irqfd), 56);
	EXPECT_ADJACENT(test, struct vsnix_irqfd, msi_data, msi_address);
	EXPECT_LAST(test, struct vsnix_irqfd, reserved);
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_device_state), 56);
	EXPECT_ADJACENT(test, struct vsnix_device_state, pad, data);
	EXPECT_LAST(test, struct vsnix_device_state, reserved);
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_device_state_header), 16);
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_uart_state), 32);
	EXPECT_LAST(test, struct vsnix_uart_state, rx_fifo);
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_device_input), 32);
	EXPECT_LAST(test, struct vsnix_device_input, reserved);
	KUNIT_EXPECT_EQ(test, _IOC_NR(VSNIX_DEVICE_INPUT), 0x5e);
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_fw_cfg_state), 8);
	EXPECT_LAST(test, struct vsnix_fw_cfg_state, offset);
	KUNIT_EXPECT_LE(test, sizeof(struct vsnix_device_state_header) +
			sizeof(struct vsnix_uart_state), VSNIX_DEVICE_STATE_MAX);
	KUNIT_EXPECT_EQ(test, _IOC_NR(VSNIX_DESTROY_DEVICE), 0x4e);
	KUNIT_EXPECT_EQ(test, _IOC_NR(VSNIX_SET_DEVICE_STATE), 0x53);
}

/* Ioctl numbers stay in the range of the fd kind they belong to. */
static void uapi_ioctl_ranges(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, _IOC_TYPE(VSNIX_RUN), VSNIXIO);
	KUNIT_EXPECT_LE(test, _IOC_NR(VSNIX_GET_SUPPORTED_CPUID), 0x3f);
	KUNIT_EXPECT_GE(test, _IOC_NR(VSNIX_SET_MEMORY_REGION), 0x40);
	KUNIT_EXPECT_LE(test, _IOC_NR(VSNIX_GET_VM_STATUS), 0x7f);
	KUNIT_EXPECT_GE(test, _IOC_NR(VSNIX_RUN), 0x80);
	KUNIT_EXPECT_LE(test, _IOC_NR(VSNIX_INJECT_EVENT), 0xbf);
	KUNIT_EXPECT_EQ(test, _IOC_SIZE(VSNIX_SET_REGS), sizeof(struct vsnix_regs));
	KUNIT_EXPECT_EQ(test, _IOC_SIZE(VSNIX_GET_SREGS), sizeof(struct vsnix_sregs));
	KUNIT_EXPECT_LE(test, _IOC_NR(VSNIX_SET_HALT_CONFIG), 0x7f);
	KUNIT_EXPECT_LE(test, _IOC_NR(VSNIX_SET_DEBUGREGS), 0xbf);
	KUNIT_EXPECT_EQ(test, _IOC_SIZE(VSNIX_SET_VCPU_EVENTS),
			sizeof(struct vsnix_vcpu_events));
}

/* VSNIX_CAP_VCPU_EVENTS and VSNIX_CAP_HALT_IN_KERNEL structs. */
static void uapi_events_layout(struct kunit *test)
{
	EXPECT_ADJACENT(test, struct vsnix_vcpu_events, exception, injected);
	EXPECT_ADJACENT(test, struct vsnix_vcpu_events, injected, nmi_pending);
	EXPECT_ADJACENT(test, struct vsnix_vcpu_events, requeued_vector, pad2);
	EXPECT_ADJACENT(test, struct vsnix_vcpu_events, pad2, flags);
	EXPECT_ADJACENT(test, struct vsnix_vcpu_events, flags, nr_irqs);
	EXPECT_ADJACENT(test, struct vsnix_vcpu_events, nr_irqs, pad3);
	EXPECT_ADJACENT(test, struct vsnix_vcpu_events, pad3, irqs);
	EXPECT_ADJACENT(test, struct vsnix_vcpu_events, irqs, reserved);
	EXPECT_LAST(test, struct vsnix_vcpu_events, reserved);
	KUNIT_EXPECT_EQ(test, sizeof(struct vsnix_vcpu_events), 176);
	KUNIT_EXPECT_EQ(test, sizeof(((struct vsnix_vcpu_events *)0)->injected), 16);

	EXPECT_ADJACENT(test, struct vsnix_debugregs, dr7, flags);
	EXPECT_ADJACENT(test, struct vsnix_debugregs, pad, reserved);
	EXPECT_LAST(test, struct vsnix_debugregs, reserved);
	EXPECT_ADJACENT(test, struct vsnix_halt_config, pad, reserved);
	EXPECT_LAST(test, struct vsnix_halt_config, reserved);
}

static struct kunit_case uapi_cases[] = {
	KUNIT_CASE(uapi_regs_layout),
	KUNIT_CASE(uapi_run_layout),
	KUNIT_CASE(uapi_sregs_layout),
	KUNIT_CASE(uapi_vm_structs_layout),
	KUNIT_CASE(uapi_device_config_layout),
	KUNIT_CASE(uapi_devmodel_layout),
	KUNIT_CASE(uapi_ioctl_ranges),
	KUNIT_CASE(uapi_events_layout),
	{}
};

static struct kunit_suite uapi_suite = {
	.name = "vsnix_uapi",
	.test_cases = uapi_cases,
};
kunit_test_suite(uapi_suite);
