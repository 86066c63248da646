// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl: the cache of unpacked kernel ELFs (kunpack.c). One file per
 * bzImage, <sha256 of the bzImage>.elf, in $VSNIX_CACHE_DIR, else
 * $XDG_CACHE_HOME/vsnix/kernels, else $HOME/.cache/vsnix/kernels. A hit
 * refreshes the entry's mtime; after a new entry is written the least
 * recently used ones past $VSNIX_CACHE_KEEP (default 4) are removed, with
 * temporary files a writer left behind more than an hour ago.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "vsnixctl.h"

#define KCACHE_KEEP_DEFAULT	4
#define KCACHE_KEEP_MAX		1024
#define KCACHE_TMP_AGE		3600	/* seconds: a writer this old is gone */
#define KCACHE_SCAN_MAX		4096	/* entries looked at per prune */

/* The cache directory (made 0700 if missing), or false for none. */
bool kcache_dir(char *dir, size_t len)
{
	const char *env = getenv("VSNIX_CACHE_DIR");
	const char *base = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char *p;

	if (env && *env)
		snprintf(dir, len, "%s", env);
	else if (base && *base == '/')
		snprintf(dir, len, "%s/vsnix/kernels", base);
	else if (home && *home == '/')
		snprintf(dir, len, "%s/.cache/vsnix/kernels", home);
	else
		return false;
	for (p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(dir, 0700);
		*p = '/';
	}
	return !mkdir(dir, 0700) || errno == EEXIST;
}

/*
 * A cached ELF of the right size, ours and a regular file: its fd (its
 * mtime set to now: recently used), or -1.
 */
int kcache_open(const char *path, size_t size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (uint64_t)st.st_size != size) {
		close(fd);
		return -1;
	}
	futimens(fd, NULL);
	return fd;
}

static unsigned int kcache_keep(void)
{
	const char *env = getenv("VSNIX_CACHE_KEEP");
	char *end;
	unsigned long n;

	if (!env || !*env)
		return KCACHE_KEEP_DEFAULT;
	n = strtoul(env, &end, 10);
	if (*end || n < 1 || n > KCACHE_KEEP_MAX) {
		fprintf(stderr, "vsnixctl: note: VSNIX_CACHE_KEEP=%s is not 1..%d; keeping %d\n",
			env, KCACHE_KEEP_MAX, KCACHE_KEEP_DEFAULT);
		return KCACHE_KEEP_DEFAULT;
	}
	return n;
}

/* <64 hex>.elf, or that followed by a mkostemp suffix (.XXXXXX). */
static int kcache_name_kind(const char *name)
{
	size_t n = strlen(name);

	if (n < 68 || strspn(name, "0123456789abcdef") != 64 ||
	    strncmp(name + 64, ".elf", 4))
		return 0;
	if (n == 68)
		return 1;
	return n == 75 && name[68] == '.' ? 2 : 0;
}

struct kcache_entry {
	char name[80];
	struct timespec mtime;
};

static int by_mtime_newest_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct kcache_entry *)a)->mtime;
	const struct timespec *y = &((const struct kcache_entry *)b)->mtime;

	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? 1 : -1;
	if (x->tv_nsec != y->tv_nsec)
		return x->tv_nsec < y->tv_nsec ? 1 : -1;
	return 0;
}

/* Our entries in dir (temporary files past their age go at once). */
static size_t kcache_list(int dfd, struct kcache_entry *e, size_t max)
{
	DIR *d = fdopendir(dup(dfd));
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	int kind;

	while (d && n < max && (de = readdir(d))) {
		kind = kcache_name_kind(de->d_name);
		if (!kind || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue;
		if (kind == 2) {
			if (time(NULL) - st.st_mtime > KCACHE_TMP_AGE)
				unlinkat(dfd, de->d_name, 0);
			continue;
		}
		snprintf(e[n].name, sizeof(e[n].name), "%s", de->d_name);
		e[n++].mtime = st.st_mtim;
	}
	if (d)
		closedir(d);
	return n;
}

/* Keeps the VSNIX_CACHE_KEEP most recently used entries of dir. */
void kcache_prune(const char *dir)
{
	struct kcache_entry *e = calloc(KCACHE_SCAN_MAX, sizeof(*e));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unsigned int keep = kcache_keep();
	size_t n = 0, i;

	if (!e || dfd < 0)
		goto out;
	n = kcache_list(dfd, e, KCACHE_SCAN_MAX);
	qsort(e, n, sizeof(*e), by_mtime_newest_first);
	for (i = keep; i < n; i++)
		if (unlinkat(dfd, e[i].name, 0) && errno != ENOENT)
			fprintf(stderr, "vsnixctl: note: cannot remove the old cache entry %s/%s: %s\n",
				dir, e[i].name, strerror(errno));
out:
	if (dfd >= 0)
		close(dfd);
	free(e);
}
