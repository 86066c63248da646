/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vSnix selftest library: count how often a kernel function runs in this
 * thread, through a perf kprobe event (perf_event_open(2), the "kprobe"
 * PMU of Linux 4.17+). Lets a test see exits and paths that leave no trace
 * in guest-visible state, e.g. an intercepted WBINVD.
 */
#ifndef VSNIX_SELFTEST_KPROBE_H
#define VSNIX_SELFTEST_KPROBE_H

#include <stdint.h>

/*
 * A counter of calls to vsnix.ko's function sym made by this thread; -1
 * and errno when the kernel cannot probe it (no kprobe PMU, no symbol).
 */
int kprobe_counter_open(const char *sym);
/* The count so far; -1 on error. */
int64_t kprobe_counter_read(int fd);
/* The vendor's exit handler: one call per VM exit the module handles. */
const char *kprobe_exit_handler(void);

#endif /* VSNIX_SELFTEST_KPROBE_H */
