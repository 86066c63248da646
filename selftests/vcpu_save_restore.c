// SPDX-License-Identifier: GPL-2.0
/*
 * Save a running guest's vCPU (REGS, SREGS, MSRS, XSAVE, VCPU_EVENTS,
 * DEBUGREGS) after a signal stopped it in the middle of a loop, with an
 * NMI, an exception and two external interrupts still pending; restore
 * it into a fresh VM with a copy of the memory. The guest goes on from
 * where it was: its loop state (kept in registers) is consistent, an
 * XMM register, DR0-3 and an MSR hold their values, and each pending
 * event is delivered once. GET after SET gives back the same state, and
 * the must-be-zero fields of both ioctls are checked.
 */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "vsnix_util.h"

#define EXT_VECTOR	0x40
#define XMM_MAGIC	0x1122334455667788ull
#define LSTAR_VALUE	0xffffffff81234560ull

volatile uint64_t sr_stop, sr_progress, sr_nmi, sr_ud, sr_ext;
extern char sr_nmi_handler[], sr_ud_handler[], sr_ext_handler[];

asm(".pushsection .text\n"
	"sr_nmi_handler:\n  incq sr_nmi(%rip)\n  iretq\n"
	"sr_ud_handler:\n  incq sr_ud(%rip)\n  iretq\n"
	"sr_ext_handler:\n  incq sr_ext(%rip)\n  iretq\n"
	".popsection\n");

static void guest_main(void)
{
	uint64_t i = 0, acc = 1, x, dr0, dr3, lo, hi;

	asm volatile("movq %0, %%xmm3" : : "r"(XMM_MAGIC) : "xmm3");
	asm volatile("sti");
	while (!sr_stop) {
		i++;
		acc = acc * 3 + i;
		sr_progress = i;
	}
	asm volatile("cli");
	asm volatile("movq %%xmm3, %0" : "=r"(x));
	guest_ucall(UCALL_SYNC, 1, i, acc, x, 0, 0);
	asm volatile("mov %%dr0, %0" : "=r"(dr0));
	asm volatile("mov %%dr3, %0" : "=r"(dr3));
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000082));
	guest_ucall(UCALL_SYNC, 2, dr0, dr3, lo | hi << 32,
		    sr_nmi | sr_ud << 8 | sr_ext << 16, 0);
}

static const uint32_t msr_list[] = {
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,	/* STAR .. SFMASK */
	0xc0000100, 0xc0000101, 0xc0000102,		/* FS, GS, KERNEL_GS base */
	0x174, 0x175, 0x176, 0x277,			/* SYSENTER_*, PAT */
};
#define NR_MSRS (sizeof(msr_list) / sizeof(msr_list[0]))

struct saved {
	struct vsnix_regs regs;
	struct vsnix_sregs sregs;
	struct vsnix_xsave xsave;
	struct vsnix_vcpu_events events;
	struct vsnix_debugregs dr;
	struct {
		struct vsnix_msrs hdr;
		struct vsnix_msr_entry e[NR_MSRS];
	} msrs;
};

static bool save(struct vsnix_test_vcpu *vcpu, struct saved *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->msrs.hdr.nmsrs = NR_MSRS;
	for (i = 0; i < NR_MSRS; i++)
		s->msrs.e[i].index = msr_list[i];
	return !ioctl(vcpu->fd, VSNIX_GET_REGS, &s->regs) &&
	       !ioctl(vcpu->fd, VSNIX_GET_SREGS, &s->sregs) &&
	       ioctl(vcpu->fd, VSNIX_GET_MSRS, &s->msrs) == NR_MSRS &&
	       !ioctl(vcpu->fd, VSNIX_GET_XSAVE, &s->xsave) &&
	       !ioctl(vcpu->fd, VSNIX_GET_VCPU_EVENTS, &s->events) &&
	       !ioctl(vcpu->fd, VSNIX_GET_DEBUGREGS, &s->dr);
}

/* Events last: an interrupt shadow holds for the RIP SET_REGS loaded. */
static bool restore(struct vsnix_test_vcpu *vcpu, struct saved *s)
{
	return !ioctl(vcpu->fd, VSNIX_SET_SREGS, &s->sregs) &&
	       !ioctl(vcpu->fd, VSNIX_SET_REGS, &s->regs) &&
	       ioctl(vcpu->fd, VSNIX_SET_MSRS, &s->msrs) == NR_MSRS &&
	       !ioctl(vcpu->fd, VSNIX_SET_XSAVE, &s->xsave) &&
	       !ioctl(vcpu->fd, VSNIX_SET_DEBUGREGS, &s->dr) &&
	       !ioctl(vcpu->fd, VSNIX_SET_VCPU_EVENTS, &s->events);
}

static pthread_t main_thread;

static void on_usr1(int sig)
{
}

static void *stop_later(void *arg)
{
	struct vsnix_test_vm *vm = arg;

	usleep(100 * 1000);
	if (vm)
		GUEST_VAR(vm, sr_stop) = 1;
	else
		pthread_kill(main_thread, SIGUSR1);
	return NULL;
}

static int inject(struct vsnix_test_vcpu *vcpu, uint8_t type, uint8_t vector)
{
	struct vsnix_event ev = { .type = type, .vector = vector };

	return ioctl(vcpu->fd, VSNIX_INJECT_EVENT, &ev);
}

static uint64_t loop_acc(uint64_t n)
{
	uint64_t acc = 1, i;

	for (i = 1; i <= n; i++)
		acc = acc * 3 + i;
	return acc;
}

/* Must-be-zero fields and bad values: EINVAL, state unchanged. */
static bool bad_inputs(struct vsnix_test_vcpu *vcpu, const struct saved *s)
{
	struct vsnix_vcpu_events ev = s->events, now;
	struct vsnix_debugregs dr = s->dr;
	bool ok;

	ev.flags = 1;
	ok = expect_errno(ioctl(vcpu->fd, VSNIX_SET_VCPU_EVENTS, &ev), EINVAL, "flags");
	ev = s->events;
	ev.reserved[7] = 1;
	ok = ok && expect_errno(ioctl(vcpu->fd, VSNIX_SET_VCPU_EVENTS, &ev), EINVAL, "reserved");
	ev = s->events;
	ev.nr_irqs = VSNIX_MAX_QUEUED_IRQS + 1;
	ok = ok && expect_errno(ioctl(vcpu->fd, VSNIX_SET_VCPU_EVENTS, &ev), EINVAL, "nr_irqs");
	ev = s->events;
	ev.exception.pending = 1;
	ev.exception.vector = 13;	/* #GP needs has_error_code */
	ok = ok && expect_errno(ioctl(vcpu->fd, VSNIX_SET_VCPU_EVENTS, &ev), EINVAL, "#GP");
	ev = s->events;
	ev.mp_state = 7;
	ok = ok && expect_errno(ioctl(vcpu->fd, VSNIX_SET_VCPU_EVENTS, &ev), EINVAL, "mp_state");
	dr.dr7 |= 1ull << 40;
	ok = ok && expect_errno(ioctl(vcpu->fd, VSNIX_SET_DEBUGREGS, &dr), EINVAL, "DR7 63:32");
	dr = s->dr;
	dr.reserved[0] = 1;
	ok = ok && expect_errno(ioctl(vcpu->fd, VSNIX_SET_DEBUGREGS, &dr), EINVAL, "reserved");
	ok = ok && !ioctl(vcpu->fd, VSNIX_GET_VCPU_EVENTS, &now) &&
	     !memcmp(&now, &s->events, sizeof(now));
	return ok;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	struct vsnix_test_vcpu *vcpu, *vcpu2;
	struct vsnix_test_vm *vm, *vm2;
	struct vsnix_vcpu_events ev2;
	struct vsnix_debugregs dr2;
	struct vsnix_sregs sregs;
	struct saved *s = calloc(1, sizeof(*s));
	uint64_t progress;
	struct ucall uc;
	pthread_t t;
	int ret, v;
	bool ok;

	vsnix_dev_fd();
	if (!vsnix_cap(VSNIX_CAP_VCPU_EVENTS))
		tap_skip_all("no VSNIX_CAP_VCPU_EVENTS");
	tap_plan(9);
	TEST_ASSERT(s && !sigaction(SIGUSR1, &sa, NULL), "set-up");
	main_thread = pthread_self();

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	vm_set_idt_gate(vm, 2, (uintptr_t)sr_nmi_handler);
	vm_set_idt_gate(vm, 6, (uintptr_t)sr_ud_handler);
	vm_set_idt_gate(vm, EXT_VECTOR, (uintptr_t)sr_ext_handler);
	vcpu_get_sregs(vcpu, &sregs);
	sregs.idt.limit = (EXT_VECTOR + 1) * 16 - 1;
	vcpu_set_sregs(vcpu, &sregs);
	TEST_ASSERT(vcpu_set_msr(vcpu, 0xc0000082, LSTAR_VALUE) == 1, "LSTAR");
	s->dr = (struct vsnix_debugregs){ .db = { 0x1000, 0x2000, 0x3000, 0x4000 },
					  .dr6 = 0xffff0ff0, .dr7 = 0x400 };
	TEST_ASSERT(!ioctl(vcpu->fd, VSNIX_SET_DEBUGREGS, &s->dr), "SET_DEBUGREGS");

	TEST_ASSERT(!pthread_create(&t, NULL, stop_later, NULL), "pthread_create");
	ret = vcpu_run_raw(vcpu);
	pthread_join(t, NULL);
	progress = GUEST_VAR(vm, sr_progress);
	tap_ok(expect_errno(ret, EINTR, "RUN") && progress > 0,
	       "a signal stops the guest in its loop (%lu rounds)", (unsigned long)progress);

	ok = !inject(vcpu, VSNIX_EVENT_NMI, 2) && !inject(vcpu, VSNIX_EVENT_EXCEPTION, 6) &&
	     !inject(vcpu, VSNIX_EVENT_EXTINT, EXT_VECTOR) &&
	     !inject(vcpu, VSNIX_EVENT_EXTINT, EXT_VECTOR);
	ok = ok && save(vcpu, s);
	tap_ok(ok && s->events.nmi_pending == 1 && s->events.exception.pending == 1 &&
	       s->events.exception.vector == 6 && s->events.nr_irqs == 2 &&
	       s->events.irqs[1] == EXT_VECTOR && s->dr.db[3] == 0x4000,
	       "saved: NMI, #UD and 2 EXTINTs pending, DR3 0x%llx",
	       (unsigned long long)s->dr.db[3]);
	tap_ok(bad_inputs(vcpu, s), "SET_VCPU_EVENTS/SET_DEBUGREGS: bad input is EINVAL, state kept");

	vm2 = vm_create_long(0);
	TEST_ASSERT(vm2->mem_size == vm->mem_size, "same memory size");
	memcpy(vm2->mem, vm->mem, vm->mem_size);
	vm_destroy(vm);
	vcpu2 = vcpu_create(vm2, 0);
	ok = restore(vcpu2, s) && !ioctl(vcpu2->fd, VSNIX_GET_VCPU_EVENTS, &ev2) &&
	     !ioctl(vcpu2->fd, VSNIX_GET_DEBUGREGS, &dr2);
	tap_ok(ok && !memcmp(&ev2, &s->events, sizeof(ev2)) && !memcmp(&dr2, &s->dr, sizeof(dr2)),
	       "restored into a fresh VM: GET gives back what SET was given");

	TEST_ASSERT(!pthread_create(&t, NULL, stop_later, vm2), "pthread_create");
	ok = vcpu_run_ucall_soft(vcpu2, &uc) == UCALL_SYNC && uc.args[0] == 1;
	pthread_join(t, NULL);
	tap_ok(ok && uc.args[1] > progress && uc.args[2] == loop_acc(uc.args[1]),
	       "the loop went on from its registers (%lu rounds > %lu, accumulator consistent)",
	       (unsigned long)uc.args[1], (unsigned long)progress);
	tap_ok(ok && uc.args[3] == XMM_MAGIC, "XMM3 kept (0x%llx)", (unsigned long long)uc.args[3]);
	ok = vcpu_run_ucall_soft(vcpu2, &uc) == UCALL_SYNC && uc.args[0] == 2;
	tap_ok(ok && uc.args[1] == 0x1000 && uc.args[2] == 0x4000 && uc.args[3] == LSTAR_VALUE,
	       "DR0 0x%lx, DR3 0x%lx, LSTAR 0x%lx kept", (unsigned long)uc.args[1],
	       (unsigned long)uc.args[2], (unsigned long)uc.args[3]);
	v = uc.args[4];
	tap_ok(ok && v == (1 | 1 << 8 | 2 << 16),
	       "each pending event delivered once after the restore (NMI %d, #UD %d, EXTINT %d)",
	       v & 0xff, (v >> 8) & 0xff, v >> 16);
	ok = vcpu_run_ucall_soft(vcpu2, &uc) == UCALL_DONE;
	vm_destroy(vm2);
	free(s);
	tap_ok(ok && kernel_healthy(), "guest finished; kernel not tainted by an oops or WARN");
	tap_finish();
}
