// SPDX-License-Identifier: GPL-2.0
/*
 * Guest FPU state across context switches inside RUN. Two threads of one
 * process share one CPU: the vCPU thread runs a guest that loads
 * distinctive x87/SSE (and, where it can, AVX) state and then exits to
 * the kernel (CPUID) in a loop without touching a vector register; the
 * other thread loads its own values, sleeps 1 ms, and checks them each
 * time it gets the CPU back. The scheduler can only give that thread the CPU by
 * switching the vCPU thread out in the middle of RUN, between two exits:
 * neither side may see the other's registers. Run on both FPU paths (the
 * kernel's guest fpstate and fpu_own=1); the path in use is printed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vsnix_util.h"
#include "fpu_img.h"

#define HOST_ROUNDS	200
#define GUEST_MAX_LOOPS	50000000ull

/* The guest's exit loop: CPUID until *stop or max, counting in *loops. */
#define GUEST_LOOP \
	"xorl %%r8d, %%r8d\n\t" \
	"1: xorl %%eax, %%eax\n\t" \
	"xorl %%ecx, %%ecx\n\t" \
	"cpuid\n\t" \
	"incq %%r8\n\t" \
	"movq %%r8, (%[loops])\n\t" \
	"cmpq $0, (%[stop])\n\t" \
	"jne 2f\n\t" \
	"cmpq %[max], %%r8\n\t" \
	"jb 1b\n\t" \
	"2:\n\t"
#define GUEST_LOOP_ARGS [loops] "r"(&guest_loops), [stop] "r"(&guest_stop), \
			[max] "r"(GUEST_MAX_LOOPS)

static struct fpu_img guest_want, guest_got;
static volatile uint64_t guest_stop, guest_loops;

/* ------------------------------------------------------------ guest */

static bool guest_enable_avx(void)
{
	uint32_t a, b, c, d;
	uint64_t cr4;

	guest_cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 26)) || !(c & (1u << 28)))
		return false;
	guest_cpuid(0xd, 0, &a, &b, &c, &d);
	if ((a & 7) != 7)
		return false;
	asm volatile("movq %%cr4, %0" : "=r"(cr4));
	asm volatile("movq %0, %%cr4" : : "r"(cr4 | 1ul << 18));
	asm volatile("xsetbv" : : "a"(7), "d"(0), "c"(0));
	return true;
}

static void guest_main(uint64_t allow_avx)
{
	bool avx = allow_avx && guest_enable_avx();
	const struct fpu_img *in = &guest_want;
	struct fpu_img *out = &guest_got;

	/* Load, exit in a loop, store: no vector register touched between. */
	if (avx)
		asm volatile(ALL16(LOAD_YMM) LOAD_X87 GUEST_LOOP ALL16(STORE_YMM) STORE_X87
			     : : [in] "r"(in), [out] "r"(out), OFFS, GUEST_LOOP_ARGS
			     : "rax", "rbx", "rcx", "rdx", "r8", "memory", VEC_CLOBBERS,
			       "st", "st(1)");
	else
		asm volatile(ALL16(LOAD_XMM) LOAD_X87 GUEST_LOOP ALL16(STORE_XMM) STORE_X87
			     : : [in] "r"(in), [out] "r"(out), OFFS, GUEST_LOOP_ARGS
			     : "rax", "rbx", "rcx", "rdx", "r8", "memory", VEC_CLOBBERS,
			       "st", "st(1)");
	GUEST_SYNC3(1, avx, guest_loops);
}

/* ------------------------------------------------------------ host */

static struct vsnix_test_vm *vm;
static atomic_int vcpu_in_run;
static int host_bad, host_rounds, host_overlap;

static bool host_avx(void)
{
	uint32_t a, b, c, d;

	asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(c & (1u << 27)) || !(c & (1u << 28)))
		return false;
	asm volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
	return (a & 6) == 6;
}

static void fill(struct fpu_img *img, uint8_t seed, uint32_t mxcsr, uint16_t fcw, double st0)
{
	int i, j;

	for (i = 0; i < NR_VEC; i++)
		for (j = 0; j < 32; j++)
			img->ymm[i][j] = (uint8_t)(seed + i * 32 + j * 7);
	img->mxcsr = mxcsr;
	img->fcw = fcw;
	img->pad = 0;
	img->st0 = st0;
	img->st1 = -st0 / 3;
}

static bool same(const struct fpu_img *a, const struct fpu_img *b, bool avx, const char *who)
{
	int i, len = avx ? 32 : 16;
	bool ok = true;

	for (i = 0; i < NR_VEC; i++)
		if (memcmp(a->ymm[i], b->ymm[i], len)) {
			tap_diag("%s: %s%d differs", who, avx ? "ymm" : "xmm", i);
			ok = false;
		}
	if (a->mxcsr != b->mxcsr || a->fcw != b->fcw || a->st0 != b->st0 || a->st1 != b->st1) {
		tap_diag("%s: MXCSR 0x%x/0x%x FCW 0x%x/0x%x ST0 %g/%g ST1 %g/%g", who,
			 a->mxcsr, b->mxcsr, a->fcw, b->fcw, a->st0, b->st0, a->st1, b->st1);
		ok = false;
	}
	return ok;
}

/*
 * Loads in, sleeps 1 ms through a raw nanosleep, stores out. The vCPU
 * thread gets the CPU meanwhile; the timer's wakeup then preempts it in the
 * middle of RUN (an interrupt exit, then the RUN loop's reschedule).
 */
static void host_sleep(const struct fpu_img *in, struct fpu_img *out, bool avx)
{
	static const struct timespec ts = { .tv_nsec = 1000000 };
	long ret = SYS_nanosleep;

	if (avx)
		asm volatile(ALL16(LOAD_YMM) LOAD_X87 "syscall\n\t" ALL16(STORE_YMM) STORE_X87
			     : "+a"(ret) : [in] "r"(in), [out] "r"(out), "D"(&ts), "S"(0L), OFFS
			     : "rcx", "r11", "memory", VEC_CLOBBERS, "st", "st(1)");
	else
		asm volatile(ALL16(LOAD_XMM) LOAD_X87 "syscall\n\t" ALL16(STORE_XMM) STORE_X87
			     : "+a"(ret) : [in] "r"(in), [out] "r"(out), "D"(&ts), "S"(0L), OFFS
			     : "rcx", "r11", "memory", VEC_CLOBBERS, "st", "st(1)");
}

static bool pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0;
}

/* The other thread: FPU work and sleeps while the vCPU thread is in RUN. */
static void *host_thread(void *arg)
{
	static struct fpu_img in, out;
	volatile uint64_t *loops = &GUEST_VAR(vm, guest_loops);
	bool avx = host_avx();
	uint64_t before;
	int i;

	(void)arg;
	TEST_ASSERT(pin_to(0), "sched_setaffinity");
	while (!atomic_load(&vcpu_in_run))
		sched_yield();
	for (i = 0; i < HOST_ROUNDS; i++) {
		volatile double x = i * 1.25;

		fill(&in, (uint8_t)(0x21 + i), 0x7f80u, 0x0f7fu, 3.0 + i);
		memset(&out, 0, sizeof(out));
		before = *loops;
		host_sleep(&in, &out, avx);
		if (*loops != before)
			host_overlap++;	/* the guest ran between our turns */
		if (!same(&in, &out, avx, "host thread"))
			host_bad++;
		x = x * x / 3.0;
		host_rounds++;
	}
	GUEST_VAR(vm, guest_stop) = 1;
	return NULL;
}

static const char *fpu_path(void)
{
	static char buf[8];
	FILE *f = fopen("/sys/module/vsnix/parameters/fpu_own", "r");

	if (!f)
		return "unknown";
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return buf[0] == 'Y' ? "own (fpu_own=1)" : "kernel guest fpstate";
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	const char *machine;
	bool gavx, ok, qemu_svm;
	struct ucall uc;
	pthread_t thread;

	vsnix_dev_fd();
	tap_plan(5);
	tap_diag("FPU path: %s", fpu_path());
	TEST_ASSERT(pin_to(0), "sched_setaffinity");
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	/* QEMU TCG ignores the SVM XSETBV intercept: see fpu_host.c. */
	machine = getenv("VSNIX_RIG_MACHINE");
	qemu_svm = machine && !strncmp(machine, "svm", 3) && vsnix_is_svm();
	vcpu_set_args(vcpu, 1, (uint64_t)!qemu_svm);
	fill(&GUEST_VAR(vm, guest_want), 0x99, 0x3f80u, 0x027fu, -1234.5);

	TEST_ASSERT(pthread_create(&thread, NULL, host_thread, NULL) == 0, "pthread_create");
	atomic_store(&vcpu_in_run, 1);
	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 1;
	pthread_join(thread, NULL);
	if (!ok)
		tap_diag("RUN: %s", vcpu_exit_str(vcpu));
	gavx = ok && uc.args[1];
	tap_ok(ok && GUEST_VAR(vm, guest_stop), "guest looped until told to stop (%llu exits, guest AVX: %s)",
	       ok ? (unsigned long long)uc.args[2] : 0ull, gavx ? "yes" : "no");
	tap_ok(host_rounds == HOST_ROUNDS && host_overlap >= HOST_ROUNDS / 2,
	       "the threads took turns on one CPU during RUN (%d of %d turns with guest exits between)",
	       host_overlap, host_rounds);
	tap_ok(host_bad == 0, "other thread's x87/SSE%s state intact across %d switches (%d bad)",
	       host_avx() ? "/AVX" : "", host_rounds, host_bad);
	tap_ok(ok && same(&GUEST_VAR(vm, guest_want), &GUEST_VAR(vm, guest_got), gavx, "guest"),
	       "guest x87/SSE%s state intact across the switches", gavx ? "/AVX" : "");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
