// SPDX-License-Identifier: GPL-2.0
/* The page counting helpers tdp.c allocates its tables with. */
#include "../core/pages.c"
