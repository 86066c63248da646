// SPDX-License-Identifier: GPL-2.0
/*
 * Coexistence with KVM. Linux 6.1's KVM holds EFER.SVME / VMXON only while
 * it has a VM; from 6.12 it takes it when kvm_amd/kvm_intel loads
 * (kvm.enable_virt_at_load=1, the default). While KVM holds it,
 * VSNIX_CREATE_VM fails with EBUSY and the kernel log gets one vsnix line
 * naming the fix (unload the module, or kvm.enable_virt_at_load=0); once
 * KVM lets go, vsnix VMs work again. On 6.12 both settings are checked:
 * the default one, then kvm loaded with enable_virt_at_load=0 (then KVM
 * behaves as 6.1's does). KVM is loaded with modprobe, or with the host's
 * modprobe through /bin/hostrun in the QEMU rig; skipped when neither can
 * load it (the Bochs rig's host root disc has no modprobe).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "vsnix_util.h"

#define KVM_CREATE_VM	_IO(0xae, 0x01)
#define AT_LOAD_PARAM	"/sys/module/kvm/parameters/enable_virt_at_load"

/* "modprobe" or "/bin/hostrun modprobe": whichever loaded KVM first. */
static const char *modprobe_cmd;
static const char *module;

static int run_modprobe(const char *cmd, const char *args)
{
	char line[256];

	snprintf(line, sizeof(line), "%s %s >/dev/null 2>&1", cmd, args);
	return system(line);
}

/*
 * Load kvm (with ARGS, e.g. "enable_virt_at_load=0") and then the vendor
 * module; false if /dev/kvm did not appear. The first call picks the loader.
 */
static bool load_kvm(const char *kvm_args)
{
	static const char * const cmds[] = { "modprobe", "/bin/hostrun modprobe" };
	char args[128];
	unsigned int i;

	snprintf(args, sizeof(args), "kvm %s", kvm_args);
	for (i = 0; i < 2; i++) {
		if (modprobe_cmd && modprobe_cmd != cmds[i])
			continue;
		if (i == 1 && (access("/bin/hostrun", X_OK) || !have_virtio_pci()))
			break;
		if (!run_modprobe(cmds[i], args) && !run_modprobe(cmds[i], module) &&
		    !access("/dev/kvm", F_OK)) {
			modprobe_cmd = cmds[i];
			return true;
		}
	}
	return false;
}

/* Unload the vendor module and kvm: true when kvm is gone. */
static bool unload_kvm(void)
{
	char args[64];

	snprintf(args, sizeof(args), "-r %s", module);
	if (!modprobe_cmd) {	/* loaded by someone else: try both ways */
		run_modprobe("modprobe", args);
		run_modprobe("/bin/hostrun modprobe", args);
		run_modprobe("/bin/hostrun modprobe", "-r kvm");
	} else {
		run_modprobe(modprobe_cmd, args);
	}
	run_modprobe(modprobe_cmd ? modprobe_cmd : "modprobe", "-r kvm");
	return access("/sys/module/kvm", F_OK) != 0;
}

/* kvm.enable_virt_at_load: 'Y', 'N', or 0 when kvm has no such parameter. */
static char at_load_param(void)
{
	char buf[4] = "";
	FILE *f = fopen(AT_LOAD_PARAM, "re");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return buf[0];
}

/* From 6.12 KVM enables virtualization when it loads (uname's release). */
static bool kernel_enables_at_load(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	TEST_ASSERT(uname(&u) == 0, "uname");
	if (sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 12);
}

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

/* A vsnix VM is created and its guest runs to GUEST_DONE. */
static bool vsnix_vm_runs(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	bool ok;
	int fd;

	/* The library asserts on failure: probe first, to report instead. */
	fd = ioctl(vsnix_dev_fd(), VSNIX_CREATE_VM, 0);
	if (fd < 0) {
		tap_diag("VSNIX_CREATE_VM: %s", strerror(errno));
		return false;
	}
	close(fd);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_done);
	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE;
	vm_destroy(vm);
	return ok;
}

/* CREATE_VM fails with EBUSY and logs one line that names the fix. */
static void check_busy(const char *why)
{
	char line[512] = "";
	int kmsg, ret, lines;

	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	TEST_ASSERT(kmsg >= 0, "open /dev/kmsg");
	lseek(kmsg, 0, SEEK_END);
	ret = ioctl(vsnix_dev_fd(), VSNIX_CREATE_VM, 0);
	tap_ok(expect_errno(ret, EBUSY, "CREATE_VM beside KVM"),
	       "VSNIX_CREATE_VM fails with EBUSY while %s", why);
	if (ret >= 0)
		close(ret);
	lines = count_vsnix_lines(kmsg, line, sizeof(line));
	close(kmsg);
	tap_diag("kernel log: %s", line);
	tap_ok(lines == 1, "one vsnix line in the kernel log (%d)", lines);
	tap_ok(lines >= 1 && strstr(line, module) &&
	       strstr(line, "enable_virt_at_load=0"),
	       "the line names the fix (unload %s, or kvm.enable_virt_at_load=0)",
	       module);
}

/* 6.12: kvm loaded with its defaults holds SVM/VMX with no VM at all. */
static void check_at_load(void)
{
	char param = at_load_param();

	tap_ok(param == 'Y', "kvm.enable_virt_at_load is on by default (%c)",
	       param ? param : '-');
	check_busy("kvm is loaded with its default parameters and has no VM");
	tap_ok(unload_kvm(), "%s and kvm unload", module);
	tap_ok(vsnix_vm_runs(), "once they are unloaded a vsnix VM is created and runs");
	TEST_ASSERT(load_kvm("enable_virt_at_load=0"),
		    "load kvm enable_virt_at_load=0, then %s", module);
	param = at_load_param();
	tap_ok(param == 'N', "kvm reloaded with enable_virt_at_load=0 (%c)",
	       param ? param : '-');
}

int main(void)
{
	bool at_load;
	int kvm, kvm_vm;

	vsnix_dev_fd();
	module = vsnix_is_svm() ? "kvm_amd" : "kvm_intel";
	at_load = kernel_enables_at_load();
	if (!access("/sys/module/kvm", F_OK) && !unload_kvm())
		tap_skip_all("kvm is loaded and cannot be unloaded: its parameters are unknown");
	if (!load_kvm(""))
		tap_skip_all("cannot load %s (no modprobe with the stock modules here)", module);
	tap_plan(at_load ? 15 : 8);
	tap_diag("%s loaded with '%s' on Linux %s KVM", module, modprobe_cmd,
		 at_load ? "6.12+" : "pre-6.12");
	if (at_load)
		check_at_load();

	tap_ok(vsnix_vm_runs(), "a vsnix VM is created and runs while %s is loaded and idle",
	       module);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	TEST_ASSERT(kvm >= 0, "open /dev/kvm");
	kvm_vm = ioctl(kvm, KVM_CREATE_VM, 0);
	tap_ok(kvm_vm >= 0, "KVM creates a VM while vsnix has none (%s)",
	       kvm_vm < 0 ? strerror(errno) : "ok");
	check_busy(vsnix_is_svm() ? "a KVM VM holds SVM" : "a KVM VM holds VMX");
	if (kvm_vm >= 0)
		close(kvm_vm);
	tap_ok(vsnix_vm_runs(), "after the KVM VM is closed a vsnix VM is created and runs");
	close(kvm);
	tap_ok(unload_kvm(), "%s and kvm unload", module);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
