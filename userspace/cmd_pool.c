// SPDX-License-Identifier: GPL-2.0
/*
 * `vsnixctl pool create|load|unload|list|show` on the pool library
 * (pool/, Documentation/pools.rst).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "vsnixctl.h"
#include "pool/pool.h"

static int fail(const struct pool_err *e)
{
	fprintf(stderr, "vsnixctl pool: %s\n", e->msg);
	return EXIT_SETUP_ERROR;
}

static int usage(void)
{
	command_help(stderr, "pool");
	return EXIT_SETUP_ERROR;
}

static int pool_cmd_create(const char *dir, int argc, char **argv)
{
	struct pool_err e = { };
	struct pool p;
	char *copy;
	int ret;

	if (argc != 1)
		return usage();
	ret = pool_parse_desc(&p, argv[0], &e);
	copy = strdup(argv[0]);
	if (!ret)
		ret = pool_create(&p, dir, dirname(copy), &e);
	free(copy);
	if (!ret)
		printf("%s/%s.img\n%s/%s.json\n", dir, p.name, dir, p.name);
	pool_free(&p);
	return ret ? fail(&e) : 0;
}

static void print_vm(const struct pool_vm *vm)
{
	printf("%-20s %-9s %6llu MiB %2u vCPU %u disk %u nic %s  %s\n", vm->name,
	       pool_kind_name(vm->kind), (unsigned long long)vm->memory_mib,
	       vm->vcpus, vm->nr_disks, vm->nr_nics,
	       vm->autostart ? "autostart" : "-", vm->hash);
}

/* --json: { "pool", "mount_point", "read_write", "vms": [ vmcfg... ] } */
static void print_pool_json(const struct pool *p)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	unsigned int i;
	char *s;

	json_object_object_add(o, "pool", json_object_new_string(p->name));
	json_object_object_add(o, "mount_point",
			       json_object_new_string(p->mount_point));
	json_object_object_add(o, "read_write",
			       json_object_new_boolean(p->read_write));
	for (i = 0; i < p->nr_vms; i++) {
		s = pool_vm_to_json(&p->vms[i]);
		json_object_array_add(a, json_tokener_parse(s));
		free(s);
	}
	json_object_object_add(o, "vms", a);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
				JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_pool(const struct pool *p, bool json)
{
	unsigned int i;

	if (json) {
		print_pool_json(p);
		return;
	}
	printf("pool %s at %s (%s)\n", p->name, p->mount_point,
	       p->read_write ? "read-write" : "read-only");
	for (i = 0; i < p->nr_vms; i++)
		print_vm(&p->vms[i]);
}

static int pool_cmd_load(const char *dir, bool json, int argc, char **argv)
{
	struct pool_err e = { };
	struct pool p;

	if (argc != 2)
		return usage();
	if (mkdir(argv[1], 0755) && errno != EEXIST) {
		fprintf(stderr, "vsnixctl pool: %s: %s\n", argv[1], strerror(errno));
		return EXIT_SETUP_ERROR;
	}
	if (pool_load(&p, dir, argv[0], argv[1], &e))
		return fail(&e);
	print_pool(&p, json);
	pool_free(&p);
	return 0;
}

static int pool_cmd_show(bool json, int argc, char **argv)
{
	struct pool_err e = { };
	struct pool p = { };

	if (argc != 1)
		return usage();
	if (pool_read_mounted(&p, argv[0], &e))
		return fail(&e);
	print_pool(&p, json);
	pool_free(&p);
	return 0;
}

/* Every NAME.json in dir; an error line for a pool whose files are bad. */
static int pool_cmd_list(const char *dir)
{
	struct pool_err e = { };
	struct dirent *d;
	char name[4096], *img, *js;
	DIR *dp = opendir(dir);
	int bad = 0;

	if (!dp) {
		fprintf(stderr, "vsnixctl pool: %s: %s\n", dir, strerror(errno));
		return EXIT_SETUP_ERROR;
	}
	while ((d = readdir(dp))) {
		struct pool p = { };
		size_t n = strlen(d->d_name);

		if (n < 6 || n > 200 || strcmp(d->d_name + n - 5, ".json") ||
		    d->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "%s/%.*s.img", dir, (int)n - 5,
			 d->d_name);
		if (access(name, F_OK))
			continue;	/* not a pool (a description, say) */
		snprintf(name, sizeof(name), "%.*s", (int)n - 5, d->d_name);
		if (pool_files(dir, name, &img, &js, &e) ||
		    pool_parse_meta(&p, js, &e)) {
			fprintf(stderr, "vsnixctl pool: %s\n", e.msg);
			bad = 1;
		} else {
			printf("%-20s %6llu MiB  created %s\n", p.name,
			       (unsigned long long)p.size_mib, p.created);
		}
		free(img);
		free(js);
		pool_free(&p);
	}
	closedir(dp);
	return bad ? EXIT_SETUP_ERROR : 0;
}

int cmd_pool(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "daemon", no_argument, NULL, 'D' },
		{ }
	};
	const char *dir = ".", *sub;
	struct pool_err e = { };
	bool json = false, daemon = false;
	int c;

	while ((c = getopt_long(argc, argv, "+d:j", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'j')
			json = true;
		else if (c == 'D')
			daemon = true;
		else
			return usage();
	}
	if (optind >= argc)
		return usage();
	sub = argv[optind++];
	argc -= optind;
	argv += optind;
	if (daemon)
		return vsnixd_pool_cmd(sub, json, argc, argv);
	if (!strcmp(sub, "create"))
		return pool_cmd_create(dir, argc, argv);
	if (!strcmp(sub, "load"))
		return pool_cmd_load(dir, json, argc, argv);
	if (!strcmp(sub, "show"))
		return pool_cmd_show(json, argc, argv);
	if (!strcmp(sub, "list"))
		return argc ? usage() : pool_cmd_list(dir);
	if (!strcmp(sub, "unload") && argc == 1)
		return pool_unload(argv[0], &e) ? fail(&e) : 0;
	return usage();
}
