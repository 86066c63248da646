// SPDX-License-Identifier: GPL-2.0
/* The memory region checks under test, compiled into vsnix_kunit.ko. */
#include "../core/memcheck.c"
