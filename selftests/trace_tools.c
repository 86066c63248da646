// SPDX-License-Identifier: GPL-2.0
/*
 * The bpftrace tools of bpf/tools/ against a guest that makes exactly
 * N_CALLS hvt WALLTIME hypercalls and M_WRITES port writes: each tool,
 * attached to the vsnix tracepoints through the host's bpftrace
 * (hostrun), counts exactly those; the stats fd agrees; `vsnixctl top
 * --once --json` shows the VM, found by id from another process, with
 * the same counts. bpftrace is the host's, through hostrun (QEMU: the
 * host root over 9p; Bochs: the host root disc, scripts/rig/hostroot.sh).
 * The five tools run as one bpftrace program (their map names differ):
 * one bpftrace start can take minutes on a loaded TCG machine. The maps
 * are printed when the VM is destroyed (a probe on vsnix_vm_destroy),
 * not at bpftrace's exit: detaching every probe first can take longer
 * than any fair wait on a loaded machine (CI: four tools read as 0).
 */
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/vsnix_hvt.h>
#include "vsnix_util.h"
#include "vsnix/stats.h"

#define N_CALLS		37
#define M_WRITES	23
#define TEST_PORT	0x600
#define ATTACH_S	420	/* bpftrace starts slowly under TCG */
#define BT_OUT		"/tmp/vsnix-bt.out"
#define BANNER		"vsnix-bt: all tools attached"
#define MAPS_DONE	"vsnix-bt: maps printed"

static const char *const tools[] = {
	"vsnix-exits", "vsnix-exit-latency", "vsnix-hypercalls", "vsnix-io",
	"vsnix-halt",
};
#define NR_TOOLS	(sizeof(tools) / sizeof(tools[0]))
#define NR_TESTS	(6 + NR_TOOLS)

static volatile struct hvt_hc_walltime wt;

static void guest_fn(void)
{
	int i;

	for (i = 0; i < N_CALLS; i++)
		guest_outl(HVT_HYPERCALL_PIO_BASE + HVT_HYPERCALL_WALLTIME,
			   (uint32_t)(uintptr_t)&wt);
	for (i = 0; i < M_WRITES; i++)
		guest_outb(TEST_PORT, i);
	GUEST_DONE();
}

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = 0;
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return buf;
}

static int bt_pid(void)
{
	return atoi(slurp("/tmp/vsnix-bt.pid"));
}

/*
 * The tools as one program: bpftrace 0.17 takes one BEGIN and one END, so
 * theirs (banners, clean-up) are left out and one of each added. Its BEGIN
 * runs before the other probes attach, but what it prints is read only
 * once they all are: the banner means "attached".
 */
static void write_program_ends(FILE *out, uint32_t vm_id)
{
	fputs("BEGIN\n{\n\tprintf(\"" BANNER "\\n\");\n}\n"
	      "END\n{\n\tclear(@lat_last);\n\tclear(@halt_pending);\n}\n", out);
	fprintf(out, "tracepoint:vsnix:vsnix_vm_destroy\n/args->vm == %u/\n{\n"
		"\tprint(@exits);\n\tprint(@exit_latency_count);\n"
		"\tprint(@hypercalls);\n\tprint(@io_user);\n"
		"\tprint(@io_accesses);\n\tprint(@halts);\n"
		"\tprintf(\"" MAPS_DONE "\\n\");\n\texit();\n}\n", vm_id);
}

static bool write_program(uint32_t vm_id)
{
	FILE *out = fopen("/tmp/vsnix-bt/all.bt", "w");
	char path[96], line[512];
	bool skip = false;
	unsigned int t;

	if (!out)
		return false;
	for (t = 0; t < NR_TOOLS; t++) {
		FILE *in;

		snprintf(path, sizeof(path), "/selftests/bpftools/%s.bt", tools[t]);
		in = fopen(path, "r");
		if (!in) {
			fclose(out);
			return false;
		}
		while (fgets(line, sizeof(line), in)) {
			if (!strcmp(line, "BEGIN\n") || !strcmp(line, "END\n"))
				skip = true;
			else if (skip && line[0] == '}')
				skip = false;
			else if (!skip && strncmp(line, "#!", 2))
				fputs(line, out);
		}
		fclose(in);
	}
	write_program_ends(out, vm_id);
	return !fclose(out);
}

static bool start_tools(uint32_t vm_id)
{
	system("rm -rf /tmp/vsnix-bt /tmp/vsnix-bt.*; mkdir -p /tmp/vsnix-bt");
	if (!write_program(vm_id))
		return false;
	system("/bin/hostrun sh -c '"
	       "[ -d /sys/kernel/tracing/events ] || "
	       "mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null; "
	       "echo $$ > /tmp/vsnix-bt.pid; "
	       "exec bpftrace /tmp/vsnix-bt/all.bt' >" BT_OUT " 2>&1 &");
	return true;
}

static bool wait_attached(time_t *took)
{
	time_t start = time(NULL), end = start + ATTACH_S;

	do {
		*took = time(NULL) - start;
		if (strstr(slurp(BT_OUT), BANNER)) {
			/* The rig's limits are set from this (trace_tools.timeout). */
			tap_diag("bpftrace attached after %ld s", (long)*took);
			return true;
		}
		if (strstr(slurp(BT_OUT), "ERROR"))
			return false;
		sleep(1);
	} while (time(NULL) < end);
	return false;
}

static bool bt_alive(void)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d", bt_pid());
	return bt_pid() > 0 && !access(path, F_OK);
}

static void wait_gone(time_t limit_s)
{
	time_t end = time(NULL) + limit_s;

	while (bt_alive() && time(NULL) < end)
		sleep(1);
}

/*
 * Called once the VM is destroyed: its probe prints the maps and calls
 * exit(). bpftrace is killed once they are out (or never attached): its
 * own exit detaches every probe first, minutes under TCG, holding
 * vsnix.ko meanwhile, and a bpftrace still starting ignores SIGINT (sh
 * started it in the background).
 */
static void stop_tools(bool attached, time_t attach_s)
{
	time_t wait_s = 60 + attach_s < 300 ? 60 + attach_s : 300;
	time_t start = time(NULL), end = start + wait_s;
	bool printed = false;

	if (bt_pid() <= 0)
		return;
	while (attached && bt_alive() && time(NULL) < end &&
	       !(printed = strstr(slurp(BT_OUT), MAPS_DONE) != NULL))
		sleep(1);
	if (attached)
		tap_diag("bpftrace %s %ld s after the VM's destruction",
			 printed ? "printed its maps" : "printed no maps in",
			 (long)(time(NULL) - start));
	kill(bt_pid(), SIGKILL);
	wait_gone(60);
}

/* The value of a map line "@map[key]: value" of the output; 0 if none. */
static long long map_value(const char *key)
{
	char *p, *text = slurp(BT_OUT);
	size_t len = strlen(key);

	for (p = text; (p = strstr(p, key)); p += len)
		if ((p == text || p[-1] == '\n') && p[len] == ':')
			return atoll(p + len + 1);
	return 0;
}

static bool check_tool(unsigned int t, const char *key, long long want)
{
	long long got = map_value(key);

	if (got != want)
		tap_diag("%s: %s is %lld, want %lld", tools[t], key, got, want);
	return got == want;
}

static uint32_t create_hvt(struct vsnix_test_vm *vm)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_HVT, .console_fd = -1 };
	int i;

	for (i = 0; i < VSNIX_HVT_MAX_BLOCK; i++)
		c.hvt.block[i].fd = -1;
	for (i = 0; i < VSNIX_HVT_MAX_NET; i++)
		c.hvt.net[i].fd = -1;
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c), "hvt: %s", strerror(errno));
	return c.id;
}

static bool run_guest(struct vsnix_test_vcpu *vcpu)
{
	struct ucall uc;
	int i;

	for (i = 0; i < M_WRITES; i++) {
		vcpu_run(vcpu);
		if (!vcpu_is_io(vcpu, TEST_PORT, VSNIX_EXIT_IO_OUT, 1)) {
			tap_diag("write %d: %s", i, vcpu_exit_str(vcpu));
			return false;
		}
	}
	return vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE;
}

static bool check_top(uint32_t id, const struct vx_stats *s)
{
	char cmd[160], want[96], *out;
	bool ok = true;
	int st;

	snprintf(cmd, sizeof(cmd),
		 "vsnixctl top --once --json --interval 0 --vm %u >/tmp/vsnix-top.json", id);
	st = system(cmd);
	out = slurp("/tmp/vsnix-top.json");
	snprintf(want, sizeof(want), "\"id\":%u,\"name\":\"trace-tools\"", id);
	ok &= st == 0 && strstr(out, want);
	snprintf(want, sizeof(want), "\"hypercalls_walltime\":%d,", N_CALLS);
	ok &= strstr(out, want) != NULL;
	snprintf(want, sizeof(want), "\"pio_user\":%d,", M_WRITES + 1);
	ok &= strstr(out, want) != NULL;
	snprintf(want, sizeof(want), "\"exits_io\":%llu,",
		 (unsigned long long)vx_stats_get(s, "exits_io"));
	ok &= strstr(out, want) != NULL;
	if (!ok)
		tap_diag("vsnixctl top: status %d, output: %.400s", st, out);
	return ok;
}

/* The stats fd's counts, read before the VM is destroyed. */
struct vm_counts {
	long long io_exits, halts;
};

static void check_stats(struct vsnix_test_vm *vm, uint32_t id, struct vm_counts *c)
{
	struct vx_stats *s = NULL;

	TEST_ASSERT(!vx_stats_parse(ioctl(vm->fd, VSNIX_GET_STATS_FD, 0), &s) &&
		    !vx_stats_read(s), "stats fd");
	c->io_exits = vx_stats_get(s, "exits_io");
	c->halts = vx_stats_get(s, "halts");
	/* The hypercalls, the writes and the DONE ucall are all OUTs. */
	tap_ok(vx_stats_get(s, "hypercalls_walltime") == N_CALLS &&
	       vx_stats_get(s, "hypercalls") == N_CALLS &&
	       vx_stats_get(s, "pio_user") == M_WRITES + 1 &&
	       vx_stats_get(s, "pio_kernel") == N_CALLS &&
	       c->io_exits == N_CALLS + M_WRITES + 1,
	       "stats fd: %llu walltime hypercalls, %llu userspace port I/O, %lld io exits",
	       (unsigned long long)vx_stats_get(s, "hypercalls_walltime"),
	       (unsigned long long)vx_stats_get(s, "pio_user"), c->io_exits);
	tap_ok(check_top(id, s), "vsnixctl top --once --json shows VM %u with those counts", id);
	vx_stats_free(s);	/* the stats fd holds the VM */
}

static void check_tools(uint32_t id, uint32_t dev, const struct vm_counts *c)
{
	char key[64];

	snprintf(key, sizeof(key), "@exits[%u, 8]", id);
	tap_ok(check_tool(0, key, c->io_exits), "vsnix-exits: %lld io exits", c->io_exits);
	snprintf(key, sizeof(key), "@exit_latency_count[%u, 8]", id);
	tap_ok(check_tool(1, key, N_CALLS + M_WRITES),
	       "vsnix-exit-latency: %d entries after io exits (not after the last)",
	       N_CALLS + M_WRITES);
	snprintf(key, sizeof(key), "@hypercalls[%u, %d]", id, HVT_HYPERCALL_WALLTIME);
	tap_ok(check_tool(2, key, N_CALLS), "vsnix-hypercalls: %d WALLTIME", N_CALLS);
	snprintf(key, sizeof(key), "@io_user[%u, 0, %d, 1]", id, TEST_PORT);
	tap_ok(check_tool(3, key, M_WRITES) &&
	       (snprintf(key, sizeof(key), "@io_accesses[%u, %u, 0]", id, dev),
		check_tool(3, key, N_CALLS)),
	       "vsnix-io: %d writes to port %#x by userspace, %d to hvt device %u",
	       M_WRITES, TEST_PORT, N_CALLS, dev);
	snprintf(key, sizeof(key), "@halts[%u]", id);
	tap_ok(check_tool(4, key, c->halts), "vsnix-halt: %lld halts as the stats fd", c->halts);
}

static void print_bt_output(void)
{
	char *line = slurp(BT_OUT), *nl;

	printf("# --- bpftrace output ---\n");
	for (; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line);
		printf("# %.*s\n", (int)(nl - line), line);
		if (!*nl)
			break;
	}
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_vm_info info;
	struct vm_counts counts;
	uint32_t dev;
	time_t attach_s = 0;
	bool attached;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_VM_LIST) != 1 || vsnix_cap(VSNIX_CAP_STATS) != 1)
		tap_skip_all("no VSNIX_CAP_VM_LIST/VSNIX_CAP_STATS");
	if (access("/sys/kernel/tracing/events", F_OK))
		system("mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null");
	if (access("/sys/kernel/tracing/events/vsnix", F_OK))
		tap_skip_all("no vsnix tracepoints (CONFIG_TRACEPOINTS off, or VSNIX_TRACE=0)");
	if (system("/bin/hostrun true >/dev/null 2>&1"))
		tap_skip_all("no host root for bpftrace (hostrun)");
	tap_plan(NR_TESTS);

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_fn);
	dev = create_hvt(vm);
	TEST_ASSERT(!vx_vm_set_name(vm->fd, "trace-tools"), "name");
	TEST_ASSERT(!vx_vm_get_info(vm->fd, &info), "info");
	tap_ok(start_tools(info.id), "the %zu tools as one bpftrace program", NR_TOOLS);
	attached = wait_attached(&attach_s);
	tap_ok(attached, "bpftrace attached to tracepoint:vsnix:*");

	tap_ok(run_guest(vcpu), "guest: %d hypercalls, %d port writes, DONE", N_CALLS, M_WRITES);
	check_stats(vm, info.id, &counts);
	vm_destroy(vm);
	stop_tools(attached, attach_s);
	check_tools(info.id, dev, &counts);
	print_bt_output();
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
