// SPDX-License-Identifier: GPL-2.0
/*
 * Coexistence with KVM: while KVM has a VM (Linux 6.1 KVM holds EFER.SVME /
 * VMXON only then), VSNIX_CREATE_VM fails with EBUSY and the kernel log
 * gets one vsnix line naming the fix; once the KVM VM is closed, vsnix VMs
 * work again. kvm_amd/kvm_intel is loaded with modprobe, or with the
 * host's modprobe through /bin/hostrun in the QEMU rig; skipped when
 * neither can load it (the Bochs rig has no host root).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vsnix_util.h"

#define KVM_CREATE_VM	_IO(0xae, 0x01)

/* New kernel log records that mention vsnix; the last one in *line. */
static int count_vsnix_lines(int kmsg, char *line, size_t len)
{
	char rec[1024];
	ssize_t n;
	int count = 0;

	for (;;) {
		n = read(kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten records */
			continue;
		if (n <= 0)
			break;
		rec[n] = 0;
		if (strcasestr(rec, "vsnix")) {
			count++;
			const char *text = strchr(rec, ';') ? strchr(rec, ';') + 1 : rec;
			size_t tlen = strcspn(text, "\n");

			if (tlen >= len)
				tlen = len - 1;
			memcpy(line, text, tlen);
			line[tlen] = 0;
		}
	}
	return count;
}

static void guest_done(void)
{
	GUEST_DONE();
}

int main(void)
{
	const char *module, *unload;
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	int kvm, kvm_vm, kmsg, ret, lines;
	char line[512] = "";
	struct ucall uc;

	vsnix_dev_fd();
	module = vsnix_is_svm() ? "kvm_amd" : "kvm_intel";
	unload = kvm_module_load(module);
	tap_plan(6);

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	TEST_ASSERT(kvm >= 0, "open /dev/kvm");
	kvm_vm = ioctl(kvm, KVM_CREATE_VM, 0);
	tap_ok(kvm_vm >= 0, "KVM creates a VM while vsnix has none (%s)",
	       kvm_vm < 0 ? strerror(errno) : "ok");

	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	TEST_ASSERT(kmsg >= 0, "open /dev/kmsg");
	lseek(kmsg, 0, SEEK_END);
	ret = ioctl(vsnix_dev_fd(), VSNIX_CREATE_VM, 0);
	tap_ok(expect_errno(ret, EBUSY, "CREATE_VM beside a KVM VM"),
	       "VSNIX_CREATE_VM fails with EBUSY while KVM holds %s",
	       vsnix_is_svm() ? "SVM" : "VMX");
	if (ret >= 0)
		close(ret);
	lines = count_vsnix_lines(kmsg, line, sizeof(line));
	tap_diag("kernel log: %s", line);
	tap_ok(lines == 1, "one vsnix line in the kernel log (%d)", lines);
	tap_ok(lines >= 1 && strcasestr(line, "kvm"), "the line names the fix (kvm)");
	close(kmsg);

	if (kvm_vm >= 0)
		close(kvm_vm);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_done);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE,
	       "after the KVM VM is closed a vsnix VM is created and runs");
	vm_destroy(vm);
	close(kvm);
	kvm_module_unload(module, unload);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
