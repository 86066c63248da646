// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile-guest fuzzer: VMs whose memory, registers, page tables and
 * descriptor tables are random, started in real, protected or long mode,
 * some running generated storms of port I/O, MMIO and string instructions,
 * with the in-kernel devices attached.
 *
 * Pass: the host survives every VM (no oops/WARN taint; the rig checks the
 * console, kmemleak and rmmod), every RUN ends in a defined way (an exit
 * reason the API defines, or an errno it documents for RUN), and each VM is
 * torn down. A guest runs for at most MAX_RUNS entries, each cut short by a
 * timer, so spinning guests end too.
 *
 * VSNIX_FUZZ_VMS: number of VMs (default per machine, see default_vms);
 * VSNIX_FUZZ_SEED: seed (default: time), printed for replay.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vsnix_util.h"
#include "vsnix/stats.h"
#include <pthread.h>
#include <stdatomic.h>

#define RAM_SIZE	(1ul << 20)
#define VM_SECONDS	30	/* guest clock; a VM takes well under 1 s */
#define MAX_RUNS	32
#define RUN_TIMER_NS	(2 * 1000 * 1000)
#define PML4_GPA	0x10000ul	/* + PDPT at +0x1000, 4 PDs from +0x2000 */
#define STORM_GPA	0x40000ul
#define STORM_MAX	0x8000ul

enum mode { MODE_REAL, MODE_PROT, MODE_LONG, MODE_LONG_RANDOM_PT,
	    MODE_LONG_RANDOM_DT, MODE_STORM, NR_MODES };

static const char *const mode_names[NR_MODES] = {
	"real", "protected", "long", "long+random page tables",
	"long+random GDT/IDT", "port/MMIO storm",
};

static uint64_t rng;
static volatile sig_atomic_t current_mode = -1;
static volatile sig_atomic_t current_phase, current_run, last_exit;
static timer_t run_timer;
static int console_fd = -1;
static int block_fd = -1;

static unsigned long exits[VSNIX_EXIT_DEBUG + 1];
static unsigned long run_errnos[256];
static unsigned long vms_per_mode[NR_MODES];
static unsigned long undefined_exits;
static unsigned long sregs_refused;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool one_in(unsigned int n)
{
	return rnd_below(n) == 0;
}

static void fill_random(void *buf, size_t len)
{
	uint64_t *p = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		p[i] = rnd();
	for (i = len & ~7ul; i < len; i++)
		((uint8_t *)buf)[i] = rnd();
}

/* ------------------------------------------------------ guest set-up */

/*
 * Identity map of 0-4 GiB with 2 MiB pages (SDM 4.5), so that storms reach
 * unbacked guest-physical space (MMIO exits) rather than a guest #PF.
 */
static void write_identity_tables(struct vsnix_test_vm *vm)
{
	uint64_t *pml4 = gpa2hva(vm, PML4_GPA, 6 * 4096);
	uint64_t *pdpt = pml4 + 512, *pd = pml4 + 1024;
	unsigned int i;

	memset(pml4, 0, 6 * 4096);
	pml4[0] = (PML4_GPA + 0x1000) | 0x3;
	for (i = 0; i < 4; i++)
		pdpt[i] = (PML4_GPA + 0x2000 + i * 0x1000) | 0x3;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;	/* P, RW, PS */
}

/* Long mode as the library sets it up, on this file's page tables. */
static void setup_long_mode(struct vsnix_test_vcpu *vcpu, enum mode mode)
{
	struct vsnix_test_vm *vm = vcpu->vm;
	struct vsnix_sregs sregs;

	write_identity_tables(vm);
	vm_write_gdt(vm);
	vcpu_get_sregs(vcpu, &sregs);
	long_mode_sregs(vm, &sregs);
	sregs.cr3 = PML4_GPA;
	if (mode == MODE_LONG_RANDOM_PT)
		sregs.cr3 = rnd_below(RAM_SIZE) & ~0xffful;
	vcpu_set_sregs(vcpu, &sregs);
	if (mode == MODE_LONG_RANDOM_DT) {
		sregs.gdt.base = rnd_below(RAM_SIZE);
		sregs.gdt.limit = rnd();
		sregs.idt.base = one_in(2) ? rnd() : rnd_below(RAM_SIZE);
		sregs.idt.limit = rnd();
		/* VMX refuses a non-canonical base (SDM 26.3.1.3): keep the valid state. */
		if (ioctl(vcpu->fd, VSNIX_SET_SREGS, &sregs))
			sregs_refused++;
	}
}

/*
 * Storm code: a loop of port I/O (IN/OUT, INS/OUTS) and memory accesses
 * to random addresses (most of them unmapped: MMIO exits), then JMP back.
 */
static void write_storm(struct vsnix_test_vm *vm)
{
	uint8_t *code = gpa2hva(vm, STORM_GPA, STORM_MAX);
	size_t n = 0, limit = STORM_MAX - 32;
	bool dirty = one_in(4);	/* random bytes among the accesses */
	uint32_t addr;

	while (n < limit && !one_in(200)) {
		switch (rnd_below(dirty ? 6 : 5)) {
		case 0:	/* mov $port, %dx; out %eax, %dx / in %dx, %eax */
			code[n++] = 0x66; code[n++] = 0xba;
			code[n++] = rnd(); code[n++] = one_in(2) ? 0x05 : rnd();
			code[n++] = one_in(2) ? 0xef : 0xed;
			break;
		case 1:	/* mov $addr, %eax; mov %ecx, (%rax) */
		case 2:	/* mov $addr, %eax; mov (%rax), %ecx */
			addr = one_in(2) ? 0xfee00000 + rnd_below(4096) : rnd();
			code[n++] = 0xb8;
			memcpy(&code[n], &addr, 4);
			n += 4;
			code[n++] = rnd_below(2) ? 0x89 : 0x8b;
			code[n++] = 0x08;
			break;
		case 3:	/* mov $count, %ecx; rep outsb / rep insb */
			code[n++] = 0xb9;
			code[n++] = rnd_below(64); code[n++] = 0;
			code[n++] = 0; code[n++] = 0;
			code[n++] = 0xf3;
			code[n++] = one_in(2) ? 0x6e : 0x6c;
			break;
		case 4:	/* mov $addr, %edi; rep stosb into maybe-MMIO */
			addr = rnd();
			code[n++] = 0xbf;
			memcpy(&code[n], &addr, 4);
			n += 4;
			code[n++] = 0xf3; code[n++] = 0xaa;
			break;
		default: /* a random byte: sometimes a bad opcode */
			code[n++] = rnd();
			break;
		}
	}
	code[n++] = 0xe9;	/* jmp STORM_GPA */
	addr = (uint32_t)(-(int32_t)(n + 4));
	memcpy(&code[n], &addr, 4);
}

/* Random GPRs; RIP and RSP inside RAM most of the time. */
static void randomize_regs(struct vsnix_test_vcpu *vcpu, enum mode mode)
{
	struct vsnix_regs regs;

	vcpu_get_regs(vcpu, &regs);
	fill_random(&regs, offsetof(struct vsnix_regs, rip));
	regs.rsi = rnd_below(RAM_SIZE);
	regs.rdi = rnd_below(RAM_SIZE);
	regs.rsp = rnd_below(RAM_SIZE) & ~0xful;
	if (mode == MODE_STORM)
		regs.rip = STORM_GPA;
	else if (mode >= MODE_LONG)
		regs.rip = one_in(16) ? rnd() : rnd_below(RAM_SIZE);
	else
		regs.rip = rnd_below(mode == MODE_REAL ? 0x10000 : RAM_SIZE);
	/* Reserved bit 1 set; TF, IF, DF, AC at random; VM and others off. */
	regs.rflags = 0x2 | (rnd() & 0x40fd5);
	if (ioctl(vcpu->fd, VSNIX_SET_REGS, &regs))
		tap_diag("SET_REGS refused (%s)", strerror(errno));
}

/* A few random bit flips in the segment state; SET_SREGS may refuse. */
static void mutate_sregs(struct vsnix_test_vcpu *vcpu)
{
	struct vsnix_sregs sregs;
	unsigned int flips = rnd_below(4) + 1, i;

	vcpu_get_sregs(vcpu, &sregs);
	for (i = 0; i < flips; i++)
		((uint8_t *)&sregs)[rnd_below(sizeof(sregs))] ^= 1u << rnd_below(8);
	if (ioctl(vcpu->fd, VSNIX_SET_SREGS, &sregs))
		sregs_refused++;
}

static void add_devices(struct vsnix_test_vm *vm)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_UART16550,
					 .console_fd = console_fd };

	c.uart.base = 0x3f8;
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c), "UART");
	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_EXIT_PORT;
	c.console_fd = -1;
	c.exit_port.port = 0xf4;
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c), "exit port");
	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_FW_CFG;
	c.console_fd = -1;
	c.fw_cfg.ram_size = RAM_SIZE;
	c.fw_cfg.nr_cpus = 1;
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c), "fw_cfg");
	if (one_in(2)) {	/* hvt hypercalls with random guest pointers */
		memset(&c, 0, sizeof(c));
		c.type = VSNIX_DEV_HVT;
		c.console_fd = console_fd;
		c.hvt.mem_size = RAM_SIZE;
		c.hvt.nr_block = 1;
		c.hvt.block[0].fd = block_fd;
		c.hvt.block_handle[0] = 1;
		if (ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c))
			tap_diag("hvt device refused: %s", strerror(errno));
	}
}

/* ------------------------------------------------------------ running */

/* Answer an exit; false when it ends this VM. */
static bool answer_exit(struct vsnix_test_vcpu *vcpu)
{
	struct vsnix_run *run = vcpu->run;
	struct vsnix_event ev = { 0 };

	switch (run->exit_reason) {
	case VSNIX_EXIT_IO:
		if (run->io.direction == VSNIX_EXIT_IO_IN) {
			uint64_t len = (uint64_t)run->io.size * run->io.count;

			fill_random(vcpu_io_data(vcpu), len < 4096 ? len : 4096);
		}
		return true;
	case VSNIX_EXIT_MMIO:
		if (!run->mmio.is_write)
			fill_random(run->mmio.data, sizeof(run->mmio.data));
		return true;
	case VSNIX_EXIT_HLT:
		/* Wake it with an interrupt, an NMI or an exception. */
		ev.type = one_in(3) ? VSNIX_EVENT_NMI : one_in(2) ?
			  VSNIX_EVENT_EXCEPTION : VSNIX_EVENT_EXTINT;
		ev.vector = ev.type == VSNIX_EVENT_EXCEPTION ? rnd_below(32) :
			    32 + rnd_below(224);
		ioctl(vcpu->fd, VSNIX_INJECT_EVENT, &ev);
		return true;
	case VSNIX_EXIT_DEBUG:
	case VSNIX_EXIT_INTR:
		return true;
	case VSNIX_EXIT_SHUTDOWN:
	case VSNIX_EXIT_FAIL_ENTRY:
	case VSNIX_EXIT_INTERNAL_ERROR:
	case VSNIX_EXIT_GUEST_EXIT:
		return false;
	default:
		undefined_exits++;
		tap_diag("undefined exit reason %u", run->exit_reason);
		return false;
	}
}

/* RUN errnos the API documents (api.rst, VSNIX_RUN). */
static bool run_errno_defined(int err)
{
	return err == EINTR || err == EIO || err == EFAULT || err == ENOMEM;
}

static unsigned long bad_run_errnos;

/*
 * A RUN that lasts (a guest past its timer signals): a watcher thread says
 * meanwhile whether the vCPU still exits (the kernel re-enters it without
 * seeing the signal) or not (stuck in the guest or in one exit), and where
 * its thread is; the state it stopped in follows once RUN returns.
 */
#define SLOW_RUN_MS	5000
static atomic_long run_began_ms;	/* 0: not in RUN */
static atomic_int running_vcpu_fd = -1;
static pid_t main_tid;
static atomic_long vm_index;
static atomic_bool watcher_stop;

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void show_task_file(const char *what)
{
	char path[96], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/%s", (int)main_tid, what);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		tap_diag("  %s: %s", what, line);
	}
	if (f)
		fclose(f);
}

static void show_exit_rate(void)
{
	static const char *const names[] = { "exits", "exits_npf", "exits_extint",
					     "user_exits" };
	uint64_t before[4];
	struct vx_stats *s;
	int fd = ioctl(running_vcpu_fd, VSNIX_GET_VCPU_STATS_FD, 0);
	unsigned int i;

	/* vx_stats_parse closes the fd when it fails. */
	if (fd < 0 || vx_stats_parse(fd, &s)) {
		tap_diag("  no stats fd");
		return;
	}
	vx_stats_read(s);
	for (i = 0; i < 4; i++)
		before[i] = vx_stats_get(s, names[i]);
	usleep(500000);
	vx_stats_read(s);
	for (i = 0; i < 4; i++)
		tap_diag("  %s %llu (+%llu in 0.5 s)", names[i],
			 (unsigned long long)vx_stats_get(s, names[i]),
			 (unsigned long long)(vx_stats_get(s, names[i]) - before[i]));
	vx_stats_free(s);
}

static void *slow_run_watch(void *arg)
{
	sigset_t all;
	long seen = 0;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!watcher_stop) {
		long b = run_began_ms;

		usleep(200000);
		if (!b || b != run_began_ms || mono_ms() - b < SLOW_RUN_MS)
			continue;
		if (seen == b && mono_ms() - b < 10000)
			continue;
		seen = b;
		tap_diag("slow RUN: VM %ld mode %s run %d in RUN for %ld ms", vm_index,
			 current_mode >= 0 ? mode_names[current_mode] : "?",
			 (int)current_run, mono_ms() - b);
		show_task_file("stat");
		show_task_file("stack");
		show_task_file("syscall");
		show_exit_rate();
	}
	return NULL;
}

static void show_stopped_state(struct vsnix_test_vcpu *vcpu, long ms)
{
	struct vsnix_regs r;
	struct vsnix_sregs s;
	uint8_t code[16] = { 0 };
	uint64_t lin;

	vcpu_get_regs(vcpu, &r);
	vcpu_get_sregs(vcpu, &s);
	lin = s.cs.base + r.rip;
	if (lin + 16 <= RAM_SIZE)
		memcpy(code, (uint8_t *)vcpu->vm->mem + lin, 16);
	tap_diag("slow RUN of %ld ms, VM %ld exit %u: rip %llx rflags %llx cs %x base %llx db %u l %u cr0 %llx cr4 %llx efer %llx ss %x",
		 ms, vm_index, vcpu->run->exit_reason, (unsigned long long)r.rip,
		 (unsigned long long)r.rflags, s.cs.selector,
		 (unsigned long long)s.cs.base, s.cs.db, s.cs.l,
		 (unsigned long long)s.cr0, (unsigned long long)s.cr4,
		 (unsigned long long)s.efer, s.ss.selector);
	tap_diag("  code at CS:RIP %02x %02x %02x %02x %02x %02x %02x %02x %02x %02x %02x %02x %02x %02x %02x %02x rcx %llx rsp %llx idt %llx/%x",
		 code[0], code[1], code[2], code[3], code[4], code[5], code[6], code[7],
		 code[8], code[9], code[10], code[11], code[12], code[13], code[14], code[15],
		 (unsigned long long)r.rcx, (unsigned long long)r.rsp,
		 (unsigned long long)s.idt.base, s.idt.limit);
}

static void run_guest(struct vsnix_test_vcpu *vcpu)
{
	/*
	 * Periodic: a one-shot signal taken before RUN began (the thread
	 * preempted after timer_settime) left RUN without any.
	 */
	struct itimerspec its = { .it_value.tv_nsec = RUN_TIMER_NS,
				  .it_interval.tv_nsec = RUN_TIMER_NS };
	struct itimerspec off = { 0 };
	unsigned int i;
	int ret;

	for (i = 0; i < MAX_RUNS; i++) {
		current_run = i;
		timer_settime(run_timer, 0, &its, NULL);
		running_vcpu_fd = vcpu->fd;
		run_began_ms = mono_ms();
		ret = vcpu_run_raw(vcpu);
		timer_settime(run_timer, 0, &off, NULL);
		{
			long ms = mono_ms() - run_began_ms;

			run_began_ms = 0;
			if (ms > SLOW_RUN_MS)
				show_stopped_state(vcpu, ms);
		}
		if (ret < 0) {
			run_errnos[errno & 0xff]++;
			if (!run_errno_defined(errno)) {
				bad_run_errnos++;
				tap_diag("RUN: errno %d (%s)", errno, strerror(errno));
				return;
			}
			if (errno != EINTR)
				return;
			continue;
		}
		last_exit = vcpu->run->exit_reason;
		if (vcpu->run->exit_reason <= VSNIX_EXIT_DEBUG)
			exits[vcpu->run->exit_reason]++;
		if (!answer_exit(vcpu))
			return;
	}
}

/* A VM that outlives VM_SECONDS is a hang: say which, and fail. */
static void on_alarm(int sig)
{
	static const char msg[] = "not ok - a VM ran past its time limit in mode ";
	const char *name = current_mode >= 0 ? mode_names[current_mode] : "?";

	(void)sig;
	write(1, msg, sizeof(msg) - 1);
	write(1, name, strlen(name));
	{
		char b[64];
		int n = snprintf(b, sizeof(b), " phase %d run %d exit %d\n",
				 (int)current_phase, (int)current_run, (int)last_exit);
		write(1, b, n);
	}
	_exit(1);
}

/* The modes in turn, so every one is fuzzed whatever the seed. */
static void fuzz_one_vm(enum mode mode)
{
	current_mode = mode;
	alarm(VM_SECONDS);
	struct vsnix_test_vm *vm = vm_create(RAM_SIZE);
	struct vsnix_test_vcpu *vcpu = vcpu_create(vm, 0);

	vms_per_mode[mode]++;
	fill_random(vm->mem, RAM_SIZE);
	if (mode == MODE_REAL)
		vcpu_setup_real_mode(vcpu, rnd_below(0x1000), rnd());
	else if (mode == MODE_PROT)
		vcpu_setup_prot_mode(vcpu, rnd_below(RAM_SIZE), rnd_below(RAM_SIZE));
	else
		setup_long_mode(vcpu, mode);
	if (mode == MODE_STORM)
		write_storm(vm);
	randomize_regs(vcpu, mode);
	if (one_in(4))
		mutate_sregs(vcpu);
	add_devices(vm);
	current_phase = 1;
	run_guest(vcpu);
	current_phase = 2;
	vm_destroy(vm);
	current_phase = 0;
	alarm(0);
	TEST_ASSERT(!ftruncate(console_fd, 0), "truncate console");
}

/* ----------------------------------------------------------- harness */

static void on_timer(int sig)
{
	(void)sig;	/* only interrupts RUN (no SA_RESTART) */
}

static long default_vms(void)
{
	const char *env = getenv("VSNIX_FUZZ_VMS");
	const char *machine = getenv("VSNIX_RIG_MACHINE");

	if (env && *env)
		return strtol(env, NULL, 0);
	if (machine && !strcmp(machine, "vmx"))
		return 40;	/* Bochs */
	if (machine && !strcmp(machine, "svm-debug"))
		return 100;	/* KASAN and lockdep make each VM slow */
	return 120;	/* svm: ~11 s */
}

static void open_backing_files(void)
{
	char path[] = "/tmp/guest_fuzz.XXXXXX";

	console_fd = mkstemp(path);
	TEST_ASSERT(console_fd >= 0, "console file");
	unlink(path);
	strcpy(path, "/tmp/guest_fuzz.XXXXXX");
	block_fd = mkstemp(path);
	TEST_ASSERT(block_fd >= 0 && !ftruncate(block_fd, 1 << 16), "block file");
	unlink(path);
}

static void report(long nr_vms)
{
	unsigned int i;

	for (i = 0; i < NR_MODES; i++)
		tap_diag("mode %-24s %lu VMs", mode_names[i], vms_per_mode[i]);
	for (i = 0; i <= VSNIX_EXIT_DEBUG; i++)
		if (exits[i])
			tap_diag("exit %-16s %lu", exit_reason_str(i), exits[i]);
	for (i = 0; i < 256; i++)
		if (run_errnos[i])
			tap_diag("RUN errno %-13s %lu", strerror(i), run_errnos[i]);
	tap_diag("SET_SREGS refused %lu mutated states", sregs_refused);
	(void)nr_vms;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_timer };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
	const char *seed_env = getenv("VSNIX_FUZZ_SEED");
	uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)time(NULL);
	long nr_vms = default_vms(), i;
	pthread_t watcher;
	int fds_before;

	vsnix_dev_fd();
	tap_plan(3);
	tap_diag("%ld VMs, seed 0x%llx", nr_vms, (unsigned long long)seed);
	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGALRM, on_alarm);
	TEST_ASSERT(!timer_create(CLOCK_MONOTONIC, &sev, &run_timer), "timer_create");
	open_backing_files();
	fds_before = count_open_fds();

	main_tid = syscall(SYS_gettid);
	TEST_ASSERT(!pthread_create(&watcher, NULL, slow_run_watch, NULL),
		    "pthread_create");
	for (i = 0; i < nr_vms; i++) {
		vm_index = i;
		fuzz_one_vm(i % NR_MODES);
		if ((i + 1) % 50 == 0)
			tap_diag("%ld VMs done", i + 1);
	}
	/* Its stats fd closed before the fds are counted. */
	watcher_stop = true;
	pthread_join(watcher, NULL);
	report(nr_vms);

	tap_ok(!undefined_exits, "every exit reason is one the API defines (%lu not)",
	       undefined_exits);
	tap_ok(!bad_run_errnos, "every failed RUN has a documented errno (%lu not)",
	       bad_run_errnos);
	tap_ok(kernel_healthy() && count_open_fds() == fds_before,
	       "kernel not tainted by an oops or WARN; every VM's fds closed");
	tap_finish();
}
