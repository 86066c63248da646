/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vSnix VMX guest entry and exit (Intel SDM Vol 3, 26 and 27).
 *
 * VMLAUNCH/VMRESUME do not save or load the general-purpose registers
 * (other than RSP, RIP and RFLAGS, which live in the VMCS): this code moves
 * them between the vCPU's register cache and the CPU. A successful entry
 * never falls through: the next VM exit continues at __vsnix_vmx_exit
 * (VMCS HOST_RIP) with RSP = HOST_RSP, which is written here.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/segment.h>
#include <asm/unwind_hints.h>
#include "vmx.h"
#include "../../../core/compat.h"

#define VMCS_HOST_RSP	0x6c14	/* SDM Appendix B.4.4 */

/* Slots of vcpu->gpr[], in the order of enum vsnix_gpr (core/vsnix.h). */
#define G_RAX	(0 * 8)
#define G_RCX	(1 * 8)
#define G_RDX	(2 * 8)
#define G_RBX	(3 * 8)
#define G_RBP	(5 * 8)
#define G_RSI	(6 * 8)
#define G_RDI	(7 * 8)
#define G_R8	(8 * 8)
#define G_R9	(9 * 8)
#define G_R10	(10 * 8)
#define G_R11	(11 * 8)
#define G_R12	(12 * 8)
#define G_R13	(13 * 8)
#define G_R14	(14 * 8)
#define G_R15	(15 * 8)

	.text

/*
 * Clear the CPU buffers the guest could sample (MDS, TAA, MMIO stale
 * data): VERW with a memory operand does it once the microcode has
 * MD_CLEAR. Older kernels tie it to X86_FEATURE_CLEAR_CPU_BUF, newer ones
 * (and TSA) to X86_FEATURE_CLEAR_CPU_BUF_VM: either asks for it here.
 * Clobbers ZF.
 */
.macro VMX_CLEAR_CPU_BUFFERS
#ifdef X86_FEATURE_CLEAR_CPU_BUF_VM
	ALTERNATIVE_2 "jmp .Lno_verw_\@", "", X86_FEATURE_CLEAR_CPU_BUF, \
		      "", X86_FEATURE_CLEAR_CPU_BUF_VM
#else
	ALTERNATIVE "jmp .Lno_verw_\@", "", X86_FEATURE_CLEAR_CPU_BUF
#endif
	verw x86_verw_sel(%rip)
.Lno_verw_\@:
.endm

/*
 * Write IA32_SPEC_CTRL = \to when the vmx_enter_args at (\args) ask for
 * a switch and the two values differ. Clobbers RAX, RCX, RDX. A #GP (an
 * emulator without the MSR) is skipped, as wrmsrl_safe would.
 */
.macro VMX_SWITCH_SPEC_CTRL args:req, to:req, from:req
	btl $VMX_ENTER_SPEC_CTRL_BIT, VMX_ARGS_FLAGS(\args)
	jnc .Lspec_done_\@
	mov \to(\args), %rax
	cmp \from(\args), %rax
	je .Lspec_done_\@
	mov %rax, %rdx
	shr $32, %rdx
	mov $MSR_IA32_SPEC_CTRL, %ecx
.Lspec_wrmsr_\@:
	wrmsr
.Lspec_done_\@:
	_ASM_EXTABLE(.Lspec_wrmsr_\@, .Lspec_done_\@)
.endm

/*
 * int __vsnix_vmx_enter(u64 *gprs, struct vmx_enter_args *args)
 *
 * Returns 0 after a VM exit (including a failed VM entry, which the exit
 * reason reports), 1 on VMfailValid, 2 on VMfailInvalid, 3 when the
 * instruction faulted (VMX is off: e.g. an emergency reboot took it away).
 */
SYM_FUNC_START(__vsnix_vmx_enter)
	push %rbp
	mov %rsp, %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx
	/* args and gprs, read back from 8(%rsp) and 0(%rsp) after the exit. */
	push %rsi
	push %rdi

	mov $VMCS_HOST_RSP, %eax
1:	vmwrite %rsp, %rax
	jbe .Lvmwrite_fail

	/*
	 * The guest's SPEC_CTRL. From here to VMLAUNCH/VMRESUME there is no
	 * RET and no indirect branch: its prediction controls are in force.
	 */
	VMX_SWITCH_SPEC_CTRL %rsi, VMX_ARGS_GUEST_SPEC_CTRL, VMX_ARGS_HOST_SPEC_CTRL

	/* CF from this test picks VMRESUME; MOV and VERW keep CF. */
	btl $VMX_ENTER_RESUME_BIT, VMX_ARGS_FLAGS(%rsi)

	mov G_RAX(%rdi), %rax
	mov G_RCX(%rdi), %rcx
	mov G_RDX(%rdi), %rdx
	mov G_RBX(%rdi), %rbx
	mov G_RBP(%rdi), %rbp
	mov G_RSI(%rdi), %rsi
	mov G_R8(%rdi), %r8
	mov G_R9(%rdi), %r9
	mov G_R10(%rdi), %r10
	mov G_R11(%rdi), %r11
	mov G_R12(%rdi), %r12
	mov G_R13(%rdi), %r13
	mov G_R14(%rdi), %r14
	mov G_R15(%rdi), %r15
	mov G_RDI(%rdi), %rdi

	/* The last thing before guest code: no host data loaded after it. */
	VMX_CLEAR_CPU_BUFFERS

	jnc .Lvmlaunch

	/*
	 * A successful VMRESUME/VMLAUNCH continues at __vsnix_vmx_exit with
	 * this stack: tell objtool to carry the unwind state over there.
	 */
	UNWIND_HINT_SAVE
.Lvmresume:
	vmresume
	jmp .Lvmfail

.Lvmlaunch:
	vmlaunch
	jmp .Lvmfail

	_ASM_EXTABLE(1b, .Lvmwrite_fault)
	_ASM_EXTABLE(.Lvmresume, .Lvmfault)
	_ASM_EXTABLE(.Lvmlaunch, .Lvmfault)

SYM_INNER_LABEL(__vsnix_vmx_exit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR

	/* Guest RDI out of the way, then the gprs pointer into RDI. */
	push %rdi
	mov 8(%rsp), %rdi

	mov %rax, G_RAX(%rdi)
	mov %rcx, G_RCX(%rdi)
	mov %rdx, G_RDX(%rdi)
	mov %rbx, G_RBX(%rdi)
	mov %rbp, G_RBP(%rdi)
	mov %rsi, G_RSI(%rdi)
	mov %r8, G_R8(%rdi)
	mov %r9, G_R9(%rdi)
	mov %r10, G_R10(%rdi)
	mov %r11, G_R11(%rdi)
	mov %r12, G_R12(%rdi)
	mov %r13, G_R13(%rdi)
	mov %r14, G_R14(%rdi)
	mov %r15, G_R15(%rdi)
	pop %rax
	mov %rax, G_RDI(%rdi)

	xor %ebx, %ebx

.Lback_to_host:
	/*
	 * The host's SPEC_CTRL before any RET or indirect branch: until then
	 * the guest's IBRS/STIBP/SSBD choice is in force. Guest writes of the
	 * MSR are intercepted, so its value is known and not read back.
	 */
	mov 8(%rsp), %rsi
	VMX_SWITCH_SPEC_CTRL %rsi, VMX_ARGS_HOST_SPEC_CTRL, VMX_ARGS_GUEST_SPEC_CTRL

	/* Return predictions the guest planted must not reach the host. */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, \
			   X86_FEATURE_RSB_VMEXIT_LITE
	/* BHI: the guest's branch history, where the host clears it. */
	CLEAR_BRANCH_HISTORY_VMEXIT

	mov %ebx, %eax

.Lout:
	/* Leave no guest value in a register the caller may spill. */
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d

	pop %rdi
	pop %rsi
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	RET

.Lvmfail:
	/* SDM 31.2: CF=1 is VMfailInvalid, ZF=1 VMfailValid. */
	mov $1, %ebx
	jnc .Lback_to_host
	mov $2, %ebx
	jmp .Lback_to_host

.Lvmfault:
	mov $3, %ebx
	jmp .Lback_to_host

	/* Before the guest's SPEC_CTRL: nothing to undo. */
.Lvmwrite_fail:
	mov $1, %eax
	jnc .Lout
	mov $2, %eax
	jmp .Lout

.Lvmwrite_fault:
	mov $3, %eax
	jmp .Lout
SYM_FUNC_END(__vsnix_vmx_enter)

/*
 * void __vsnix_vmx_do_nmi(void)
 *
 * An NMI that arrived in the guest caused a VM exit and was not delivered
 * (SDM 27.1, NMI exiting): hand it to the kernel's handler as if it had
 * hit here, with an interrupt frame on the current stack. The handler's
 * IRET returns below with IRQs still off (RFLAGS as pushed).
 */
SYM_FUNC_START(__vsnix_vmx_do_nmi)
	push %rbp
	mov %rsp, %rbp
	and $-16, %rsp
	push $__KERNEL_DS
	push %rbp
	pushf
	push $__KERNEL_CS
	call VSNIX_ASM_EXC_NMI_NOIST
	leave
	RET
SYM_FUNC_END(__vsnix_vmx_do_nmi)
