// SPDX-License-Identifier: GPL-2.0
/*
 * The system fd: API version, capabilities, vCPU mmap size and the
 * supported CPUID (Documentation/api.rst, "System ioctls").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vsnix_util.h"

static struct vsnix_cpuid *cpuid_alloc(uint32_t nent)
{
	struct vsnix_cpuid *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

	TEST_ASSERT(c, "calloc");
	c->nent = nent;
	return c;
}

static const struct vsnix_cpuid_entry *cpuid_find(const struct vsnix_cpuid *c,
						  uint32_t function)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == function)
			return &c->entries[i];
	return NULL;
}

int main(void)
{
	int fd = vsnix_dev_fd();
	const struct vsnix_cpuid_entry *e;
	struct vsnix_cpuid *c;
	long vendor, ret;
	char sig[13];

	tap_plan(14);

	tap_ok(ioctl(fd, VSNIX_GET_API_VERSION, 0) == VSNIX_API_VERSION,
	       "GET_API_VERSION is %d", VSNIX_API_VERSION);
	tap_ok(expect_errno(ioctl(fd, VSNIX_GET_API_VERSION, 1), EINVAL, "api version arg 1"),
	       "GET_API_VERSION with arg != 0 gives EINVAL");

	vendor = vsnix_cap(VSNIX_CAP_VENDOR);
	tap_ok(vendor == VSNIX_VENDOR_SVM || vendor == VSNIX_VENDOR_VMX,
	       "CAP_VENDOR is SVM or VMX (%ld)", vendor);
	ret = vsnix_cap(VSNIX_CAP_NR_VCPUS);
	tap_ok(ret >= 1 && ret <= 1024, "CAP_NR_VCPUS is sane (%ld)", ret);
	ret = vsnix_cap(VSNIX_CAP_NR_MEMSLOTS);
	tap_ok(ret >= 1 && ret <= 4096, "CAP_NR_MEMSLOTS is sane (%ld)", ret);
	ret = vsnix_cap(VSNIX_CAP_MAX_MEM_MB);
	tap_ok(ret >= 16, "CAP_MAX_MEM_MB is at least 16 (%ld)", ret);
	tap_ok(ioctl(fd, VSNIX_CHECK_EXTENSION, 0) == 0 &&
	       ioctl(fd, VSNIX_CHECK_EXTENSION, 0x7fffffff) == 0,
	       "unknown capabilities answer 0");
	tap_diag("readonly %ld xsave %ld real_mode %ld devices 0x%lx inject %ld",
		 vsnix_cap(VSNIX_CAP_READONLY_MEM), vsnix_cap(VSNIX_CAP_XSAVE),
		 vsnix_cap(VSNIX_CAP_REAL_MODE), vsnix_cap(VSNIX_CAP_DEVICES),
		 vsnix_cap(VSNIX_CAP_INJECT_EVENT));

	ret = ioctl(fd, VSNIX_GET_VCPU_MMAP_SIZE, 0);
	tap_ok(ret == 2 * 4096 && VSNIX_RUN_IO_DATA_OFFSET < ret,
	       "GET_VCPU_MMAP_SIZE is two pages (%ld)", ret);

	c = cpuid_alloc(0);
	ret = ioctl(fd, VSNIX_GET_SUPPORTED_CPUID, c);
	tap_ok(expect_errno(ret, E2BIG, "supported cpuid nent 0") && c->nent > 0 &&
	       c->nent <= VSNIX_MAX_CPUID_ENTRIES,
	       "GET_SUPPORTED_CPUID with nent 0 gives E2BIG and the count (%u)", c->nent);
	free(c);

	c = cpuid_alloc(VSNIX_MAX_CPUID_ENTRIES);
	c->pad = 1;
	tap_ok(expect_errno(ioctl(fd, VSNIX_GET_SUPPORTED_CPUID, c), EINVAL, "pad 1"),
	       "GET_SUPPORTED_CPUID with pad != 0 gives EINVAL");
	c->pad = 0;
	c->nent = VSNIX_MAX_CPUID_ENTRIES;
	ret = ioctl(fd, VSNIX_GET_SUPPORTED_CPUID, c);
	TEST_ASSERT(ret == 0, "GET_SUPPORTED_CPUID");

	e = cpuid_find(c, 0x40000000);
	memset(sig, 0, sizeof(sig));
	if (e) {
		memcpy(sig, &e->ebx, 4);
		memcpy(sig + 4, &e->ecx, 4);
		memcpy(sig + 8, &e->edx, 4);
	}
	tap_ok(e && !strcmp(sig, "vSnixvSnixvS"), "leaf 0x40000000 is \"vSnixvSnixvS\" (\"%s\")",
	       sig);
	e = cpuid_find(c, 1);
	tap_ok(e && (e->ecx & (1u << 31)), "leaf 1 has the hypervisor bit");
	tap_ok(e && !(e->ecx & (1u << 5)) && !(e->ecx & (1u << 6)),
	       "leaf 1 has no VMX and no SMX bit");
	e = cpuid_find(c, 0x80000001);
	tap_ok(!e || !(e->ecx & (1u << 2)), "leaf 0x80000001 has no SVM bit");
	free(c);
	tap_finish();
}
