// SPDX-License-Identifier: GPL-2.0
/*
 * vSnix selftest library, host side, on libvsnix (userspace/lib): the VM
 * plumbing is the library's; this file adds the test guest layout, ucalls
 * and fatal-on-error forms. Everything here is fatal on error
 * (TEST_ASSERT) unless its name ends in _raw: tests that check error paths
 * use the raw forms (-1 and errno, like the ioctl).
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vsnix_util.h"

/* A libvsnix -errno result as an ioctl's: -1 and errno. */
static int raw_result(int r)
{
	if (r >= 0)
		return r;
	errno = -r;
	return -1;
}

#define PAGE_SIZE	4096ul
#define SZ_2M		(2ul << 20)
#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((uint64_t)(a) - 1))

#define CR0_PE		(1ul << 0)
#define CR0_MP		(1ul << 1)
#define CR0_ET		(1ul << 4)
#define CR0_NE		(1ul << 5)
#define CR0_WP		(1ul << 16)
#define CR0_PG		(1ul << 31)
#define CR4_PAE		(1ul << 5)
#define CR4_OSFXSR	(1ul << 9)
#define CR4_OSXMMEXCPT	(1ul << 10)
#define EFER_LME	(1ul << 8)
#define EFER_LMA	(1ul << 10)

/* ------------------------------------------------------------ device */

static long read_long_file(const char *path)
{
	char buf[64] = "";
	long val = -1;
	FILE *f = fopen(path, "re");

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			val = strtol(buf, NULL, 0);
		fclose(f);
	}
	return val;
}

static int dev_fd = -1;
static unsigned long taint_at_start;
static long warns_at_start, oopses_at_start;

int vsnix_dev_fd(void)
{
	if (dev_fd >= 0)
		return dev_fd;
	dev_fd = vx_open();
	if (dev_fd == -ENOENT || dev_fd == -ENODEV || dev_fd == -ENXIO)
		tap_skip_all("/dev/vsnix not present (vsnix.ko not loaded): %s",
			     strerror(-dev_fd));
	TEST_ASSERT(dev_fd >= 0, "%s", vx_errmsg());
	taint_at_start = kernel_taint();
	warns_at_start = read_long_file("/sys/kernel/warn_count");
	oopses_at_start = read_long_file("/sys/kernel/oops_count");
	return dev_fd;
}

long vsnix_cap(unsigned int cap)
{
	long ret = vx_check_cap(vsnix_dev_fd(), cap);

	TEST_ASSERT(ret >= 0, "%s", vx_errmsg());
	return ret;
}

bool vsnix_is_svm(void)
{
	return vsnix_cap(VSNIX_CAP_VENDOR) == VSNIX_VENDOR_SVM;
}

bool vsnix_is_vmx(void)
{
	return vsnix_cap(VSNIX_CAP_VENDOR) == VSNIX_VENDOR_VMX;
}

/* CPUID 4000_0000h where leaf 1 ECX[31] says there is a hypervisor. */
bool host_is_qemu_tcg(void)
{
	unsigned int a, b, c, d;

	__cpuid(1, a, b, c, d);
	if (!(c & (1u << 31)))
		return false;
	__cpuid(0x40000000, a, b, c, d);
	return b == 0x54474354 && c == 0x43544743 && d == 0x47435447;
}

unsigned long kernel_taint(void)
{
	long taint = read_long_file("/proc/sys/kernel/tainted");

	TEST_ASSERT(taint >= 0, "read /proc/sys/kernel/tainted");
	return taint;
}

bool kernel_healthy(void)
{
	long warns = read_long_file("/sys/kernel/warn_count");
	long oopses = read_long_file("/sys/kernel/oops_count");
	unsigned long now = kernel_taint();

	if (warns_at_start >= 0 && oopses_at_start >= 0 && warns >= 0 && oopses >= 0) {
		if (warns == warns_at_start && oopses == oopses_at_start)
			return true;
		tap_diag("%ld WARN and %ld oops since the start (warn_count %ld, oops_count %ld)",
			 warns - warns_at_start, oopses - oopses_at_start, warns, oopses);
		return false;
	}
	if (now & TAINT_BAD_MASK & ~taint_at_start) {
		tap_diag("kernel taint 0x%lx, 0x%lx at the start", now, taint_at_start);
		return false;
	}
	return true;
}

long proc_status_kb(const char *field)
{
	size_t flen = strlen(field);
	char line[256];
	long val = -1;
	FILE *f = fopen("/proc/self/status", "re");

	TEST_ASSERT(f, "open /proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, flen) && line[flen] == ':')
			val = strtol(line + flen + 1, NULL, 10);
	fclose(f);
	return val;
}

long vsnix_module_refcnt(void)
{
	return read_long_file("/sys/module/vsnix/refcnt");
}

long meminfo_kb(const char *field)
{
	size_t flen = strlen(field);
	char line[256];
	long val = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, flen) && line[flen] == ':') {
			val = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

int count_open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	TEST_ASSERT(dir, "opendir /proc/self/fd");
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n - 1;	/* the directory's own fd */
}

/* ----------------------------------------------------------------- VM */

struct vsnix_test_vm *vm_create_bare(void)
{
	struct vsnix_test_vm *vm;

	TEST_ASSERT(!vx_vm_create(vsnix_dev_fd(), &vm), "%s", vx_errmsg());
	return vm;
}

int vm_set_region_raw(struct vsnix_test_vm *vm, uint32_t slot, uint32_t flags,
		      uint64_t gpa, uint64_t size, void *hva)
{
	return raw_result(vx_vm_set_region(vm, slot, flags, gpa, size, hva));
}

void vm_set_region(struct vsnix_test_vm *vm, uint32_t slot, uint32_t flags,
		   uint64_t gpa, uint64_t size, void *hva)
{
	int ret = vx_vm_set_region(vm, slot, flags, gpa, size, hva);

	TEST_ASSERT(ret == 0, "%s", vx_errmsg());
}

struct vsnix_test_vm *vm_create(uint64_t mem_size)
{
	struct vsnix_test_vm *vm = vm_create_bare();

	TEST_ASSERT(!vx_vm_add_ram(vm, VX_MEM_ANON, mem_size), "%s", vx_errmsg());
	return vm;
}

void vm_destroy(struct vsnix_test_vm *vm)
{
	vx_vm_destroy(vm);
}

void *gpa2hva(struct vsnix_test_vm *vm, uint64_t gpa, uint64_t len)
{
	void *hva = vx_gpa(vm, gpa, len);

	TEST_ASSERT(hva, "GPA range 0x%lx+0x%lx outside guest RAM (0x%lx bytes)",
		    (unsigned long)gpa, (unsigned long)len,
		    (unsigned long)vm->mem_size);
	return hva;
}

void vm_set_idt_gate(struct vsnix_test_vm *vm, int vector, uint64_t handler)
{
	uint64_t *idt = gpa2hva(vm, GUEST_IDT_GPA + vector * 16, 16);

	idt[0] = (handler & 0xffff) | (uint64_t)GUEST_SEL_CODE64 << 16 |
		 0x8eull << 40 | ((handler >> 16) & 0xffff) << 48;
	idt[1] = handler >> 32;
}

void vm_write(struct vsnix_test_vm *vm, uint64_t gpa, const void *src, uint64_t len)
{
	memcpy(gpa2hva(vm, gpa, len), src, len);
}

uint64_t vm_alloc(struct vsnix_test_vm *vm, uint64_t size)
{
	uint64_t gpa = vx_vm_alloc(vm, size, 64);

	TEST_ASSERT(gpa, "vm_alloc(%lu): out of guest RAM", (unsigned long)size);
	return gpa;
}

/* ------------------------------------------------ the long-mode VM */

struct image_range {
	uint64_t start, end;
};

static int image_phdr_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct image_range *r = data;
	int i;

	/* The first object is the executable itself. */
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD)
			continue;
		if (!r->start || start < r->start)
			r->start = start;
		if (start + ph->p_memsz > r->end)
			r->end = start + ph->p_memsz;
	}
	return 1;
}

static int image_copy_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct vsnix_test_vm *vm = data;
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD)
			vm_write(vm, start, (void *)(uintptr_t)start, ph->p_memsz);
	}
	return 1;
}

static uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (limit & 0xffffull) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xf) << 48 |
	       (uint64_t)(flags & 0xf) << 52 | (uint64_t)(base >> 24) << 56;
}

/* GDT with the selectors of guest.h (Intel SDM Vol 3, 3.4.5 and 8.2.3). */
void vm_write_gdt(struct vsnix_test_vm *vm)
{
	uint64_t *gdt = gpa2hva(vm, GUEST_GDT_GPA, GUEST_GDT_ENTRIES * 8);

	memset(gdt, 0, GUEST_GDT_ENTRIES * 8);
	gdt[GUEST_SEL_CODE64 / 8] = gdt_entry(0, 0xfffff, 0x9b, 0xa);	/* L, G */
	gdt[GUEST_SEL_DATA / 8] = gdt_entry(0, 0xfffff, 0x93, 0xc);	/* D/B, G */
	/* 64-bit available TSS, 16 bytes; the upper base half is 0. */
	gdt[GUEST_SEL_TSS / 8] = gdt_entry(GUEST_TSS_GPA, 0x67, 0x89, 0);
	gdt[GUEST_SEL_TSS / 8 + 1] = 0;
	gdt[GUEST_SEL_CODE32 / 8] = gdt_entry(0, 0xfffff, 0x9b, 0xc);
	gdt[GUEST_SEL_CODE16 / 8] = gdt_entry(0, 0xffff, 0x9b, 0);
	gdt[GUEST_SEL_DATA16 / 8] = gdt_entry(0, 0xffff, 0x93, 0);
	memset(gpa2hva(vm, GUEST_TSS_GPA, PAGE_SIZE), 0, PAGE_SIZE);
}

/* 64-bit interrupt gates to the library's stubs (SDM Vol 3, 6.14.1). */
static void vm_write_idt(struct vsnix_test_vm *vm)
{
	uint64_t *idt = gpa2hva(vm, GUEST_IDT_GPA, GUEST_NR_VECTORS * 16);
	int v;

	for (v = 0; v < GUEST_NR_VECTORS; v++) {
		uint64_t handler = (uintptr_t)guest_exception_stubs + v * 16;

		idt[2 * v] = (handler & 0xffff) | (uint64_t)GUEST_SEL_CODE64 << 16 |
			     0x8eull << 40 | ((handler >> 16) & 0xffff) << 48;
		idt[2 * v + 1] = handler >> 32;
	}
}

/* Identity map of 0-4 GiB with 2 MiB pages (SDM Vol 3, 4.5). */
static void vm_write_page_tables(struct vsnix_test_vm *vm)
{
	uint64_t *pml4 = gpa2hva(vm, GUEST_PML4_GPA, 6 * PAGE_SIZE);
	uint64_t *pdpt = pml4 + 512;
	int i, j;

	memset(pml4, 0, 6 * PAGE_SIZE);
	pml4[0] = (GUEST_PML4_GPA + PAGE_SIZE) | 0x3;		/* P, RW */
	for (i = 0; i < 4; i++) {
		uint64_t pd_gpa = GUEST_PML4_GPA + (2 + i) * PAGE_SIZE;
		uint64_t *pd = pml4 + 512 * (2 + i);

		pdpt[i] = pd_gpa | 0x3;
		for (j = 0; j < 512; j++)
			pd[j] = ((uint64_t)i << 30 | (uint64_t)j << 21) | 0x83; /* PS */
	}
}

struct vsnix_test_vm *vm_create_long(uint64_t extra_mem)
{
	struct image_range img = { 0, 0 };
	struct vsnix_test_vm *vm;
	uint64_t data_start;

	dl_iterate_phdr(image_phdr_cb, &img);
	TEST_ASSERT(img.start >= GUEST_IMAGE_MIN_GPA && img.end < (1ul << 30),
		    "test image at 0x%lx-0x%lx: build it static and non-PIE",
		    (unsigned long)img.start, (unsigned long)img.end);
	data_start = ALIGN_UP(img.end, SZ_2M);
	vm = vm_create(data_start + ALIGN_UP(extra_mem, PAGE_SIZE) + SZ_2M);
	vm->alloc_next = data_start;
	dl_iterate_phdr(image_copy_cb, vm);
	vm_write_gdt(vm);
	vm_write_idt(vm);
	vm_write_page_tables(vm);
	return vm;
}

/* --------------------------------------------------------------- vCPU */

struct vsnix_test_vcpu *vcpu_create(struct vsnix_test_vm *vm, uint32_t id)
{
	struct vsnix_test_vcpu *vcpu;

	TEST_ASSERT(!vx_vcpu_create(vm, id, &vcpu), "%s", vx_errmsg());
	return vcpu;
}

void vcpu_get_regs(struct vsnix_test_vcpu *vcpu, struct vsnix_regs *regs)
{
	TEST_ASSERT(!vx_vcpu_get_regs(vcpu, regs), "%s", vx_errmsg());
}

void vcpu_set_regs(struct vsnix_test_vcpu *vcpu, const struct vsnix_regs *regs)
{
	TEST_ASSERT(!vx_vcpu_set_regs(vcpu, regs), "%s", vx_errmsg());
}

void vcpu_get_sregs(struct vsnix_test_vcpu *vcpu, struct vsnix_sregs *sregs)
{
	TEST_ASSERT(!vx_vcpu_get_sregs(vcpu, sregs), "%s", vx_errmsg());
}

void vcpu_set_sregs(struct vsnix_test_vcpu *vcpu, const struct vsnix_sregs *sregs)
{
	TEST_ASSERT(!vx_vcpu_set_sregs(vcpu, sregs), "%s", vx_errmsg());
}

int vcpu_get_msr(struct vsnix_test_vcpu *vcpu, uint32_t index, uint64_t *data)
{
	return raw_result(vx_vcpu_get_msr(vcpu, index, data));
}

int vcpu_set_msr(struct vsnix_test_vcpu *vcpu, uint32_t index, uint64_t data)
{
	return raw_result(vx_vcpu_set_msr(vcpu, index, data));
}

static void seg_set(struct vsnix_segment *s, uint16_t sel, uint64_t base, uint32_t limit,
		    uint8_t type, uint8_t db, uint8_t l, uint8_t g)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = base;
	s->limit = limit;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->db = db;
	s->l = l;
	s->g = g;
}

static void sregs_tr_ldt(struct vsnix_sregs *sregs)
{
	/* A busy TSS in TR and an unusable LDTR (SDM Vol 3, 28.3.1.2). */
	seg_set(&sregs->tr, GUEST_SEL_TSS, GUEST_TSS_GPA, 0x67, 11, 0, 0, 0);
	sregs->tr.s = 0;
	memset(&sregs->ldt, 0, sizeof(sregs->ldt));
	sregs->ldt.type = 2;
	sregs->ldt.unusable = 1;
	sregs->gdt.base = GUEST_GDT_GPA;
	sregs->gdt.limit = GUEST_GDT_ENTRIES * 8 - 1;
	memset(sregs->gdt.pad, 0, sizeof(sregs->gdt.pad));
	memset(sregs->idt.pad, 0, sizeof(sregs->idt.pad));
}

void long_mode_sregs(struct vsnix_test_vm *vm, struct vsnix_sregs *sregs)
{
	seg_set(&sregs->cs, GUEST_SEL_CODE64, 0, 0xffffffff, 0xb, 0, 1, 1);
	seg_set(&sregs->ds, GUEST_SEL_DATA, 0, 0xffffffff, 0x3, 1, 0, 1);
	sregs->es = sregs->ds;
	sregs->fs = sregs->ds;
	sregs->gs = sregs->ds;
	sregs->ss = sregs->ds;
	sregs_tr_ldt(sregs);
	sregs->idt.base = GUEST_IDT_GPA;
	sregs->idt.limit = GUEST_NR_VECTORS * 16 - 1;
	sregs->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs->cr2 = 0;
	sregs->cr3 = GUEST_PML4_GPA;
	sregs->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs->efer = EFER_LME | EFER_LMA;
}

struct vsnix_test_vcpu *vcpu_create_long(struct vsnix_test_vm *vm, uint32_t id,
					 void *guest_fn)
{
	struct vsnix_test_vcpu *vcpu = vcpu_create(vm, id);
	unsigned int idx = vm->nr_vcpus - 1;
	uint64_t stack_top = GUEST_STACKS_GPA + (idx + 1) * GUEST_STACK_SIZE;
	struct vsnix_sregs sregs;
	struct vsnix_regs regs;
	uint64_t *ret_slot;

	TEST_ASSERT(stack_top <= GUEST_STACKS_END, "no guest stack for vCPU %u", idx);
	vcpu_get_sregs(vcpu, &sregs);
	long_mode_sregs(vm, &sregs);
	vcpu_set_sregs(vcpu, &sregs);

	/* As if called: RSP + 8 is 16-byte aligned, [RSP] the return trap. */
	ret_slot = gpa2hva(vm, stack_top - 16, 8);
	*ret_slot = (uintptr_t)guest_return_trap;
	memset(&regs, 0, sizeof(regs));
	regs.rip = (uintptr_t)guest_fn;
	regs.rsp = stack_top - 16;
	regs.rflags = 0x2;
	vcpu_set_regs(vcpu, &regs);
	return vcpu;
}

void vcpu_set_args(struct vsnix_test_vcpu *vcpu, int nargs, ...)
{
	struct vsnix_regs regs;
	__u64 *slots[] = { &regs.rdi, &regs.rsi, &regs.rdx, &regs.rcx, &regs.r8, &regs.r9 };
	va_list ap;
	int i;

	TEST_ASSERT(nargs >= 0 && nargs <= 6, "vcpu_set_args: %d args", nargs);
	vcpu_get_regs(vcpu, &regs);
	va_start(ap, nargs);
	for (i = 0; i < nargs; i++)
		*slots[i] = va_arg(ap, uint64_t);
	va_end(ap);
	vcpu_set_regs(vcpu, &regs);
}

void vcpu_setup_real_mode(struct vsnix_test_vcpu *vcpu, uint16_t cs_sel, uint16_t ip)
{
	struct vsnix_sregs sregs;
	struct vsnix_regs regs;

	vcpu_get_sregs(vcpu, &sregs);
	seg_set(&sregs.cs, cs_sel, (uint64_t)cs_sel << 4, 0xffff, 0xb, 0, 0, 0);
	seg_set(&sregs.ds, 0, 0, 0xffff, 0x3, 0, 0, 0);
	sregs.es = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	sregs.ss = sregs.ds;
	sregs.cr0 &= ~(CR0_PE | CR0_PG);
	sregs.cr4 = 0;
	sregs.efer = 0;
	vcpu_set_sregs(vcpu, &sregs);

	vcpu_get_regs(vcpu, &regs);
	regs.rip = ip;
	regs.rflags = 0x2;
	vcpu_set_regs(vcpu, &regs);
}

void vcpu_setup_prot_mode(struct vsnix_test_vcpu *vcpu, uint32_t eip, uint32_t esp)
{
	struct vsnix_sregs sregs;
	struct vsnix_regs regs;

	vm_write_gdt(vcpu->vm);
	vcpu_get_sregs(vcpu, &sregs);
	seg_set(&sregs.cs, GUEST_SEL_CODE32, 0, 0xffffffff, 0xb, 1, 0, 1);
	seg_set(&sregs.ds, GUEST_SEL_DATA, 0, 0xffffffff, 0x3, 1, 0, 1);
	sregs.es = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	sregs.ss = sregs.ds;
	sregs_tr_ldt(&sregs);
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = CR0_PE | CR0_ET | CR0_NE;
	sregs.cr3 = 0;
	sregs.cr4 = 0;
	sregs.efer = 0;
	vcpu_set_sregs(vcpu, &sregs);

	memset(&regs, 0, sizeof(regs));
	regs.rip = eip;
	regs.rsp = esp;
	regs.rflags = 0x2;
	vcpu_set_regs(vcpu, &regs);
}

/* ---------------------------------------------------------------- run */

int vcpu_run_raw(struct vsnix_test_vcpu *vcpu)
{
	return raw_result(vx_vcpu_run(vcpu));
}

void vcpu_run(struct vsnix_test_vcpu *vcpu)
{
	int ret = vcpu_run_raw(vcpu);

	TEST_ASSERT(ret == 0, "VSNIX_RUN on vCPU %u returned %d", vcpu->id, ret);
}

const char *exit_reason_str(uint32_t reason)
{
	return vx_exit_reason_str(reason);
}

const char *vcpu_exit_str(struct vsnix_test_vcpu *vcpu)
{
	static __thread char buf[256];
	struct vsnix_run *run = vcpu->run;
	struct vsnix_regs regs;
	int n;

	n = snprintf(buf, sizeof(buf), "exit %s (%u)", exit_reason_str(run->exit_reason),
		     run->exit_reason);
	switch (run->exit_reason) {
	case VSNIX_EXIT_IO:
		n += snprintf(buf + n, sizeof(buf) - n, " %s port 0x%x size %u count %u",
			      run->io.direction == VSNIX_EXIT_IO_OUT ? "out" : "in",
			      run->io.port, run->io.size, run->io.count);
		break;
	case VSNIX_EXIT_MMIO:
		n += snprintf(buf + n, sizeof(buf) - n, " %s gpa 0x%llx len %u",
			      run->mmio.is_write ? "write" : "read",
			      (unsigned long long)run->mmio.phys_addr, run->mmio.len);
		break;
	case VSNIX_EXIT_FAIL_ENTRY:
		n += snprintf(buf + n, sizeof(buf) - n, " reason 0x%llx",
			      (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case VSNIX_EXIT_INTERNAL_ERROR:
		n += snprintf(buf + n, sizeof(buf) - n, " suberror %u data0 0x%llx",
			      run->internal.suberror,
			      (unsigned long long)run->internal.data[0]);
		break;
	case VSNIX_EXIT_SHUTDOWN:
		n += snprintf(buf + n, sizeof(buf) - n, " code 0x%llx",
			      (unsigned long long)run->shutdown.data[0]);
		break;
	}
	if (!ioctl(vcpu->fd, VSNIX_GET_REGS, &regs))
		snprintf(buf + n, sizeof(buf) - n, " rip 0x%llx", (unsigned long long)regs.rip);
	return buf;
}

bool vcpu_is_io(struct vsnix_test_vcpu *vcpu, uint16_t port, uint8_t dir, uint8_t size)
{
	struct vsnix_run *run = vcpu->run;

	return run->exit_reason == VSNIX_EXIT_IO && run->io.port == port &&
	       run->io.direction == dir && run->io.size == size && run->io.count == 1 &&
	       run->io.data_offset >= sizeof(*run) &&
	       run->io.data_offset + size <= vcpu->run_size;
}

bool vcpu_run_expect_out(struct vsnix_test_vcpu *vcpu, uint16_t port, uint8_t size,
			 uint32_t value)
{
	uint32_t got = 0;

	if (vcpu_run_raw(vcpu) || !vcpu_is_io(vcpu, port, VSNIX_EXIT_IO_OUT, size)) {
		tap_diag("want out port 0x%x: %s", port, vcpu_exit_str(vcpu));
		return false;
	}
	memcpy(&got, vcpu_io_data(vcpu), size);
	if (got != value)
		tap_diag("port 0x%x: got 0x%x want 0x%x", port, got, value);
	return got == value;
}

uint64_t vcpu_get_ucall(struct vsnix_test_vcpu *vcpu, struct ucall *uc)
{
	uint32_t gpa;

	if (!vcpu_is_io(vcpu, UCALL_PORT, VSNIX_EXIT_IO_OUT, 4))
		return UCALL_NONE;
	memcpy(&gpa, vcpu_io_data(vcpu), sizeof(gpa));
	memcpy(uc, gpa2hva(vcpu->vm, gpa, sizeof(*uc)), sizeof(*uc));
	return uc->cmd;
}

/* A NUL-terminated string of guest memory, cut at the end of RAM. */
static void guest_string(struct vsnix_test_vm *vm, uint64_t gpa, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len && gpa + i < vm->mem_size && vm->mem[gpa + i]; i++)
		buf[i] = vm->mem[gpa + i];
	buf[i] = 0;
}

void ucall_abort_str(struct vsnix_test_vcpu *vcpu, const struct ucall *uc, char *buf,
		     size_t len)
{
	char file[128], expr[160];

	if (uc->args[5] == UCALL_ABORT_EXCEPTION) {
		snprintf(buf, len, "guest exception vector %lu error code 0x%lx at rip 0x%lx",
			 (unsigned long)uc->args[1], (unsigned long)uc->args[3],
			 (unsigned long)uc->args[4]);
		return;
	}
	guest_string(vcpu->vm, uc->args[0], file, sizeof(file));
	guest_string(vcpu->vm, uc->args[2], expr, sizeof(expr));
	if (uc->args[5] == UCALL_ABORT_ASSERT_EQ)
		snprintf(buf, len, "guest assertion failed at %s:%lu: %s (0x%lx != 0x%lx)",
			 file, (unsigned long)uc->args[1], expr,
			 (unsigned long)uc->args[3], (unsigned long)uc->args[4]);
	else
		snprintf(buf, len, "guest assertion failed at %s:%lu: %s", file,
			 (unsigned long)uc->args[1], expr);
}

uint64_t vcpu_run_ucall_soft(struct vsnix_test_vcpu *vcpu, struct ucall *uc)
{
	char msg[512];
	uint64_t cmd;
	int ret = vcpu_run_raw(vcpu);

	if (ret) {
		tap_diag("vCPU %u: RUN returned %d, errno %d (%s)", vcpu->id, ret, errno,
			 strerror(errno));
		return UCALL_NONE;
	}
	cmd = vcpu_get_ucall(vcpu, uc);
	if (cmd == UCALL_NONE) {
		tap_diag("vCPU %u: expected a ucall, got %s", vcpu->id, vcpu_exit_str(vcpu));
	} else if (cmd == UCALL_ABORT) {
		ucall_abort_str(vcpu, uc, msg, sizeof(msg));
		tap_diag("vCPU %u: %s", vcpu->id, msg);
		return UCALL_NONE;
	}
	return cmd;
}

bool vcpu_run_sync_is(struct vsnix_test_vcpu *vcpu, struct ucall *uc, uint64_t stage)
{
	return vcpu_run_ucall_soft(vcpu, uc) == UCALL_SYNC && uc->args[0] == stage;
}

int vcpu_inject_nmi(struct vsnix_test_vcpu *vcpu)
{
	struct vsnix_event ev = { .type = VSNIX_EVENT_NMI, .vector = 2 };

	return ioctl(vcpu->fd, VSNIX_INJECT_EVENT, &ev);
}

uint64_t vcpu_run_ucall(struct vsnix_test_vcpu *vcpu, struct ucall *uc)
{
	uint64_t cmd = vcpu_run_ucall_soft(vcpu, uc);

	TEST_ASSERT(cmd != UCALL_NONE, "vCPU %u did not make a good ucall", vcpu->id);
	return cmd;
}

/* --------------------------------------------------------------- KVM */

static bool kvm_try_load(const char *cmd_fmt, const char *module)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), cmd_fmt, module);
	return system(cmd) == 0 && access("/dev/kvm", F_OK) == 0;
}

bool have_virtio_pci(void)
{
	bool found = false;
	glob_t g;
	size_t i;

	if (glob("/sys/bus/pci/devices/*/vendor", 0, NULL, &g))
		return false;
	for (i = 0; i < g.gl_pathc && !found; i++) {
		char buf[16] = "";
		FILE *f = fopen(g.gl_pathv[i], "re");

		if (f) {
			found = fgets(buf, sizeof(buf), f) && !strncmp(buf, "0x1af4", 6);
			fclose(f);
		}
	}
	globfree(&g);
	return found;
}

const char *kvm_module_load(const char *module)
{
	if (access("/dev/kvm", F_OK) == 0)
		return NULL;
	if (kvm_try_load("modprobe %s >/dev/null 2>&1", module))
		return "modprobe -r %s >/dev/null 2>&1";
	if (access("/bin/hostrun", X_OK) == 0 && have_virtio_pci() &&
	    kvm_try_load("/bin/hostrun modprobe %s >/dev/null 2>&1", module))
		return "/bin/hostrun modprobe -r %s >/dev/null 2>&1";
	tap_skip_all("cannot load %s (no modprobe with the stock modules here)", module);
}

bool kvm_module_unload(const char *module, const char *unload)
{
	char cmd[256];

	if (!unload)
		return true;
	snprintf(cmd, sizeof(cmd), unload, module);
	if (system(cmd) == 0)
		return true;
	tap_diag("could not unload %s", module);
	return false;
}
