// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl run --dumpcore DIR: an ELF core file (ET_CORE) of a guest that
 * aborted (an hvt halt with status 255, SOLO5_EXIT_ABORT) or stopped on a
 * VM error (triple fault, internal error, ...). One NT_PRSTATUS note per
 * vCPU, then guest RAM as PT_LOAD segments at their guest-physical
 * addresses: an hvt guest runs on an identity map, so gdb given the
 * unikernel's ELF and the core reads its variables and stack. Pages of
 * zeros are left as holes (a sparse file).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/reg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vsnixctl.h"

#define CORE_PAGE	4096u
#define CORE_MAX_LOADS	2	/* PC RAM: below 3 GiB and from 4 GiB */
#define PC_LOW_RAM_END	0xc0000000ull
#define NOTE_NAME	"CORE"	/* SVR4 core notes; 8 bytes with padding */

/* The descriptor follows the 4-byte-padded name directly: packed. */
struct core_note {
	Elf64_Nhdr nhdr;
	char name[8];
	struct elf_prstatus status;
} __attribute__((packed));

struct ram_range {
	uint64_t gpa, size;
	uint64_t host;		/* offset in vm->vx->mem */
};

/* Checked at option time, so a bad DIR fails before the guest runs. */
int dumpcore_check_dir(const char *dir)
{
	struct stat st;

	errno = 0;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK)) {
		fprintf(stderr, "vsnixctl: --dumpcore %s: not a writable directory%s%s\n",
			dir, errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	return 0;
}

/* Guest RAM as the loaders laid it out (in_ram() in run.c). */
static unsigned int ram_ranges(struct vm *vm, struct ram_range *r)
{
	uint64_t size = vm->vx->mem_size;

	if (vm->kind != GUEST_LINUX || size <= PC_LOW_RAM_END) {
		r[0] = (struct ram_range){ 0, size, 0 };
		return 1;
	}
	r[0] = (struct ram_range){ 0, PC_LOW_RAM_END, 0 };
	r[1] = (struct ram_range){ 1ull << 32, size - PC_LOW_RAM_END,
				   PC_LOW_RAM_END };
	return 2;
}

/*
 * Solo5's bindings pass their trap frame as the halt cookie: cr2, error
 * code, rip, cs, rflags, rsp, ss, 64 bits each. The state at the trap is
 * what a debugger wants, not the abort path's.
 */
static void apply_trap_frame(struct vm *vm, uint64_t cookie, elf_gregset_t g)
{
	const uint64_t *f = vx_gpa(vm->vx, cookie, 7 * sizeof(uint64_t));

	if (!f)
		return;
	g[RIP] = f[2];
	g[CS] = f[3];
	g[EFLAGS] = f[4];
	g[RSP] = f[5];
	g[SS] = f[6];
}

static int fill_note(struct vm *vm, unsigned int idx, struct core_note *n)
{
	struct vx_vcpu *vcpu = vm->vx->vcpus[idx];
	struct elf_prstatus st = { .pr_pid = idx + 1 };	/* a thread per vCPU */
	elf_greg_t *g = st.pr_reg;
	struct vsnix_regs r;
	struct vsnix_sregs s;

	if (vx_vcpu_get_regs(vcpu, &r) || vx_vcpu_get_sregs(vcpu, &s))
		return report(-1);
	g[R15] = r.r15; g[R14] = r.r14; g[R13] = r.r13; g[R12] = r.r12;
	g[R11] = r.r11; g[R10] = r.r10; g[R9] = r.r9; g[R8] = r.r8;
	g[RBP] = r.rbp; g[RBX] = r.rbx; g[RAX] = r.rax; g[RCX] = r.rcx;
	g[RDX] = r.rdx; g[RSI] = r.rsi; g[RDI] = r.rdi; g[ORIG_RAX] = -1;
	g[RIP] = r.rip; g[EFLAGS] = r.rflags; g[RSP] = r.rsp;
	g[CS] = s.cs.selector; g[SS] = s.ss.selector; g[DS] = s.ds.selector;
	g[ES] = s.es.selector; g[FS] = s.fs.selector; g[GS] = s.gs.selector;
	g[FS_BASE] = s.fs.base; g[GS_BASE] = s.gs.base;
	if (vcpu->run->exit_reason == VSNIX_EXIT_GUEST_EXIT &&
	    vcpu->run->guest_exit.source == VSNIX_GUEST_EXIT_HVT_HALT &&
	    vcpu->run->guest_exit.data)
		apply_trap_frame(vm, vcpu->run->guest_exit.data, g);
	n->nhdr = (Elf64_Nhdr){ .n_namesz = sizeof(NOTE_NAME),
				.n_descsz = sizeof(st), .n_type = NT_PRSTATUS };
	memcpy(n->name, NOTE_NAME, sizeof(NOTE_NAME));
	memcpy(&n->status, &st, sizeof(st));
	return 0;
}

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[CORE_PAGE];

	return !memcmp(p, zero, CORE_PAGE);
}

/* The range's pages that hold anything, at off in the file. */
static int write_range(struct vm *vm, int fd, const struct ram_range *r, off_t off)
{
	uint64_t done;

	for (done = 0; done < r->size; done += CORE_PAGE) {
		const uint8_t *p = vm->vx->mem + r->host + done;

		if (page_is_zero(p))
			continue;
		if (pwrite(fd, p, CORE_PAGE, off + done) != CORE_PAGE)
			return -1;
	}
	return 0;
}

static int write_headers(struct vm *vm, int fd, const struct ram_range *r,
			 unsigned int nr, off_t *data_off)
{
	unsigned int nr_vcpus = vm->vx->nr_vcpus, i;
	Elf64_Phdr ph[1 + CORE_MAX_LOADS] = { 0 };
	struct core_note note;
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
			     ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE },
		.e_type = ET_CORE, .e_machine = EM_X86_64,
		.e_version = EV_CURRENT, .e_phoff = sizeof(eh),
		.e_ehsize = sizeof(eh), .e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = 1 + nr,
	};
	off_t off = sizeof(eh) + (1 + nr) * sizeof(Elf64_Phdr);

	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = off,
			      .p_filesz = nr_vcpus * sizeof(note), .p_align = 4 };
	off += nr_vcpus * sizeof(note);
	off = (off + CORE_PAGE - 1) & ~(off_t)(CORE_PAGE - 1);
	*data_off = off;
	for (i = 0; i < nr; i++) {
		ph[1 + i] = (Elf64_Phdr){
			.p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
			.p_offset = off, .p_vaddr = r[i].gpa, .p_paddr = r[i].gpa,
			.p_filesz = r[i].size, .p_memsz = r[i].size,
			.p_align = CORE_PAGE };
		off += r[i].size;
	}
	if (write(fd, &eh, sizeof(eh)) != sizeof(eh) ||
	    write(fd, ph, (1 + nr) * sizeof(ph[0])) != (ssize_t)((1 + nr) * sizeof(ph[0])))
		return -1;
	for (i = 0; i < nr_vcpus; i++) {
		memset(&note, 0, sizeof(note));
		if (fill_note(vm, i, &note))
			return -1;
		if (write(fd, &note, sizeof(note)) != sizeof(note))
			return -1;
	}
	/* The file's length covers RAM that ends in zeros too. */
	return ftruncate(fd, off);
}

static int write_core(struct vm *vm, int fd)
{
	struct ram_range r[CORE_MAX_LOADS];
	unsigned int nr = ram_ranges(vm, r), i;
	off_t off;

	if (write_headers(vm, fd, r, nr, &off))
		return -1;
	for (i = 0; i < nr; off += r[i].size, i++)
		if (write_range(vm, fd, &r[i], off))
			return -1;
	return fsync(fd);
}

/* Did the run end the way a core is for? */
static bool dumpcore_wanted(struct vm *vm, int code)
{
	unsigned int i;

	if (code == EXIT_VM_ERROR)
		return true;
	if (code != 255)
		return false;
	for (i = 0; i < vm->vx->nr_vcpus; i++) {
		const struct vsnix_run *run = vm->vx->vcpus[i]->run;

		if (run->exit_reason == VSNIX_EXIT_GUEST_EXIT &&
		    run->guest_exit.source == VSNIX_GUEST_EXIT_HVT_HALT)
			return true;
	}
	return false;
}

/* After vm_run(), before vm_destroy(): the vCPUs have stopped. */
void dumpcore(struct vm *vm, const char *dir, int code)
{
	char path[PATH_MAX];
	int fd;

	if (!dir || !vm->vx || !dumpcore_wanted(vm, code))
		return;
	snprintf(path, sizeof(path), "%s/core.vsnix.%d", dir, (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "vsnixctl: dumpcore: %s: %s\n", path, strerror(errno));
		return;
	}
	if (write_core(vm, fd)) {
		fprintf(stderr, "vsnixctl: dumpcore: writing %s: %s\n", path,
			strerror(errno ? errno : EIO));
		unlink(path);
	} else {
		fprintf(stderr, "vsnixctl: dumpcore: guest core written to %s\n", path);
	}
	close(fd);
}
