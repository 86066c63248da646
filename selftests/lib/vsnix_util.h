/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vSnix selftest library, host side: /dev/vsnix, VMs, vCPUs, guest memory,
 * real/protected/long mode set-up, ucalls and TAP output.
 * See selftests/lib/README.md for the guest memory layout.
 */
#ifndef VSNIX_SELFTEST_UTIL_H
#define VSNIX_SELFTEST_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/vsnix.h>
#include <vsnix/libvsnix.h>

#include "guest.h"

/* ------------------------------------------------------------------ TAP */

/* Skip the whole test (prints "1..0 # SKIP" and exits 4). */
void __attribute__((noreturn, format(printf, 1, 2))) tap_skip_all(const char *fmt, ...);
void tap_plan(int nr_tests);
/* One result line; returns ok so callers can chain. */
bool __attribute__((format(printf, 2, 3))) tap_ok(bool ok, const char *fmt, ...);
void __attribute__((format(printf, 2, 3))) tap_skip(const char *why, const char *fmt, ...);
void __attribute__((format(printf, 1, 2))) tap_diag(const char *fmt, ...);
/* Exit with 0 (all passed), 1 (a failure or a missing result) or 4 (all skipped). */
void __attribute__((noreturn)) tap_finish(void);
/* A fatal error: a "not ok" for the test in progress, then "Bail out!", exit 1. */
void __attribute__((noreturn, format(printf, 3, 4)))
__test_fail(const char *file, int line, const char *fmt, ...);

#define TEST_FAIL(fmt, ...) __test_fail(__FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define TEST_ASSERT(cond, fmt, ...)						\
	do {									\
		if (!(cond))							\
			__test_fail(__FILE__, __LINE__, "'%s' failed: " fmt,	\
				    #cond, ##__VA_ARGS__);			\
	} while (0)

/* Expect an ioctl-like call to fail with a given errno. */
bool expect_errno(long ret, int want_errno, const char *what);

/* --------------------------------------------------------- /dev/vsnix */

/* Opens /dev/vsnix once; skips the whole test when it is absent. */
int vsnix_dev_fd(void);
long vsnix_cap(unsigned int cap);
bool vsnix_is_svm(void);
bool vsnix_is_vmx(void);
/* The host runs under QEMU's TCG (hypervisor vendor "TCGTCGTCGTCG"). */
bool host_is_qemu_tcg(void);

/* Kernel taint bits that an oops (D) or a WARN (W) sets. */
#define TAINT_BAD_MASK	((1ul << 7) | (1ul << 9))
unsigned long kernel_taint(void);
/*
 * No oops or WARN since this test opened /dev/vsnix. A taint bit is set
 * once and stays (Bochs's boot WARN sets W before any test), so the
 * kernel's own counters decide: /sys/kernel/warn_count (every WARN and
 * KASAN/UBSAN report) and /sys/kernel/oops_count; the taint bits only
 * where those files are missing.
 */
bool kernel_healthy(void);

/* ------------------------------------------------------------ VM, vCPU */

/*
 * The VM and vCPU objects are libvsnix's (userspace/lib): the selftest
 * names are kept for the tests. Fields tests use: vm->fd, vm->mem,
 * vm->mem_size, vm->vcpus[], vcpu->vm, vcpu->fd, vcpu->id, vcpu->run,
 * vcpu->run_size. libvsnix's vx_* calls work on them too (vCPU threads).
 */
#define vsnix_test_vm			vx_vm
#define vsnix_test_vcpu			vx_vcpu
#define VSNIX_SELFTEST_MAX_VCPUS	VX_MAX_VCPUS

/* An empty VM (no memory); fatal on error. */
struct vsnix_test_vm *vm_create_bare(void);
/* A VM with mem_size bytes of RAM at GPA 0 in slot 0. */
struct vsnix_test_vm *vm_create(uint64_t mem_size);
/*
 * A VM ready for 64-bit guests: RAM covering this binary, the binary's
 * loaded image copied to GPA == its virtual address, GDT, IDT with the
 * library's exception stubs, identity page tables for 0-4 GiB.
 */
struct vsnix_test_vm *vm_create_long(uint64_t extra_mem);
void vm_destroy(struct vsnix_test_vm *vm);

/* Raw SET_MEMORY_REGION; returns the ioctl's result (-1 and errno). */
int vm_set_region_raw(struct vsnix_test_vm *vm, uint32_t slot, uint32_t flags,
		      uint64_t gpa, uint64_t size, void *hva);
void vm_set_region(struct vsnix_test_vm *vm, uint32_t slot, uint32_t flags,
		   uint64_t gpa, uint64_t size, void *hva);

/* Host pointer for [gpa, gpa + len) of slot 0; fatal when out of range. */
void *gpa2hva(struct vsnix_test_vm *vm, uint64_t gpa, uint64_t len);
/*
 * A 64-bit interrupt gate (type 0xe, DPL 0, present) for vector at
 * handler in the guest's IDT at GUEST_IDT_GPA (SDM Vol 3, 6.14.1).
 */
void vm_set_idt_gate(struct vsnix_test_vm *vm, int vector, uint64_t handler);
/* The guest's copy of a global of this binary (long-mode VMs). */
#define GUEST_VAR(vm, var) \
	(*(__typeof__(var) *)gpa2hva((vm), (uintptr_t)&(var), sizeof(var)))
/* Zeroed guest memory from the bump allocator; returns its GPA (== GVA). */
uint64_t vm_alloc(struct vsnix_test_vm *vm, uint64_t size);
/* The library's GDT (selectors GUEST_SEL_*) at GUEST_GDT_GPA, TSS at GUEST_TSS_GPA. */
void vm_write_gdt(struct vsnix_test_vm *vm);
/* Copy bytes to guest RAM. */
void vm_write(struct vsnix_test_vm *vm, uint64_t gpa, const void *src, uint64_t len);

struct vsnix_test_vcpu *vcpu_create(struct vsnix_test_vm *vm, uint32_t id);
/*
 * A vCPU that enters guest_fn(args...) in 64-bit mode on its own stack.
 * Returning from guest_fn is a ucall UCALL_DONE.
 */
struct vsnix_test_vcpu *vcpu_create_long(struct vsnix_test_vm *vm, uint32_t id,
					 void *guest_fn);
/* Set RDI, RSI, RDX, RCX, R8, R9 (System V order) for the guest function. */
void vcpu_set_args(struct vsnix_test_vcpu *vcpu, int nargs, ...);

void vcpu_get_regs(struct vsnix_test_vcpu *vcpu, struct vsnix_regs *regs);
void vcpu_set_regs(struct vsnix_test_vcpu *vcpu, const struct vsnix_regs *regs);
void vcpu_get_sregs(struct vsnix_test_vcpu *vcpu, struct vsnix_sregs *sregs);
void vcpu_set_sregs(struct vsnix_test_vcpu *vcpu, const struct vsnix_sregs *sregs);
/* Returns how many MSRs the kernel read/wrote (-1 and errno on error). */
int vcpu_get_msr(struct vsnix_test_vcpu *vcpu, uint32_t index, uint64_t *data);
int vcpu_set_msr(struct vsnix_test_vcpu *vcpu, uint32_t index, uint64_t data);

/* Real mode: CS = cs_sel (base cs_sel << 4), IP = ip, data segments 0. */
void vcpu_setup_real_mode(struct vsnix_test_vcpu *vcpu, uint16_t cs_sel, uint16_t ip);
/* Flat 32-bit protected mode, no paging, entry at eip, stack at esp. */
void vcpu_setup_prot_mode(struct vsnix_test_vcpu *vcpu, uint32_t eip, uint32_t esp);
/* The sregs the long-mode set-up loads (exposed for the bad-sregs test). */
void long_mode_sregs(struct vsnix_test_vm *vm, struct vsnix_sregs *sregs);

/* RUN once: returns the ioctl's result (-1 and errno). */
int vcpu_run_raw(struct vsnix_test_vcpu *vcpu);
/* RUN once; fatal on an ioctl error. */
void vcpu_run(struct vsnix_test_vcpu *vcpu);
const char *exit_reason_str(uint32_t reason);
/* Describe the last exit for diagnostics. */
const char *vcpu_exit_str(struct vsnix_test_vcpu *vcpu);

/* Data of the last I/O exit. */
static inline void *vcpu_io_data(struct vsnix_test_vcpu *vcpu)
{
	return (uint8_t *)vcpu->run + vcpu->run->io.data_offset;
}

/* True when the last exit is a port I/O exit of this shape. */
bool vcpu_is_io(struct vsnix_test_vcpu *vcpu, uint16_t port, uint8_t dir, uint8_t size);
/* RUN once and expect an OUT of `value` (size bytes) to port; diagnoses. */
bool vcpu_run_expect_out(struct vsnix_test_vcpu *vcpu, uint16_t port, uint8_t size,
			 uint32_t value);

/*
 * Decode the last exit as a ucall: UCALL_NONE when it is not one, else the
 * command, with *uc filled.
 */
uint64_t vcpu_get_ucall(struct vsnix_test_vcpu *vcpu, struct ucall *uc);
/*
 * RUN until the guest makes a ucall; fatal on any other exit and on
 * UCALL_ABORT (printing the guest's file:line and values).
 */
uint64_t vcpu_run_ucall(struct vsnix_test_vcpu *vcpu, struct ucall *uc);
/* Like vcpu_run_ucall, but report the failure and return UCALL_NONE. */
uint64_t vcpu_run_ucall_soft(struct vsnix_test_vcpu *vcpu, struct ucall *uc);
/* Run to the next ucall: is it GUEST_SYNC(stage)? Failures are reported. */
bool vcpu_run_sync_is(struct vsnix_test_vcpu *vcpu, struct ucall *uc, uint64_t stage);
/* VSNIX_INJECT_EVENT of an NMI: the ioctl's result. */
int vcpu_inject_nmi(struct vsnix_test_vcpu *vcpu);
/* Describe a UCALL_ABORT. */
void ucall_abort_str(struct vsnix_test_vcpu *vcpu, const struct ucall *uc,
		     char *buf, size_t len);

/*
 * A tap in a private network namespace (guest_fd, for the hvt net device)
 * and a packet socket bound to it (peer): a frame sent on peer is read
 * from guest_fd, and the reverse. Calls unshare(CLONE_NEWNET).
 */
void net_tap_pair(int *guest_fd, int *peer);

/* blockdev.c: host block devices for the virtio-blk tests */
/* A loop device over path (its name in dev); its fd, or -1 (a TAP comment says why). */
int loop_attach(const char *path, char *dev, size_t len);
void loop_detach(int fd);
/* CLOCK_MONOTONIC in seconds. */
double monotonic_s(void);

/* netns.c: namespaces, taps, veths and frames for the virtio-net/eBPF tests */
int __attribute__((format(printf, 1, 2))) net_sh(const char *fmt, ...);
/* unshare net + mount, private bpffs, no IPv6: NULL, or why not */
const char *net_private_ns(void);
int net_link_up(const char *name, bool up);
int net_veth(const char *a, const char *b);
/* net_private_ns, then net_veth(a, b): NULL, or why not */
const char *net_private_ns_veth(const char *a, const char *b);
/* One queue of tap name (IFF_TAP | IFF_NO_PI | flags), non-blocking. */
int net_tap_queue(const char *name, short flags);
int net_packet_socket(const char *name);
int net_link_mac(const char *name, uint8_t mac[6]);
int net_read_frames(int fd, uint8_t (*frames)[2048], size_t *lens, int max,
		    int ms);
void net_frame(uint8_t *f, size_t len, const uint8_t dst[6],
	       const uint8_t src[6], uint16_t type);
uint16_t net_ip_csum(const uint8_t *ip);
/* The packets counter in `vsnixctl net steer show` for mac ("unknown": NULL). */
long long net_steer_packets(const char *show, const char *mac);
size_t net_udp_frame(uint8_t *f, const uint8_t dst[6], const uint8_t src[6],
		     uint32_t saddr, uint32_t daddr, uint16_t sport,
		     uint16_t dport, const char *tag);

/* ---------------------------------------------------------- host state */

/* A field of /proc/self/status in KiB (VmLck, VmPin...), or -1. */
long proc_status_kb(const char *field);
/* /sys/module/vsnix/refcnt: VMs, vCPUs and devices hold the module. */
long vsnix_module_refcnt(void);
/* /proc/meminfo field in KiB, or -1. */
long meminfo_kb(const char *field);
/* Open file descriptors of this process. */
int count_open_fds(void);

/* hostrun needs the host root over virtio-9p: is there a virtio PCI device? */
bool have_virtio_pci(void);

/*
 * Load kvm_amd/kvm_intel with modprobe, or with the host's modprobe through
 * /bin/hostrun (QEMU rig); skip the whole test where neither can. Returns
 * the command that unloads it again ("%s" the module), NULL when /dev/kvm
 * was already there.
 */
const char *kvm_module_load(const char *module);
/* Run that command (nothing for NULL); false if it failed. */
bool kvm_module_unload(const char *module, const char *unload);

#endif /* VSNIX_SELFTEST_UTIL_H */
