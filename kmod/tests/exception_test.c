// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: a second exception during the delivery of a first (Intel SDM
 * Vol 3, 6.15, table 6-5), arch/x86/exception.c.
 */
#include <kunit/test.h>
#include <asm/trapnr.h>
#include "../arch/x86/events.h"

static const u8 contributory[] = {
	X86_TRAP_DE, X86_TRAP_TS, X86_TRAP_NP, X86_TRAP_SS, X86_TRAP_GP,
};
static const u8 benign[] = {
	X86_TRAP_DB, X86_TRAP_NMI, X86_TRAP_BP, X86_TRAP_OF, X86_TRAP_BR,
	X86_TRAP_UD, X86_TRAP_NM, X86_TRAP_MF, X86_TRAP_AC, X86_TRAP_MC,
	X86_TRAP_XF,
};

static void exc_benign_first_is_serial(struct kunit *test)
{
	int i, j;

	for (i = 0; i < ARRAY_SIZE(benign); i++) {
		for (j = 0; j < ARRAY_SIZE(contributory); j++)
			KUNIT_EXPECT_EQ(test, VSNIX_X86_MERGE_SERIAL,
					vsnix_x86_merge_exception(benign[i],
								  contributory[j]));
		KUNIT_EXPECT_EQ(test, VSNIX_X86_MERGE_SERIAL,
				vsnix_x86_merge_exception(benign[i], X86_TRAP_PF));
	}
}

static void exc_contributory_first(struct kunit *test)
{
	int i, j;

	for (i = 0; i < ARRAY_SIZE(contributory); i++) {
		for (j = 0; j < ARRAY_SIZE(contributory); j++)
			KUNIT_EXPECT_EQ(test, VSNIX_X86_MERGE_DOUBLE_FAULT,
					vsnix_x86_merge_exception(contributory[i],
								  contributory[j]));
		KUNIT_EXPECT_EQ(test, VSNIX_X86_MERGE_SERIAL,
				vsnix_x86_merge_exception(contributory[i],
							  X86_TRAP_PF));
		for (j = 0; j < ARRAY_SIZE(benign); j++)
			KUNIT_EXPECT_EQ(test, VSNIX_X86_MERGE_SERIAL,
					vsnix_x86_merge_exception(contributory[i],
								  benign[j]));
	}
}

static void exc_page_fault_first(struct kunit *test)
{
	int j;

	KUNIT_EXPECT_EQ(test, VSNIX_X86_MERGE_DOUBLE_FAULT,
			vsnix_x86_merge_exception(X86_TRAP_PF, X86_TRAP_PF));
	for (j = 0; j < ARRAY_SIZE(contributory); j++)
		KUNIT_EXPECT_EQ(test, VSNIX_X86_MERGE_DOUBLE_FAULT,
				vsnix_x86_merge_exception(X86_TRAP_PF,
							  contributory[j]));
	KUNIT_EXPECT_EQ(test, VSNIX_X86_MERGE_SERIAL,
			vsnix_x86_merge_exception(X86_TRAP_PF, X86_TRAP_UD));
}

static void exc_double_fault_first(struct kunit *test)
{
	int j;

	KUNIT_EXPECT_EQ(test, VSNIX_X86_MERGE_TRIPLE_FAULT,
			vsnix_x86_merge_exception(X86_TRAP_DF, X86_TRAP_PF));
	for (j = 0; j < ARRAY_SIZE(contributory); j++)
		KUNIT_EXPECT_EQ(test, VSNIX_X86_MERGE_TRIPLE_FAULT,
				vsnix_x86_merge_exception(X86_TRAP_DF,
							  contributory[j]));
	KUNIT_EXPECT_EQ(test, VSNIX_X86_MERGE_SERIAL,
			vsnix_x86_merge_exception(X86_TRAP_DF, X86_TRAP_DB));
}

static void exc_error_codes(struct kunit *test)
{
	unsigned int v, n = 0;

	for (v = 0; v < 32; v++)
		n += vsnix_x86_exception_has_error_code(v);
	KUNIT_EXPECT_EQ(test, 7u, n);
	KUNIT_EXPECT_TRUE(test, vsnix_x86_exception_has_error_code(X86_TRAP_PF));
	KUNIT_EXPECT_TRUE(test, vsnix_x86_exception_has_error_code(X86_TRAP_AC));
	KUNIT_EXPECT_FALSE(test, vsnix_x86_exception_has_error_code(X86_TRAP_UD));
}

static struct kunit_case exception_cases[] = {
	KUNIT_CASE(exc_benign_first_is_serial),
	KUNIT_CASE(exc_contributory_first),
	KUNIT_CASE(exc_page_fault_first),
	KUNIT_CASE(exc_double_fault_first),
	KUNIT_CASE(exc_error_codes),
	{}
};

static struct kunit_suite exception_suite = {
	.name = "vsnix_exception_merge",
	.test_cases = exception_cases,
};

kunit_test_suite(exception_suite);
