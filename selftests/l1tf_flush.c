// SPDX-License-Identifier: GPL-2.0
/*
 * L1TF: on a CPU with the bug and the host's mitigation on, VMX flushes
 * L1D before every guest entry (IA32_FLUSH_CMD, SDM Vol 4 table 2-2, or a
 * software fill). Counted with kprobes: flushes >= handled exits.
 */
#include "vsnix_util.h"
#include "kprobe.h"

#define NR_SYNCS	50
#define L1TF_SYSFS	"/sys/devices/system/cpu/vulnerabilities/l1tf"

static void guest_syncs(void)
{
	int i;

	for (i = 0; i < NR_SYNCS; i++)
		GUEST_SYNC(i);
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	int64_t exits0, flush0, exits, flushes;
	int fd_exit, fd_flush, i;
	char state[128] = "";
	struct ucall uc;
	bool ok = true;
	FILE *f;

	vsnix_dev_fd();
	if (!vsnix_is_vmx())
		tap_skip_all("L1TF and its flush concern Intel VMX only");
	f = fopen(L1TF_SYSFS, "re");
	if (f) {
		if (!fgets(state, sizeof(state), f))
			state[0] = 0;
		fclose(f);
	}
	state[strcspn(state, "\n")] = 0;
	if (!strncmp(state, "Not affected", 12) || !strncmp(state, "Vulnerable", 10))
		tap_skip_all("%s: '%s'", L1TF_SYSFS, state);
	fd_exit = kprobe_counter_open(kprobe_exit_handler());
	fd_flush = kprobe_counter_open("vmx_l1d_flush");
	if (fd_exit < 0 || fd_flush < 0)
		tap_skip_all("no kprobe counter (%s)", strerror(errno));
	tap_diag("%s: %s", L1TF_SYSFS, state);
	tap_plan(2);

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_syncs);
	exits0 = kprobe_counter_read(fd_exit);
	flush0 = kprobe_counter_read(fd_flush);
	for (i = 0; i < NR_SYNCS && ok; i++)
		ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == (uint64_t)i;
	ok = ok && vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE;
	tap_ok(ok, "guest made %d ucalls", NR_SYNCS);
	exits = kprobe_counter_read(fd_exit) - exits0;
	flushes = kprobe_counter_read(fd_flush) - flush0;
	tap_ok(exits >= NR_SYNCS && flushes >= exits,
	       "an L1D flush before every entry: %lld flushes, %lld exits",
	       (long long)flushes, (long long)exits);
	vm_destroy(vm);
	tap_finish();
}
