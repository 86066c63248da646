/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMX instructions (Intel SDM Vol 3, chapter 31) as small C helpers.
 *
 * Each instruction reports VMfailInvalid through CF and VMfailValid through
 * ZF (SDM 31.2). A fault (#UD outside VMX operation, #GP on a bad operand)
 * is caught by an exception-table entry and reported as a failure too, so
 * that a backend bug shows up as an error message instead of an oops.
 */
#ifndef VSNIX_VMX_VMCS_H
#define VSNIX_VMX_VMCS_H

#include <linux/types.h>
#include <asm/asm.h>
#include <asm/vmx.h>

void vmx_report_insn_failure(const char *insn, u64 operand);

/* Returns true on success. */
static __always_inline bool __vmx_vmread(u64 field, u64 *value)
{
	bool ok = false;
	u64 v = 0;

	asm volatile("1: vmread %[field], %[v]\n\t"
		     "seta %[ok]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [v] "+r"(v), [ok] "+qm"(ok)
		     : [field] "r"(field)
		     : "cc");
	*value = v;
	return ok;
}

static __always_inline u64 vmcs_read(u64 field)
{
	u64 value;

	if (unlikely(!__vmx_vmread(field, &value)))
		vmx_report_insn_failure("vmread", field);
	return value;
}

static __always_inline void vmcs_write(u64 field, u64 value)
{
	bool ok = false;

	asm volatile("1: vmwrite %[value], %[field]\n\t"
		     "seta %[ok]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [ok] "+qm"(ok)
		     : [field] "r"(field), [value] "rm"(value)
		     : "cc");
	if (unlikely(!ok))
		vmx_report_insn_failure("vmwrite", field);
}

/* VMCLEAR, VMPTRLD and VMXON take the physical address in memory. */
static __always_inline bool vmx_insn_pa(int which, u64 pa)
{
	bool ok = false;

	switch (which) {
	case 0:
		asm volatile("1: vmclear %[pa]\n\t seta %[ok]\n\t 2:\n\t"
			     _ASM_EXTABLE(1b, 2b)
			     : [ok] "+qm"(ok) : [pa] "m"(pa) : "cc", "memory");
		break;
	case 1:
		asm volatile("1: vmptrld %[pa]\n\t seta %[ok]\n\t 2:\n\t"
			     _ASM_EXTABLE(1b, 2b)
			     : [ok] "+qm"(ok) : [pa] "m"(pa) : "cc", "memory");
		break;
	default:
		asm volatile("1: vmxon %[pa]\n\t seta %[ok]\n\t 2:\n\t"
			     _ASM_EXTABLE(1b, 2b)
			     : [ok] "+qm"(ok) : [pa] "m"(pa) : "cc", "memory");
		break;
	}
	return ok;
}

static inline bool vmx_vmclear(u64 pa)
{
	return vmx_insn_pa(0, pa);
}

static inline bool vmx_vmptrld(u64 pa)
{
	return vmx_insn_pa(1, pa);
}

static inline bool vmx_vmxon(u64 pa)
{
	return vmx_insn_pa(2, pa);
}

static inline bool vmx_vmxoff(void)
{
	bool ok = false;

	asm volatile("1: vmxoff\n\t seta %[ok]\n\t 2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [ok] "+qm"(ok) : : "cc", "memory");
	return ok;
}

/* INVEPT/INVVPID descriptors: SDM 31.3 (INVEPT, INVVPID). */
static inline bool vmx_invept(u64 type, u64 eptp)
{
	struct { u64 eptp, reserved; } desc = { eptp, 0 };
	bool ok = false;

	asm volatile("1: invept %[desc], %[type]\n\t seta %[ok]\n\t 2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [ok] "+qm"(ok)
		     : [desc] "m"(desc), [type] "r"(type)
		     : "cc", "memory");
	return ok;
}

static inline bool vmx_invvpid(u64 type, u16 vpid, u64 gva)
{
	struct { u64 vpid, gva; } desc = { vpid, gva };
	bool ok = false;

	asm volatile("1: invvpid %[desc], %[type]\n\t seta %[ok]\n\t 2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [ok] "+qm"(ok)
		     : [desc] "m"(desc), [type] "r"(type)
		     : "cc", "memory");
	return ok;
}

#endif /* VSNIX_VMX_VMCS_H */
