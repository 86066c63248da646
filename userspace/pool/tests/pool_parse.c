// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of the pool library: the name hash against sha256sum, a pool
 * tree parsed as the loader reads it, every kind of bad input (unknown
 * field, wrong type, bad JSON, missing file, name/hash mismatch,
 * duplicates), and `pool create` without root (mkfs.ext4 -d), its image
 * read back with debugfs. TAP output; run by `make check`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool.h"

static int nr_test, nr_fail;
static char tmp[] = "/tmp/vsnix-pool-test.XXXXXX";

static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d ", cond ? "" : "not ", ++nr_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		nr_fail++;
}

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static char *sh_out(const char *cmd)
{
	static char buf[4096];
	FILE *f = popen(cmd, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		pclose(f);
	return buf;
}

static void test_hash(void)
{
	char h[POOL_HASH_LEN + 1], cmd[128];

	pool_hash_name("web", h);
	snprintf(cmd, sizeof(cmd), "printf %%s web | sha256sum | cut -c1-%d",
		 POOL_HASH_LEN);
	ok(!strncmp(sh_out(cmd), h, POOL_HASH_LEN),
	   "hash of 'web' is sha256sum's first 16 digits (%s)", h);
}

static char hash[POOL_HASH_LEN + 1];

static const char *vmcfg_fmt =
	"{ \"format\": 1, \"name\": \"web\", \"hash\": \"%s\", \"kind\": \"multiboot\","
	" \"kernel\": \"kernels/%s.vmLinuz\", \"cmdline\": \"console=ttyS0\","
	" \"memory_mib\": 64, \"vcpus\": 1, \"autostart\": true,"
	" \"disks\": [ { \"name\": \"root\", \"file\": \"blocks/%s.root.img\","
	" \"readonly\": false, \"writes\": \"overlay\" } ],"
	" \"nics\": [ { \"name\": \"net0\", \"tap\": \"tap0\", \"mac\": \"52:54:00:12:34:56\" } ]%s }";

static void put_tree(const char *extra)
{
	char path[512], text[2048];

	snprintf(path, sizeof(path), "%s/kernels", tmp);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/blocks", tmp);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "kernels/%s.vmLinuz", hash);
	put(path, "kernel");
	snprintf(path, sizeof(path), "blocks/%s.root.img", hash);
	put(path, "disk");
	snprintf(text, sizeof(text),
		 "{ \"format\": 1, \"pool\": \"p1\", \"vms\": [ { \"name\": \"web\","
		 " \"hash\": \"%s\", \"config\": \"%s_vmcfg.cfg\" } ] }", hash, hash);
	put("vms.json", text);
	snprintf(text, sizeof(text), vmcfg_fmt, hash, hash, hash, extra);
	snprintf(path, sizeof(path), "%s_vmcfg.cfg", hash);
	put(path, text);
}

/* Parse the tree; expect success (want == NULL) or an error containing want. */
static void expect(const char *want, const char *what)
{
	struct pool p = { .name = "p1" };
	struct pool_err e = { };
	int ret = pool_read_mounted(&p, tmp, &e);

	if (!want)
		ok(!ret && p.nr_vms == 1, "%s%s%s", what, ret ? ": " : "", e.msg);
	else
		ok(ret && strstr(e.msg, want), "%s: \"%s\"", what, e.msg);
	if (want)
		printf("# %s\n", e.msg);
	pool_free(&p);
}

static void test_tree(void)
{
	struct pool p = { .name = "p1" };
	struct pool_err e = { };
	char path[512];

	put_tree("");
	ok(!pool_read_mounted(&p, tmp, &e) && p.nr_vms == 1 &&
	   !strcmp(p.vms[0].name, "web") && p.vms[0].kind == POOL_VM_MULTIBOOT &&
	   p.vms[0].memory_mib == 64 && p.vms[0].autostart &&
	   p.vms[0].nr_disks == 1 && p.vms[0].nr_nics == 1 &&
	   !strcmp(p.vms[0].cmdline, "console=ttyS0"),
	   "a good pool tree parses, every field read %s", e.msg);
	pool_free(&p);
	put_tree(", \"colour\": 1");
	expect("vm.colour: unknown field", "unknown field refused");
	put_tree(", \"initrd\": 5");
	expect("initrd: wrong type", "wrong type refused");
	put_tree(", \"initrd\": \"kernels/x.initrd.img\"");
	expect("name/hash mismatch", "a file not under the VM's hash refused");
	snprintf(path, sizeof(path), "kernels/%s.initrd.img", hash);
	put_tree(", \"initrd\": \"kernels/0.initrd.img\"");
	snprintf(path, sizeof(path), "%s/kernels/%s.vmLinuz", tmp, hash);
	put_tree("");
	unlink(path);
	expect("is not a file in the pool", "a kernel missing from the image refused");
	put_tree("");
	snprintf(path, sizeof(path), "%s_vmcfg.cfg", hash);
	put(path, "{ \"format\": 1, \"name\": ");
	expect("bad JSON", "corrupt JSON refused");
	put_tree("");
	put("vms.json", "{ \"format\": 1, \"pool\": \"p1\", \"vms\": [ { \"name\": \"web\","
	    " \"hash\": \"0000000000000000\", \"config\": \"x_vmcfg.cfg\" } ] }");
	expect("does not match the name", "vms.json hash/name mismatch refused");
	put("vms.json", "{ \"format\": 2, \"pool\": \"p1\", \"vms\": [] }");
	expect("format: 2 out of range", "unknown format refused");
	put("vms.json", "[ 1, 2 ]");
	expect("not a JSON object", "a non-object refused");
	unlink(strcat(strcpy(path, tmp), "/vms.json"));
	expect("vms.json: No such file", "a missing vms.json refused");
}

/* The tree with the root disk's "writes" set to writes. */
static void put_writes(const char *writes)
{
	char text[2048], out[2100], path[512], *at;

	put_tree("");
	snprintf(text, sizeof(text), vmcfg_fmt, hash, hash, hash, "");
	at = strstr(text, "\"overlay\"");
	*at = '\0';
	snprintf(out, sizeof(out), "%s\"%s\"%s", text, writes, at + strlen("\"overlay\""));
	snprintf(path, sizeof(path), "%s_vmcfg.cfg", hash);
	put(path, out);
}

/* "scratch" is read and written back; an unknown value is refused. */
static void test_writes(void)
{
	struct pool p = { .name = "p1" };
	struct pool_err e = { };
	char *json = NULL;

	put_writes("scratch");
	ok(!pool_read_mounted(&p, tmp, &e) && p.nr_vms == 1 &&
	   p.vms[0].disks[0].writes == POOL_WRITES_SCRATCH &&
	   (json = pool_vm_to_json(&p.vms[0])) && strstr(json, "\"writes\":\"scratch\""),
	   "writes \"scratch\": parsed, and written back as such %s", e.msg);
	free(json);
	pool_free(&p);
	put_writes("copy");
	expect(".writes: 'copy' is not overlay, scratch or pool", "an unknown writes refused");
}

static void test_dup_and_create(void)
{
	struct pool p;
	struct pool_err e = { };
	char cmd[1024], *out;
	int ret;

	put("k.bin", "kernel bytes");
	put("root.img", "disk bytes");
	put("desc.json", "{ \"name\": \"p2\", \"vms\": ["
	    " { \"name\": \"a\", \"kind\": \"unikernel\", \"kernel\": \"k.bin\", \"memory_mib\": 32 },"
	    " { \"name\": \"a\", \"kind\": \"unikernel\", \"kernel\": \"k.bin\", \"memory_mib\": 32 } ] }");
	snprintf(cmd, sizeof(cmd), "%s/desc.json", tmp);
	ok(pool_parse_desc(&p, cmd, &e) && strstr(e.msg, "duplicate VM 'a'"),
	   "duplicate VM names refused: \"%s\"", e.msg);
	pool_free(&p);
	put("desc.json", "{ \"name\": \"p2\", \"vms\": ["
	    " { \"name\": \"lin\", \"kind\": \"linux\", \"kernel\": \"k.bin\", \"initrd\": \"k.bin\","
	    "   \"cmdline\": \"console=ttyS0\", \"memory_mib\": 128, \"vcpus\": 2, \"autostart\": true,"
	    "   \"disks\": [ { \"name\": \"root\", \"source\": \"root.img\", \"writes\": \"pool\" } ] },"
	    " { \"name\": \"uni\", \"kind\": \"unikernel\", \"kernel\": \"k.bin\", \"memory_mib\": 32 } ] }");
	e.msg[0] = '\0';
	ret = pool_parse_desc(&p, cmd, &e);
	ok(!ret && p.nr_vms == 2, "a description parses %s", e.msg);
	ret = ret ?: pool_create(&p, tmp, tmp, &e);
	ok(!ret, "pool create (mkfs.ext4 -d, no root) %s", e.msg);
	pool_free(&p);
	snprintf(cmd, sizeof(cmd), "%s/p2.json", tmp);
	ok(!pool_parse_meta(&p, cmd, &e) && !strcmp(p.name, "p2"),
	   "POOL.json parses back %s", e.msg);
	pool_free(&p);
	pool_hash_name("lin", hash);
	snprintf(cmd, sizeof(cmd), "debugfs -R 'ls -p /kernels' %s/p2.img 2>/dev/null; "
		 "debugfs -R 'ls -p /blocks' %s/p2.img 2>/dev/null", tmp, tmp);
	out = sh_out(cmd);
	ok(strstr(out, hash) && strstr(out, ".vmLinuz") && strstr(out, ".initrd.img") &&
	   strstr(out, ".root.img"), "the image holds the hashed kernel, initrd and disk");
	ok(pool_create(&p, tmp, tmp, &e) == -EEXIST && strstr(e.msg, "exists"),
	   "create refuses an existing pool: \"%s\"", e.msg);
}

int main(void)
{
	char cmd[128];

	printf("TAP version 13\n1..19\n");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	pool_hash_name("web", hash);
	test_hash();
	test_tree();
	test_writes();
	test_dup_and_create();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd))
		return 1;
	return nr_fail ? 1 : 0;
}
