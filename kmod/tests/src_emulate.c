// SPDX-License-Identifier: GPL-2.0
/* The instruction decoder under test, compiled into vsnix_kunit.ko. */
#include "../arch/x86/emulate.c"
