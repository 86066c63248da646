// SPDX-License-Identifier: GPL-2.0
/*
 * EFER.LME set with paging off and CR4.PAE clear: legal (AMD APM Vol 2,
 * 14.6.1), and setting CR0.PG from there is #GP. QEMU's TCG cannot take
 * a #VMEXIT from that state (its CR0 load refuses the host's PG, and the
 * host runs on with paging off and GIF clear: a CPU deaf to interrupts
 * and NMIs; svm_sync_lme in kmod/arch/x86/svm/svm_state.c). Each exit
 * below comes from that state; then the guest sets PAE and enters long
 * mode with the LME it set.
 */
#include <string.h>

#include "vsnix_util.h"

#define RAM_SIZE	(1ul << 20)
#define LOAD_GPA	0x8000ul
#define PT_GPA		0x10000ul	/* PML4, PDPT, PD: 0-2 MiB identity */

extern char lme_start[], lme_gp[], lme_end[];

/* Run as 0800:0000, DS = 0. */
asm(".pushsection .text\n"
	".code16\n"
	"lme_start:\n"
	"  mov $0xc0000080, %ecx\n"
	"  rdmsr\n"
	"  or $0x100, %eax\n"		/* EFER.LME */
	"  wrmsr\n"
	"  out %al, $0x20\n"
	"  rdmsr\n"
	"  out %eax, $0x21\n"
	"  mov %cr0, %eax\n"
	"  or $8, %eax\n"		/* TS */
	"  mov %eax, %cr0\n"
	"  mov %cr0, %eax\n"
	"  out %eax, $0x22\n"
	"  clts\n"
	"  mov %cr0, %eax\n"
	"  out %eax, $0x22\n"
	"  movw $(lme_gp - lme_start), 13 * 4\n"	/* IVT: #GP */
	"  movw $0x800, 13 * 4 + 2\n"
	"  mov %cr0, %eax\n"
	"  or $0x80000001, %eax\n"
	"  mov %eax, %cr0\n"		/* PG with LME, no PAE: #GP */
	"  out %al, $0x2f\n"
	"  hlt\n"
	"lme_gp:\n"
	"  out %al, $0x23\n"
	"  mov %cr4, %eax\n"
	"  or $0x20, %eax\n"		/* PAE */
	"  mov %eax, %cr4\n"
	"  mov $0x10000, %eax\n"
	"  mov %eax, %cr3\n"
	"  mov %cr0, %eax\n"
	"  or $0x80000001, %eax\n"
	"  mov %eax, %cr0\n"		/* long mode (compatibility mode) */
	"  rdmsr\n"
	"  out %eax, $0x24\n"
	"  hlt\n"
	"lme_end:\n"
	".code64\n"
	".popsection\n");

static bool run_out(struct vsnix_test_vcpu *vcpu, uint16_t port, uint8_t size,
		    uint32_t *val)
{
	if (vcpu_run_raw(vcpu) || !vcpu_is_io(vcpu, port, VSNIX_EXIT_IO_OUT, size)) {
		tap_diag("want out port 0x%x: %s", port, vcpu_exit_str(vcpu));
		return false;
	}
	*val = 0;
	memcpy(val, vcpu_io_data(vcpu), size);
	return true;
}

static void test_guest_lme(void)
{
	struct vsnix_test_vm *vm = vm_create(RAM_SIZE);
	struct vsnix_test_vcpu *vcpu = vcpu_create(vm, 0);
	uint64_t pt[3] = { PT_GPA + 0x1003, PT_GPA + 0x2003, 0x83 };
	struct vsnix_sregs sregs;
	uint64_t efer = 0;
	uint32_t v = 0;
	bool ok;

	vm_write(vm, LOAD_GPA, lme_start, lme_end - lme_start);
	vm_write(vm, PT_GPA, &pt[0], 8);
	vm_write(vm, PT_GPA + 0x1000, &pt[1], 8);
	vm_write(vm, PT_GPA + 0x2000, &pt[2], 8);
	vcpu_setup_real_mode(vcpu, LOAD_GPA >> 4, 0);
	tap_ok(run_out(vcpu, 0x20, 1, &v), "exit with EFER.LME set by WRMSR, CR4.PAE and CR0.PG clear");
	vcpu_get_sregs(vcpu, &sregs);
	ok = vcpu_get_msr(vcpu, 0xc0000080, &efer) == 1;
	tap_ok(ok && (efer & 0x500) == 0x100 && (sregs.efer & 0x500) == 0x100,
	       "GET_MSRS and GET_SREGS show LME, not LMA (0x%llx, 0x%llx)",
	       (unsigned long long)efer, (unsigned long long)sregs.efer);
	ok = run_out(vcpu, 0x21, 4, &v);
	tap_ok(ok && (v & 0x500) == 0x100, "the guest's RDMSR shows LME, not LMA (0x%x)", v);
	ok = run_out(vcpu, 0x22, 4, &v);
	tap_ok(ok && (v & 0x80000009) == 8, "MOV to CR0 sets TS, paging still off (CR0 0x%x)", v);
	ok = run_out(vcpu, 0x22, 4, &v);
	tap_ok(ok && !(v & 8), "CLTS clears TS (CR0 0x%x)", v);
	tap_ok(run_out(vcpu, 0x23, 1, &v), "CR0.PG with LME and no PAE is #GP");
	ok = run_out(vcpu, 0x24, 4, &v);
	tap_ok(ok && (v & 0x500) == 0x500, "with PAE, CR0.PG enters long mode: EFER 0x%x", v);
	vm_destroy(vm);
}

/* The same state from SET_SREGS: the first exit after it. */
static void test_sregs_lme(void)
{
	static const uint8_t code[] = { 0xe6, 0x20, 0xf4 };	/* out %al,$0x20; hlt */
	struct vsnix_test_vm *vm = vm_create(RAM_SIZE);
	struct vsnix_test_vcpu *vcpu = vcpu_create(vm, 0);
	struct vsnix_sregs sregs;
	uint32_t v;

	vm_write(vm, LOAD_GPA, code, sizeof(code));
	vcpu_setup_real_mode(vcpu, LOAD_GPA >> 4, 0);
	vcpu_get_sregs(vcpu, &sregs);
	sregs.efer = 0x100;
	sregs.cr4 = 0;
	vcpu_set_sregs(vcpu, &sregs);
	tap_ok(run_out(vcpu, 0x20, 1, &v), "exit after SET_SREGS with EFER.LME, no PAE");
	vcpu_get_sregs(vcpu, &sregs);
	tap_ok(sregs.efer == 0x100, "GET_SREGS gives EFER 0x%llx back",
	       (unsigned long long)sregs.efer);
	vm_destroy(vm);
}

int main(void)
{
	vsnix_dev_fd();
	if (!vsnix_cap(VSNIX_CAP_REAL_MODE))
		tap_skip_all("VSNIX_CAP_REAL_MODE is 0: this host cannot run real-mode guests");
	tap_plan(10);
	test_guest_lme();
	test_sregs_lme();
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
