// SPDX-License-Identifier: GPL-2.0
/*
 * The same guest on both vendors: one set of probes of the architectural
 * state a guest and its VMM see, printed as a canonical text dump and
 * compared with one expected file (x86_probe.expected, built in), the
 * same for SVM and VMX. A line of that file that holds for one vendor only
 * is marked "@svm" or "@vmx" and names the hardware fact behind it.
 *
 * Probed: GET_REGS/GET_SREGS right after VSNIX_CREATE_VCPU (the RESET
 * state, SDM Vol 3 9.1.1 table 9-1; APM Vol 2 14.1.3); what the guest
 * reads at its first instruction (GPRs, EFLAGS, CR0-4, DR0-7, selectors,
 * TSC, CPUID); every MSR of VSNIX_GET_MSR_INDEX_LIST through GET_MSRS and
 * through the guest's RDMSR/WRMSR; chosen guest and host writes (MTRRs,
 * TSC_ADJUST, APIC base, MISC_ENABLE); a guest data breakpoint.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <x86intrin.h>

#include "vsnix_util.h"

#define RAM_SIZE	(1ul << 20)
#define ROM_GPA		0xffff0000ul
#define ROM_SIZE	0x10000ul
#define CODE_OFF	0xf000		/* in the ROM and in RAM at 0xf0000 */
#define PORT_OUT	0xe0
#define PORT_DB		0xe1
#define CPUID_TAB	0x6800		/* (leaf, subleaf) pairs; count below */
#define MSR_TAB		0x7000		/* indices to read and write back */
#define WR_TAB		0x7800		/* (index, lo, hi) writes */
#define WATCH_GPA	0x6000		/* the guest's data breakpoint */
#define MAX_OUT		4096
#define MAX_LINES	1024

extern char probe_start[], probe_end[], probe_gp[], probe_db[];

/*
 * Real-mode code at F000:FFF0 (a JMP to here). Every value goes out on
 * port 0xE0 as 32 bits. #GP (vector 13) sets BX = 1 and skips the 2-byte
 * RDMSR/WRMSR; #DB (vector 1) sends DR6 on port 0xE1.
 */
asm(".pushsection .text\n"
	".code16\n"
	"probe_start:\n"
	"  outl %eax, $0xe0\n"
	"  pushfl\n  popl %eax\n  outl %eax, $0xe0\n"
	"  mov %ebx, %eax\n  outl %eax, $0xe0\n"
	"  mov %ecx, %eax\n  outl %eax, $0xe0\n"
	"  mov %edx, %eax\n  outl %eax, $0xe0\n"
	"  mov %esi, %eax\n  outl %eax, $0xe0\n"
	"  mov %edi, %eax\n  outl %eax, $0xe0\n"
	"  mov %ebp, %eax\n  outl %eax, $0xe0\n"
	"  mov %esp, %eax\n  outl %eax, $0xe0\n"
	"  mov %cr0, %eax\n  outl %eax, $0xe0\n"
	"  mov %cr2, %eax\n  outl %eax, $0xe0\n"
	"  mov %cr3, %eax\n  outl %eax, $0xe0\n"
	"  mov %cr4, %eax\n  outl %eax, $0xe0\n"
	"  mov %dr0, %eax\n  outl %eax, $0xe0\n"
	"  mov %dr1, %eax\n  outl %eax, $0xe0\n"
	"  mov %dr2, %eax\n  outl %eax, $0xe0\n"
	"  mov %dr3, %eax\n  outl %eax, $0xe0\n"
	"  mov %dr6, %eax\n  outl %eax, $0xe0\n"
	"  mov %dr7, %eax\n  outl %eax, $0xe0\n"
	"  xor %eax, %eax\n"
	"  mov %cs, %ax\n  outl %eax, $0xe0\n"
	"  mov %ds, %ax\n  outl %eax, $0xe0\n"
	"  mov %ss, %ax\n  outl %eax, $0xe0\n"
	"  mov $0x8000, %sp\n"
	"  rdtsc\n  outl %eax, $0xe0\n  mov %edx, %eax\n  outl %eax, $0xe0\n"
	/* CPUID leaves */
	"  mov $0x6800, %si\n  mov 0x67fc, %bp\n"
	"1: test %bp, %bp\n  jz 2f\n"
	"  mov (%si), %eax\n  mov 4(%si), %ecx\n  cpuid\n"
	"  outl %eax, $0xe0\n  mov %ebx, %eax\n  outl %eax, $0xe0\n"
	"  mov %ecx, %eax\n  outl %eax, $0xe0\n  mov %edx, %eax\n  outl %eax, $0xe0\n"
	"  add $8, %si\n  dec %bp\n  jmp 1b\n"
	/* every listed MSR: read, then write back what was read (0 on #GP) */
	"2: mov $0x7000, %si\n  mov 0x6ffc, %bp\n"
	"3: test %bp, %bp\n  jz 4f\n"
	"  mov (%si), %ecx\n  xor %bx, %bx\n  rdmsr\n"
	"  mov %eax, %edi\n  movzwl %bx, %eax\n  outl %eax, $0xe0\n"
	"  mov %edi, %eax\n  outl %eax, $0xe0\n  mov %edx, %eax\n  outl %eax, $0xe0\n"
	"  test %bx, %bx\n  jz 5f\n  xor %edi, %edi\n  xor %edx, %edx\n"
	"5: mov %edi, %eax\n  xor %bx, %bx\n  wrmsr\n"
	"  movzwl %bx, %eax\n  outl %eax, $0xe0\n"
	"  add $4, %si\n  dec %bp\n  jmp 3b\n"
	/* chosen writes */
	"4: mov $0x7800, %si\n  mov 0x77fc, %bp\n"
	"6: test %bp, %bp\n  jz 7f\n"
	"  mov (%si), %ecx\n  mov 4(%si), %eax\n  mov 8(%si), %edx\n"
	"  xor %bx, %bx\n  wrmsr\n  movzwl %bx, %eax\n  outl %eax, $0xe0\n"
	"  add $12, %si\n  dec %bp\n  jmp 6b\n"
	/* a 4-byte write watchpoint on WATCH_GPA in DR0 (SDM Vol 3, 18.2.4) */
	"7: mov $0x6000, %eax\n  mov %eax, %dr0\n"
	"  mov $0x000d0401, %eax\n  mov %eax, %dr7\n"
	"  movl $0x55, 0x6000\n"
	"  mov %dr0, %eax\n  outl %eax, $0xe0\n"
	"  mov %dr7, %eax\n  outl %eax, $0xe0\n"
	"  xor %eax, %eax\n  mov %eax, %dr7\n"
	"  hlt\n"
	"probe_gp:\n"
	"  push %bp\n  mov %sp, %bp\n  addw $2, 2(%bp)\n  pop %bp\n"
	"  mov $1, %bx\n  iret\n"
	"probe_db:\n"
	"  push %eax\n  mov %dr6, %eax\n  outl %eax, $0xe1\n  pop %eax\n  iret\n"
	"probe_end:\n"
	".code64\n"
	".popsection\n");

/* The expected dump, built into the binary (see the Makefile rule). */
asm(".pushsection .rodata\n"
	"expected_start:\n"
	".incbin \"x86_probe.expected\"\n"
	"expected_end:\n"
	".byte 0\n"
	".popsection\n");
extern char expected_start[], expected_end[];

static char *dump[MAX_LINES];
static unsigned int nr_dump;

static void __attribute__((format(printf, 1, 2))) line(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	TEST_ASSERT(vasprintf(&s, fmt, ap) >= 0 && nr_dump < MAX_LINES, "dump line");
	va_end(ap);
	dump[nr_dump++] = s;
}

static void seg_line(const char *who, const char *name, const struct vsnix_segment *s)
{
	line("%s.%s = sel %#x base %#llx limit %#x type %u s %u dpl %u p %u db %u l %u g %u",
	     who, name, s->selector, (unsigned long long)s->base, s->limit, s->type,
	     s->s, s->dpl, s->present, s->db, s->l, s->g);
}

static uint32_t cpuid1_eax(struct vsnix_test_vm *vm);

static void probe_create_state(struct vsnix_test_vcpu *vcpu)
{
	uint32_t sig = cpuid1_eax(vcpu->vm);
	struct vsnix_sregs s;
	struct vsnix_regs r;

	vcpu_get_regs(vcpu, &r);
	vcpu_get_sregs(vcpu, &s);
	line("create.gprs(rax rbx rcx rsi rdi rsp rbp r8-r15) = %s",
	     (r.rax | r.rbx | r.rcx | r.rsi | r.rdi | r.rsp | r.rbp | r.r8 | r.r9 | r.r10 |
	      r.r11 | r.r12 | r.r13 | r.r14 | r.r15) ? "not all 0" : "all 0");
	line("create.rdx = %s", r.rdx == sig ? "CPUID.1:EAX" : "other");
	line("create.rip = %#llx", (unsigned long long)r.rip);
	line("create.rflags = %#llx", (unsigned long long)r.rflags);
	seg_line("create", "cs", &s.cs);
	seg_line("create", "ds", &s.ds);
	seg_line("create", "es", &s.es);
	seg_line("create", "fs", &s.fs);
	seg_line("create", "gs", &s.gs);
	seg_line("create", "ss", &s.ss);
	seg_line("create", "tr", &s.tr);
	seg_line("create", "ldt", &s.ldt);
	line("create.gdt = base %#llx limit %#x", (unsigned long long)s.gdt.base, s.gdt.limit);
	line("create.idt = base %#llx limit %#x", (unsigned long long)s.idt.base, s.idt.limit);
	line("create.cr0 = %#llx", (unsigned long long)s.cr0);
	line("create.cr2 = %#llx", (unsigned long long)s.cr2);
	line("create.cr3 = %#llx", (unsigned long long)s.cr3);
	line("create.cr4 = %#llx", (unsigned long long)s.cr4);
	line("create.cr8 = %#llx", (unsigned long long)s.cr8);
	line("create.efer = %#llx", (unsigned long long)s.efer);
	line("create.apic_base = %#llx", (unsigned long long)s.apic_base);
}

/* ------------------------------------------------------------ CPUID */

static const struct { uint32_t leaf, sub; } cpuid_leaves[] = {
	{ 0, 0 }, { 1, 0 }, { 7, 0 }, { 0xd, 0 }, { 0x80000000, 0 },
	{ 0x80000001, 0 }, { 0x80000008, 0 },
};
#define NR_LEAVES	(sizeof(cpuid_leaves) / sizeof(cpuid_leaves[0]))

static struct vsnix_cpuid_entry policy[256];
static unsigned int nr_policy;

static void get_policy(struct vsnix_test_vm *vm)
{
	struct {
		struct vsnix_cpuid hdr;
		struct vsnix_cpuid_entry e[256];
	} c = { .hdr.nent = 256 };

	TEST_ASSERT(!ioctl(vm->fd, VSNIX_GET_CPUID, &c), "GET_CPUID");
	nr_policy = c.hdr.nent;
	memcpy(policy, c.e, nr_policy * sizeof(policy[0]));
}

static const struct vsnix_cpuid_entry *policy_leaf(uint32_t leaf, uint32_t sub)
{
	static const struct vsnix_cpuid_entry none;
	unsigned int i;

	for (i = 0; i < nr_policy; i++)
		if (policy[i].function == leaf &&
		    (!(policy[i].flags & VSNIX_CPUID_FLAG_SIGNIFICANT_INDEX) ||
		     policy[i].index == sub))
			return &policy[i];
	return &none;
}

static uint32_t cpuid1_eax(struct vsnix_test_vm *vm)
{
	return policy_leaf(1, 0)->eax;
}

static void cpuid_bits(const uint32_t *g)
{
	static const struct { const char *name; unsigned int leaf, reg, bit; } bits[] = {
		{ "1.ecx.vmx", 1, 2, 5 }, { "1.ecx.monitor", 1, 2, 3 },
		{ "1.ecx.pcid", 1, 2, 17 }, { "1.ecx.x2apic", 1, 2, 21 },
		{ "1.ecx.tsc_deadline", 1, 2, 24 }, { "1.ecx.osxsave", 1, 2, 27 },
		{ "1.ecx.hypervisor", 1, 2, 31 }, { "1.edx.mce", 1, 3, 7 },
		{ "1.edx.mtrr", 1, 3, 12 }, { "1.edx.mca", 1, 3, 14 },
		{ "1.edx.pat", 1, 3, 16 }, { "1.edx.ds", 1, 3, 21 },
		{ "1.edx.acpi", 1, 3, 22 }, { "7.ebx.tsc_adjust", 2, 1, 1 },
		{ "7.ebx.sgx", 2, 1, 2 }, { "7.ebx.invpcid", 2, 1, 10 },
		{ "7.ebx.pt", 2, 1, 25 }, { "7.ecx.pku", 2, 2, 3 },
		{ "7.ecx.la57", 2, 2, 16 }, { "7.ecx.rdpid", 2, 2, 22 },
		{ "7.edx.arch_capabilities", 2, 3, 29 },
		{ "80000001.ecx.svm", 5, 2, 2 }, { "80000001.edx.rdtscp", 5, 3, 27 },
		{ "80000001.edx.lm", 5, 3, 29 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		line("guest.cpuid.%s = %u", bits[i].name,
		     (g[bits[i].leaf * 4 + bits[i].reg] >> bits[i].bit) & 1);
}

/* ------------------------------------------------------------ MSRs */

static uint32_t msrs[512], guest_msrs[512];
static unsigned int nr_msrs, nr_guest_msrs;

static void get_msr_list(struct vsnix_test_vm *vm)
{
	struct {
		struct vsnix_msr_list hdr;
		uint32_t idx[512];
	} l = { .hdr.nmsrs = 0 };
	int r = ioctl(vm->fd, VSNIX_GET_MSR_INDEX_LIST, &l);

	TEST_ASSERT(r == -1 && errno == E2BIG && l.hdr.nmsrs > 0 && l.hdr.nmsrs <= 512,
		    "GET_MSR_INDEX_LIST with no room: -E2BIG and the count");
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_GET_MSR_INDEX_LIST, &l), "GET_MSR_INDEX_LIST");
	nr_msrs = l.hdr.nmsrs;
	memcpy(msrs, l.idx, nr_msrs * sizeof(msrs[0]));
	/* The guest's write-back of a read TSC would move TSC_ADJUST. */
	for (r = 0; r < (int)nr_msrs; r++)
		if (msrs[r] != 0x10)
			guest_msrs[nr_guest_msrs++] = msrs[r];
}

/*
 * The TSC counts from VM creation: no more than the host's TSC advanced
 * since just before VSNIX_CREATE_VM, plus the TSC_ADJUST the guest wrote.
 */
#define TSC_SLACK	(1ull << 24)

static const char *msr_value(uint32_t index, uint64_t v, uint64_t tsc_elapsed, char *buf)
{
	if (index == 0x10)
		return v <= tsc_elapsed + TSC_SLACK ? "since VM creation" : "too large";
	sprintf(buf, "%#llx", (unsigned long long)v);
	return buf;
}

static void probe_host_msrs(const char *who, struct vsnix_test_vcpu *vcpu, uint64_t tsc0)
{
	unsigned int i;
	char buf[32];

	for (i = 0; i < nr_msrs; i++) {
		uint64_t v = 0;
		int r = vcpu_get_msr(vcpu, msrs[i], &v);

		if (r != 1)
			line("%s.msr.%#x = refused", who, msrs[i]);
		else
			line("%s.msr.%#x = %s", who, msrs[i],
			     msr_value(msrs[i], v, __rdtsc() - tsc0, buf));
	}
}

/* Guest writes: (index, value); the dump says whether each faulted. */
static const struct { uint32_t index; uint64_t value; } guest_writes[] = {
	{ 0x2ff, 0xc06 },		/* MTRRdefType: E, FE, WB */
	{ 0x2ff, 0x2 },			/* reserved memory type: #GP */
	{ 0x200, 0x6 },			/* PHYSBASE0: WB at 0 */
	{ 0x200, 0x106 },		/* PHYSBASE0 bit 8 reserved: #GP */
	{ 0x201, 0xfff00800 },		/* PHYSMASK0: 1 MiB, valid */
	{ 0x201, 0xfff00801 },		/* PHYSMASK0 bit 0 reserved: #GP */
	{ 0x250, 0x0606060606060606 },	/* fixed 64K: WB */
	{ 0x250, 0x0606060606060603 },	/* type 3 reserved: #GP */
	{ 0x3b, 0x100000 },		/* TSC_ADJUST: moves the TSC too */
	{ 0x1b, 0xfee00000 },		/* APIC base without EN/BSP: #GP */
	{ 0x1a0, 0x1800 },		/* MISC_ENABLE: fast strings off */
	{ 0x1a0, 0x0801 },		/* PEBS bit is read-only: #GP */
	{ 0x179, 0 },			/* MCG_CAP read-only: #GP */
	{ 0x17b, ~0ull },		/* MCG_CTL all ones */
	{ 0x17b, 1 },			/* MCG_CTL partial: #GP */
	{ 0x401, 1 },			/* MC0_STATUS non-zero: #GP */
	{ 0x1d9, 1 },			/* DEBUGCTL.LBR: #GP */
	{ 0x277, 0x0007040600070402 },	/* PAT type 2 reserved: #GP */
	{ 0x12345678, 0 },		/* not on the list: #GP */
};
#define NR_WRITES	(sizeof(guest_writes) / sizeof(guest_writes[0]))

/* ------------------------------------------------------------ guest run */

struct out_stream {
	uint32_t v[MAX_OUT];
	unsigned int n, pos;
	uint32_t db_dr6;
	unsigned int nr_db;
};

static bool run_guest(struct vsnix_test_vcpu *vcpu, struct out_stream *o)
{
	for (;;) {
		struct vsnix_run *run = vcpu->run;
		uint32_t val;

		if (vcpu_run_raw(vcpu)) {
			tap_diag("RUN failed: %s", strerror(errno));
			return false;
		}
		if (run->exit_reason == VSNIX_EXIT_HLT)
			return true;
		if (vcpu_is_io(vcpu, PORT_OUT, VSNIX_EXIT_IO_OUT, 4) && o->n < MAX_OUT) {
			memcpy(&val, vcpu_io_data(vcpu), 4);
			o->v[o->n++] = val;
			continue;
		}
		if (vcpu_is_io(vcpu, PORT_DB, VSNIX_EXIT_IO_OUT, 4)) {
			memcpy(&o->db_dr6, vcpu_io_data(vcpu), 4);
			o->nr_db++;
			continue;
		}
		tap_diag("unexpected exit: %s", vcpu_exit_str(vcpu));
		return false;
	}
}

static uint32_t next(struct out_stream *o)
{
	return o->pos < o->n ? o->v[o->pos++] : 0xdeadbeef;
}

static uint64_t next64(struct out_stream *o)
{
	uint64_t lo = next(o);

	return lo | (uint64_t)next(o) << 32;
}

static void probe_guest_dump(struct vsnix_test_vm *vm, struct out_stream *o,
			     uint64_t tsc_elapsed)
{
	static const char *const first[] = {
		"eax", "eflags", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp",
		"cr0", "cr2", "cr3", "cr4", "dr0", "dr1", "dr2", "dr3", "dr6", "dr7",
		"cs", "ds", "ss",
	};
	uint32_t g[NR_LEAVES * 4];
	unsigned int i, diff = 0;
	uint64_t tsc;
	char buf[32];

	for (i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
		uint32_t v = next(o);

		if (i == 4)
			line("guest.first.edx = %s", v == cpuid1_eax(vm) ? "CPUID.1:EAX" : "other");
		else
			line("guest.first.%s = %#x", first[i], v);
	}
	tsc = next64(o);
	line("guest.first.tsc = %s",
	     tsc <= tsc_elapsed + TSC_SLACK ? "since VM creation" : "too large");

	for (i = 0; i < NR_LEAVES; i++) {
		const struct vsnix_cpuid_entry *e =
			policy_leaf(cpuid_leaves[i].leaf, cpuid_leaves[i].sub);
		uint32_t *r = &g[i * 4];
		uint32_t ebx_mask = ~0u, ecx_mask = ~0u;

		r[0] = next(o); r[1] = next(o); r[2] = next(o); r[3] = next(o);
		/*
		 * What follows the vCPU: leaf 1 APIC ID (EBX 31:24) and
		 * OSXSAVE (CR4), x2APIC (21) and TSC-deadline (24), which
		 * exist only with the in-kernel LAPIC (this VM has none),
		 * leaf 0xD EBX (the size for the current XCR0).
		 */
		if (cpuid_leaves[i].leaf == 1) {
			ebx_mask = 0xffffff;
			ecx_mask = ~(1u << 27 | 1u << 24 | 1u << 21);
		} else if (cpuid_leaves[i].leaf == 0xd) {
			ebx_mask = 0;
		}
		if (r[0] != e->eax || (r[1] & ebx_mask) != (e->ebx & ebx_mask) ||
		    (r[2] & ecx_mask) != (e->ecx & ecx_mask) || r[3] != e->edx) {
			tap_diag("CPUID %#x: guest %08x %08x %08x %08x, policy %08x %08x %08x %08x",
				 cpuid_leaves[i].leaf, r[0], r[1], r[2], r[3], e->eax, e->ebx,
				 e->ecx, e->edx);
			diff++;
		}
	}
	line("guest.cpuid = %s", diff ? "differs from GET_CPUID" : "as GET_CPUID");
	{
		char vendor[13];

		memcpy(vendor, &g[1], 4);
		memcpy(vendor + 4, &g[3], 4);
		memcpy(vendor + 8, &g[2], 4);
		vendor[12] = 0;
		line("guest.cpuid.0.vendor = %s", vendor);
	}
	cpuid_bits(g);

	for (i = 0; i < nr_guest_msrs; i++) {
		uint32_t gp = next(o);
		uint64_t v = next64(o);
		uint32_t wgp = next(o);

		if (gp)
			line("guest.msr.%#x = rdmsr #GP, write-back %s", guest_msrs[i],
			     wgp ? "#GP" : "ok");
		else
			line("guest.msr.%#x = %s, write-back %s", guest_msrs[i],
			     msr_value(guest_msrs[i], v, tsc_elapsed, buf), wgp ? "#GP" : "ok");
	}
	for (i = 0; i < NR_WRITES; i++)
		line("guest.wrmsr.%#x.%#llx = %s", guest_writes[i].index,
		     (unsigned long long)guest_writes[i].value, next(o) ? "#GP" : "ok");
	line("guest.db.count = %u", o->nr_db);
	line("guest.db.dr6 = %#x", o->db_dr6);
	line("guest.db.dr0 = %#x", next(o));
	line("guest.db.dr7 = %#x", next(o));
	line("guest.outputs = %s", o->pos == o->n ? "all read" : "left over");
}

static void setup_rom(struct vsnix_test_vm *vm, uint8_t *rom)
{
	size_t len = probe_end - probe_start;
	uint16_t ivt[4];
	int16_t rel = CODE_OFF - 0xfff3;
	uint32_t n;
	unsigned int i;

	TEST_ASSERT(len < 0xff0, "probe code too long");
	memcpy(rom + CODE_OFF, probe_start, len);
	rom[0xfff0] = 0xe9;			/* JMP rel16 to the code */
	memcpy(rom + 0xfff1, &rel, 2);
	vm_set_region(vm, 1, 0, ROM_GPA, ROM_SIZE, rom);
	/* The same code at F000:xxxx in RAM, where IRET returns to. */
	vm_write(vm, 0xf0000 + CODE_OFF, probe_start, len);
	ivt[0] = CODE_OFF + (probe_db - probe_start);
	ivt[1] = 0xf000;
	vm_write(vm, 1 * 4, ivt, 4);
	ivt[0] = CODE_OFF + (probe_gp - probe_start);
	vm_write(vm, 13 * 4, ivt, 4);

	n = NR_LEAVES;
	vm_write(vm, CPUID_TAB - 4, &n, 4);
	for (i = 0; i < NR_LEAVES; i++)
		vm_write(vm, CPUID_TAB + 8 * i, &cpuid_leaves[i], 8);
	n = nr_guest_msrs;
	vm_write(vm, MSR_TAB, guest_msrs, 4 * n);
	vm_write(vm, MSR_TAB - 4, &n, 4);
	n = NR_WRITES;
	vm_write(vm, WR_TAB - 4, &n, 4);
	for (i = 0; i < NR_WRITES; i++) {
		uint32_t w[3] = { guest_writes[i].index, (uint32_t)guest_writes[i].value,
				  (uint32_t)(guest_writes[i].value >> 32) };

		vm_write(vm, WR_TAB + 12 * i, w, 12);
	}
}

/* Host writes through SET_MSRS on a second vCPU: what sticks, what fails. */
static void probe_host_writes(struct vsnix_test_vcpu *vcpu)
{
	static const struct { uint32_t index; uint64_t value; } w[] = {
		{ 0x1b, 0xfee00800 }, { 0x1b, 0xfee00a00 }, { 0x2ff, 0xc06 },
		{ 0x2ff, 0x7 }, { 0x200, 0x80000006 }, { 0x179, 0x104 },
		{ 0x179, 0x105 }, { 0x401, 0x1234 }, { 0x277, 0x0606060606060606 },
		{ 0x1a0, 0x1 }, { 0xfe, 0 }, { 0x3b, 0x1000 }, { 0x8b, 0 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		uint64_t v = 0;
		int set = vcpu_set_msr(vcpu, w[i].index, w[i].value);

		vcpu_get_msr(vcpu, w[i].index, &v);
		line("host.set.%#x.%#llx = %s, reads %#llx", w[i].index,
		     (unsigned long long)w[i].value, set == 1 ? "ok" : "refused",
		     (unsigned long long)v);
	}
	/* A host TSC write leaves TSC_ADJUST alone (a restore). */
	vcpu_set_msr(vcpu, 0x3b, 0);
	{
		uint64_t tsc = 0, adj = 1;

		vcpu_set_msr(vcpu, 0x10, 1ull << 40);
		vcpu_get_msr(vcpu, 0x10, &tsc);
		vcpu_get_msr(vcpu, 0x3b, &adj);
		line("host.set.tsc = %s, TSC_ADJUST %#llx",
		     tsc >= 1ull << 40 && tsc < (1ull << 40) + (1ull << 36) ? "took" : "wrong",
		     (unsigned long long)adj);
	}
}

/* ------------------------------------------------------------ compare */

static bool compare(const char *vendor)
{
	char *exp = strndup(expected_start, expected_end - expected_start);
	unsigned int i, bad = 0, seen = 0;
	char *save = NULL, *l;

	for (l = strtok_r(exp, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char key[256], want[512], *eq, *hash, *at;

		if (l[0] == '#' || !(eq = strstr(l, " = ")))
			continue;
		hash = strstr(eq, "  #");
		if (hash)
			*hash = 0;
		at = strstr(l, " @");
		if (at && at < eq) {
			if (strncmp(at + 2, vendor, 3))
				continue;
			TEST_ASSERT(hash, "expected file: a vendor line needs its reason");
			snprintf(key, sizeof(key), "%.*s", (int)(at - l), l);
		} else {
			snprintf(key, sizeof(key), "%.*s", (int)(eq - l), l);
		}
		snprintf(want, sizeof(want), "%s", eq + 3);
		for (i = 0; i < nr_dump; i++) {
			size_t kl = strlen(key);

			if (strncmp(dump[i], key, kl) || strncmp(dump[i] + kl, " = ", 3))
				continue;
			seen++;
			if (strcmp(dump[i] + kl + 3, want)) {
				tap_diag("differs: %s (expected %s)", dump[i], want);
				bad++;
			}
			break;
		}
		if (i == nr_dump) {
			tap_diag("missing from the dump: %s = %s", key, want);
			bad++;
		}
	}
	if (seen != nr_dump) {
		tap_diag("%u dump line(s) not in the expected file", nr_dump - seen);
		bad++;
	}
	free(exp);
	return !bad;
}

int main(void)
{
	uint8_t *rom = mmap(NULL, ROM_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vsnix_test_vcpu *vcpu, *vcpu1;
	struct out_stream *o = calloc(1, sizeof(*o));
	const char *vendor;
	struct vsnix_test_vm *vm;
	uint64_t tsc0;
	unsigned int i;
	bool ran;

	vsnix_dev_fd();
	if (!vsnix_cap(VSNIX_CAP_MSR_LIST))
		tap_skip_all("no VSNIX_CAP_MSR_LIST");
	vendor = vsnix_is_svm() ? "svm" : "vmx";
	tap_plan(4);
	TEST_ASSERT(rom != MAP_FAILED && o, "mmap, calloc");

	tsc0 = __rdtsc();
	vm = vm_create(RAM_SIZE);
	get_policy(vm);
	get_msr_list(vm);
	vcpu = vcpu_create(vm, 0);
	probe_create_state(vcpu);
	probe_host_msrs("create", vcpu, tsc0);

	setup_rom(vm, rom);
	ran = run_guest(vcpu, o);
	tap_ok(ran, "the probe guest ran from the reset vector to HLT (%u values)", o->n);
	probe_guest_dump(vm, o, __rdtsc() - tsc0);
	probe_host_msrs("after", vcpu, tsc0);
	vcpu1 = vcpu_create(vm, 1);
	probe_host_writes(vcpu1);

	for (i = 0; i < nr_dump; i++)
		printf("# dump: %s\n", dump[i]);
	tap_ok(nr_dump > 100, "canonical dump of %u lines", nr_dump);
	tap_ok(compare(vendor), "the dump is x86_probe.expected (vendor %s)", vendor);
	vm_destroy(vm);
	munmap(rom, ROM_SIZE);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
