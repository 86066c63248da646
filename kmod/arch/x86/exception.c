// SPDX-License-Identifier: GPL-2.0
/*
 * Exception classes and the double-fault rules (Intel SDM Vol 3, 6.15,
 * "Interrupt 8", table 6-4 and 6-5). Pure, KUnit-tested.
 */
#include <asm/trapnr.h>
#include "events.h"

enum vsnix_exc_class {
	VSNIX_EXC_BENIGN,
	VSNIX_EXC_CONTRIBUTORY,
	VSNIX_EXC_PAGE_FAULT,
	VSNIX_EXC_DOUBLE_FAULT,
};

/* Table 6-4: #DE, #TS, #NP, #SS, #GP are contributory; #PF its own class. */
static enum vsnix_exc_class vsnix_exc_class(u8 vector)
{
	switch (vector) {
	case X86_TRAP_DE: case X86_TRAP_TS: case X86_TRAP_NP:
	case X86_TRAP_SS: case X86_TRAP_GP:
		return VSNIX_EXC_CONTRIBUTORY;
	case X86_TRAP_PF:
		return VSNIX_EXC_PAGE_FAULT;
	case X86_TRAP_DF:
		return VSNIX_EXC_DOUBLE_FAULT;
	default:
		return VSNIX_EXC_BENIGN;
	}
}

enum vsnix_x86_merge vsnix_x86_merge_exception(u8 first, u8 second)
{
	enum vsnix_exc_class a = vsnix_exc_class(first);
	enum vsnix_exc_class b = vsnix_exc_class(second);

	/* A benign second exception is always handled serially. */
	if (b == VSNIX_EXC_BENIGN || b == VSNIX_EXC_DOUBLE_FAULT)
		return VSNIX_X86_MERGE_SERIAL;
	switch (a) {
	case VSNIX_EXC_CONTRIBUTORY:
		/* Contributory then #PF is serial (table 6-5). */
		return b == VSNIX_EXC_CONTRIBUTORY ?
		       VSNIX_X86_MERGE_DOUBLE_FAULT : VSNIX_X86_MERGE_SERIAL;
	case VSNIX_EXC_PAGE_FAULT:
		return VSNIX_X86_MERGE_DOUBLE_FAULT;
	case VSNIX_EXC_DOUBLE_FAULT:
		/* "Interrupt 8": a contributory or #PF during #DF: shutdown. */
		return VSNIX_X86_MERGE_TRIPLE_FAULT;
	default:
		return VSNIX_X86_MERGE_SERIAL;
	}
}

bool vsnix_x86_exception_has_error_code(u8 vector)
{
	switch (vector) {
	case X86_TRAP_DF: case X86_TRAP_TS: case X86_TRAP_NP:
	case X86_TRAP_SS: case X86_TRAP_GP: case X86_TRAP_PF:
	case X86_TRAP_AC:
		return true;
	default:
		return false;
	}
}
