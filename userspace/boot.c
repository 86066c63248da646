// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl: the command line's guest (its kind, devices and modules) handed
 * to libvsnix's loaders, and their messages printed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "vsnixctl.h"
#include "vsnix/boot.h"
#include "vsnix/pc.h"

bool hvt_is_hvt_elf(struct vx_elf_image *img)
{
	int r = vx_hvt_is_hvt(img);

	report(r);
	return r > 0;
}

/* Checks each name against the manifest before opening its backing. */
static int attach_devices(struct vx_hvt *h, const struct run_options *opt)
{
	uint8_t mac[6];
	uint64_t size;
	unsigned int i;
	int fd, r;

	for (i = 0; i < opt->nr_block; i++) {
		const struct attach_spec *a = &opt->block[i];

		if (report(vx_hvt_check_device(h, a->name, false)))
			return -1;
		fd = block_open(a->path, &size);
		if (fd < 0)
			return -1;
		r = vx_hvt_attach_block(h, a->name, fd, size, a->sector_size);
		close(fd);
		if (report(r))
			return -1;
	}
	for (i = 0; i < opt->nr_net; i++) {
		const struct attach_spec *a = &opt->net[i];

		if (report(vx_hvt_check_device(h, a->name, true)))
			return -1;
		fd = tap_open(a->path);
		if (fd < 0)
			return -1;
		if (a->has_mac)
			memcpy(mac, a->mac, 6);
		else
			random_mac(mac);
		r = vx_hvt_attach_net(h, a->name, fd, mac);
		close(fd);
		if (report(r))
			return -1;
	}
	return 0;
}

static void loaded(struct vm *vm, struct vx_boot *b)
{
	if (b->default_cpuid)
		fprintf(stderr, "vsnixctl: warning: running with the default CPUID\n");
	vm->boot_vcpu = b->vcpu;
	vm->console_id = b->console_id;
}

int hvt_setup(struct vm *vm, struct vx_elf_image *img,
	      const struct run_options *opt)
{
	struct vx_boot b = {
		.cmdline = opt->cmdline,
		.console_fd = vm->console_fd,
	};
	struct vx_hvt *h;
	int ret = -1;

	vm->kind = GUEST_HVT;
	if (report(vx_hvt_open(img, &h)))
		return -1;
	if (report(vx_hvt_mem_size(opt->mem_size, &b.mem_size)))
		goto out;
	if (b.mem_size != opt->mem_size)
		fprintf(stderr, "vsnixctl: memory rounded to %llu MiB (a multiple of 2 MiB)\n",
			(unsigned long long)(b.mem_size >> 20));
	if (attach_devices(h, opt) || report(vx_hvt_load(h, vm->vx, &b)))
		goto out;
	loaded(vm, &b);
	ret = 0;
out:
	/* The kernel holds its own references to the backing files now. */
	vx_hvt_close(h);
	return ret;
}

/*
 * Multiboot guests get the platform x86 kernels expect: a local APIC per
 * vCPU, in the kernel. Without VSNIX_CAP_LAPIC one vCPU runs as before.
 */
/*
 * The chipset a multiboot kernel (kvm-unit-tests, say) may probe, where
 * this module serves it: the I/O APIC at PC_IOAPIC_BASE (GSIs 0-23), the
 * 8259 pair and the 8254 (pc.h).
 */
static int mb_chipset(struct vx_vm *vx)
{
	static const uint32_t types[] = {
		VSNIX_DEV_IOAPIC, VSNIX_DEV_PIC, VSNIX_DEV_PIT,
	};
	int mask = ioctl(vx->sys_fd, VSNIX_CHECK_EXTENSION, VSNIX_CAP_DEVICES);
	unsigned int i;

	for (i = 0; mask > 0 && i < sizeof(types) / sizeof(types[0]); i++) {
		struct vsnix_device_config cfg = { .type = types[i], .console_fd = -1 };

		if (!(mask & (1 << types[i])))
			continue;
		if (types[i] == VSNIX_DEV_IOAPIC)
			cfg.ioapic.base = PC_IOAPIC_BASE;
		if (vx_vm_create_device(vx, &cfg))
			return -1;
	}
	return 0;
}

static int mb_platform(struct vx_vm *vx, void *opaque __attribute__((unused)))
{
	if (ioctl(vx->sys_fd, VSNIX_CHECK_EXTENSION, VSNIX_CAP_LAPIC) <= 0)
		return 0;
	if (ioctl(vx->fd, VSNIX_CREATE_LAPIC, 0) < 0)
		return vx_fail(errno, "VSNIX_CREATE_LAPIC: %s", strerror(errno));
	return mb_chipset(vx);
}

/* An AP waits for INIT/SIPI (SDM Vol 3, 8.4), as after reset. */
static int mb_ap_init(struct vx_vcpu *ap, void *opaque __attribute__((unused)))
{
	struct vsnix_vcpu_events ev;

	if (ioctl(ap->fd, VSNIX_GET_VCPU_EVENTS, &ev) < 0)
		return vx_fail(errno, "vCPU %u: VSNIX_GET_VCPU_EVENTS: %s", ap->id,
			       strerror(errno));
	ev.mp_state = VSNIX_MP_WAIT_FOR_SIPI;
	if (ioctl(ap->fd, VSNIX_SET_VCPU_EVENTS, &ev) < 0)
		return vx_fail(errno, "vCPU %u: wait-for-SIPI: %s", ap->id,
			       strerror(errno));
	return 0;
}

int multiboot_setup(struct vm *vm, int fd, const struct run_options *opt,
		    long header_offset)
{
	struct vx_boot_module mods[VX_MAX_MODULES];
	struct vx_boot b = {
		.mem_size = opt->mem_size,
		.cmdline = opt->cmdline,
		.console_fd = vm->console_fd,
		.modules = mods,
		.nr_modules = opt->nr_modules,
		.nr_cpus = opt->nr_cpus,
		.cpuid_1_ecx_clear = opt->no_x2apic ? 1u << 21 : 0,
		.platform = mb_platform,
	};
	unsigned int i;

	vm->kind = GUEST_MULTIBOOT;
	if (opt->nr_cpus > 1) {
		if (vx_check_cap(vm->vx->sys_fd, VSNIX_CAP_LAPIC) <= 0) {
			fprintf(stderr, "vsnixctl: --cpus %u needs the in-kernel LAPIC (VSNIX_CAP_LAPIC)\n",
				opt->nr_cpus);
			return -1;
		}
		b.ap_init = mb_ap_init;
	}
	for (i = 0; i < opt->nr_modules; i++) {
		mods[i].path = opt->module[i].path;
		mods[i].args = opt->module[i].args;
	}
	if (report(vx_multiboot_load(vm->vx, fd, opt->kernel, header_offset, &b)))
		return -1;
	loaded(vm, &b);
	return 0;
}

/*
 * Linux 6.1 takes the TSC rate from CPUID only on Intel (leaves 0x15/0x16)
 * and reads a hypervisor's timing leaf only for hypervisors it knows: an
 * AMD guest calibrates against the PIT, slow and, where exits are slow,
 * failing ("Marking TSC unstable"). Its documented tsc_early_khz= tells
 * it the rate instead (Documentation/devices.rst, "Guest time"); a value
 * on the user's command line wins.
 */
static const char *linux_cmdline(struct vm *vm, const char *cmdline, char *buf,
				 size_t len)
{
	uint32_t khz;

	if (!cmdline)
		cmdline = "";
	if (vx_check_cap(vm->vx->sys_fd, VSNIX_CAP_VENDOR) != VSNIX_VENDOR_SVM ||
	    strstr(cmdline, "tsc_early_khz="))
		return cmdline;
	khz = vx_guest_tsc_khz(vm->vx->sys_fd);
	if (!khz || snprintf(buf, len, "%s%stsc_early_khz=%u", cmdline,
			     *cmdline ? " " : "", khz) >= (int)len)
		return cmdline;
	return buf;
}

int linux_setup(struct vm *vm, int fd, struct vx_elf_image *img,
		const struct run_options *opt)
{
	static char cmdline[MAX_CMDLINE + 64];

	struct vx_boot b = {
		.mem_size = opt->mem_size,
		.cmdline = linux_cmdline(vm, opt->cmdline, cmdline, sizeof(cmdline)),
		.initrd = opt->initrd,
		.console_fd = vm->console_fd,
		.nr_cpus = opt->nr_cpus,
	};
	int r;

	vm->kind = GUEST_LINUX;
	if (opt->nr_block || opt->nr_net || opt->nr_modules) {
		fprintf(stderr, "vsnixctl: --block/--net/--module are not for Linux guests (%s)\n",
			opt->kernel);
		return -1;
	}
	pc_devices(opt, &b);
	if (vnet_open(opt, &b))
		return -1;
	r = img ? vx_pvh_load(vm->vx, img, &b) : vx_linux_load(vm->vx, fd, opt->kernel, &b);
	if (report(r))
		return -1;
	vnet_steer();
	loaded(vm, &b);
	return 0;
}
