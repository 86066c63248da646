// SPDX-License-Identifier: GPL-2.0
/*
 * Two VMs with two vCPUs each, every vCPU in its own thread counting in its
 * own guest memory and reporting progress by ucalls, all at the same time.
 */
#include <pthread.h>

#include "vsnix_util.h"

#define NR_VMS		2
#define NR_VCPUS	2
#define ITERATIONS	200000ul
#define SYNC_EVERY	20000ul

struct vcpu_thread {
	struct vsnix_test_vcpu *vcpu;
	uint64_t counter_gpa;
	uint64_t syncs;
	bool ok;
	char err[256];
};

static void guest_count(volatile uint64_t *counter, uint64_t iterations, uint64_t tag)
{
	uint64_t i;

	for (i = 1; i <= iterations; i++) {
		(*counter)++;
		if (i % SYNC_EVERY == 0)
			GUEST_SYNC3(i, *counter, tag);
	}
}

static void *vcpu_thread_fn(void *arg)
{
	struct vcpu_thread *t = arg;
	uint64_t cmd, expect = SYNC_EVERY;
	struct ucall uc;

	for (;;) {
		if (vcpu_run_raw(t->vcpu)) {
			snprintf(t->err, sizeof(t->err), "RUN: %s", strerror(errno));
			return NULL;
		}
		cmd = vcpu_get_ucall(t->vcpu, &uc);
		if (cmd == UCALL_DONE)
			break;
		if (cmd != UCALL_SYNC || uc.args[0] != expect || uc.args[1] != expect ||
		    uc.args[2] != t->counter_gpa) {
			snprintf(t->err, sizeof(t->err), "at %lu: cmd %lu args %lu %lu; %s",
				 (unsigned long)expect, (unsigned long)cmd,
				 (unsigned long)uc.args[0], (unsigned long)uc.args[1],
				 vcpu_exit_str(t->vcpu));
			return NULL;
		}
		expect += SYNC_EVERY;
		t->syncs++;
	}
	t->ok = t->syncs == ITERATIONS / SYNC_EVERY &&
		*(uint64_t *)gpa2hva(t->vcpu->vm, t->counter_gpa, 8) == ITERATIONS;
	if (!t->ok)
		snprintf(t->err, sizeof(t->err), "%lu syncs, counter %lu", (unsigned long)t->syncs,
			 (unsigned long)*(uint64_t *)gpa2hva(t->vcpu->vm, t->counter_gpa, 8));
	return NULL;
}

int main(void)
{
	struct vcpu_thread threads[NR_VMS * NR_VCPUS];
	struct vsnix_test_vm *vms[NR_VMS];
	pthread_t tids[NR_VMS * NR_VCPUS];
	int i, v, c;

	vsnix_dev_fd();
	tap_plan(NR_VMS * NR_VCPUS + 1);
	memset(threads, 0, sizeof(threads));
	for (v = 0; v < NR_VMS; v++) {
		vms[v] = vm_create_long(0);
		for (c = 0; c < NR_VCPUS; c++) {
			struct vcpu_thread *t = &threads[v * NR_VCPUS + c];

			t->vcpu = vcpu_create_long(vms[v], c, guest_count);
			t->counter_gpa = vm_alloc(vms[v], 64);
			vcpu_set_args(t->vcpu, 3, t->counter_gpa, ITERATIONS, t->counter_gpa);
		}
	}
	for (i = 0; i < NR_VMS * NR_VCPUS; i++)
		TEST_ASSERT(!pthread_create(&tids[i], NULL, vcpu_thread_fn, &threads[i]),
			    "pthread_create");
	for (i = 0; i < NR_VMS * NR_VCPUS; i++)
		pthread_join(tids[i], NULL);
	for (i = 0; i < NR_VMS * NR_VCPUS; i++) {
		if (!threads[i].ok)
			tap_diag("VM %d vCPU %d: %s", i / NR_VCPUS, i % NR_VCPUS, threads[i].err);
		tap_ok(threads[i].ok, "VM %d vCPU %d counted to %lu with %lu ucalls", i / NR_VCPUS,
		       i % NR_VCPUS, ITERATIONS, ITERATIONS / SYNC_EVERY);
	}
	for (v = 0; v < NR_VMS; v++)
		vm_destroy(vms[v]);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
