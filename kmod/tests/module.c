// SPDX-License-Identifier: GPL-2.0
/*
 * vsnix_kunit.ko: every *_test.c here registers its suites with
 * kunit_test_suite(); KUnit runs them at module load and prints KTAP.
 */
#include <linux/module.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vSnix KUnit suites (pure logic, no hardware)");
