// SPDX-License-Identifier: GPL-2.0
/*
 * Sensitive instructions in a 64-bit guest at CPL 0, checked against what
 * the guest's CPUID advertises: XSETBV with bad values (#GP), MOV to CR0,
 * CR3, CR4 and DR6/DR7 with reserved bits or with features CPUID does not
 * list (#GP), the VMX and SVM instructions (#UD: neither is advertised),
 * but the host vendor's VMCALL/VMMCALL: vsnix's hypercall, which answers
 * VSNIX_HYPERCALL_ENOSYS in RAX and keeps RBX/RCX/RDX (uapi vsnix.h),
 * INVD and WBINVD (harmless), MONITOR/MWAIT, RDTSCP, RDPID (#UD when not
 * advertised), RDPMC (#GP: no PMU advertised). Intel SDM Vol 2 (each
 * instruction's exceptions) and Vol 3 2.5 (CR4 bits and their CPUID flags).
 */
#include "vsnix_util.h"

#define NOEXC		GUEST_NO_EXCEPTION
#define UD		6
#define GP		13
#define SCRATCH_GPA	0x5000ul	/* a free page of slot 0 for memory operands */

/* Runs insn with the fixup armed; returns the vector (NOEXC: none). */
#define TRY(insn, a, c, d) ({							\
	uint64_t _a = (a), _c = (c), _d = (d);					\
	guest_exception_vector = GUEST_NO_EXCEPTION;				\
	asm volatile("leaq 1f(%%rip), %%r11\n\t"				\
		     "movq %%r11, guest_fixup_rip(%%rip)\n\t"			\
		     insn "\n\t"						\
		     "1:\n\t"							\
		     "movq $0, guest_fixup_rip(%%rip)"				\
		     : "+a"(_a), "+c"(_c), "+d"(_d) : : "r11", "memory");	\
	(uint64_t)(uint8_t)guest_exception_vector; })

/* Each test runs in a VM of its own: a broken one cannot hide the rest. */
static volatile uint64_t g_want;

#define REPORT(id, expr)							\
	do {									\
		if (g_want == (id))						\
			GUEST_SYNC3(id, (expr), 0);				\
	} while (0)

enum {
	T_CPUID = 1, T_CR4_RSVD, T_CR4_VMXE, T_CR4_SMXE, T_CR4_PCIDE, T_CR4_PKE,
	T_CR4_OSXSAVE, T_CR4_LA57, T_CR0_RSVD, T_CR0_NW, T_CR3_RSVD, T_DR7_RSVD,
	T_DR6_RSVD, T_XSETBV_NOX87, T_XSETBV_AVX_NOSSE, T_XSETBV_XCR1, T_XSETBV_HI,
	T_XSETBV_OK, T_VMXON, T_VMCALL, T_VMLAUNCH, T_VMRESUME, T_VMXOFF, T_VMCLEAR,
	T_VMPTRLD, T_VMPTRST, T_VMREAD, T_VMWRITE, T_INVEPT, T_INVVPID, T_VMFUNC,
	T_VMRUN, T_VMMCALL, T_VMLOAD, T_VMSAVE, T_STGI, T_CLGI, T_SKINIT, T_INVLPGA,
	T_INVD, T_WBINVD, T_MONITOR, T_MWAIT, T_RDPMC, T_RDTSCP, T_RDPID,
	T_EFER_SVME, T_LAST
};

static uint64_t read_cr4(void)
{
	uint64_t v;

	asm volatile("movq %%cr4, %0" : "=r"(v));
	return v;
}

/* MOV to CR4 of cr4 | bit; undone when it did not fault. */
static uint64_t try_cr4_bit(uint64_t bit)
{
	uint64_t old = read_cr4(), v;

	v = TRY("movq %%rax, %%cr4", old | bit, 0, 0);
	if (v == NOEXC)
		asm volatile("movq %0, %%cr4" : : "r"(old) : "memory");
	return v;
}

static void guest_cpuid_report(void)
{
	uint32_t a, b, c, d, l7c, l7b, le1c, le1d, la;

	guest_cpuid(1, 0, &a, &b, &c, &d);
	guest_cpuid(7, 0, &a, &l7b, &l7c, &d);
	guest_cpuid(0x80000001, 0, &a, &b, &le1c, &le1d);
	guest_cpuid(0xa, 0, &la, &b, &d, &d);
	guest_cpuid(1, 0, &a, &b, &c, &d);
	guest_ucall(UCALL_SYNC, T_CPUID, c, (uint64_t)l7b << 32 | l7c,
		    (uint64_t)le1d << 32 | le1c, la, 0);
}

static void guest_cr_dr(void)
{
	uint64_t cr0, cr3;

	REPORT(T_CR4_RSVD, try_cr4_bit(1ul << 32));
	REPORT(T_CR4_VMXE, try_cr4_bit(1ul << 13));
	REPORT(T_CR4_SMXE, try_cr4_bit(1ul << 14));
	REPORT(T_CR4_PCIDE, try_cr4_bit(1ul << 17));
	REPORT(T_CR4_PKE, try_cr4_bit(1ul << 22));
	REPORT(T_CR4_OSXSAVE, try_cr4_bit(1ul << 18));
	/* LA57 cannot change in long mode (SDM Vol 3, 2.5): always #GP here. */
	REPORT(T_CR4_LA57, try_cr4_bit(1ul << 12));
	asm volatile("movq %%cr0, %0" : "=r"(cr0));
	REPORT(T_CR0_RSVD, TRY("movq %%rax, %%cr0", cr0 | 1ul << 32, 0, 0));
	/* NW=1 with CD=0 (SDM Vol 3, 2.5, MOV CR0 #GP). */
	REPORT(T_CR0_NW, TRY("movq %%rax, %%cr0", (cr0 & ~(1ul << 30)) | 1ul << 29, 0, 0));
	asm volatile("movq %%cr3, %0" : "=r"(cr3));
	REPORT(T_CR3_RSVD, TRY("movq %%rax, %%cr3", cr3 | 1ul << 62, 0, 0));
	REPORT(T_DR7_RSVD, TRY("movq %%rax, %%dr7", 0x400ul | 1ul << 40, 0, 0));
	REPORT(T_DR6_RSVD, TRY("movq %%rax, %%dr6", 0xffff0ff0ul | 1ul << 40, 0, 0));
}

/* xsave: CPUID.1:ECX.XSAVE; xcr0: a valid value to set (0 without XSAVE). */
static void guest_xsetbv(uint64_t xsave, uint64_t xcr0)
{
	uint64_t old = read_cr4();

	if (xsave)
		TRY("movq %%rax, %%cr4", old | 1ul << 18, 0, 0);	/* OSXSAVE */
	REPORT(T_XSETBV_NOX87, TRY("xsetbv", 2, 0, 0));
	REPORT(T_XSETBV_AVX_NOSSE, TRY("xsetbv", 5, 0, 0));
	REPORT(T_XSETBV_XCR1, TRY("xsetbv", 1, 1, 0));
	REPORT(T_XSETBV_HI, TRY("xsetbv", 3, 0, 0x80000000u));
	REPORT(T_XSETBV_OK, TRY("xsetbv", xcr0 ? xcr0 : 3, 0, 0));
	asm volatile("movq %0, %%cr4" : : "r"(old) : "memory");
}

/* VMCALL/VMMCALL: the vector, and whether RAX is the "no service" answer. */
#define TRY_HC(id, insn)							\
	do {									\
		uint64_t _a = 7, _b = 0xb, _c = 0xc, _d = 0xd;			\
		if (g_want != (id))						\
			break;							\
		guest_exception_vector = GUEST_NO_EXCEPTION;			\
		asm volatile("leaq 1f(%%rip), %%r11\n\t"			\
			     "movq %%r11, guest_fixup_rip(%%rip)\n\t"		\
			     insn "\n\t"					\
			     "1:\n\t"						\
			     "movq $0, guest_fixup_rip(%%rip)"			\
			     : "+a"(_a), "+b"(_b), "+c"(_c), "+d"(_d)		\
			     : : "r11", "memory");				\
		GUEST_SYNC3(id, (uint8_t)guest_exception_vector,		\
			    _a == (uint64_t)(int64_t)VSNIX_HYPERCALL_ENOSYS &&	\
			    _b == 0xb && _c == 0xc && _d == 0xd);		\
	} while (0)

static void guest_virt_insns(void)
{
	uint64_t m = SCRATCH_GPA;

	REPORT(T_VMXON, TRY("vmxon (%%rax)", m, 0, 0));
	TRY_HC(T_VMCALL, "vmcall");
	REPORT(T_VMLAUNCH, TRY("vmlaunch", 0, 0, 0));
	REPORT(T_VMRESUME, TRY("vmresume", 0, 0, 0));
	REPORT(T_VMXOFF, TRY("vmxoff", 0, 0, 0));
	REPORT(T_VMCLEAR, TRY("vmclear (%%rax)", m, 0, 0));
	REPORT(T_VMPTRLD, TRY("vmptrld (%%rax)", m, 0, 0));
	REPORT(T_VMPTRST, TRY("vmptrst (%%rax)", m, 0, 0));
	REPORT(T_VMREAD, TRY("vmread %%rcx, %%rdx", 0, 0x6c00, 0));
	REPORT(T_VMWRITE, TRY("vmwrite %%rdx, %%rcx", 0, 0x6c00, 0));
	REPORT(T_INVEPT, TRY("invept (%%rax), %%rcx", m, 1, 0));
	REPORT(T_INVVPID, TRY("invvpid (%%rax), %%rcx", m, 1, 0));
	REPORT(T_VMFUNC, TRY(".byte 0x0f, 0x01, 0xd4", 0, 0, 0));
	REPORT(T_VMRUN, TRY("vmrun %%rax", m, 0, 0));
	TRY_HC(T_VMMCALL, "vmmcall");
	REPORT(T_VMLOAD, TRY("vmload %%rax", m, 0, 0));
	REPORT(T_VMSAVE, TRY("vmsave %%rax", m, 0, 0));
	REPORT(T_STGI, TRY("stgi", 0, 0, 0));
	REPORT(T_CLGI, TRY("clgi", 0, 0, 0));
	REPORT(T_SKINIT, TRY("skinit %%eax", m, 0, 0));
	REPORT(T_INVLPGA, TRY("invlpga %%rax, %%ecx", m, 0, 0));
}

static void guest_misc(void)
{
	volatile uint64_t *p = (volatile uint64_t *)SCRATCH_GPA;
	uint64_t v;

	/* INVD must not drop the guest's (or anyone's) dirty cache lines. */
	if (g_want == T_INVD) {
		*p = 0x1234567890abcdeful;
		v = TRY("invd", 0, 0, 0);
		GUEST_SYNC3(T_INVD, v, *p);
	}
	if (g_want == T_WBINVD) {
		*p = 0xfedcba0987654321ul;
		v = TRY("wbinvd", 0, 0, 0);
		GUEST_SYNC3(T_WBINVD, v, *p);
	}
	REPORT(T_MONITOR, TRY("monitor %%rax, %%ecx, %%edx", SCRATCH_GPA, 0, 0));
	REPORT(T_MWAIT, TRY("mwait %%eax, %%ecx", 0, 0, 0));
	REPORT(T_RDPMC, TRY("rdpmc", 0, 0, 0));
	REPORT(T_RDTSCP, TRY("rdtscp", 0, 0, 0));
	REPORT(T_RDPID, TRY("rdpid %%rax", 0, 0, 0));
	/* EFER.SVME without CPUID's SVM flag: #GP (APM Vol 2, 3.1.7). */
	REPORT(T_EFER_SVME, guest_wrmsr_safe(0xc0000080, 0xd00 | 1ul << 12));
}

static void guest_main(uint64_t xcr0)
{
	uint32_t a, b, c, d;

	if (g_want == T_CPUID)
		guest_cpuid_report();
	guest_cr_dr();
	guest_cpuid(1, 0, &a, &b, &c, &d);
	guest_xsetbv(c & (1u << 26), xcr0);
	guest_virt_insns();
	guest_misc();
}

struct expect {
	const char *name;
	uint8_t vector;
};

/* The guest's CPUID, as it reported it. */
static uint32_t l1c, l7b, l7c, le1c, le1d, la;

static bool has(uint32_t reg, int bit)
{
	return reg & (1u << bit);
}

static void expectations(struct expect *e)
{
	bool xsave = has(l1c, 26);

	e[T_CR4_RSVD] = (struct expect){ "MOV CR4, reserved bit 32: #GP", GP };
	e[T_CR4_VMXE] = (struct expect){ "MOV CR4.VMXE without CPUID VMX: #GP",
					 has(l1c, 5) ? NOEXC : GP };
	e[T_CR4_SMXE] = (struct expect){ "MOV CR4.SMXE without CPUID SMX: #GP",
					 has(l1c, 6) ? NOEXC : GP };
	e[T_CR4_PCIDE] = (struct expect){ "MOV CR4.PCIDE as CPUID PCID says",
					  has(l1c, 17) ? NOEXC : GP };
	e[T_CR4_PKE] = (struct expect){ "MOV CR4.PKE as CPUID PKU says",
					has(l7c, 3) ? NOEXC : GP };
	e[T_CR4_OSXSAVE] = (struct expect){ "MOV CR4.OSXSAVE as CPUID XSAVE says",
					    xsave ? NOEXC : GP };
	e[T_CR4_LA57] = (struct expect){ "MOV CR4.LA57 in long mode: #GP", GP };
	e[T_CR0_RSVD] = (struct expect){ "MOV CR0, reserved bit 32: #GP", GP };
	e[T_CR0_NW] = (struct expect){ "MOV CR0, NW without CD: #GP", GP };
	e[T_CR3_RSVD] = (struct expect){ "MOV CR3, bit 62 (above MAXPHYADDR): #GP", GP };
	e[T_DR7_RSVD] = (struct expect){ "MOV DR7, bit 40: #GP", GP };
	e[T_DR6_RSVD] = (struct expect){ "MOV DR6, bit 40: #GP", GP };
	e[T_XSETBV_NOX87] = (struct expect){ "XSETBV XCR0 without x87", xsave ? GP : UD };
	e[T_XSETBV_AVX_NOSSE] = (struct expect){ "XSETBV XCR0 AVX without SSE",
						 xsave ? GP : UD };
	e[T_XSETBV_XCR1] = (struct expect){ "XSETBV XCR1", xsave ? GP : UD };
	e[T_XSETBV_HI] = (struct expect){ "XSETBV XCR0 bit 63", xsave ? GP : UD };
	e[T_XSETBV_OK] = (struct expect){ "XSETBV valid XCR0", xsave ? NOEXC : UD };
}

static void expectations_virt(struct expect *e)
{
	static const char *const names[] = {
		[T_VMXON] = "VMXON", [T_VMCALL] = "VMCALL", [T_VMLAUNCH] = "VMLAUNCH",
		[T_VMRESUME] = "VMRESUME", [T_VMXOFF] = "VMXOFF", [T_VMCLEAR] = "VMCLEAR",
		[T_VMPTRLD] = "VMPTRLD", [T_VMPTRST] = "VMPTRST", [T_VMREAD] = "VMREAD",
		[T_VMWRITE] = "VMWRITE", [T_INVEPT] = "INVEPT", [T_INVVPID] = "INVVPID",
		[T_VMFUNC] = "VMFUNC", [T_VMRUN] = "VMRUN", [T_VMMCALL] = "VMMCALL",
		[T_VMLOAD] = "VMLOAD", [T_VMSAVE] = "VMSAVE", [T_STGI] = "STGI",
		[T_CLGI] = "CLGI", [T_SKINIT] = "SKINIT", [T_INVLPGA] = "INVLPGA",
	};
	int i;

	for (i = T_VMXON; i <= T_INVLPGA; i++)
		e[i] = (struct expect){ names[i], UD };
	/* The host vendor's hypercall instruction exits; the other one is #UD. */
	if (vsnix_is_svm())
		e[T_VMMCALL] = (struct expect){ "VMMCALL: hypercall, RAX = ENOSYS", NOEXC };
	else
		e[T_VMCALL] = (struct expect){ "VMCALL: hypercall, RAX = ENOSYS", NOEXC };
	e[T_INVD] = (struct expect){ "INVD: no fault, memory kept", NOEXC };
	e[T_WBINVD] = (struct expect){ "WBINVD: no fault, memory kept", NOEXC };
	e[T_MONITOR] = (struct expect){ "MONITOR as CPUID MONITOR says",
					has(l1c, 3) ? NOEXC : UD };
	e[T_MWAIT] = (struct expect){ "MWAIT as CPUID MONITOR says", has(l1c, 3) ? NOEXC : UD };
	e[T_RDPMC] = (struct expect){ "RDPMC without an advertised PMU: #GP",
				      (la & 0xff) || has(le1c, 23) ? NOEXC : GP };
	e[T_RDTSCP] = (struct expect){ "RDTSCP as CPUID RDTSCP says", has(le1d, 27) ? NOEXC : UD };
	e[T_RDPID] = (struct expect){ "RDPID as CPUID RDPID says", has(l7c, 22) ? NOEXC : UD };
	e[T_EFER_SVME] = (struct expect){ "WRMSR EFER.SVME without CPUID SVM: #GP",
					  has(le1c, 2) ? NOEXC : GP };
}

static const char *vec_str(uint64_t v)
{
	return v == NOEXC ? "none" : v == UD ? "#UD" : v == GP ? "#GP" : "other";
}

/* The host CPU's RDPID: SVM cannot intercept it (no exit exists). */
static bool host_rdpid(void)
{
	uint32_t a, b, c, d;

	asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
	return c & (1u << 22);
}

static void check_one(struct expect *e, const struct ucall *uc)
{
	uint64_t id = uc->args[0], v = uc->args[1];
	bool ok = v == e[id].vector;

	if (id == T_INVD)
		ok = ok && uc->args[2] == 0x1234567890abcdeful;
	if (id == T_WBINVD)
		ok = ok && uc->args[2] == 0xfedcba0987654321ul;
	if ((id == T_VMCALL || id == T_VMMCALL) && v == NOEXC)
		ok = ok && uc->args[2] == 1;
	if (id == T_RDPID && !ok && vsnix_is_svm() && host_rdpid()) {
		tap_skip("SVM has no RDPID intercept; the host CPU runs it", "%s", e[id].name);
		return;
	}
	tap_ok(ok, "%s (got %s, want %s)", e[id].name, vec_str(v), vec_str(e[id].vector));
}

/*
 * Where QEMU's TCG model of SVM (the rig's "svm" machines) differs from
 * the hardware (target/i386/tcg in QEMU 7.2): a MOV to CR3/CR4 with a
 * reserved bit is a VMEXIT_INVALID instead of #GP; MOV to CR0 drops bits
 * 63:32 and does not check NW/CD; RDTSCP ignores its intercept. On a real
 * CPU these are #GP/#UD in the guest. Returns the reason, or NULL.
 */
static const char *qemu_svm_quirk(struct vsnix_test_vcpu *vcpu, uint64_t id, bool reported,
				  uint64_t vector)
{
	const char *machine = getenv("VSNIX_RIG_MACHINE");
	struct vsnix_run *run = vcpu->run;

	if (!machine || strncmp(machine, "svm", 3) || !vsnix_is_svm())
		return NULL;
	if (!reported && id >= T_CR4_RSVD && id <= T_CR3_RSVD &&
	    run->exit_reason == VSNIX_EXIT_INTERNAL_ERROR &&
	    run->internal.suberror == VSNIX_INTERNAL_UNHANDLED_EXIT &&
	    (uint32_t)run->internal.data[0] == 0xffffffffu)
		return "QEMU TCG SVM: a reserved MOV CR is VMEXIT_INVALID, not #GP";
	if (reported && vector == NOEXC && (id == T_CR0_RSVD || id == T_CR0_NW))
		return "QEMU TCG: MOV CR0 drops bits 63:32 and skips the NW/CD check";
	if (reported && vector == NOEXC && id == T_RDTSCP)
		return "QEMU TCG SVM ignores the RDTSCP intercept";
	return NULL;
}

static struct vsnix_test_vcpu *new_vcpu(uint64_t want, uint64_t xcr0)
{
	struct vsnix_test_vm *vm = vm_create_long(0);
	struct vsnix_test_vcpu *vcpu = vcpu_create_long(vm, 0, guest_main);

	GUEST_VAR(vm, g_want) = want;
	vcpu_set_args(vcpu, 1, xcr0);
	return vcpu;
}

static void run_one(struct expect *e, uint64_t id, uint64_t xcr0)
{
	struct vsnix_test_vcpu *vcpu = new_vcpu(id, xcr0);
	const char *quirk;
	struct ucall uc;
	bool reported;

	reported = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == id;
	quirk = qemu_svm_quirk(vcpu, id, reported, reported ? uc.args[1] : NOEXC);
	if (quirk)
		tap_skip(quirk, "%s", e[id].name);
	else if (reported)
		check_one(e, &uc);
	else
		tap_ok(false, "%s: guest did not report (%s)", e[id].name, vcpu_exit_str(vcpu));
	vm_destroy(vcpu->vm);
}

int main(void)
{
	struct expect e[T_LAST] = { 0 };
	struct vsnix_test_vcpu *vcpu;
	uint64_t xcr0 = 0, id;
	uint32_t a, b, c, d;
	struct ucall uc;

	vsnix_dev_fd();
	tap_plan(T_LAST - T_CR4_RSVD + 1);
	/* XCR0 the guest may set: x87+SSE, +AVX when the host's XCR0 has it. */
	asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (c & (1u << 27)) {
		asm volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
		xcr0 = a & 7;
	}
	vcpu = new_vcpu(T_CPUID, xcr0);
	TEST_ASSERT(vcpu_run_ucall(vcpu, &uc) == UCALL_SYNC && uc.args[0] == T_CPUID,
		    "CPUID report");
	vm_destroy(vcpu->vm);
	l1c = uc.args[1];
	l7b = uc.args[2] >> 32;
	l7c = (uint32_t)uc.args[2];
	le1c = (uint32_t)uc.args[3];
	le1d = uc.args[3] >> 32;
	la = uc.args[4];
	tap_diag("guest CPUID 1.ECX 0x%x 7.EBX 0x%x 7.ECX 0x%x 80000001 ECX 0x%x EDX 0x%x",
		 l1c, l7b, l7c, le1c, le1d);
	expectations(e);
	expectations_virt(e);
	for (id = T_CR4_RSVD; id < T_LAST; id++)
		run_one(e, id, xcr0);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
