// SPDX-License-Identifier: GPL-2.0
/* vSnix selftest library: kprobe hit counters (see kprobe.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>

#include "kprobe.h"
#include "vsnix_util.h"

static int kprobe_pmu_type(void)
{
	FILE *f = fopen("/sys/bus/event_source/devices/kprobe/type", "re");
	int type = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &type) != 1)
		type = -1;
	fclose(f);
	return type;
}

static int kprobe_open_one(int type, const char *name)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = type;
	attr.config = 0;			/* entry probe, not kretprobe */
	attr.kprobe_func = (uintptr_t)name;	/* config1 */
	attr.probe_offset = 0;			/* config2 */
	attr.exclude_guest = 0;
	/* This thread, any CPU: the handlers run in the RUN ioctl. */
	return syscall(__NR_perf_event_open, &attr, 0, -1, -1,
		       PERF_FLAG_FD_CLOEXEC);
}

int kprobe_counter_open(const char *sym)
{
	int type = kprobe_pmu_type();
	char name[128];
	int fd;

	if (type < 0) {
		errno = ENODEV;
		return -1;
	}
	/* "module:symbol" first: kvm_intel has a vmx_handle_exit too. */
	snprintf(name, sizeof(name), "vsnix:%s", sym);
	fd = kprobe_open_one(type, name);
	if (fd < 0)
		fd = kprobe_open_one(type, sym);
	return fd;
}

int64_t kprobe_counter_read(int fd)
{
	uint64_t count;

	if (read(fd, &count, sizeof(count)) != sizeof(count))
		return -1;
	return (int64_t)count;
}

const char *kprobe_exit_handler(void)
{
	return vsnix_is_vmx() ? "vmx_handle_exit" : "svm_handle_exit";
}
