// SPDX-License-Identifier: GPL-2.0
/*
 * munmap() of a slot's memory while the guest writes it in a tight loop:
 * the MMU notifier takes the pages out of NPT/EPT and kicks the vCPU
 * before the host frees them, so the guest's next access is a clean
 * MEMORY_FAULT exit, and memory the host allocates right after (likely
 * the freed pages) is never written. Memory mapped again at the address
 * is then what the guest sees: the slot follows the host's mapping. Under
 * KASAN (svm-debug) this also checks the notifier, shootdown and slot
 * paths for use-after-free.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vsnix_util.h"

#define DATA_GPA	0x40000000ul
#define DATA_PAGES	512ul
#define DATA_SIZE	(DATA_PAGES * 4096)
#define FRESH_SIZE	(16ul << 20)

static uint8_t *data;
static uint8_t *fresh;
static volatile uint64_t seen_before;
static pthread_t vcpu_thread;

static void guest_writer(uint64_t base, uint64_t pages)
{
	uint64_t n = 0;

	for (;;) {
		n++;
		*(volatile uint64_t *)(base + (n % pages) * 4096) = n;
	}
}

static void on_usr1(int sig)
{
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* While the vCPU runs: unmap, allocate, fill; stop it if it never exits. */
static void *unmapper(void *arg)
{
	uint64_t i, sum = 0;

	sleep_ms(200);
	for (i = 0; i < DATA_PAGES; i++)
		sum += *(volatile uint64_t *)(data + i * 4096);
	seen_before = sum;
	TEST_ASSERT(!munmap(data, DATA_SIZE), "munmap guest memory");
	fresh = mmap(NULL, FRESH_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	TEST_ASSERT(fresh != MAP_FAILED, "mmap fresh memory");
	memset(fresh, 0x5a, FRESH_SIZE);
	sleep_ms(300);
	pthread_kill(vcpu_thread, SIGUSR1);	/* a guest never stopped */
	return NULL;
}

static bool fresh_intact(void)
{
	uint64_t i;

	for (i = 0; i < FRESH_SIZE; i++)
		if (fresh[i] != 0x5a) {
			tap_diag("fresh memory changed at offset %#lx: %#x", i, fresh[i]);
			return false;
		}
	return true;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_run *run;
	pthread_t thread;
	uint64_t i, sum = 0;
	int r;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_MEM_ON_DEMAND) != 1)
		tap_skip_all("no VSNIX_CAP_MEM_ON_DEMAND");
	tap_plan(6);
	sigaction(SIGUSR1, &sa, NULL);
	vm = vm_create_long(0);
	data = mmap(NULL, DATA_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(data != MAP_FAILED, "mmap");
	vm_set_region(vm, 1, 0, DATA_GPA, DATA_SIZE, data);
	vcpu = vcpu_create_long(vm, 0, guest_writer);
	vcpu_set_args(vcpu, 2, DATA_GPA, DATA_PAGES);
	run = vcpu->run;

	vcpu_thread = pthread_self();
	TEST_ASSERT(!pthread_create(&thread, NULL, unmapper, NULL), "pthread_create");
	r = vcpu_run_raw(vcpu);
	pthread_join(thread, NULL);
	tap_ok(seen_before != 0, "the guest was writing its memory before the munmap");
	tap_ok(r == 0 && run->exit_reason == VSNIX_EXIT_MEMORY_FAULT &&
	       run->memory_fault.gpa - DATA_GPA < DATA_SIZE &&
	       (run->memory_fault.access & VSNIX_MEMORY_FAULT_WRITE),
	       "the guest's next write is a MEMORY_FAULT exit in the slot (%s)",
	       r ? strerror(errno) : vcpu_exit_str(vcpu));
	tap_ok(fresh_intact(), "memory allocated after the munmap is never written");
	r = vcpu_run_raw(vcpu);
	tap_ok(r == 0 && run->exit_reason == VSNIX_EXIT_MEMORY_FAULT,
	       "RUN again: the same clean exit (%s)", r ? strerror(errno) : vcpu_exit_str(vcpu));

	/* New memory at the old address: the guest writes it. */
	data = mmap(data, DATA_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	TEST_ASSERT(data != MAP_FAILED, "mmap again");
	sigaction(SIGALRM, &sa, NULL);
	ualarm(200000, 0);	/* stops the run with EINTR */
	r = vcpu_run_raw(vcpu);
	for (i = 0; i < DATA_PAGES; i++)
		sum += *(volatile uint64_t *)(data + i * 4096);
	tap_ok(r == -1 && errno == EINTR && sum != 0,
	       "memory mapped again at the address is what the guest writes now");
	vm_destroy(vm);
	munmap(fresh, FRESH_SIZE);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
