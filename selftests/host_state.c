// SPDX-License-Identifier: GPL-2.0
/*
 * CPU state the guest shares with the host must never show the host's
 * values to the guest, and the host's must be intact after RUN:
 *
 * - TSC_AUX (MSR C000_0103h), which RDPID and RDTSCP read and Linux sets
 *   to the CPU number: the guest sees the value the VMM set or it wrote;
 * - the debug registers (SDM Vol 3, 18.2; APM Vol 2, 13.1.1): the guest
 *   arms DR7 before writing DR0-3 and writes its own copy of a variable
 *   that the host watches (perf, PERF_TYPE_BREAKPOINT, same address),
 *   which must not trap; its DR0-3/DR7 are its own, across exits; the
 *   host watchpoint still fires after the guest ran with its own loaded.
 *
 * QEMU TCG (the rig) loads DR7 at VMRUN and #VMEXIT without updating its
 * own watchpoints, and crashed (SIGSEGV, with or without this fix) when a
 * guest wrote DR7 while the host had a watchpoint armed: there, the guest
 * changes its DR7 before the host's watchpoint is armed, and the case
 * "host watchpoint armed while the guest arms DR7" is skipped.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <sched.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include "vsnix_util.h"

#define MSR_TSC_AUX		0xc0000103
#define GUEST_TSC_AUX		0x5a5a1234u
#define GUEST_TSC_AUX2		0x00c0ffeeu
#define DB_VECTOR		1
#define UD_VECTOR		6

/* DR7: L0-L3, and for each R/W = 01 (data writes), LEN = 11 (4 bytes). */
#define DR7_FIXED		0x400ul
#define DR7_WRITE4(i)		((1ul << (2 * (i))) | (1ul << (16 + 4 * (i))) | \
				 (3ul << (18 + 4 * (i))))
#define DR7_ALL			(DR7_FIXED | DR7_WRITE4(0) | DR7_WRITE4(1) | \
				 DR7_WRITE4(2) | DR7_WRITE4(3))
/* Guest breakpoints on guest RAM nothing else uses (see lib/README.md). */
#define GUEST_BP(i)		(0x7000ul + 8 * (i))
#define DR6_B1			(1ul << 1)

static volatile uint32_t watched;

/* ------------------------------------------------------------ guest */

/* Runs insn (which may read RAX) with a fixup: the vector, or none. */
#define GUEST_SAFE(insn, ...)						\
	({								\
		guest_exception_vector = GUEST_NO_EXCEPTION;		\
		asm volatile("leaq 1f(%%rip), %%r11\n\t"		\
			     "movq %%r11, guest_fixup_rip(%%rip)\n\t"	\
			     insn "\n\t"				\
			     "1:\n\t"					\
			     "movq $0, guest_fixup_rip(%%rip)"		\
			     __VA_ARGS__);				\
		(uint8_t)guest_exception_vector;			\
	})

static uint8_t guest_rdpid(uint64_t *v)
{
	uint64_t rax = 0;
	uint8_t vec;

	/* RDPID RAX: F3 0F C7 /7, as bytes for any assembler. */
	vec = GUEST_SAFE(".byte 0xf3, 0x0f, 0xc7, 0xf8",
			 : "+a"(rax) : : "r11", "memory");
	*v = rax;
	return vec;
}

static uint8_t guest_rdtscp(uint64_t *aux)
{
	uint32_t lo, hi, ecx = 0;
	uint8_t vec;

	vec = GUEST_SAFE("rdtscp", : "=a"(lo), "=d"(hi), "+c"(ecx) : : "r11",
			 "memory");
	*aux = ecx;
	return vec;
}

static void guest_tsc_aux(void)
{
	uint64_t v = 0, pid = 0, aux = 0;
	uint8_t vec;

	GUEST_ASSERT_EQ(guest_rdmsr_safe(MSR_TSC_AUX, &v), GUEST_NO_EXCEPTION);
	GUEST_SYNC2(1, v);
	vec = guest_rdpid(&pid);
	GUEST_SYNC3(2, vec, pid);
	vec = guest_rdtscp(&aux);
	GUEST_SYNC3(3, vec, aux);
	GUEST_ASSERT_EQ(guest_wrmsr_safe(MSR_TSC_AUX, GUEST_TSC_AUX2),
			GUEST_NO_EXCEPTION);
	GUEST_ASSERT_EQ(guest_rdmsr_safe(MSR_TSC_AUX, &v), GUEST_NO_EXCEPTION);
	vec = guest_rdpid(&pid);
	guest_ucall(UCALL_SYNC, 4, v, vec, pid, 0, 0);
}

static uint8_t guest_store_safe(uint64_t addr)
{
	return GUEST_SAFE("movl $1, (%0)", : : "r"(addr) : "r11", "memory");
}

#define GUEST_READ_DR(n) \
	({ uint64_t __v; asm volatile("mov %%dr" #n ", %0" : "=r"(__v)); __v; })
#define GUEST_WRITE_DR(n, v) \
	asm volatile("mov %0, %%dr" #n : : "r"((uint64_t)(v)) : "memory")

static void guest_dr(uint64_t watched_addr)
{
	uint8_t vec;
	int i;

	/* DR7 first: with the host's DR0-3 live, this arms the host's. */
	GUEST_WRITE_DR(7, DR7_FIXED | DR7_WRITE4(0));
	vec = guest_store_safe(watched_addr);
	guest_ucall(UCALL_SYNC, 1, vec, GUEST_READ_DR(0), GUEST_READ_DR(1),
		    GUEST_READ_DR(2), GUEST_READ_DR(3));

	GUEST_WRITE_DR(7, DR7_FIXED);
	GUEST_WRITE_DR(0, GUEST_BP(0));
	GUEST_WRITE_DR(1, GUEST_BP(1));
	GUEST_WRITE_DR(2, GUEST_BP(2));
	GUEST_WRITE_DR(3, GUEST_BP(3));
	GUEST_WRITE_DR(7, DR7_ALL);
	/* An exit in between: the values must survive it. */
	GUEST_SYNC(2);
	guest_ucall(UCALL_SYNC, 3, GUEST_READ_DR(0), GUEST_READ_DR(1),
		    GUEST_READ_DR(2), GUEST_READ_DR(3), GUEST_READ_DR(7));

	GUEST_WRITE_DR(6, 0xffff0ff0ul);
	vec = guest_store_safe(GUEST_BP(1));
	GUEST_SYNC3(4, vec, GUEST_READ_DR(6));

	vec = guest_store_safe(watched_addr);
	GUEST_WRITE_DR(7, DR7_FIXED);
	GUEST_SYNC2(5, vec);

	/* The host arms its watchpoint now: entries load DR0-3 with it live. */
	for (i = 0; i < 3; i++)
		GUEST_SYNC(6);
	guest_ucall(UCALL_SYNC, 7, GUEST_READ_DR(0), GUEST_READ_DR(1),
		    GUEST_READ_DR(2), GUEST_READ_DR(3), GUEST_READ_DR(7));
}

/* The whole leak case, with the host's watchpoint armed from the start. */
static void guest_dr_armed(uint64_t watched_addr)
{
	uint8_t vec;

	GUEST_WRITE_DR(7, DR7_FIXED | DR7_WRITE4(0));
	vec = guest_store_safe(watched_addr);
	GUEST_SYNC3(1, vec, GUEST_READ_DR(0));
	GUEST_WRITE_DR(7, DR7_FIXED);
}

/* ------------------------------------------------------------- host */

static bool host_has_rdtscp(void)
{
	unsigned int a, b, c, d;

	return __get_cpuid(0x80000001, &a, &b, &c, &d) && (d & (1u << 27));
}

static uint32_t host_rdtscp_aux(void)
{
	uint32_t lo, hi, aux;

	asm volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	return aux;
}

static void test_tsc_aux(void)
{
	bool rdtscp = host_has_rdtscp();
	uint32_t host_aux = rdtscp ? host_rdtscp_aux() : 0;
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	uint64_t v = 0;
	bool ok;

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_tsc_aux);
	ok = vcpu_set_msr(vcpu, MSR_TSC_AUX, GUEST_TSC_AUX) == 1 &&
	     vcpu_get_msr(vcpu, MSR_TSC_AUX, &v) == 1 && v == GUEST_TSC_AUX;
	tap_ok(ok && vcpu_set_msr(vcpu, MSR_TSC_AUX, 1ul << 32) == 0,
	       "TSC_AUX: SET/GET_MSRS round trip, bits 63:32 refused");

	ok = vcpu_run_sync_is(vcpu, &uc, 1);
	tap_ok(ok && uc.args[1] == GUEST_TSC_AUX,
	       "TSC_AUX: guest RDMSR sees the VMM's value (0x%lx)",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 2);
	if (ok && uc.args[1] == UD_VECTOR)
		tap_skip("RDPID raises #UD on this CPU", "TSC_AUX: guest RDPID");
	else
		tap_ok(ok && uc.args[1] == GUEST_NO_EXCEPTION &&
		       uc.args[2] == GUEST_TSC_AUX,
		       "TSC_AUX: guest RDPID sees the guest's value (0x%lx, vector %lu; host's 0x%x)",
		       (unsigned long)uc.args[2], (unsigned long)uc.args[1], host_aux);
	ok = vcpu_run_sync_is(vcpu, &uc, 3);
	tap_ok(ok && (uc.args[1] == UD_VECTOR ||
		      (uc.args[1] == GUEST_NO_EXCEPTION && uc.args[2] == GUEST_TSC_AUX)),
	       "TSC_AUX: guest RDTSCP is #UD or sees the guest's value (vector %lu, ECX 0x%lx)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 4) && vcpu_get_msr(vcpu, MSR_TSC_AUX, &v) == 1;
	tap_ok(ok && uc.args[1] == GUEST_TSC_AUX2 && v == GUEST_TSC_AUX2 &&
	       (uc.args[2] == UD_VECTOR || uc.args[3] == GUEST_TSC_AUX2),
	       "TSC_AUX: guest WRMSR seen by its RDMSR, RDPID and GET_MSRS (0x%lx, 0x%lx, 0x%lx)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[3], (unsigned long)v);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE, "TSC_AUX: guest finished");
	vm_destroy(vm);

	if (!rdtscp)
		tap_skip("no RDTSCP on the host", "TSC_AUX: host value intact");
	else
		tap_ok(host_rdtscp_aux() == host_aux,
		       "TSC_AUX: host value intact after RUN (0x%x, was 0x%x)",
		       host_rdtscp_aux(), host_aux);
}

/*
 * On this CPU (main() pins the test to it), not on this task: a per-task
 * event enables the perf_sched_events static key, a live patch of
 * __schedule that multi-threaded QEMU TCG now and then gets wrong ("Oops:
 * int3" in __schedule on svm-6.12, Documentation/security.rst). The host's
 * DR0-3/DR7 hold the watchpoint either way, which is what is tested.
 */
static int open_watchpoint(void *addr)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(attr),
		.bp_type = HW_BREAKPOINT_W,
		.bp_addr = (uintptr_t)addr,
		.bp_len = HW_BREAKPOINT_LEN_4,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};

	return syscall(SYS_perf_event_open, &attr, -1, sched_getcpu(), -1, 0);
}

static uint64_t watch_count(int fd)
{
	uint64_t n = 0;

	return read(fd, &n, sizeof(n)) == sizeof(n) ? n : ~0ull;
}

static void test_debug_regs(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	unsigned int writes = 0;
	uint64_t n, vec, dr0;
	struct ucall uc;
	bool ok;
	int fd, i;

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_dr);
	vcpu_set_args(vcpu, 1, (uint64_t)(uintptr_t)&watched);

	ok = vcpu_run_sync_is(vcpu, &uc, 1);
	tap_ok(ok && uc.args[1] == GUEST_NO_EXCEPTION &&
	       !uc.args[2] && !uc.args[3] && !uc.args[4] && !uc.args[5],
	       "DR: guest arming DR7 first sees its own DR0-3 (0x%lx 0x%lx 0x%lx 0x%lx), no trap (vector %lu)",
	       (unsigned long)uc.args[2], (unsigned long)uc.args[3],
	       (unsigned long)uc.args[4], (unsigned long)uc.args[5],
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 2) && vcpu_run_sync_is(vcpu, &uc, 3);
	tap_ok(ok && uc.args[1] == GUEST_BP(0) && uc.args[2] == GUEST_BP(1) &&
	       uc.args[3] == GUEST_BP(2) && uc.args[4] == GUEST_BP(3) &&
	       uc.args[5] == DR7_ALL,
	       "DR: guest DR0-3 and DR7 read back across an exit (DR0 0x%lx DR7 0x%lx)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[5]);
	ok = vcpu_run_sync_is(vcpu, &uc, 4);
	/* Both vendors load the guest's DR0-3 once it touched them. */
	tap_ok(ok && uc.args[1] == DB_VECTOR && (uc.args[2] & DR6_B1),
	       "DR: the guest's own breakpoint traps in the guest (vector %lu, DR6 0x%lx)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 5);
	tap_ok(ok && uc.args[1] == GUEST_NO_EXCEPTION,
	       "DR: guest writes its copy of the watched variable without a trap (vector %lu)",
	       (unsigned long)uc.args[1]);

	fd = open_watchpoint((void *)&watched);
	TEST_ASSERT(fd >= 0, "perf_event_open(PERF_TYPE_BREAKPOINT): %s", strerror(errno));
	watched = ++writes;
	for (i = 0, ok = true; i < 3; i++) {
		ok = ok && vcpu_run_sync_is(vcpu, &uc, 6);
		watched = ++writes;
	}
	ok = ok && vcpu_run_sync_is(vcpu, &uc, 7);
	watched = ++writes;
	tap_ok(ok && uc.args[1] == GUEST_BP(0) && uc.args[4] == GUEST_BP(3) &&
	       uc.args[5] == DR7_FIXED,
	       "DR: with the host's watchpoint armed, the guest still reads its own DR0-3 (0x%lx)",
	       (unsigned long)uc.args[1]);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE, "DR: guest finished");
	n = watch_count(fd);
	tap_ok(n == writes, "DR: the host watchpoint fired for each host write between RUNs (%lu of %u)",
	       (unsigned long)n, writes);
	close(fd);
	vm_destroy(vm);

	if (host_is_qemu_tcg()) {
		tap_skip("QEMU TCG crashes when a guest writes DR7 under a host watchpoint",
			 "DR: host watchpoint armed while the guest arms DR7");
		return;
	}
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_dr_armed);
	vcpu_set_args(vcpu, 1, (uint64_t)(uintptr_t)&watched);
	fd = open_watchpoint((void *)&watched);
	TEST_ASSERT(fd >= 0, "perf_event_open(PERF_TYPE_BREAKPOINT): %s", strerror(errno));
	ok = vcpu_run_sync_is(vcpu, &uc, 1);
	watched = 1;
	vec = uc.args[1];
	dr0 = uc.args[2];
	ok = ok && vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE;
	n = watch_count(fd);
	tap_ok(ok && vec == GUEST_NO_EXCEPTION && !dr0 && n == 1,
	       "DR: host watchpoint armed while the guest arms DR7: no guest trap (vector %lu), DR0 0x%lx, host fired %lu of 1",
	       (unsigned long)vec, (unsigned long)dr0, (unsigned long)n);
	close(fd);
	vm_destroy(vm);
}

int main(void)
{
	cpu_set_t cpus;

	vsnix_dev_fd();
	/* One CPU: the host's TSC_AUX is then one known value. */
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	TEST_ASSERT(!sched_setaffinity(0, sizeof(cpus), &cpus), "sched_setaffinity");

	tap_plan(16);
	test_tsc_aux();
	test_debug_regs();
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
