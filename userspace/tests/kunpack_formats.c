// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of vsnixctl's bzImage payload unpacker (kunpack.c), no
 * /dev/vsnix needed: a bzImage made here (a minimal setup header) carries
 * a 9 MiB payload compressed in each format the kernel build offers
 * (gzip, xz, lzma, zstd, lz4 in two legacy blocks, bzip2); each must
 * unpack to the same bytes, a truncated one must fail naming its format,
 * and the cache must hold <sha256>.elf after a cached unpack; past
 * VSNIX_CACHE_KEEP entries the least recently used go.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include <openssl/evp.h>

#include "../vsnixctl.h"

#define ELF_LEN		(9u << 20)	/* > one 8 MiB lz4 legacy block */
#define SETUP		1024		/* setup_sects 1 */
#define PM_PAYLOAD	0x200

static int failed, nr;

static void ok(int cond, const char *what, const char *fmt)
{
	printf("%s %d %s: %s\n", cond ? "ok" : "not ok", ++nr, fmt, what);
	failed |= !cond;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static size_t c_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream s = { 0 };

	if (deflateInit2(&s, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	s.next_in = (Bytef *)in;
	s.avail_in = n;
	s.next_out = out;
	s.avail_out = cap;
	n = deflate(&s, Z_FINISH) == Z_STREAM_END ? s.total_out : 0;
	deflateEnd(&s);
	return n;
}

static size_t c_xz(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t pos = 0;

	return lzma_easy_buffer_encode(1, LZMA_CHECK_CRC32, NULL, in, n, out, &pos, cap) ==
	       LZMA_OK ? pos : 0;
}

static size_t c_lzma(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_options_lzma opt;

	if (lzma_lzma_preset(&opt, 1) || lzma_alone_encoder(&s, &opt) != LZMA_OK)
		return 0;
	s.next_in = in;
	s.avail_in = n;
	s.next_out = out;
	s.avail_out = cap;
	n = lzma_code(&s, LZMA_FINISH) == LZMA_STREAM_END ? s.total_out : 0;
	lzma_end(&s);
	return n;
}

static size_t c_zstd(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t r = ZSTD_compress(out, cap, in, n, 1);

	return ZSTD_isError(r) ? 0 : r;
}

static size_t c_bzip2(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	unsigned int len = cap;

	return BZ2_bzBuffToBuffCompress((char *)out, &len, (char *)in, n, 1, 0, 0) == BZ_OK ?
	       len : 0;
}

/* lz4 -l: the magic 0x184c2102, then (size, block) per 8 MiB. */
static size_t c_lz4(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t at = 4, done = 0, chunk;
	int r;

	put32(out, 0x184c2102);
	while (done < n) {
		chunk = n - done < (8u << 20) ? n - done : (8u << 20);
		r = LZ4_compress_default((const char *)in + done, (char *)out + at + 4, chunk,
					 cap - at - 4);
		if (r <= 0)
			return 0;
		put32(out + at, r);
		at += 4 + r;
		done += chunk;
	}
	return at;
}

/* A bzImage around the payload, in a temporary file; its fd. */
static uint8_t image_salt;	/* a boot-sector byte: another image, same ELF */

static int bzimage(const uint8_t *pay, size_t len, char *path)
{
	size_t size = SETUP + PM_PAYLOAD + len;
	uint8_t *img = calloc(1, size);
	int fd;

	img[0x100] = image_salt;
	img[0x1f1] = 1;				/* setup_sects */
	put32(img + 0x1f4, (size - SETUP) / 16);	/* syssize */
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	img[0x201] = 0x6a;			/* header ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = 0x0f;			/* protocol 2.15 */
	img[0x207] = 0x02;
	img[0x211] = 0x01;			/* LOADED_HIGH */
	img[0x236] = 0x01;			/* XLF_KERNEL_64 */
	put32(img + 0x248, PM_PAYLOAD);
	put32(img + 0x24c, len);
	memcpy(img + SETUP + PM_PAYLOAD, pay, len);
	strcpy(path, "/tmp/vsnix-kunpack-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, img, size) != (ssize_t)size) {
		perror("bzimage");
		exit(1);
	}
	free(img);
	return fd;
}

static int same(int efd, const uint8_t *elf)
{
	uint8_t *buf = malloc(ELF_LEN + 1);
	ssize_t n = buf ? pread(efd, buf, ELF_LEN + 1, 0) : -1;
	int r = n == ELF_LEN && !memcmp(buf, elf, ELF_LEN);

	free(buf);
	return r;
}

/* Compresses elf, appends the size, unpacks: same bytes; truncated: fails. */
static void one(const char *fmt, size_t (*c)(const uint8_t *, size_t, uint8_t *, size_t),
		const uint8_t *elf, uint8_t *pay, size_t cap)
{
	size_t len = c(elf, ELF_LEN, pay, cap - 4);
	char path[64], why[256] = "";
	int fd, efd;

	put32(pay + len, ELF_LEN);
	fd = bzimage(pay, len + 4, path);
	efd = len ? bzimage_unpack(fd, path, false, why, sizeof(why)) : -1;
	ok(efd >= 0 && same(efd, elf), "unpacks to the same 9 MiB", fmt);
	if (efd < 0)
		printf("# %s\n", why);
	else
		close(efd);
	close(fd);
	unlink(path);
	/* Half the compressed data, the size still at the end. */
	memmove(pay + len / 2, pay + len, 4);
	fd = bzimage(pay, len / 2 + 4, path);
	efd = bzimage_unpack(fd, path, false, why, sizeof(why));
	ok(efd < 0 && (strstr(why, fmt) || strstr(why, "payload")),
	   "truncated: refused, naming the format", fmt);
	printf("# %s\n", why);
	if (efd >= 0)
		close(efd);
	close(fd);
	unlink(path);
}

static void cached(const uint8_t *elf, uint8_t *pay, size_t cap)
{
	char dir[] = "/tmp/vsnix-kunpack-cache-XXXXXX", path[64], why[256] = "";
	char entry[320];
	struct dirent *de;
	DIR *d;
	size_t len = c_zstd(elf, ELF_LEN, pay, cap - 4);
	struct stat st;
	int fd, efd, n = 0;

	put32(pay + len, ELF_LEN);
	fd = bzimage(pay, len + 4, path);
	if (!mkdtemp(dir))
		return;
	setenv("VSNIX_CACHE_DIR", dir, 1);
	efd = bzimage_unpack(fd, path, true, why, sizeof(why));
	if (efd >= 0)
		close(efd);
	efd = bzimage_unpack(fd, path, true, why, sizeof(why));
	ok(efd >= 0 && same(efd, elf), "cached, then from the cache: the same bytes", "cache");
	if (efd >= 0)
		close(efd);
	close(fd);
	unlink(path);
	/* One entry, named by the image's SHA-256; the directory 0700. */
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (strlen(de->d_name) == 68 && !strcmp(de->d_name + 64, ".elf") &&
		    strspn(de->d_name, "0123456789abcdef") == 64)
			n++;
		snprintf(entry, sizeof(entry), "%s/%s", dir, de->d_name);
		unlink(entry);
	}
	if (d)
		closedir(d);
	ok(n == 1 && stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700,
	   "the cache holds one <sha256>.elf, the directory is 0700", "cache");
	rmdir(dir);
}

/* The cache entry's name for the image in fd: <sha256>.elf. */
static void entry_name(int fd, char name[80])
{
	struct stat st;
	unsigned char md[32];
	unsigned int i, n = 0;
	uint8_t *buf;

	fstat(fd, &st);
	buf = malloc(st.st_size);
	if (!buf || pread(fd, buf, st.st_size, 0) != st.st_size)
		exit(1);
	EVP_Digest(buf, st.st_size, md, &n, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(name + 2 * i, 3, "%02x", md[i]);
	strcpy(name + 64, ".elf");
	free(buf);
}

static void set_age(const char *dir, const char *name, time_t age)
{
	struct timespec t[2] = { { .tv_sec = time(NULL) - age }, { .tv_sec = time(NULL) - age } };
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	utimensat(AT_FDCWD, path, t, 0);
}

static int present(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* Unpacks image number salt through the cache; its entry's name. */
static void through_cache(uint8_t salt, uint8_t *pay, size_t len, char name[80])
{
	char path[64], why[256];
	int fd, efd;

	image_salt = salt;
	fd = bzimage(pay, len, path);
	entry_name(fd, name);
	efd = bzimage_unpack(fd, path, true, why, sizeof(why));
	if (efd >= 0)
		close(efd);
	else
		printf("# %s\n", why);
	close(fd);
	unlink(path);
	image_salt = 0;
}

/*
 * KEEP 2: A and B cached (A older), A used again, C cached: B (least
 * recently used) goes, A and C stay; a writer's temporary file from two
 * hours ago goes, a fresh one and a file not of the cache stay.
 */
static void cache_lru(const uint8_t *elf, uint8_t *pay, size_t cap)
{
	char dir[] = "/tmp/vsnix-kunpack-lru-XXXXXX", a[80], b[80], c[80];
	char stale[160], fresh[160], cmd[160];
	size_t len = c_zstd(elf, ELF_LEN, pay, cap - 4);
	int fd;

	put32(pay + len, ELF_LEN);
	if (!mkdtemp(dir))
		return;
	setenv("VSNIX_CACHE_DIR", dir, 1);
	setenv("VSNIX_CACHE_KEEP", "2", 1);
	through_cache(1, pay, len + 4, a);
	set_age(dir, a, 300);
	through_cache(2, pay, len + 4, b);
	set_age(dir, b, 200);
	ok(present(dir, a) && present(dir, b), "two images, two entries", "cache");
	snprintf(stale, sizeof(stale), "%s/%.68s.AbCdEf", dir, a);
	snprintf(fresh, sizeof(fresh), "%s/%.68s.GhIjKl", dir, b);
	fd = open(stale, O_CREAT | O_WRONLY, 0600);
	close(fd);
	set_age(dir, strrchr(stale, '/') + 1, 7200);
	close(open(fresh, O_CREAT | O_WRONLY, 0600));
	close(open(strcat(strcpy(cmd, dir), "/notes.txt"), O_CREAT | O_WRONLY, 0600));
	through_cache(1, pay, len + 4, a);	/* a hit: A is recent now */
	through_cache(3, pay, len + 4, c);
	ok(present(dir, a) && present(dir, c) && !present(dir, b),
	   "KEEP 2: the least recently used entry went, the used one stayed", "cache");
	ok(access(stale, F_OK) && !access(fresh, F_OK) && !access(cmd, F_OK),
	   "an abandoned temporary file went; a fresh one and a foreign file stayed",
	   "cache");
	unsetenv("VSNIX_CACHE_KEEP");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		printf("# cannot remove %s\n", dir);
}

int main(void)
{
	size_t cap = ELF_LEN + ELF_LEN / 8 + (1 << 20), i;
	uint8_t *elf = malloc(ELF_LEN), *pay = malloc(cap);
	uint32_t x = 1;

	if (!elf || !pay)
		return 1;
	/* Compressible but not trivial: runs of a pseudo-random byte. */
	for (i = 0; i < ELF_LEN; i++) {
		if (!(i & 15))
			x = x * 1103515245 + 12345;
		elf[i] = x >> 16;
	}
	memcpy(elf, (const char[]){ 0x7f, 'E', 'L', 'F' }, 4);
	printf("TAP version 13\n1..17\n");
	fflush(stdout);
	one("gzip", c_gzip, elf, pay, cap);
	one("xz", c_xz, elf, pay, cap);
	one("lzma", c_lzma, elf, pay, cap);
	one("zstd", c_zstd, elf, pay, cap);
	one("lz4", c_lz4, elf, pay, cap);
	one("bzip2", c_bzip2, elf, pay, cap);
	cached(elf, pay, cap);
	cache_lru(elf, pay, cap);
	free(elf);
	free(pay);
	return failed;
}
