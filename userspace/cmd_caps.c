// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl caps: what /dev/vsnix supports, one VSNIX_CAP_* a line.
 */
#include <stdio.h>
#include <unistd.h>

#include "vsnixctl.h"

/* Numbers above the last named one are printed when the module has them. */
#define MAX_CAP		63

static const char *const cap_names[] = {
	[VSNIX_CAP_VENDOR] = "VENDOR",
	[VSNIX_CAP_NR_VCPUS] = "NR_VCPUS",
	[VSNIX_CAP_NR_MEMSLOTS] = "NR_MEMSLOTS",
	[VSNIX_CAP_MAX_MEM_MB] = "MAX_MEM_MB",
	[VSNIX_CAP_READONLY_MEM] = "READONLY_MEM",
	[VSNIX_CAP_XSAVE] = "XSAVE",
	[VSNIX_CAP_REAL_MODE] = "REAL_MODE",
	[VSNIX_CAP_DEVICES] = "DEVICES",
	[VSNIX_CAP_INJECT_EVENT] = "INJECT_EVENT",
	[VSNIX_CAP_NOEXEC_MEM] = "NOEXEC_MEM",
	[VSNIX_CAP_HVT_MAX_DEVICES] = "HVT_MAX_DEVICES",
};

#define NR_NAMES	(sizeof(cap_names) / sizeof(cap_names[0]))

int cmd_caps(int argc, char **argv)
{
	int fd, cap;
	long v;

	if (argc > 1) {
		fprintf(stderr, "vsnixctl: caps takes no arguments ('%s')\n", argv[1]);
		return EXIT_SETUP_ERROR;
	}
	fd = vx_open();
	if (report(fd))
		return EXIT_SETUP_ERROR;
	for (cap = 1; cap <= MAX_CAP; cap++) {
		const char *name = cap < (int)NR_NAMES ? cap_names[cap] : NULL;

		v = vx_check_cap(fd, cap);
		if (v < 0) {
			close(fd);
			return report(v) ? EXIT_SETUP_ERROR : 0;
		}
		if (name)
			printf("%2d %-16s %ld%s\n", cap, name, v,
			       cap == VSNIX_CAP_VENDOR ? (v == VSNIX_VENDOR_SVM ? " (svm)" :
			       v == VSNIX_VENDOR_VMX ? " (vmx)" : "") : "");
		else if (v)
			printf("%2d %-16s %ld\n", cap, "-", v);
	}
	close(fd);
	return 0;
}
