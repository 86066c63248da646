// SPDX-License-Identifier: GPL-2.0
/* The exception merging rules under test, compiled into vsnix_kunit.ko. */
#include "../arch/x86/exception.c"
