// SPDX-License-Identifier: GPL-2.0
/* The GSI routing under test, compiled into vsnix_kunit.ko. */
#include "../core/irq.c"
