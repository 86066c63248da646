/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The x86 state that the core's objects embed: struct vsnix_arch_vcpu in
 * struct vsnix_vcpu, struct vsnix_arch_vm in struct vsnix_vm (core/vsnix.h).
 * The core includes this through core/arch.h only and leaves the members
 * to arch code, which reaches them as vcpu->rip, vm->cpuid, ...
 */
#ifndef VSNIX_X86_ARCH_TYPES_H
#define VSNIX_X86_ARCH_TYPES_H

#include <linux/mutex.h>
#include <linux/stddef.h>
#include <linux/types.h>
#include <asm/fpu/types.h>

struct vsnix_cpuid_entry;
struct vsnix_x86_events;
struct vsnix_lapic;
struct vsnix_pic;
struct vsnix_ioapic;

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

/*
 * struct_group_tagged(): the members are both a struct of their own
 * (vcpu->arch_state, vm->arch_state) and members of the enclosing one.
 */
#define VSNIX_ARCH_VCPU_STATE						\
	struct_group_tagged(vsnix_arch_vcpu, arch_state,		\
		/* Register cache; the vendor syncs RSP/RIP/RFLAGS/RAX. */ \
		u64 gpr[VSNIX_NR_GPRS];					\
		u64 rip;						\
		u64 rflags;						\
		struct vsnix_x86_events *events;	/* events.c */	\
		/* Completion of an exit to userspace. */		\
		enum vsnix_pending pending;				\
		u64 pending_next_rip;					\
		struct vsnix_mmio_insn pending_mmio;			\
		u64 pending_mmio_gpa;					\
		struct vsnix_pending_pio pending_pio;			\
		/* Guest FPU/XSAVE (fpu.c): kernel fpstate or fpu_own.c. */ \
		struct fpu_guest guest_fpu;				\
		void *fpu_own;						\
		u64 xcr0;						\
		/* In-kernel local APIC (lapic.c), NULL without one. */	\
		struct vsnix_lapic *lapic;				\
		/* The vendor's state (VMCB/VMCS, MSRs). */		\
		void *arch;						\
	)

/*
 * pic, ioapic: the chipset's interrupt controllers (kmod/devices/pic.c,
 * ioapic.c) for the LAPIC's LINT0 and EOI broadcast: set under vm->lock
 * when created, cleared when destroyed; read under vm->srcu (their destroy
 * waits for a grace period before freeing).
 */
#define VSNIX_ARCH_VM_STATE						\
	struct_group_tagged(vsnix_arch_vm, arch_state,			\
		struct mutex cpuid_lock;				\
		struct vsnix_cpuid_policy cpuid;			\
		struct vsnix_pic *pic;					\
		struct vsnix_ioapic *ioapic;				\
		/* VSNIX_CREATE_LAPIC: vCPUs get a LAPIC; set once. */	\
		bool lapic;						\
		/* The vendor's state (NPT/EPT root, ASID). */		\
		void *arch;						\
	)

#endif /* VSNIX_X86_ARCH_TYPES_H */
