// SPDX-License-Identifier: GPL-2.0
/*
 * Memory slots deleted, moved and re-added while a vCPU runs: one thread
 * runs a guest that reads a word of the slot and writes a counter next to
 * it in a tight loop; the main thread deletes the slot, re-adds it with
 * other host memory, moves it elsewhere. The guest must see the data of
 * the slot mapped at that moment, or an MMIO exit while nothing is mapped,
 * and memory whose slot is gone must never be written again (a stale
 * NPT/EPT entry or TLB would keep writing into unpinned pages).
 */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vsnix_util.h"

#define SLOT_GPA	0x80000000ul
#define MOVED_GPA	0xa0000000ul
#define SLOT_SIZE	0x2000ul
#define PAT_A		0xaaaaaaaa00000001ul
#define PAT_B		0xbbbbbbbb00000002ul
#define PAT_C		0xcccccccc00000003ul
#define MMIO_MAGIC	0xdeadbeef0000deadul
#define ROUNDS		60
#define STEP_US		4000

enum { SEEN_A, SEEN_B, SEEN_C, SEEN_MMIO, SEEN_OTHER, NR_SEEN };

static volatile int stop;
static unsigned long seen[NR_SEEN];
static unsigned long mmio_reads, mmio_writes, bad_mmio, bad_exits;
static uint64_t bad_value;

/* Reads the slot's first word, writes a counter to the second; forever. */
static void guest_loop(void)
{
	uint64_t last = 0, v, n = 0;

	for (;;) {
		asm volatile("movq (%1), %0" : "=r"(v) : "r"(SLOT_GPA) : "memory");
		if (v != last) {
			GUEST_SYNC2(1, v);
			last = v;
		}
		n++;
		asm volatile("movq %0, 8(%1)" : : "r"(n), "r"(SLOT_GPA) : "memory");
	}
}

static void count_value(uint64_t v)
{
	if (v == PAT_A) {
		seen[SEEN_A]++;
	} else if (v == PAT_B) {
		seen[SEEN_B]++;
	} else if (v == PAT_C) {
		seen[SEEN_C]++;
	} else if (v == MMIO_MAGIC) {
		seen[SEEN_MMIO]++;
	} else {
		seen[SEEN_OTHER]++;
		bad_value = v;
	}
}

static void handle_mmio(struct vsnix_run *run)
{
	uint64_t v = MMIO_MAGIC;

	/* Only the two words the guest touches may exit. */
	if (run->mmio.len != 8 ||
	    (run->mmio.phys_addr != SLOT_GPA && run->mmio.phys_addr != SLOT_GPA + 8)) {
		bad_mmio++;
		return;
	}
	if (run->mmio.is_write) {
		mmio_writes++;
	} else {
		mmio_reads++;
		memcpy(run->mmio.data, &v, 8);
	}
}

static void *vcpu_thread(void *arg)
{
	struct vsnix_test_vcpu *vcpu = arg;
	struct ucall uc;

	while (!stop) {
		if (vcpu_run_raw(vcpu)) {
			if (errno != EINTR)
				bad_exits++;
			continue;
		}
		if (vcpu->run->exit_reason == VSNIX_EXIT_MMIO) {
			handle_mmio(vcpu->run);
		} else if (vcpu_get_ucall(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 1) {
			count_value(uc.args[1]);
		} else {
			tap_diag("unexpected %s", vcpu_exit_str(vcpu));
			bad_exits++;
			break;
		}
	}
	stop = 2;
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static uint8_t *buf_new(uint64_t pattern)
{
	uint8_t *p = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TEST_ASSERT(p != MAP_FAILED, "mmap");
	memset(p, 0, SLOT_SIZE);
	memcpy(p, &pattern, 8);
	return p;
}

static uint64_t counter_of(uint8_t *buf)
{
	return __atomic_load_n((uint64_t *)(buf + 8), __ATOMIC_RELAXED);
}

/* After its slot went away, the buffer's counter must not move any more. */
static bool stays_still(uint8_t *buf)
{
	uint64_t before = counter_of(buf);

	usleep(20000);
	return counter_of(buf) == before;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	uint8_t *a = buf_new(PAT_A), *b = buf_new(PAT_B), *c = buf_new(PAT_C);
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	bool still = true, moved_ok = true;
	pthread_t thread;
	uint64_t before;
	int i;

	vsnix_dev_fd();
	tap_plan(8);
	TEST_ASSERT(!sigaction(SIGUSR1, &sa, NULL), "sigaction");
	vm = vm_create_long(0);
	vm_set_region(vm, 1, 0, SLOT_GPA, SLOT_SIZE, a);
	vcpu = vcpu_create_long(vm, 0, guest_loop);
	TEST_ASSERT(!pthread_create(&thread, NULL, vcpu_thread, vcpu), "pthread_create");

	for (i = 0; i < ROUNDS && stop != 2; i++) {
		uint8_t *cur = i % 2 ? b : a;

		usleep(STEP_US);
		vm_set_region(vm, 1, 0, 0, 0, NULL);		/* delete */
		if (i < 8)
			still &= stays_still(cur);
		usleep(STEP_US);
		vm_set_region(vm, 1, 0, MOVED_GPA, SLOT_SIZE, cur);	/* moved away */
		usleep(STEP_US);
		vm_set_region(vm, 1, 0, 0, 0, NULL);
		vm_set_region(vm, 1, 0, SLOT_GPA, SLOT_SIZE, i % 2 ? a : b);	/* re-add */
	}
	/* A fresh buffer: the guest's writes must land there, and only there. */
	vm_set_region(vm, 1, 0, 0, 0, NULL);
	before = counter_of(a) + counter_of(b);
	vm_set_region(vm, 1, 0, SLOT_GPA, SLOT_SIZE, c);
	usleep(50000);
	moved_ok = counter_of(c) != 0 && counter_of(a) + counter_of(b) == before;

	stop = 1;
	while (stop != 2) {
		pthread_kill(thread, SIGUSR1);
		usleep(1000);
	}
	pthread_join(thread, NULL);
	tap_diag("seen A %lu B %lu C %lu MMIO %lu other %lu; MMIO reads %lu writes %lu",
		 seen[SEEN_A], seen[SEEN_B], seen[SEEN_C], seen[SEEN_MMIO], seen[SEEN_OTHER],
		 mmio_reads, mmio_writes);

	tap_ok(i == ROUNDS && !bad_exits, "guest ran through %d rounds of slot changes", i);
	tap_ok(!seen[SEEN_OTHER], "guest only saw mapped data or the MMIO answer (bad 0x%lx)",
	       (unsigned long)bad_value);
	tap_ok(seen[SEEN_A] && seen[SEEN_B] && seen[SEEN_C],
	       "guest saw the data of each buffer the slot was re-added with");
	tap_ok(seen[SEEN_MMIO] && mmio_reads && mmio_writes,
	       "deleted or moved slot: guest reads and writes became MMIO exits");
	tap_ok(!bad_mmio, "MMIO exits only for the two words the guest touches (%lu bad)",
	       bad_mmio);
	tap_ok(still, "memory of a deleted slot is not written any more");
	tap_ok(moved_ok, "after the last re-add, writes reach the new memory only");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
