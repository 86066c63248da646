// SPDX-License-Identifier: GPL-2.0
/*
 * TAP 13 output for the vSnix selftests: exit 0 when every planned test
 * passed, 1 on a failure or a missing result, 4 when all were skipped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsnix_util.h"

static pthread_mutex_t tap_lock = PTHREAD_MUTEX_INITIALIZER;
static int tap_planned = -1;
static int tap_done;
static int tap_failed;
static int tap_skipped;

static void tap_header(void)
{
	static int printed;

	if (!printed) {
		printf("TAP version 13\n");
		printed = 1;
	}
}

void tap_skip_all(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&tap_lock);
	tap_header();
	printf("1..0 # SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(4);
}

void tap_plan(int nr_tests)
{
	pthread_mutex_lock(&tap_lock);
	tap_header();
	tap_planned = nr_tests;
	printf("1..%d\n", nr_tests);
	fflush(stdout);
	pthread_mutex_unlock(&tap_lock);
}

static void tap_line(const char *status, const char *directive, const char *fmt,
		     va_list ap)
{
	pthread_mutex_lock(&tap_lock);
	tap_header();
	printf("%s %d ", status, ++tap_done);
	vprintf(fmt, ap);
	if (directive)
		printf(" # %s", directive);
	printf("\n");
	fflush(stdout);
	pthread_mutex_unlock(&tap_lock);
}

bool tap_ok(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (!ok)
		__atomic_add_fetch(&tap_failed, 1, __ATOMIC_SEQ_CST);
	va_start(ap, fmt);
	tap_line(ok ? "ok" : "not ok", NULL, fmt, ap);
	va_end(ap);
	return ok;
}

void tap_skip(const char *why, const char *fmt, ...)
{
	char directive[256];
	va_list ap;

	snprintf(directive, sizeof(directive), "SKIP %s", why);
	__atomic_add_fetch(&tap_skipped, 1, __ATOMIC_SEQ_CST);
	va_start(ap, fmt);
	tap_line("ok", directive, fmt, ap);
	va_end(ap);
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&tap_lock);
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	pthread_mutex_unlock(&tap_lock);
}

void tap_finish(void)
{
	pthread_mutex_lock(&tap_lock);
	if (tap_planned >= 0 && tap_done != tap_planned) {
		printf("# planned %d tests but ran %d\n", tap_planned, tap_done);
		fflush(stdout);
		exit(1);
	}
	fflush(stdout);
	if (tap_failed)
		exit(1);
	if (tap_done && tap_skipped == tap_done)
		exit(4);
	exit(0);
}

void __test_fail(const char *file, int line, const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	pthread_mutex_lock(&tap_lock);
	tap_header();
	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (errno %d: %s)\n", saved_errno, strerror(saved_errno));
	printf("not ok %d fatal error at %s:%d\n", ++tap_done, file, line);
	printf("Bail out!\n");
	fflush(stdout);
	exit(1);
}

bool expect_errno(long ret, int want_errno, const char *what)
{
	int got = errno;

	if (ret == -1 && got == want_errno)
		return true;
	if (ret == -1)
		tap_diag("%s: errno %d (%s), want %d (%s)", what, got, strerror(got),
			 want_errno, strerror(want_errno));
	else
		tap_diag("%s: returned %ld, want errno %d (%s)", what, ret, want_errno,
			 strerror(want_errno));
	return false;
}
