// SPDX-License-Identifier: GPL-2.0
/*
 * `vsnixctl pool create`: stage the image's tree in a temporary folder,
 * then `mkfs.ext4 -d` makes POOL.img from it without root; POOL.json is
 * written last, so a pool with both files is a complete one.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pool_int.h"

static int copy_file(const char *src, const char *dst, uint64_t *bytes,
		     struct pool_err *e)
{
	int in = open(src, O_RDONLY), out = -1;
	char buf[65536];
	ssize_t n = -1;

	if (in >= 0)
		out = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0644);
	while (out >= 0 && (n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, n) != n) {
			n = -1;
			break;
		}
		*bytes += n;
	}
	if (n < 0)
		pool_error(e, "copying %s to %s: %s", src, dst, strerror(errno));
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out))
		n = -1;
	return n < 0 ? -EIO : 0;
}

static int write_text(const char *path, const char *text, struct pool_err *e)
{
	FILE *f = fopen(path, "wx");

	if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0 || fclose(f)) {
		pool_error(e, "%s: %s", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

/* Host paths in the description are relative to its folder. */
static void host_path(char *out, size_t len, const char *desc_dir,
		      const char *rel)
{
	snprintf(out, len, "%s%s%s", rel[0] == '/' ? "" : desc_dir,
		 rel[0] == '/' ? "" : "/", rel);
}

static int stage_vm(const struct pool_vm *vm, const char *stage,
		    const char *desc_dir, uint64_t *bytes, struct pool_err *e)
{
	char src[4096], dst[4096];
	unsigned int i;
	char *cfg;
	int ret;

	host_path(src, sizeof(src), desc_dir, vm->kernel);
	snprintf(dst, sizeof(dst), "%s/kernels/%s.vmLinuz", stage, vm->hash);
	if (copy_file(src, dst, bytes, e))
		return -EIO;
	if (vm->initrd) {
		host_path(src, sizeof(src), desc_dir, vm->initrd);
		snprintf(dst, sizeof(dst), "%s/kernels/%s.initrd.img", stage,
			 vm->hash);
		if (copy_file(src, dst, bytes, e))
			return -EIO;
	}
	for (i = 0; i < vm->nr_disks; i++) {
		host_path(src, sizeof(src), desc_dir, vm->disks[i].source);
		snprintf(dst, sizeof(dst), "%s/blocks/%s.%s.img", stage, vm->hash,
			 vm->disks[i].name);
		if (copy_file(src, dst, bytes, e))
			return -EIO;
	}
	snprintf(dst, sizeof(dst), "%s/%s_vmcfg.cfg", stage, vm->hash);
	cfg = pool_vm_to_json(vm);
	ret = write_text(dst, cfg, e);
	free(cfg);
	return ret;
}

static char *vms_json(const struct pool *p)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	char cfg[64];
	unsigned int i;
	char *s;

	json_object_object_add(o, "format", json_object_new_int(POOL_FORMAT));
	json_object_object_add(o, "pool", json_object_new_string(p->name));
	for (i = 0; i < p->nr_vms; i++) {
		json_object *v = json_object_new_object();

		snprintf(cfg, sizeof(cfg), "%s_vmcfg.cfg", p->vms[i].hash);
		json_object_object_add(v, "name", json_object_new_string(p->vms[i].name));
		json_object_object_add(v, "hash", json_object_new_string(p->vms[i].hash));
		json_object_object_add(v, "config", json_object_new_string(cfg));
		json_object_array_add(a, v);
	}
	json_object_object_add(o, "vms", a);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
	return s;
}

static char *meta_json(const struct pool *p, uint64_t size_mib)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	char img[POOL_NAME_MAX + 8], now[32];
	time_t t = time(NULL);
	unsigned int i;
	char *s;

	snprintf(img, sizeof(img), "%s.img", p->name);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	json_object_object_add(o, "format", json_object_new_int(POOL_FORMAT));
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "image", json_object_new_string(img));
	json_object_object_add(o, "fstype", json_object_new_string("ext4"));
	json_object_object_add(o, "size_mib", json_object_new_int64(size_mib));
	json_object_object_add(o, "created", json_object_new_string(now));
	for (i = 0; i < p->nr_vms; i++)
		json_object_array_add(a, json_object_new_string(p->vms[i].name));
	json_object_object_add(o, "vms", a);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
	return s;
}

static int run_mkfs(const char *stage, const char *img, const char *label,
		    uint64_t size_mib, struct pool_err *e)
{
	char size[32];
	int status;
	pid_t pid;

	snprintf(size, sizeof(size), "%lluM", (unsigned long long)size_mib);
	pid = fork();
	if (pid == 0) {
		/* Errors go to stderr; "Creating regular file" lines nowhere. */
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execlp("mkfs.ext4", "mkfs.ext4", "-q", "-F", "-L", label,
		       "-E", "root_owner=0:0", "-d", stage, img, size, NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		pool_error(e, "%s: mkfs.ext4 -d %s failed (status %d)", img, stage,
			   pid < 0 ? -1 : status);
		return -EIO;
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static int stage_all(const struct pool *p, const char *stage,
		     const char *desc_dir, uint64_t *bytes, struct pool_err *e)
{
	char path[4096], *vms;
	unsigned int i;
	int ret;

	snprintf(path, sizeof(path), "%s/kernels", stage);
	if (mkdir(path, 0755))
		goto err;
	snprintf(path, sizeof(path), "%s/blocks", stage);
	if (mkdir(path, 0755))
		goto err;
	for (i = 0; i < p->nr_vms; i++)
		if (stage_vm(&p->vms[i], stage, desc_dir, bytes, e))
			return -EIO;
	snprintf(path, sizeof(path), "%s/vms.json", stage);
	vms = vms_json(p);
	ret = write_text(path, vms, e);
	free(vms);
	return ret;
err:
	pool_error(e, "%s: %s", path, strerror(errno));
	return -EIO;
}

/* p: a parsed description; makes dir/NAME.img and dir/NAME.json. */
int pool_create(const struct pool *p, const char *dir, const char *desc_dir,
		struct pool_err *e)
{
	char *img = NULL, *json = NULL, stage[2048], *meta = NULL;
	uint64_t bytes = 0, size_mib;
	int ret = -EEXIST;

	if (strlen(dir) > 1024) {
		pool_error(e, "%.64s...: folder name too long", dir);
		return -ENAMETOOLONG;
	}
	if (asprintf(&img, "%s/%s.img", dir, p->name) < 0 ||
	    asprintf(&json, "%s/%s.json", dir, p->name) < 0)
		return -ENOMEM;
	if (!access(img, F_OK) || !access(json, F_OK)) {
		pool_error(e, "%s: pool '%s' exists already", dir, p->name);
		goto out;
	}
	snprintf(stage, sizeof(stage), "%s/.%s.stage.XXXXXX", dir, p->name);
	ret = -EIO;
	if (!mkdtemp(stage)) {
		pool_error(e, "%s: %s", stage, strerror(errno));
		goto out;
	}
	ret = stage_all(p, stage, desc_dir, &bytes, e);
	/* ext4 metadata and journal: room beyond the files themselves. */
	size_mib = p->size_mib ?: bytes / (1 << 20) * 5 / 4 + 16;
	if (!ret)
		ret = run_mkfs(stage, img, p->name, size_mib, e);
	meta = ret ? NULL : meta_json(p, size_mib);
	if (meta)
		ret = write_text(json, meta, e);
	nftw(stage, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (ret)
		unlink(img);
out:
	free(meta);
	free(img);
	free(json);
	return ret;
}
