// SPDX-License-Identifier: GPL-2.0
/* The vsnix tracepoints' definitions (the events are in trace.h). */
#define CREATE_TRACE_POINTS
#include "trace.h"
