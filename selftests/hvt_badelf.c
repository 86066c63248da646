// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl refuses malformed images with a clear message and its setup
 * exit code: wrong class or machine, segments outside guest memory or in
 * the boot area, truncated files, a broken manifest, unknown formats.
 */
#include <elf.h>
#include "guests/run_guest.h"

#define NR_TESTS 8

static uint8_t image[1 << 20];
static size_t image_len;

static Elf64_Phdr *first_load(void)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)image;
	Elf64_Phdr *ph = (Elf64_Phdr *)(image + eh->e_phoff);
	int i;

	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			return &ph[i];
	return NULL;
}

/* The manifest descriptor: after the 20-byte header, 8-aligned. */
static uint32_t *manifest_entries(void)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)image;
	Elf64_Phdr *ph = (Elf64_Phdr *)(image + eh->e_phoff);
	int i;

	for (i = 0; i < eh->e_phnum; i++) {
		uint32_t *note = (uint32_t *)(image + ph[i].p_offset);

		if (ph[i].p_type == PT_NOTE && note[2] == 0x3154464d)
			return (uint32_t *)(image + ph[i].p_offset + 24 + 4);
	}
	return NULL;
}

static const char *write_variant(const char *tag, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/vsnix-badelf-%s", tag);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0 || write(fd, image, len) != (ssize_t)len)
		perror(path);
	if (fd >= 0)
		close(fd);
	return path;
}

static void expect_refusal(const char *path, const char *mem, const char *msg,
			   const char *desc)
{
	static struct rg_result r;

	rg_run(&r, (const char *[]){ "run", "--kernel", path, "--mem", mem, NULL });
	if (!rg_ok(r.code == EXIT_SETUP_ERROR && rg_has(r.err, msg) &&
		   !rg_has(r.out, "Hello"), "%s", desc))
		rg_diag(&r);
	unlink(path);
}

static void reload(const char *name)
{
	int fd = open(rg_guest(name), O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, image, sizeof(image));

	image_len = n > 0 ? n : 0;
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	Elf64_Phdr *ph;
	uint32_t *entries;

	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);

	reload("hello.hvt");
	image[EI_CLASS] = ELFCLASS32;
	expect_refusal(write_variant("class", image_len), "32M", "invalid ELF",
		       "wrong ELF class refused");

	reload("hello.hvt");
	((Elf64_Ehdr *)image)->e_machine = EM_AARCH64;
	expect_refusal(write_variant("machine", image_len), "32M", "not x86-64",
		       "wrong machine refused");

	reload("hello.hvt");
	ph = first_load();
	ph->p_vaddr = ph->p_paddr = 0x7f000000;
	expect_refusal(write_variant("outside", image_len), "32M", "outside guest memory",
		       "segment beyond guest memory refused");

	reload("hello.hvt");
	ph = first_load();
	ph->p_vaddr = ph->p_paddr = 0x10000;
	expect_refusal(write_variant("bootarea", image_len), "32M", "boot area",
		       "segment overlapping the boot area refused");

	reload("hello.hvt");
	ph = first_load();
	ph->p_filesz = ph->p_memsz = image_len + 0x100000;
	expect_refusal(write_variant("filesz", image_len), "32M", "outside the file",
		       "segment data past the end of the file refused");

	reload("hello.hvt");
	expect_refusal(write_variant("trunc", 100), "32M", "invalid ELF",
		       "truncated image refused");

	reload("hello.hvt");
	entries = manifest_entries();
	if (entries)
		*entries = 65;
	expect_refusal(write_variant("mft", image_len), "32M", "invalid Solo5 manifest",
		       "manifest with too many entries refused");

	memset(image, 0x5a, 4096);
	expect_refusal(write_variant("junk", 4096), "32M", "not a kernel vsnix knows",
		       "file that is neither hvt nor multiboot refused");
	return rg_exit();
}
