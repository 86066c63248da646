/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The world switch of the SVM backend: VMLOAD, VMRUN, VMSAVE (AMD APM Vol 2,
 * 15.5 and 15.5.2), with the speculation barriers a VM exit needs.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include "svm.h"

/* Byte offset of a guest register in vcpu->gpr[] (x86 encoding order). */
#define GPR_RCX		(1 * 8)
#define GPR_RDX		(2 * 8)
#define GPR_RBX		(3 * 8)
#define GPR_RBP		(5 * 8)
#define GPR_RSI		(6 * 8)
#define GPR_RDI		(7 * 8)
#define GPR_R8		(8 * 8)
#define GPR_R9		(9 * 8)
#define GPR_R10		(10 * 8)
#define GPR_R11		(11 * 8)
#define GPR_R12		(12 * 8)
#define GPR_R13		(13 * 8)
#define GPR_R14		(14 * 8)
#define GPR_R15		(15 * 8)

.section .noinstr.text, "ax"

/*
 * void __vsnix_svm_vmrun(u64 *gprs, struct svm_vmrun_args *args)
 *
 * Called with GIF = 0. RAX, RSP, RIP and RFLAGS of the guest travel in the
 * VMCB; the other guest GPRs in gprs[]. Between VMLOAD of the guest VMCB
 * and VMLOAD of the host save page, GS.base is the guest's, so no per-CPU
 * data may be touched there: everything needed comes in args.
 */
SYM_FUNC_START(__vsnix_svm_vmrun)
	push	%rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	push	%rsi
	push	%rdi

	/*
	 * The guest's SPEC_CTRL. From this write to VMRUN there must be no
	 * RET and no indirect branch: the guest's prediction controls are
	 * already in force.
	 */
	cmpq	$0, SVM_ARGS_SWAP_SPEC_CTRL(%rsi)
	je	.Lguest_spec_done
	mov	SVM_ARGS_GUEST_SPEC_CTRL(%rsi), %rax
	cmp	SVM_ARGS_HOST_SPEC_CTRL(%rsi), %rax
	je	.Lguest_spec_done
	mov	%rax, %rdx
	shr	$32, %rdx
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	wrmsr
.Lguest_spec_done:

	/* FS, GS, TR, LDTR, KernelGSbase, STAR family, SYSENTER (15.5.2). */
	mov	SVM_ARGS_VMCB_PA(%rsi), %rax
	vmload	%rax

	mov	GPR_RCX(%rdi), %rcx
	mov	GPR_RDX(%rdi), %rdx
	mov	GPR_RBX(%rdi), %rbx
	mov	GPR_RBP(%rdi), %rbp
	mov	GPR_RSI(%rdi), %rsi
	mov	GPR_R8(%rdi), %r8
	mov	GPR_R9(%rdi), %r9
	mov	GPR_R10(%rdi), %r10
	mov	GPR_R11(%rdi), %r11
	mov	GPR_R12(%rdi), %r12
	mov	GPR_R13(%rdi), %r13
	mov	GPR_R14(%rdi), %r14
	mov	GPR_R15(%rdi), %r15
	mov	GPR_RDI(%rdi), %rdi

	/* MDS/TSA: flush CPU buffers right before guest code (clobbers ZF). */
	VM_CLEAR_CPU_BUFFERS

	vmrun	%rax

	/* #VMEXIT: RAX, RSP, RIP, RFLAGS are the host's again (15.6). */
	pop	%rax
	mov	%rcx, GPR_RCX(%rax)
	mov	%rdx, GPR_RDX(%rax)
	mov	%rbx, GPR_RBX(%rax)
	mov	%rbp, GPR_RBP(%rax)
	mov	%rsi, GPR_RSI(%rax)
	mov	%rdi, GPR_RDI(%rax)
	mov	%r8, GPR_R8(%rax)
	mov	%r9, GPR_R9(%rax)
	mov	%r10, GPR_R10(%rax)
	mov	%r11, GPR_R11(%rax)
	mov	%r12, GPR_R12(%rax)
	mov	%r13, GPR_R13(%rax)
	mov	%r14, GPR_R14(%rax)
	mov	%r15, GPR_R15(%rax)

	pop	%rdi
	mov	SVM_ARGS_VMCB_PA(%rdi), %rax
	vmsave	%rax
	/* Host GS.base and the rest come back: per-CPU data works again. */
	mov	SVM_ARGS_HOST_SAVE_PA(%rdi), %rax
	vmload	%rax

#ifdef CONFIG_RETPOLINE
	/* The guest may have filled the RSB: overwrite it before any RET. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RETPOLINE
#endif

	/* The host's SPEC_CTRL (guest writes are intercepted: value known). */
	cmpq	$0, SVM_ARGS_SWAP_SPEC_CTRL(%rdi)
	je	.Lhost_spec_done
	mov	SVM_ARGS_HOST_SPEC_CTRL(%rdi), %rax
	cmp	SVM_ARGS_GUEST_SPEC_CTRL(%rdi), %rax
	je	.Lhost_spec_done
	mov	%rax, %rdx
	shr	$32, %rdx
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	wrmsr
.Lhost_spec_done:

	/* Retbleed/SRSO: untrain return prediction before the first RET. */
	UNTRAIN_RET
	ALTERNATIVE "", "call entry_ibpb", X86_FEATURE_IBPB_ON_VMEXIT

	/* Leave no guest value in a register the host could speculate on. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(__vsnix_svm_vmrun)
