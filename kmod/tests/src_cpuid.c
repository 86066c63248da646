// SPDX-License-Identifier: GPL-2.0
/* CPUID filtering and XCR0 rules under test, compiled into vsnix_kunit.ko. */
#include "../arch/x86/cpuid.c"
