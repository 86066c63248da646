// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl: the ELF kernel inside a bzImage, for a PVH boot that skips the
 * bzImage's own decompressor. The payload (boot.rst payload_offset and
 * payload_length) is compressed data followed by its uncompressed size,
 * 4 bytes little-endian (the kernel build's size_append); the format is
 * told by its magic number (boot.rst, "payload_offset"). The result is an
 * ELF (vmlinux with its relocations appended, which the loader ignores).
 *
 * The unpacked ELF is cached as <sha256 of the bzImage>.elf (kcache.c,
 * Documentation/vsnixctl.rst, "Linux boot").
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <openssl/evp.h>
#include <zlib.h>
#include <zstd.h>

#include "vsnixctl.h"

#define UNPACK_MAX	(1ull << 30)	/* a kernel ELF larger than this is bad */
#define LZ4_LEGACY_MAGIC	0x184c2102
#define LZ4_LEGACY_BLOCK	(8u << 20)

struct unpack {
	const uint8_t *in;	/* compressed data, without the size */
	size_t in_len;
	uint8_t *out;
	size_t out_len;		/* from the size at the payload's end */
	char *why;
	size_t why_len;
};

static int __attribute__((format(printf, 2, 3))) unpack_fail(struct unpack *u,
								const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->why, u->why_len, fmt, ap);
	va_end(ap);
	return -1;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static int unpack_gzip(struct unpack *u)
{
	z_stream s = { 0 };
	int r;

	if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)
		return unpack_fail(u, "zlib: cannot start");
	s.next_in = (Bytef *)u->in;
	s.avail_in = u->in_len;
	s.next_out = u->out;
	s.avail_out = u->out_len;
	r = inflate(&s, Z_FINISH);
	inflateEnd(&s);
	if (r != Z_STREAM_END || s.total_out != u->out_len)
		return unpack_fail(u, "gzip: %s", s.msg ? s.msg : "corrupt or truncated data");
	return 0;
}

/* xz (the kernel's default on Debian 6.1) and the older .lzma format. */
static int unpack_lzma(struct unpack *u, bool xz)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r;

	r = xz ? lzma_stream_decoder(&s, UINT64_MAX, 0) : lzma_alone_decoder(&s, UINT64_MAX);
	if (r != LZMA_OK)
		return unpack_fail(u, "liblzma: cannot start (%d)", r);
	s.next_in = u->in;
	s.avail_in = u->in_len;
	s.next_out = u->out;
	s.avail_out = u->out_len;
	r = lzma_code(&s, LZMA_FINISH);
	lzma_end(&s);
	if (r != LZMA_STREAM_END || s.total_out != u->out_len)
		return unpack_fail(u, "%s: corrupt or truncated data (liblzma %d)",
				   xz ? "xz" : "lzma", r);
	return 0;
}

static int unpack_zstd(struct unpack *u)
{
	size_t n = ZSTD_decompress(u->out, u->out_len, u->in, u->in_len);

	if (ZSTD_isError(n) || n != u->out_len)
		return unpack_fail(u, "zstd: %s", ZSTD_isError(n) ? ZSTD_getErrorName(n) :
				   "size differs from the payload's");
	return 0;
}

static int unpack_bzip2(struct unpack *u)
{
	unsigned int n = u->out_len;
	int r;

	if (u->in_len > UINT32_MAX)
		return unpack_fail(u, "bzip2: payload too large");
	r = BZ2_bzBuffToBuffDecompress((char *)u->out, &n, (char *)u->in, u->in_len, 0, 0);
	if (r != BZ_OK || n != u->out_len)
		return unpack_fail(u, "bzip2: corrupt or truncated data (%d)", r);
	return 0;
}

/*
 * The kernel's lz4 is the legacy frame (lz4 -l): the magic, then blocks of
 * a 4-byte compressed size and data, each up to 8 MiB uncompressed; a
 * magic again may start another frame.
 */
static int unpack_lz4(struct unpack *u)
{
	size_t at = 4, done = 0;
	uint32_t n;
	int r;

	while (at + 4 <= u->in_len) {
		n = le32(u->in + at);
		at += 4;
		if (n == LZ4_LEGACY_MAGIC)
			continue;
		if (n > u->in_len - at || n > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK))
			return unpack_fail(u, "lz4: block of %u bytes past the payload", n);
		r = LZ4_decompress_safe((const char *)u->in + at, (char *)u->out + done, n,
					u->out_len - done < LZ4_LEGACY_BLOCK ?
					u->out_len - done : LZ4_LEGACY_BLOCK);
		if (r < 0)
			return unpack_fail(u, "lz4: corrupt block at %zu", at);
		done += r;
		at += n;
	}
	if (done != u->out_len)
		return unpack_fail(u, "lz4: %zu bytes, the payload says %zu", done, u->out_len);
	return 0;
}

static int unpack_any(struct unpack *u)
{
	static const uint8_t xz[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	static const uint8_t elf[4] = { 0x7f, 'E', 'L', 'F' };
	const uint8_t *m = u->in;

	if (u->in_len < 6)
		return unpack_fail(u, "payload too short");
	if (m[0] == 0x1f && (m[1] == 0x8b || m[1] == 0x9e))
		return unpack_gzip(u);
	if (!memcmp(m, xz, sizeof(xz)))
		return unpack_lzma(u, true);
	if (m[0] == 0x5d && m[1] == 0x00)
		return unpack_lzma(u, false);
	if (le32(m) == 0xfd2fb528)
		return unpack_zstd(u);
	if (le32(m) == LZ4_LEGACY_MAGIC)
		return unpack_lz4(u);
	if (m[0] == 'B' && m[1] == 'Z')
		return unpack_bzip2(u);
	if (!memcmp(m, "\x89LZO", 4))
		return unpack_fail(u, "an LZO payload (not supported)");
	if (!memcmp(m, elf, sizeof(elf)))
		return unpack_fail(u, "an uncompressed payload (not supported)");
	return unpack_fail(u, "payload magic %02x %02x is none of gzip, xz, lzma, zstd, lz4, bzip2",
			   m[0], m[1]);
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/*
 * The unpacked ELF in a file: the cache entry (written under a temporary
 * name, then renamed, so a reader never sees half of it), else a memfd.
 */
static int store(const char *cache, const uint8_t *elf, size_t len)
{
	char tmp[PATH_MAX + 96];
	int fd = -1;

	if (cache) {
		snprintf(tmp, sizeof(tmp), "%s.XXXXXX", cache);
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd >= 0 && (write_all(fd, elf, len) || rename(tmp, cache))) {
			fprintf(stderr, "vsnixctl: note: cannot cache the unpacked kernel as %s: %s\n",
				cache, strerror(errno));
			unlink(tmp);
			close(fd);
			fd = -1;
		}
		if (fd >= 0)
			return fd;
	}
	fd = memfd_create("vsnix-vmlinux", MFD_CLOEXEC);
	if (fd >= 0 && write_all(fd, elf, len)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void sha256_hex(const uint8_t *buf, size_t len, char hex[65])
{
	unsigned char md[32];
	unsigned int i, n = 0;

	EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static int read_image(int fd, uint8_t **buf, size_t *len)
{
	struct stat st;
	ssize_t n;
	size_t at = 0;

	if (fstat(fd, &st) || st.st_size <= 0 || (uint64_t)st.st_size > UNPACK_MAX)
		return -1;
	*buf = malloc(st.st_size);
	if (!*buf)
		return -1;
	while (at < (size_t)st.st_size) {
		n = pread(fd, *buf + at, st.st_size - at, at);
		if (n <= 0)
			break;
		at += n;
	}
	*len = at;
	return at == (size_t)st.st_size ? 0 : -1;
}

/* Unpacks into anonymous memory, then into the cache file or a memfd. */
static int unpack_store(struct unpack *u, const char *cache)
{
	int efd = -1;

	u->out = mmap(NULL, u->out_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->out == MAP_FAILED)
		return unpack_fail(u, "no memory for %zu bytes", u->out_len);
	if (!unpack_any(u)) {
		efd = store(cache, u->out, u->out_len);
		if (efd < 0)
			unpack_fail(u, "cannot store the unpacked kernel: %s", strerror(errno));
	}
	munmap(u->out, u->out_len);
	return efd;
}

int bzimage_unpack(int fd, const char *path, bool use_cache, char *why, size_t why_len)
{
	struct unpack u = { .why = why, .why_len = why_len };
	char dir[PATH_MAX], cache[PATH_MAX + 80], hex[65];
	uint64_t off, len;
	uint8_t *img = NULL;
	size_t img_len;
	int efd = -1;

	if (vx_linux_payload(fd, path, &off, &len)) {
		snprintf(why, why_len, "%s", vx_errmsg());
		return -1;
	}
	if (read_image(fd, &img, &img_len) || off + len > img_len || len < 8) {
		free(img);
		return unpack_fail(&u, "cannot read the payload");
	}
	u.in = img + off;
	u.in_len = len - 4;
	u.out_len = le32(img + off + len - 4);
	if (u.out_len < 64 || u.out_len > UNPACK_MAX) {
		free(img);
		return unpack_fail(&u, "payload size %zu out of range", u.out_len);
	}
	if (use_cache && kcache_dir(dir, sizeof(dir))) {
		sha256_hex(img, img_len, hex);
		snprintf(cache, sizeof(cache), "%s/%s.elf", dir, hex);
		efd = kcache_open(cache, u.out_len);
	} else {
		use_cache = false;
	}
	if (efd < 0) {
		efd = unpack_store(&u, use_cache ? cache : NULL);
		if (use_cache)
			kcache_prune(dir);
	}
	free(img);
	return efd;
}
