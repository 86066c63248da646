// SPDX-License-Identifier: GPL-2.0
/* The LAPIC's pure rules under test, compiled into vsnix_kunit.ko. */
#include "../arch/x86/apic_logic.c"
