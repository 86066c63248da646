// SPDX-License-Identifier: GPL-2.0
/* The NPT/EPT table code under test, compiled into vsnix_kunit.ko. */
#include "../arch/x86/tdp.c"
