// SPDX-License-Identifier: GPL-2.0
/*
 * The vsnix tracepoints through tracefs (no bpftrace: runs on every
 * machine with CONFIG_TRACEPOINTS, Bochs/VMX included): a guest makes K
 * port writes that userspace serves; vsnix_vcpu_exit must show K + 1 io
 * exits (the writes and the DONE ucall) with the vendor's raw code, and
 * vsnix_io K writes of port 0x600 served by userspace; vsnix_vm_create,
 * vsnix_memory_region and vsnix_vm_destroy the VM's life.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "vsnix_util.h"
#include "vsnix/stats.h"

#define K_WRITES	11
#define TEST_PORT	0x600
#define TRACING		"/sys/kernel/tracing"
#define NR_TESTS	7

static void guest_writes(void)
{
	int i;

	for (i = 0; i < K_WRITES; i++)
		guest_outb(TEST_PORT, 0x40 + i);
	GUEST_DONE();
}

static bool put(const char *file, const char *val)
{
	char path[128];
	int fd, n;

	snprintf(path, sizeof(path), TRACING "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return false;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (int)strlen(val);
}

static char *trace_text(void)
{
	static char buf[1 << 20];
	int fd = open(TRACING "/trace", O_RDONLY);
	ssize_t n, len = 0;

	if (fd < 0)
		return strcpy(buf, "");
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return buf;
}

/* Lines holding every one of the given strings. */
static int count_lines(const char *text, const char *a, const char *b, const char *c)
{
	const char *p = text, *nl;
	char line[512];
	int n = 0;

	for (; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		if (strstr(line, a) && strstr(line, b) && (!c || strstr(line, c)))
			n++;
		if (!*nl)
			break;
	}
	return n;
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_vm_info info;
	char vmtag[32], raw[32], dtag[48], *t;
	struct ucall uc;
	int i, n;

	vsnix_dev_fd();
	if (access(TRACING "/events", F_OK))
		system("mount -t tracefs nodev " TRACING " 2>/dev/null");
	if (access(TRACING "/events/vsnix", F_OK))
		tap_skip_all("no vsnix tracepoints (CONFIG_TRACEPOINTS off, or VSNIX_TRACE=0)");
	tap_plan(NR_TESTS);
	put("tracing_on", "0");
	put("trace", "");
	put("buffer_size_kb", "1024");
	tap_ok(put("events/vsnix/enable", "1") && put("tracing_on", "1"),
	       "enable events/vsnix");
	tap_ok(!access(TRACING "/events/vsnix/vsnix_dev_kick/format", F_OK) &&
	       !access(TRACING "/events/vsnix/vsnix_hypercall/format", F_OK) &&
	       !access(TRACING "/events/vsnix/vsnix_wake/format", F_OK),
	       "every event is there (vsnix_dev_kick, vsnix_hypercall, vsnix_wake, ...)");

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_writes);
	TEST_ASSERT(!vx_vm_get_info(vm->fd, &info), "info");
	for (i = 0; i < K_WRITES; i++) {
		vcpu_run(vcpu);
		TEST_ASSERT(vcpu_is_io(vcpu, TEST_PORT, VSNIX_EXIT_IO_OUT, 1), "write %d: %s",
			    i, vcpu_exit_str(vcpu));
	}
	TEST_ASSERT(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE, "DONE");
	vm_destroy(vm);
	put("tracing_on", "0");
	put("events/vsnix/enable", "0");
	t = trace_text();

	snprintf(vmtag, sizeof(vmtag), "vm %u ", info.id);
	/* The raw code of an I/O exit: SVM IOIO 0x7b, VMX reason 30 (0x1e). */
	snprintf(raw, sizeof(raw), "raw 0x%x ", vsnix_is_svm() ? 0x7b : 0x1e);
	n = count_lines(t, "vsnix_vcpu_exit:", vmtag, "reason 8 ");
	tap_ok(n == K_WRITES + 1 && count_lines(t, "vsnix_vcpu_exit:", vmtag, raw) == n,
	       "vsnix_vcpu_exit: %d io exits (want %d), raw code %s", n, K_WRITES + 1, raw);
	n = count_lines(t, "vsnix_io:", vmtag, "pio write 0x600 size 1");
	tap_ok(n == K_WRITES && count_lines(t, "vsnix_io:", vmtag, " user") >= n,
	       "vsnix_io: %d writes of port 0x600 served by userspace (want %d)", n, K_WRITES);
	snprintf(dtag, sizeof(dtag), "vsnix_vm_destroy: vm %u\n", info.id);
	tap_ok(count_lines(t, "vsnix_vm_create:", vmtag, NULL) == 1 &&
	       strstr(t, dtag),
	       "vsnix_vm_create and vsnix_vm_destroy once each");
	tap_ok(count_lines(t, "vsnix_memory_region:", vmtag, "ret 0") >= 1 &&
	       count_lines(t, "vsnix_vcpu_entry:", vmtag, NULL) >= K_WRITES + 1,
	       "vsnix_memory_region and vsnix_vcpu_entry seen");
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
