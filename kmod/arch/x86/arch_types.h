/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The x86 types that the core's objects embed (struct vsnix_vcpu's
 * register cache and exit completion, struct vsnix_vm's CPUID policy).
 * Included through kmod/core/arch.h only.
 */
#ifndef VSNIX_X86_ARCH_TYPES_H
#define VSNIX_X86_ARCH_TYPES_H

#include <linux/types.h>

struct vsnix_cpuid_entry;

/* GPR indices follow the x86 register encoding (Intel SDM Vol 2, 2.1.5). */
enum vsnix_gpr {
	VSNIX_RAX, VSNIX_RCX, VSNIX_RDX, VSNIX_RBX,
	VSNIX_RSP, VSNIX_RBP, VSNIX_RSI, VSNIX_RDI,
	VSNIX_R8, VSNIX_R9, VSNIX_R10, VSNIX_R11,
	VSNIX_R12, VSNIX_R13, VSNIX_R14, VSNIX_R15,
	VSNIX_NR_GPRS,
};

/*
 * What RUN must finish before re-entering the guest after userspace
 * handled an IO-in or MMIO-read exit.
 */
enum vsnix_pending {
	VSNIX_PENDING_NONE,
	VSNIX_PENDING_PIO_IN,	/* copy run io data to RAX, RIP = next_rip */
	VSNIX_PENDING_MMIO,	/* finish the decoded MMIO insn */
	VSNIX_PENDING_PIO_OUT,	/* RIP = next_rip */
};

struct vsnix_mmio_insn {
	u8 len;			/* instruction length in bytes */
	u8 size;		/* access size: 1, 2, 4, 8 */
	u8 reg;			/* enum vsnix_gpr of the register operand */
	u8 is_write;
	u8 zero_extend;		/* MOVZX: size of the register destination */
	u8 sign_extend;		/* MOVSX */
	u8 dst_size;		/* register width written for reads */
	u8 has_imm;
	u8 high_byte;		/* AH/CH/DH/BH operand (no REX, reg 4-7) */
	u64 imm;
};

/*
 * A port I/O exit sent to userspace. Kept here, not read back from run->io,
 * because userspace may change run->io before the next RUN.
 */
struct vsnix_pending_pio {
	u16 port;
	u8 size;		/* 1, 2 or 4 */
	u8 string;		/* INS/OUTS */
	u8 rep;
	u8 addr_size;		/* string: 2, 4 or 8 */
	u32 count;		/* elements in this exit */
};

/* The VM's CPUID answers (cpuid_policy.c), under vm->cpuid_lock. */
struct vsnix_cpuid_policy {
	u32 nent;
	struct vsnix_cpuid_entry *entries;
};

#endif /* VSNIX_X86_ARCH_TYPES_H */
