// SPDX-License-Identifier: GPL-2.0
/*
 * The vsnix tracepoints through tracefs (no bpftrace: runs on every
 * machine with CONFIG_TRACEPOINTS, Bochs/VMX included): a guest makes K
 * port writes that userspace serves; vsnix_vcpu_exit must show K + 1 io
 * exits (the writes and the DONE ucall) with the vendor's raw code, and
 * vsnix_io K writes of port 0x600 served by userspace; vsnix_vm_create,
 * vsnix_memory_region and vsnix_vm_destroy the VM's life. Then a second
 * guest drives a virtio-rng function over PCI (selftests/lib's driver):
 * R requests of distinct lengths, each notified once and waited for;
 * vsnix_dev_kick must show exactly R kicks of queue 0 of that device, and
 * vsnix_dev_complete one completion of each request with its length.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <vsnix/pc.h>
#include "vsnix_util.h"
#include "virtio_guest.h"
#include "vsnix/stats.h"

#define K_WRITES	11
#define TEST_PORT	0x600
#define TRACING		"/sys/kernel/tracing"
#define NR_TESTS	9
#define RNG_REQS	7
#define RNG_ID		4	/* virtio 1.2, 5: entropy device */
#define RNG_SLOT	2
#define RNG_QSIZE	8

/* Request i asks for rng_len(i) bytes: each length tells its completion. */
static inline uint32_t rng_len(int i)
{
	return 16 + 8 * i;
}

static void guest_writes(void)
{
	int i;

	for (i = 0; i < K_WRITES; i++)
		guest_outb(TEST_PORT, 0x40 + i);
	GUEST_DONE();
}

/* One request at a time: post, notify once, wait for its used entry. */
static void guest_rng(uint64_t ring, uint64_t buf)
{
	struct vg_used_elem e;
	struct vg_dev d;
	int i;

	GUEST_ASSERT(vg_find(&d, RNG_ID, 0) == 0);
	GUEST_ASSERT(vg_init(&d, 0));
	GUEST_ASSERT(vg_queue_setup(&d, 0, ring, RNG_QSIZE) == 0);
	vg_driver_ok(&d);
	for (i = 0; i < RNG_REQS; i++) {
		vg_set_desc(&d, 0, 0, buf, rng_len(i), VG_DESC_F_WRITE, 0);
		vg_post(&d, 0, 0);
		vg_kick(&d, 0);
		GUEST_ASSERT(vg_wait_used(&d, 0, &e) == 1);
		GUEST_ASSERT(e.id == 0 && e.len == rng_len(i));
	}
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

/* The rng guest's VM: the PCI host bridge and virtio-rng in RNG_SLOT. */
static uint32_t run_rng_guest(uint32_t *vm_id)
{
	struct vsnix_device_config c = {
		.type = VSNIX_DEV_PCI_HOST, .console_fd = -1,
		.pci_host = { .ecam_base = PC_PCI_ECAM_BASE,
			      .nr_buses = PC_PCI_BUSES, .intx_gsi_base = 16,
			      .mmio_base = PC_PCI_MMIO_START,
			      .mmio_size = PC_PCI_MMIO_END + 1 - PC_PCI_MMIO_START },
	};
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_vm_info info;
	uint64_t ring, buf;
	struct ucall uc;

	vm = vm_create_long(0x10000);
	ring = (vm_alloc(vm, 0x5000) + 0xfff) & ~0xfffull;
	buf = vm_alloc(vm, 0x1000);
	TEST_ASSERT(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c) >= 0, "PCI host: %s",
		    strerror(errno));
	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_VIRTIO_RNG;
	c.console_fd = -1;
	c.virtio_rng.pci.slot = RNG_SLOT;
	c.virtio_rng.pci.bar_base = PC_PCI_MMIO_START + (RNG_SLOT - 1) * PC_PCI_BAR_SIZE;
	TEST_ASSERT(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c) >= 0, "virtio-rng: %s",
		    strerror(errno));
	vcpu = vcpu_create_long(vm, 0, guest_rng);
	vcpu_set_args(vcpu, 2, ring, buf);
	TEST_ASSERT(!vx_vm_get_info(vm->fd, &info), "info");
	*vm_id = info.id;
	TEST_ASSERT(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE, "rng guest DONE");
	vm_destroy(vm);
	return c.id;
}

/* Exactly RNG_REQS kicks and one completion per request, lengths included. */
static void check_virtio(const char *t, uint32_t vm_id, uint32_t dev)
{
	char tag[64], want[64];
	int i, n, all, done = 0;

	snprintf(tag, sizeof(tag), "vm %u dev %u queue 0", vm_id, dev);
	n = count_lines(t, "vsnix_dev_kick:", tag, NULL);
	all = count_lines(t, "vsnix_dev_kick:", "", NULL);
	tap_ok(n == RNG_REQS && all == n,
	       "vsnix_dev_kick: %d kicks of %s (want %d; %d in all)", n, tag,
	       RNG_REQS, all);
	for (i = 0; i < RNG_REQS; i++) {
		snprintf(want, sizeof(want), "count 1 bytes %u", rng_len(i));
		done += count_lines(t, "vsnix_dev_complete:", tag, want) == 1;
	}
	n = count_lines(t, "vsnix_dev_complete:", tag, NULL);
	tap_ok(done == RNG_REQS && n == RNG_REQS,
	       "vsnix_dev_complete: each of the %d requests once with its length (%d of %d, %d lines)",
	       RNG_REQS, done, RNG_REQS, n);
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_vm_info info;
	char vmtag[32], raw[32], dtag[48], *t;
	struct ucall uc;
	uint32_t rng_vm, rng_dev;
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
	rng_dev = run_rng_guest(&rng_vm);
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
	check_virtio(t, rng_vm, rng_dev);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
