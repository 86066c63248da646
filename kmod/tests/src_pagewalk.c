// SPDX-License-Identifier: GPL-2.0
/* The guest page walker under test, compiled into vsnix_kunit.ko. */
#include "../arch/x86/pagewalk.c"
