// SPDX-License-Identifier: GPL-2.0
/*
 * General registers: both backends keep them in the vCPU's register cache
 * and copy RSP/RIP/RFLAGS (and RAX on SVM) to the VMCB/VMCS at entry, so
 * GET_REGS and SET_REGS are vendor-neutral.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/bits.h>
#include <linux/printk.h>
#include <asm/processor-flags.h>
#include "x86.h"

/* RFLAGS bits that must be 0: 3, 5, 15 and 22-63. */
#define VSNIX_RFLAGS_RESERVED	(GENMASK_ULL(63, 22) | BIT_ULL(15) | \
				 BIT_ULL(5) | BIT_ULL(3))

bool vsnix_canonical(u64 addr)
{
	return (u64)((s64)(addr << 16) >> 16) == addr;
}

void vsnix_x86_get_regs(const struct vsnix_vcpu *vcpu,
			struct vsnix_regs *regs)
{
	const u64 *g = vcpu->gpr;

	regs->rax = g[VSNIX_RAX];
	regs->rbx = g[VSNIX_RBX];
	regs->rcx = g[VSNIX_RCX];
	regs->rdx = g[VSNIX_RDX];
	regs->rsi = g[VSNIX_RSI];
	regs->rdi = g[VSNIX_RDI];
	regs->rsp = g[VSNIX_RSP];
	regs->rbp = g[VSNIX_RBP];
	regs->r8 = g[VSNIX_R8];
	regs->r9 = g[VSNIX_R9];
	regs->r10 = g[VSNIX_R10];
	regs->r11 = g[VSNIX_R11];
	regs->r12 = g[VSNIX_R12];
	regs->r13 = g[VSNIX_R13];
	regs->r14 = g[VSNIX_R14];
	regs->r15 = g[VSNIX_R15];
	regs->rip = vcpu->rip;
	regs->rflags = vcpu->rflags;
}

int vsnix_x86_set_regs(struct vsnix_vcpu *vcpu, const struct vsnix_regs *regs)
{
	u64 *g = vcpu->gpr;

	if ((regs->rflags & VSNIX_RFLAGS_RESERVED) ||
	    !(regs->rflags & X86_EFLAGS_FIXED)) {
		pr_info_ratelimited("SET_REGS: RFLAGS %#llx: reserved bits set or bit 1 clear\n",
				    regs->rflags);
		return -EINVAL;
	}
	if (!vsnix_canonical(regs->rip)) {
		pr_info_ratelimited("SET_REGS: RIP %#llx not canonical\n",
				    regs->rip);
		return -EINVAL;
	}
	g[VSNIX_RAX] = regs->rax;
	g[VSNIX_RBX] = regs->rbx;
	g[VSNIX_RCX] = regs->rcx;
	g[VSNIX_RDX] = regs->rdx;
	g[VSNIX_RSI] = regs->rsi;
	g[VSNIX_RDI] = regs->rdi;
	g[VSNIX_RSP] = regs->rsp;
	g[VSNIX_RBP] = regs->rbp;
	g[VSNIX_R8] = regs->r8;
	g[VSNIX_R9] = regs->r9;
	g[VSNIX_R10] = regs->r10;
	g[VSNIX_R11] = regs->r11;
	g[VSNIX_R12] = regs->r12;
	g[VSNIX_R13] = regs->r13;
	g[VSNIX_R14] = regs->r14;
	g[VSNIX_R15] = regs->r15;
	vcpu->rip = regs->rip;
	vcpu->rflags = regs->rflags;
	return 0;
}
