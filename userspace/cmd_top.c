// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl top / stats: the VMs of this host and their counters, read
 * from stats fds (Documentation/observability.rst). VMs are found with
 * VSNIX_LIST_VMS on /dev/vsnix and opened by id, so they may belong to
 * other processes (same uid, or CAP_SYS_ADMIN for anyone's).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "vsnixctl.h"
#include "vsnix/stats.h"

#define MAX_SAMPLES	256	/* VMs and vCPUs tracked between refreshes */

/* One stats fd's values at one time. */
struct sample {
	uint32_t vm, vcpu;
	unsigned int nr;
	uint64_t *values;
};

struct top_state {
	int sys_fd;
	bool json, once;
	double interval;
	long filter_vm;			/* -1: all */
	struct sample prev[MAX_SAMPLES];
	unsigned int nr_prev;
	double prev_time;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* utime + stime of a process, in seconds; -1 when it cannot be read. */
static double proc_cpu_s(pid_t pid)
{
	unsigned long ut, st;
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');	/* the command name may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static const struct sample *prev_sample(const struct top_state *t,
					uint32_t vm, uint32_t vcpu)
{
	unsigned int i;

	for (i = 0; i < t->nr_prev; i++)
		if (t->prev[i].vm == vm && t->prev[i].vcpu == vcpu)
			return &t->prev[i];
	return NULL;
}

/* Rate of value i since the last refresh (0 at the first). */
static double rate(const struct top_state *t, const struct sample *old,
		   const struct vx_stats *s, unsigned int i, double dt)
{
	if (!old || i >= old->nr || dt <= 0 || s->values[i] < old->values[i] ||
	    (s->flags[i] & VSNIX_STATS_TYPE_MASK) != VSNIX_STATS_TYPE_CUMULATIVE)
		return 0;
	(void)t;
	return (s->values[i] - old->values[i]) / dt;
}

static void keep_sample(struct sample *next, unsigned int *nr_next,
			const struct vx_stats *s, uint32_t vm, uint32_t vcpu)
{
	struct sample *n;

	if (*nr_next >= MAX_SAMPLES)
		return;
	n = &next[(*nr_next)++];
	n->vm = vm;
	n->vcpu = vcpu;
	n->nr = s->nr;
	n->values = malloc(s->nr * sizeof(uint64_t));
	if (n->values)
		memcpy(n->values, s->values, s->nr * sizeof(uint64_t));
	else
		n->nr = 0;
}

static json_object *stats_json(const struct top_state *t,
			       const struct vx_stats *s,
			       const struct sample *old, double dt)
{
	json_object *o = json_object_new_object();
	json_object *tot = json_object_new_object();
	json_object *rates = json_object_new_object();
	unsigned int i;

	for (i = 0; i < s->nr; i++) {
		json_object_object_add(tot, s->names[i],
				       json_object_new_uint64(s->values[i]));
		json_object_object_add(rates, s->names[i],
				       json_object_new_double(rate(t, old, s, i, dt)));
	}
	json_object_object_add(o, "total", tot);
	json_object_object_add(o, "rate", rates);
	return o;
}

/* Text: the counters that moved (or, the first time, that are set). */
static void stats_text(const struct top_state *t, const struct vx_stats *s,
		       const struct sample *old, double dt, const char *indent)
{
	unsigned int i;

	for (i = 0; i < s->nr; i++) {
		double r = rate(t, old, s, i, dt);

		if (!s->values[i] || (old && !r && !t->once))
			continue;
		printf("%s%-28s %14llu %12.1f/s\n", indent, s->names[i],
		       (unsigned long long)s->values[i], r);
	}
}

static struct vx_stats *open_stats(int sys_fd, uint32_t vm, uint32_t vcpu)
{
	struct vx_stats *s;
	int fd = vx_stats_fd_by_id(sys_fd, vm, vcpu);

	if (fd < 0 || vx_stats_parse(fd, &s) || vx_stats_read(s))
		return NULL;	/* gone meanwhile, or not ours */
	return s;
}

/* One VM: its line, its counters, its vCPUs. Returns its JSON or NULL. */
static json_object *show_vm(struct top_state *t, const struct vsnix_vm_info *vm,
			    struct sample *next, unsigned int *nr_next, double dt)
{
	json_object *o = NULL, *vcpus = NULL;
	struct vx_stats *s = open_stats(t->sys_fd, vm->id, VSNIX_STATS_VM);
	double cpu = proc_cpu_s(vm->owner_pid);
	uint32_t id, found = 0;

	if (!s)
		return NULL;
	if (t->json) {
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64(vm->id));
		json_object_object_add(o, "name", json_object_new_string(vm->name));
		json_object_object_add(o, "pid", json_object_new_int(vm->owner_pid));
		json_object_object_add(o, "uid", json_object_new_int64(vm->owner_uid));
		json_object_object_add(o, "vcpus", json_object_new_int(vm->nr_vcpus));
		json_object_object_add(o, "mem_bytes", json_object_new_uint64(vm->mem_bytes));
		json_object_object_add(o, "exited",
				       json_object_new_boolean(vm->flags & VSNIX_VM_INFO_EXITED));
		json_object_object_add(o, "cpu_s", json_object_new_double(cpu));
		json_object_object_add(o, "stats", stats_json(t, s,
				       prev_sample(t, vm->id, VSNIX_STATS_VM), dt));
		vcpus = json_object_new_array();
	} else {
		printf("VM %u %-20s pid %d uid %u vcpus %u mem %llu MiB cpu %.2f s%s\n",
		       vm->id, vm->name[0] ? vm->name : "-", vm->owner_pid,
		       vm->owner_uid, vm->nr_vcpus,
		       (unsigned long long)(vm->mem_bytes >> 20), cpu,
		       vm->flags & VSNIX_VM_INFO_EXITED ? " (exited)" : "");
		stats_text(t, s, prev_sample(t, vm->id, VSNIX_STATS_VM), dt, "  ");
	}
	keep_sample(next, nr_next, s, vm->id, VSNIX_STATS_VM);
	vx_stats_free(s);

	for (id = 0; id < 64 && found < vm->nr_vcpus; id++) {
		s = open_stats(t->sys_fd, vm->id, id);
		if (!s)
			continue;
		found++;
		if (t->json) {
			json_object *v = stats_json(t, s, prev_sample(t, vm->id, id), dt);

			json_object_object_add(v, "id", json_object_new_int(id));
			json_object_array_add(vcpus, v);
		} else {
			const struct sample *old = prev_sample(t, vm->id, id);
			int e = vx_stats_index(s, "exits");
			int h = vx_stats_index(s, "hypercalls");

			printf("  vcpu %-3u exits %llu (%.1f/s) hypercalls %llu (%.1f/s)\n", id,
			       (unsigned long long)s->values[e], rate(t, old, s, e, dt),
			       (unsigned long long)s->values[h], rate(t, old, s, h, dt));
		}
		keep_sample(next, nr_next, s, vm->id, id);
		vx_stats_free(s);
	}
	if (o)
		json_object_object_add(o, "vcpu", vcpus);
	return o;
}

static int top_refresh(struct top_state *t, bool print)
{
	struct sample next[MAX_SAMPLES];
	unsigned int nr_next = 0, i;
	struct vsnix_vm_info *vms;
	json_object *root = NULL, *arr = NULL;
	double now = now_s(), dt = t->nr_prev ? now - t->prev_time : 0;
	int n = vx_list_vms(t->sys_fd, &vms);

	if (n < 0)
		return n;
	if (print && t->json) {
		root = json_object_new_object();
		arr = json_object_new_array();
		json_object_object_add(root, "interval_s", json_object_new_double(dt));
	} else if (print && !t->once && isatty(STDOUT_FILENO)) {
		printf("\033[H\033[2J");
	}
	for (i = 0; i < (unsigned int)n; i++) {
		json_object *o;

		if (t->filter_vm >= 0 && vms[i].id != t->filter_vm)
			continue;
		if (!print) {	/* the first sample of --once: values only */
			bool json = t->json;

			t->json = true;
			o = show_vm(t, &vms[i], next, &nr_next, 0);
			t->json = json;
			json_object_put(o);
			continue;
		}
		o = show_vm(t, &vms[i], next, &nr_next, dt);
		if (o)
			json_object_array_add(arr, o);
	}
	free(vms);
	if (root) {
		json_object_object_add(root, "vms", arr);
		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
		json_object_put(root);
	} else if (print && !n) {
		printf("no VMs\n");
	}
	fflush(stdout);
	for (i = 0; i < t->nr_prev; i++)
		free(t->prev[i].values);
	memcpy(t->prev, next, nr_next * sizeof(next[0]));
	t->nr_prev = nr_next;
	t->prev_time = now;
	return 0;
}

static int top_loop(struct top_state *t)
{
	int ret;

	t->sys_fd = vx_open();
	if (report(t->sys_fd))
		return EXIT_SETUP_ERROR;
	if (vx_check_cap(t->sys_fd, VSNIX_CAP_VM_LIST) <= 0) {
		fprintf(stderr, "vsnixctl: this vsnix.ko has no VM list (VSNIX_CAP_VM_LIST)\n");
		return EXIT_SETUP_ERROR;
	}
	if (t->once) {
		/* Two samples: totals, and rates over the interval. */
		ret = t->interval > 0 ? top_refresh(t, false) : 0;
		if (!ret && t->interval > 0)
			usleep(t->interval * 1e6);
		ret = ret ? ret : top_refresh(t, true);
		return report(ret) ? EXIT_VM_ERROR : 0;
	}
	for (;;) {
		ret = top_refresh(t, true);
		if (report(ret))
			return EXIT_VM_ERROR;
		usleep(t->interval * 1e6);
	}
}

int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "interval", required_argument, NULL, 'i' },
		{ "vm", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct top_state t = { .interval = 1, .filter_vm = -1 };
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			t.once = true;
			break;
		case 'j':
			t.json = true;
			break;
		case 'i':
			t.interval = strtod(optarg, &end);
			if (*end || t.interval < 0 || t.interval > 3600) {
				fprintf(stderr, "vsnixctl: bad --interval '%s'\n", optarg);
				return EXIT_SETUP_ERROR;
			}
			break;
		case 'v':
			t.filter_vm = strtol(optarg, &end, 0);
			if (*end || t.filter_vm < 0) {
				fprintf(stderr, "vsnixctl: bad --vm '%s'\n", optarg);
				return EXIT_SETUP_ERROR;
			}
			break;
		case 'h':
			command_help(stdout, "top");
			return 0;
		default:
			command_help(stderr, "top");
			return EXIT_SETUP_ERROR;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vsnixctl: top takes no operands ('%s')\n", argv[optind]);
		return EXIT_SETUP_ERROR;
	}
	if (!t.once && t.interval <= 0)
		t.interval = 1;
	return top_loop(&t);
}

/* VM by id or by name; -ENOENT when none, -EEXIST when a name is shared. */
static long find_vm(int sys_fd, const char *what)
{
	struct vsnix_vm_info *vms;
	char *end;
	long id = strtol(what, &end, 10), found = -ENOENT;
	int n = vx_list_vms(sys_fd, &vms), i;

	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (*end ? strcmp(vms[i].name, what) : vms[i].id != id)
			continue;
		found = found == -ENOENT ? (long)vms[i].id : -EEXIST;
	}
	free(vms);
	return found;
}

int cmd_stats(int argc, char **argv)
{
	struct vx_stats *s;
	unsigned int i;
	long vm;
	int fd;

	if (argc != 2 || !strcmp(argv[1], "--help")) {
		command_help(argc == 2 ? stdout : stderr, "stats");
		return argc == 2 ? 0 : EXIT_SETUP_ERROR;
	}
	fd = vx_open();
	if (report(fd))
		return EXIT_SETUP_ERROR;
	vm = find_vm(fd, argv[1]);
	if (vm < 0) {
		fprintf(stderr, "vsnixctl: VM '%s': %s\n", argv[1],
			vm == -EEXIST ? "name shared by several VMs, use the id" :
			strerror(-vm));
		return EXIT_SETUP_ERROR;
	}
	fd = vx_stats_fd_by_id(fd, vm, VSNIX_STATS_VM);
	if (report(fd) || report(vx_stats_parse(fd, &s)))
		return EXIT_SETUP_ERROR;
	if (report(vx_stats_read(s)))
		return EXIT_VM_ERROR;
	printf("# %s\n", s->id);
	for (i = 0; i < s->nr; i++) {
		uint32_t unit = s->flags[i] & VSNIX_STATS_UNIT_MASK;

		printf("%-28s %llu%s\n", s->names[i], (unsigned long long)s->values[i],
		       unit == VSNIX_STATS_UNIT_BYTES ? " bytes" :
		       unit == VSNIX_STATS_UNIT_NS ? " ns" : "");
	}
	vx_stats_free(s);
	return 0;
}
