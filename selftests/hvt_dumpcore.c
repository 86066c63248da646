// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl run --dumpcore DIR: a guest that aborts with a trap frame as its
 * halt cookie leaves an ELF core with its registers (the frame's RIP/RSP,
 * the vCPU's RBX) and its memory (a marker at the address it printed),
 * sparse; a VM error (bad hypercall pointer) leaves one too; a clean exit
 * and an unusable DIR leave none.
 */
#include <dirent.h>
#include <elf.h>
#include <sys/procfs.h>
#include <sys/reg.h>
#include "guests/run_guest.h"

#define NR_TESTS 9
#define GUEST_MEM (32ull << 20)
#define CORE_RBX 0x5ca1ab1e0ddba11ull	/* guests/hello.c */
#define MARKER "vsnix-core-marker: guest memory is in the core"

static struct rg_result r;
static char dir[] = "/tmp/dumpcore.XXXXXX";

struct core {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[4];
	struct elf_prstatus st;
	int fd;
	struct stat sb;
};

/* The core vsnixctl named on stderr ("... written to PATH"), opened. */
static bool open_core(struct core *c, char *path, size_t len)
{
	const char *p = strstr(r.err, "guest core written to ");
	size_t n;

	c->fd = -1;
	if (!p)
		return false;
	p += strlen("guest core written to ");
	n = strcspn(p, "\n");
	if (n >= len)
		return false;
	memcpy(path, p, n);
	path[n] = 0;
	c->fd = open(path, O_RDONLY);
	return c->fd >= 0 && !fstat(c->fd, &c->sb);
}

/* ELF core for x86-64 with one note and one RAM segment: st filled. */
static bool parse_core(struct core *c)
{
	Elf64_Nhdr nh;

	if (pread(c->fd, &c->eh, sizeof(c->eh), 0) != sizeof(c->eh) ||
	    memcmp(c->eh.e_ident, ELFMAG, SELFMAG) || c->eh.e_type != ET_CORE ||
	    c->eh.e_machine != EM_X86_64 || c->eh.e_phnum != 2 ||
	    c->eh.e_phentsize != sizeof(Elf64_Phdr))
		return false;
	if (pread(c->fd, c->ph, 2 * sizeof(Elf64_Phdr), c->eh.e_phoff) !=
	    2 * sizeof(Elf64_Phdr) || c->ph[0].p_type != PT_NOTE ||
	    c->ph[1].p_type != PT_LOAD)
		return false;
	if (pread(c->fd, &nh, sizeof(nh), c->ph[0].p_offset) != sizeof(nh) ||
	    nh.n_type != NT_PRSTATUS || nh.n_descsz != sizeof(c->st) ||
	    nh.n_namesz != 5)
		return false;
	return pread(c->fd, &c->st, sizeof(c->st),
		     c->ph[0].p_offset + sizeof(nh) + 8) == sizeof(c->st);
}

/* The guest printed "core marker at 0x..." : is the marker there in the core? */
static bool marker_in_core(const struct core *c)
{
	const char *p = strstr(r.out, "core marker at 0x");
	char buf[sizeof(MARKER)];
	unsigned long long gpa;

	if (!p || sscanf(p, "core marker at 0x%llx", &gpa) != 1 ||
	    gpa + sizeof(buf) > c->ph[1].p_filesz)
		return false;
	return pread(c->fd, buf, sizeof(buf), c->ph[1].p_offset + gpa) == sizeof(buf) &&
	       !memcmp(buf, MARKER, sizeof(buf));
}

static int dir_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void run_guest(const char *guest, const char *cmdline, const char *core_dir)
{
	rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest(guest), "--mem", "32M",
				     "--cmdline", cmdline, "--dumpcore", core_dir, NULL });
}

static void check_abort_core(void)
{
	char path[PATH_MAX];
	struct core c;
	bool ok;

	run_guest("hello.hvt", "abort=1", dir);
	ok = rg_ok(r.code == 255 && open_core(&c, path, sizeof(path)),
		   "an aborting guest exits 255 and vsnixctl names its core");
	if (!ok)
		rg_diag(&r);
	ok = rg_ok(ok && parse_core(&c) && c.ph[1].p_paddr == 0 &&
		   c.ph[1].p_filesz == GUEST_MEM && c.sb.st_size >= (off_t)GUEST_MEM,
		   "the core is an x86-64 ELF core: one NT_PRSTATUS, RAM at 0 (32 MiB)");
	rg_ok(ok && c.st.pr_reg[RIP] == 0x1badc0de && c.st.pr_reg[RSP] == 0x2ff000 &&
	      c.st.pr_reg[CS] == 0x8,
	      "RIP, RSP and CS come from the guest's trap frame (halt cookie)");
	rg_ok(ok && c.st.pr_reg[RBX] == CORE_RBX, "RBX is the vCPU's at the halt");
	rg_ok(ok && marker_in_core(&c), "guest memory: the marker at the address the guest printed");
	rg_ok(ok && c.sb.st_blocks * 512 < (off_t)GUEST_MEM / 4,
	      "sparse: %lld KiB on disk for 32 MiB of RAM",
	      ok ? (long long)c.sb.st_blocks / 2 : -1LL);
	if (c.fd >= 0)
		close(c.fd);
	if (ok)
		unlink(path);
}

int main(void)
{
	char path[PATH_MAX];
	struct core c;

	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);
	if (!mkdtemp(dir)) {
		rg_skip_rest(NR_TESTS, "mkdtemp failed");
		return rg_exit();
	}
	check_abort_core();

	run_guest("badptr.hvt", "mode=2", dir);
	rg_ok(r.code == EXIT_VM_ERROR && open_core(&c, path, sizeof(path)) && parse_core(&c),
	      "a VM error (bad hypercall pointer) leaves a core too");
	if (c.fd >= 0)
		close(c.fd);
	unlink(path);

	run_guest("hello.hvt", "exit=0", dir);
	if (!rg_ok(r.code == 0 && dir_entries() == 0 && !rg_has(r.err, "dumpcore"),
		   "a clean exit leaves no core"))
		rg_diag(&r);
	run_guest("hello.hvt", "abort=1", "/nonexistent/dumpcore");
	if (!rg_ok(r.code == EXIT_SETUP_ERROR && rg_has(r.err, "not a writable directory") &&
		   !rg_has(r.out, "Hello"),
		   "--dumpcore into a missing directory fails before the guest runs"))
		rg_diag(&r);
	rmdir(dir);
	return rg_exit();
}
