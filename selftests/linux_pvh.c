// SPDX-License-Identifier: GPL-2.0
/*
 * A bzImage booted by PVH (vsnixctl run --boot auto|pvh): vsnixctl unpacks
 * the ELF kernel of the bzImage's payload (boot.rst payload_offset and
 * payload_length), caches it by the image's SHA-256 and enters it by its
 * Xen PVH note, so no decompressor runs in the guest.
 *
 * Small bzImages made here (the stock image's setup header, a gzip payload
 * of stored blocks holding a tiny ELF) check the unpacker, the cache and the
 * fallback: the ELF's PVH entry and the bzImage's 64-bit entry each leave
 * through the exit port with their own status. Then Debian's stock kernel
 * (the rig's vmlinuz: xz) boots with 2 vCPUs as a bzImage, by PVH from a
 * cold cache and by PVH from the cache; the times are printed, not judged.
 * On vmx (Bochs) one PVH Linux boot only.
 */
#include <dirent.h>
#include <elf.h>

#include "guests/run_guest.h"

#define NR_SMALL	9
#define PVH_STATUS	7	/* the tiny ELF's PVH entry leaves with it */
#define BZ_STATUS	42	/* the small bzImage's 64-bit entry */
#define ELF_CODE_OFF	0x1000
#define ELF_LOAD	0x100000
#define PM_PAYLOAD	0x400	/* payload offset in the protected-mode part */

static char cache[64] = "/tmp/vsnix-pvh-cache-XXXXXX";

static uint32_t crc32_le(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffff;
	int k;

	while (n--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320 : c >> 1;
	}
	return ~c;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* mov eax, status; out 0xf4, eax; hlt; jmp $-1 (32- and 64-bit alike). */
static size_t exit_code(uint8_t *p, uint8_t status)
{
	static const uint8_t code[] = { 0xb8, 0, 0, 0, 0, 0xe7, 0xf4, 0xf4, 0xeb, 0xfd };

	memcpy(p, code, sizeof(code));
	p[1] = status;
	return sizeof(code);
}

/* A tiny x86-64 ELF at 1 MiB; with the PVH note when note is set. */
static size_t tiny_elf(uint8_t *e, bool note)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)e;
	Elf64_Phdr *ph = (Elf64_Phdr *)(e + sizeof(*eh));
	uint8_t *n = e + 0x200;
	size_t code = exit_code(e + ELF_CODE_OFF, PVH_STATUS);

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = ELF_LOAD;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = note ? 2 : 1;
	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
			      .p_offset = ELF_CODE_OFF, .p_vaddr = ELF_LOAD,
			      .p_paddr = ELF_LOAD, .p_filesz = code, .p_memsz = code,
			      .p_align = 0x1000 };
	/* XEN_ELFNOTE_PHYS32_ENTRY (18): "Xen", a 4-byte entry address. */
	put32(n, 4);
	put32(n + 4, 4);
	put32(n + 8, 18);
	memcpy(n + 12, "Xen", 4);
	put32(n + 16, ELF_LOAD);
	ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_flags = PF_R, .p_offset = 0x200,
			      .p_filesz = 20, .p_memsz = 20, .p_align = 4 };
	return ELF_CODE_OFF + code;
}

/* gzip (RFC 1952) of one stored deflate block, then the kernel's size. */
static size_t gzip_stored(uint8_t *out, const uint8_t *in, uint16_t len)
{
	static const uint8_t head[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	uint8_t *p = out;

	memcpy(p, head, sizeof(head));
	p += sizeof(head);
	*p++ = 0x01;		/* BFINAL, BTYPE 00: stored */
	*p++ = len;
	*p++ = len >> 8;
	*p++ = ~len;
	*p++ = (uint16_t)~len >> 8;
	memcpy(p, in, len);
	p += len;
	put32(p, crc32_le(in, len));
	put32(p + 4, len);
	put32(p + 8, len);	/* size_append: what the payload unpacks to */
	return p + 12 - out;
}

/* A small bzImage: the stock setup, the exit code, the gzip'd tiny ELF. */
static const char *small_bzimage(const uint8_t *stock, const char *tag, bool note,
				 bool bad_magic)
{
	static char path[8][64];
	static int next;
	static uint8_t img[64 * 1024], elf[8192];
	size_t setup = ((stock[0x1f1] ? stock[0x1f1] : 4) + 1) * 512ul, elf_len, plen;
	char *p = path[next++ % 8];
	int fd;

	memset(img, 0, sizeof(img));
	memset(elf, 0, sizeof(elf));
	memcpy(img, stock, setup);
	exit_code(img + setup + 0x200, BZ_STATUS);	/* the 64-bit entry */
	elf_len = tiny_elf(elf, note);
	plen = gzip_stored(img + setup + PM_PAYLOAD, elf, elf_len);
	if (bad_magic)
		img[setup + PM_PAYLOAD] = 0x42;
	put32(img + 0x1f4, (PM_PAYLOAD + plen) / 16);	/* syssize */
	put32(img + 0x248, PM_PAYLOAD);			/* payload_offset */
	put32(img + 0x24c, plen);			/* payload_length */
	put32(img + 0x260, 1 << 20);			/* init_size */
	snprintf(p, 64, "/tmp/vsnix-pvh-%s-XXXXXX", tag);
	fd = mkstemp(p);
	if (fd < 0 || write(fd, img, setup + PM_PAYLOAD + plen) < 0)
		p[0] = '\0';
	if (fd >= 0)
		close(fd);
	return p;
}

/* The cache's entries: their count, the size of the last in *size. */
static int cache_entries(off_t *size, char *last, size_t len)
{
	DIR *d = opendir(cache);
	struct dirent *de;
	struct stat st;
	char path[320];
	int n = 0;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", cache, de->d_name);
		if (stat(path, &st) == 0)
			*size = st.st_size;
		snprintf(last, len, "%s", path);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

static void cache_clear(void)
{
	char last[320];
	off_t size;

	while (cache_entries(&size, last, sizeof(last)) > 0 && unlink(last) == 0)
		;
}

static void small_run(struct rg_result *r, const char *img, const char *boot,
		      const char *extra)
{
	rg_run(r, (const char *[]){ "run", "--kernel", img, "--mem", "64M",
				    "--boot", boot, extra, NULL });
}

static void small_tests(const uint8_t *stock)
{
	static struct rg_result r;
	const char *pvh = small_bzimage(stock, "pvh", true, false);
	const char *nonote = small_bzimage(stock, "nonote", false, false);
	const char *bad = small_bzimage(stock, "bad", true, true);
	size_t elf_len = ELF_CODE_OFF + 10;
	char entry[320] = "";
	off_t size = 0;
	int n;

	small_run(&r, pvh, "pvh", "--no-cache");
	n = cache_entries(&size, entry, sizeof(entry));
	if (!rg_ok(r.code == PVH_STATUS && n == 0,
		   "--boot pvh --no-cache: the payload's ELF runs from its PVH entry, nothing cached"))
		rg_diag(&r);
	small_run(&r, pvh, "pvh", NULL);
	n = cache_entries(&size, entry, sizeof(entry));
	if (!rg_ok(r.code == PVH_STATUS && n == 1 && size == (off_t)elf_len &&
		   strlen(entry) == strlen(cache) + 1 + 64 + 4,
		   "--boot pvh: runs, the cache holds <sha256>.elf of the ELF's size (%d, %lld)",
		   n, (long long)size))
		rg_diag(&r);
	if (n == 1 && truncate(entry, elf_len / 2))
		printf("# truncate %s: %s\n", entry, strerror(errno));
	small_run(&r, pvh, "pvh", NULL);
	cache_entries(&size, entry, sizeof(entry));
	if (!rg_ok(r.code == PVH_STATUS && size == (off_t)elf_len,
		   "a damaged cache entry is not used: runs, the entry is written again"))
		rg_diag(&r);
	small_run(&r, nonote, "auto", NULL);
	if (!rg_ok(r.code == BZ_STATUS && rg_has(r.err, "no PVH entry note") &&
		   rg_has(r.err, "booting it as a bzImage"),
		   "--boot auto, no PVH note: says so, boots the bzImage's 64-bit entry"))
		rg_diag(&r);
	small_run(&r, nonote, "pvh", NULL);
	if (!rg_ok(r.code == EXIT_SETUP_ERROR && rg_has(r.err, "no PVH entry note"),
		   "--boot pvh, no PVH note: setup error naming the note"))
		rg_diag(&r);
	small_run(&r, bad, "pvh", NULL);
	if (!rg_ok(r.code == EXIT_SETUP_ERROR && rg_has(r.err, "payload magic"),
		   "--boot pvh, unknown payload format: setup error naming the formats"))
		rg_diag(&r);
	small_run(&r, bad, "auto", NULL);
	if (!rg_ok(r.code == BZ_STATUS && rg_has(r.err, "booting it as a bzImage"),
		   "--boot auto, unknown payload format: falls back to the bzImage entry"))
		rg_diag(&r);
	small_run(&r, pvh, "bzimage", NULL);
	if (!rg_ok(r.code == BZ_STATUS, "--boot bzimage: the bzImage's own entry"))
		rg_diag(&r);
	small_run(&r, pvh, "sideways", NULL);
	if (!rg_ok(r.code == EXIT_SETUP_ERROR && rg_has(r.err, "bad --boot"),
		   "--boot sideways: refused"))
		rg_diag(&r);
	unlink(pvh);
	unlink(nonote);
	unlink(bad);
	cache_clear();
}

/* The stock kernel with 2 vCPUs; its uptime at /init in up. */
static bool linux_boot(struct rg_result *r, const char *boot, const char *what,
		       char *up, size_t up_len)
{
	const char *cmdline = "console=ttyS0 quiet panic=-1 vsnix.cpus=2 vsnix.mem=256";
	const char *u;
	bool ok;

	rg_run(r, (const char *[]){ "run", "--kernel", rg_linux_guest("vmlinuz"),
				    "--initrd", rg_linux_guest("initrd.cpio.gz"),
				    "--mem", "256M", "--cpus", "2", "--boot", boot,
				    "--cmdline", cmdline, NULL });
	u = strstr(r->out, "VSNIX-LINUX: up ");
	snprintf(up, up_len, "%.*s", u ? (int)strcspn(u + 16, "\n ") : 1, u ? u + 16 : "?");
	ok = rg_ok(r->code == 0 && rg_has(r->out, "VSNIX-LINUX: PASS") &&
		   !rg_has(r->err, "booting it as a bzImage"),
		   "%s, 2 vCPUs: the stock kernel boots, its /init checks pass, exit 0 (%.1f s)",
		   what, r->seconds);
	if (!ok)
		rg_diag(r);
	return ok;
}

static uint8_t *read_head(const char *path, size_t len)
{
	uint8_t *buf = calloc(1, len);
	int fd = open(path, O_RDONLY);

	if (!buf || fd < 0 || read(fd, buf, len) != (ssize_t)len) {
		free(buf);
		buf = NULL;
	}
	if (fd >= 0)
		close(fd);
	return buf;
}

int main(void)
{
	int n = NR_SMALL + (rg_on_vmx() ? 2 : 4);
	static struct rg_result bz, cold, warm;
	char up_bz[32] = "-", up_cold[32], up_warm[32];
	uint8_t *stock;

	rg_require(n);
	rg_plan(n);
	stock = read_head(rg_linux_guest("vmlinuz"), 32768);
	if (!stock || access(rg_linux_guest("initrd.cpio.gz"), R_OK) || !mkdtemp(cache)) {
		rg_ok(false, "selftests/build/linux-guest/{vmlinuz,initrd.cpio.gz} present");
		rg_skip_rest(n, "no Linux guest");
		return 1;
	}
	setenv("VSNIX_CACHE_DIR", cache, 1);
	small_tests(stock);
	free(stock);
	if (!rg_on_vmx() && !linux_boot(&bz, "bzimage", "bzImage entry", up_bz, 32))
		bz.seconds = 0;
	linux_boot(&cold, "pvh", "PVH, unpacked now", up_cold, sizeof(up_cold));
	rg_ok(rg_has(cold.out, "VSNIX-LINUX: nproc=2 "), "PVH: the guest sees 2 CPUs");
	if (!rg_on_vmx())
		linux_boot(&warm, "pvh", "PVH from the cache", up_warm, sizeof(up_warm));
	printf("# vsnixctl run to power-off, 2 vCPUs: bzImage %.1f s, PVH %.1f s (unpacking the payload included), PVH from the cache %.1f s\n",
	       bz.seconds, cold.seconds, warm.seconds);
	printf("# guest uptime at /init: bzImage %s s, PVH %s s, PVH from the cache %s s\n",
	       up_bz, up_cold, rg_on_vmx() ? "-" : up_warm);
	cache_clear();
	rmdir(cache);
	return rg_exit();
}
