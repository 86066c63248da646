// SPDX-License-Identifier: GPL-2.0
/*
 * Bad arguments on every kind of fd give the errno Documentation/api.rst
 * names (ENOTTY, EINVAL, EFAULT, EEXIST, E2BIG), leave state unchanged,
 * and leave the host healthy: no oops or WARN, and a VM still runs after.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "vsnix_util.h"

#define BAD_PTR		((void *)8)	/* never mapped */
#define CR0_PE		(1ull << 0)
#define CR0_NW		(1ull << 29)
#define CR0_CD		(1ull << 30)
#define CR0_PG		(1ull << 31)
#define CR4_PAE		(1ull << 5)

static void check(long ret, int want, const char *what)
{
	tap_ok(expect_errno(ret, want, what), "%s gives %s", what, strerror(want));
}

static void test_system_fd(int fd)
{
	check(ioctl(fd, _IO(VSNIXIO, 0x3f)), ENOTTY, "unknown system ioctl");
	check(ioctl(fd, VSNIX_CREATE_VCPU, 0), ENOTTY, "VM ioctl on the system fd");
	check(ioctl(fd, _IO(0xae, 0x01), 0), ENOTTY, "ioctl of another magic (KVM_CREATE_VM)");
	check(ioctl(fd, VSNIX_CREATE_VM, 1), EINVAL, "CREATE_VM with flags 1");
	check(ioctl(fd, VSNIX_GET_VCPU_MMAP_SIZE, 1), EINVAL, "GET_VCPU_MMAP_SIZE with arg 1");
	check(ioctl(fd, VSNIX_GET_SUPPORTED_CPUID, NULL), EFAULT, "GET_SUPPORTED_CPUID(NULL)");
}

static int set_region(struct vsnix_test_vm *vm, struct vsnix_memory_region r)
{
	return ioctl(vm->fd, VSNIX_SET_MEMORY_REGION, &r);
}

static void test_memory_regions(void)
{
	struct vsnix_test_vm *vm = vm_create_bare();
	long slots = vsnix_cap(VSNIX_CAP_NR_MEMSLOTS), max_mb = vsnix_cap(VSNIX_CAP_MAX_MEM_MB);
	uint8_t *mem, *gone, *ro;
	struct vsnix_memory_region r;

	mem = mmap(NULL, 0x20000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gone = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, 0x10000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(mem != MAP_FAILED && gone != MAP_FAILED && ro != MAP_FAILED, "mmap");
	munmap(gone, 0x10000);

	check(ioctl(vm->fd, _IO(VSNIXIO, 0x7f)), ENOTTY, "unknown VM ioctl");
	check(ioctl(vm->fd, VSNIX_CREATE_VM, 0), ENOTTY, "system ioctl on a VM fd");
	check(ioctl(vm->fd, VSNIX_RUN, 0), ENOTTY, "vCPU ioctl on a VM fd");
	check(ioctl(vm->fd, VSNIX_SET_MEMORY_REGION, NULL), EFAULT, "SET_MEMORY_REGION(NULL)");

	r = (struct vsnix_memory_region){ 0, 0, 0, 0x10000, (uintptr_t)mem };
	r.flags = 1u << 7;
	check(set_region(vm, r), EINVAL, "memory region with unknown flags");
	r.flags = 0;
	r.reserved[1] = 1;
	check(set_region(vm, r), EINVAL, "memory region with reserved != 0");
	r.reserved[1] = 0;
	r.guest_phys_addr = 0x1800;
	check(set_region(vm, r), EINVAL, "memory region with a misaligned GPA");
	r.guest_phys_addr = 0;
	r.memory_size = 0x1800;
	check(set_region(vm, r), EINVAL, "memory region with a misaligned size");
	r.memory_size = 0x10000;
	r.userspace_addr = (uintptr_t)mem + 0x800;
	check(set_region(vm, r), EINVAL, "memory region with a misaligned user address");
	r.userspace_addr = (uintptr_t)mem;
	r.slot = slots;
	check(set_region(vm, r), EINVAL, "memory region slot == CAP_NR_MEMSLOTS");
	r.slot = 0;
	r.guest_phys_addr = (1ull << 48) - 0x8000;
	check(set_region(vm, r), EINVAL, "memory region passing 2^48");
	r.guest_phys_addr = ~0xfffull;
	check(set_region(vm, r), EINVAL, "memory region wrapping around 2^64");
	r.guest_phys_addr = 0;
	r.memory_size = (max_mb + 1) << 20;
	check(set_region(vm, r), EINVAL, "memory region over CAP_MAX_MEM_MB");
	r.memory_size = 0x10000;
	r.userspace_addr = (uintptr_t)gone;
	check(set_region(vm, r), EFAULT, "memory region on unmapped user memory");
	r.userspace_addr = (uintptr_t)ro;
	check(set_region(vm, r), EFAULT, "writable memory region on read-only user memory");

	r.userspace_addr = (uintptr_t)mem;
	tap_ok(set_region(vm, r) == 0, "a good memory region is accepted after the bad ones");
	check(set_region(vm, r), EEXIST, "setting a live slot again");
	r.slot = 1;
	r.guest_phys_addr = 0x8000;
	r.userspace_addr = (uintptr_t)mem + 0x10000;
	check(set_region(vm, r), EEXIST, "memory region overlapping another slot");
	r.slot = 0;
	r.memory_size = 0;
	r.guest_phys_addr = 0;
	tap_ok(set_region(vm, r) == 0, "deleting a slot (size 0) works");
	vm_destroy(vm);
	munmap(mem, 0x20000);
	munmap(ro, 0x10000);
}

static void test_vcpu_creation(void)
{
	struct vsnix_test_vm *vm = vm_create_bare();
	long nr = vsnix_cap(VSNIX_CAP_NR_VCPUS), i;
	int fds[1024], n = 0;
	bool all = true;

	check(ioctl(vm->fd, VSNIX_CREATE_VCPU, nr), EINVAL, "CREATE_VCPU id == CAP_NR_VCPUS");
	check(ioctl(vm->fd, VSNIX_CREATE_VCPU, -1), EINVAL, "CREATE_VCPU id -1");
	for (i = 0; i < nr && i < 1024; i++) {
		fds[n] = ioctl(vm->fd, VSNIX_CREATE_VCPU, i);
		if (fds[n] < 0) {
			tap_diag("CREATE_VCPU %ld: %s", i, strerror(errno));
			all = false;
			break;
		}
		n++;
	}
	tap_ok(all, "CAP_NR_VCPUS (%ld) vCPUs can be created", nr);
	check(ioctl(vm->fd, VSNIX_CREATE_VCPU, 0), EEXIST, "CREATE_VCPU of an id in use");
	while (n--)
		close(fds[n]);
	vm_destroy(vm);
}

/* A SET_SREGS that must fail; state put back if it wrongly succeeded. */
static void check_sregs(struct vsnix_test_vcpu *vcpu, const struct vsnix_sregs *bad,
			const struct vsnix_sregs *good, const char *what)
{
	long ret = ioctl(vcpu->fd, VSNIX_SET_SREGS, bad);

	check(ret, EINVAL, what);
	if (ret == 0)
		vcpu_set_sregs(vcpu, good);
}

static void test_sregs(struct vsnix_test_vm *vm, struct vsnix_test_vcpu *vcpu)
{
	struct vsnix_sregs good, s, after;

	vcpu_get_sregs(vcpu, &good);
	check(ioctl(vcpu->fd, VSNIX_SET_SREGS, BAD_PTR), EFAULT, "SET_SREGS(bad pointer)");
	check(ioctl(vcpu->fd, VSNIX_GET_SREGS, NULL), EFAULT, "GET_SREGS(NULL)");
	s = good;
	s.reserved[2] = 1;
	check_sregs(vcpu, &s, &good, "SET_SREGS reserved != 0");
	s = good;
	s.cs.pad = 1;
	check_sregs(vcpu, &s, &good, "SET_SREGS segment pad != 0");
	s = good;
	s.cr0 = (s.cr0 & ~CR0_PE) | CR0_PG;
	check_sregs(vcpu, &s, &good, "SET_SREGS CR0.PG without PE");
	s = good;
	s.cr0 = (s.cr0 & ~CR0_CD) | CR0_NW;
	check_sregs(vcpu, &s, &good, "SET_SREGS CR0.NW without CD");
	s = good;
	s.cr4 |= 1ull << 63;
	check_sregs(vcpu, &s, &good, "SET_SREGS reserved CR4 bit");
	s = good;
	s.efer |= 1ull << 63;
	check_sregs(vcpu, &s, &good, "SET_SREGS reserved EFER bit");
	s = good;
	long_mode_sregs(vm, &s);
	s.cr4 &= ~CR4_PAE;
	check_sregs(vcpu, &s, &good, "SET_SREGS long mode without PAE");
	s = good;
	s.cs.l = 1;
	s.efer = 0;
	check_sregs(vcpu, &s, &good, "SET_SREGS 64-bit code segment outside long mode");
	vcpu_get_sregs(vcpu, &after);
	tap_ok(!memcmp(&after, &good, sizeof(good)), "refused SET_SREGS left the state unchanged");
}

static void test_vcpu_fd(struct vsnix_test_vm *vm, struct vsnix_test_vcpu *vcpu)
{
	struct vsnix_regs regs, good;
	struct {
		struct vsnix_msrs hdr;
		struct vsnix_msr_entry e[VSNIX_MAX_MSR_ENTRIES + 1];
	} msrs;
	void *p;

	check(ioctl(vcpu->fd, _IO(VSNIXIO, 0xbf)), ENOTTY, "unknown vCPU ioctl");
	check(ioctl(vcpu->fd, VSNIX_CREATE_VCPU, 1), ENOTTY, "VM ioctl on a vCPU fd");
	check(ioctl(vcpu->fd, VSNIX_RUN, 1), EINVAL, "RUN with arg 1");
	check(ioctl(vcpu->fd, VSNIX_GET_REGS, NULL), EFAULT, "GET_REGS(NULL)");
	check(ioctl(vcpu->fd, VSNIX_SET_REGS, BAD_PTR), EFAULT, "SET_REGS(bad pointer)");
	vcpu_get_regs(vcpu, &good);
	regs = good;
	regs.rflags &= ~2ull;
	check(ioctl(vcpu->fd, VSNIX_SET_REGS, &regs), EINVAL, "SET_REGS with RFLAGS bit 1 clear");
	vcpu_set_regs(vcpu, &good);

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = VSNIX_MAX_MSR_ENTRIES + 1;
	msrs.e[0].index = 0x174;
	check(ioctl(vcpu->fd, VSNIX_SET_MSRS, &msrs), E2BIG, "SET_MSRS over MAX_MSR_ENTRIES");
	msrs.hdr.nmsrs = 1;
	msrs.hdr.pad = 1;
	check(ioctl(vcpu->fd, VSNIX_GET_MSRS, &msrs), EINVAL, "GET_MSRS pad != 0");
	msrs.hdr.pad = 0;
	msrs.e[0].reserved = 1;
	check(ioctl(vcpu->fd, VSNIX_SET_MSRS, &msrs), EINVAL, "SET_MSRS entry reserved != 0");
	check(ioctl(vcpu->fd, VSNIX_SET_MSRS, NULL), EFAULT, "SET_MSRS(NULL)");

	if (vsnix_cap(VSNIX_CAP_XSAVE))
		check(ioctl(vcpu->fd, VSNIX_GET_XSAVE, NULL), EFAULT, "GET_XSAVE(NULL)");
	else
		tap_skip("no VSNIX_CAP_XSAVE", "GET_XSAVE(NULL)");

	if (vsnix_cap(VSNIX_CAP_INJECT_EVENT)) {
		struct vsnix_event ev = { .type = 7 };

		check(ioctl(vcpu->fd, VSNIX_INJECT_EVENT, &ev), EINVAL, "INJECT_EVENT bad type");
		ev = (struct vsnix_event){ .type = VSNIX_EVENT_EXTINT, .vector = 5 };
		check(ioctl(vcpu->fd, VSNIX_INJECT_EVENT, &ev), EINVAL,
		      "INJECT_EVENT external interrupt with vector < 32");
		ev = (struct vsnix_event){ .type = VSNIX_EVENT_EXTINT, .vector = 40 };
		ev.reserved[4] = 1;
		check(ioctl(vcpu->fd, VSNIX_INJECT_EVENT, &ev), EINVAL,
		      "INJECT_EVENT reserved != 0");
	} else {
		tap_skip("no VSNIX_CAP_INJECT_EVENT", "INJECT_EVENT bad type");
		tap_skip("no VSNIX_CAP_INJECT_EVENT", "INJECT_EVENT bad vector");
		tap_skip("no VSNIX_CAP_INJECT_EVENT", "INJECT_EVENT reserved");
	}

	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, vcpu->fd, 4096);
	check(p == MAP_FAILED ? -1 : 0, EINVAL, "mmap of a vCPU fd at offset 4096");
	if (p != MAP_FAILED)
		munmap(p, 4096);
	p = mmap(NULL, 3 * 4096, PROT_READ, MAP_SHARED, vcpu->fd, 0);
	check(p == MAP_FAILED ? -1 : 0, EINVAL, "mmap of three pages of a vCPU fd");
	if (p != MAP_FAILED)
		munmap(p, 3 * 4096);
}

static void test_vm_tables(struct vsnix_test_vm *vm)
{
	size_t size = sizeof(struct vsnix_cpuid) +
		      (VSNIX_MAX_CPUID_ENTRIES + 1) * sizeof(struct vsnix_cpuid_entry);
	struct vsnix_cpuid *c = calloc(1, size);
	struct vsnix_device_config dev;

	TEST_ASSERT(c, "calloc");
	c->nent = VSNIX_MAX_CPUID_ENTRIES + 1;
	check(ioctl(vm->fd, VSNIX_SET_CPUID, c), E2BIG, "SET_CPUID over MAX_CPUID_ENTRIES");
	c->nent = 1;
	c->entries[0].function = 0;
	c->entries[0].flags = 1u << 7;
	check(ioctl(vm->fd, VSNIX_SET_CPUID, c), EINVAL, "SET_CPUID unknown entry flags");
	c->entries[0].flags = 0;
	c->pad = 1;
	check(ioctl(vm->fd, VSNIX_SET_CPUID, c), EINVAL, "SET_CPUID pad != 0");
	c->pad = 0;
	c->nent = 0;
	check(ioctl(vm->fd, VSNIX_GET_CPUID, c), E2BIG, "GET_CPUID with nent 0");
	check(ioctl(vm->fd, VSNIX_SET_CPUID, NULL), EFAULT, "SET_CPUID(NULL)");
	free(c);

	memset(&dev, 0, sizeof(dev));
	dev.type = 99;
	dev.console_fd = -1;
	check(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &dev), EINVAL, "CREATE_DEVICE unknown type");
	dev.type = VSNIX_DEV_EXIT_PORT;
	dev.exit_port.port = 0xf4;
	dev.flags = 1;
	check(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &dev), EINVAL, "CREATE_DEVICE flags != 0");
}

static void guest_done(void)
{
	GUEST_DONE();
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;

	vsnix_dev_fd();
	tap_plan(66);
	test_system_fd(vsnix_dev_fd());
	test_memory_regions();
	test_vcpu_creation();

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_done);
	test_sregs(vm, vcpu);
	test_vcpu_fd(vm, vcpu);
	test_vm_tables(vm);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE,
	       "the VM that got all the bad arguments still runs its guest");
	vm_destroy(vm);

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_done);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE, "a new VM runs");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
