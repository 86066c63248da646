// SPDX-License-Identifier: GPL-2.0
/*
 * Port I/O, MMIO and CPUID exits, shared by the SVM and VMX backends.
 *
 * An access goes to the in-kernel device bus first; when no device claims
 * it, the run structure is filled for userspace and the completion (the
 * register write of an IN or an MMIO read, and the RIP update) waits in
 * vcpu->pending until the next RUN.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/processor-flags.h>
#include "x86.h"
#include "lapic.h"
#include "../../core/trace.h"

#define MAX_INSN_BYTES	15	/* SDM Vol 2, 2.3.11 */

static u8 *pio_data_area(struct vsnix_vcpu *vcpu)
{
	/* run->io.data_offset = 4096: the second page of the vCPU mapping. */
	return page_address(vcpu->run_pages[1]);
}

static u64 width_mask(unsigned int bytes)
{
	return bytes >= 8 ? ~0ULL : (1ULL << (8 * bytes)) - 1;
}

/*
 * Write the low 'bytes' of val to a GPR with x86 semantics (SDM Vol 1,
 * 3.4.1.1): 8- and 16-bit writes keep the rest of the register, a 32-bit
 * write zero-extends to 64 bits.
 */
static void gpr_write_sized(struct vsnix_vcpu *vcpu, unsigned int reg, u64 val,
			    unsigned int bytes)
{
	u64 mask = width_mask(bytes);

	if (bytes >= 4)
		vcpu->gpr[reg] = val & mask;
	else
		vcpu->gpr[reg] = (vcpu->gpr[reg] & ~mask) | (val & mask);
}

static void exit_emulation_error(struct vsnix_vcpu *vcpu, const u8 *bytes,
				 unsigned int nbytes, u64 addr)
{
	u64 data[3] = { 0, 0, addr };

	memcpy(data, bytes, min_t(unsigned int, nbytes, 16));
	vsnix_exit_internal(vcpu, VSNIX_INTERNAL_EMULATION, ARRAY_SIZE(data),
			    data);
}

/*
 * Fetch up to 15 instruction bytes at CS.base + RIP. The instruction may
 * end before a page that is not mapped, so fall back to the bytes up to
 * the page end. Returns the number of bytes read, 0 when none.
 */
static unsigned int fetch_insn(struct vsnix_vcpu *vcpu,
			       const struct vsnix_paging *pg, u8 *buf)
{
	u64 linear = pg->cs_base + vcpu->rip;
	unsigned int to_page_end;

	if (pg->mode != VSNIX_MODE_LONG64)
		linear = (u32)linear;
	if (!vsnix_read_gva(vcpu->vm, pg, linear, buf, MAX_INSN_BYTES))
		return MAX_INSN_BYTES;
	to_page_end = 4096 - (linear & 4095);
	if (to_page_end < MAX_INSN_BYTES &&
	    !vsnix_read_gva(vcpu->vm, pg, linear, buf, to_page_end))
		return to_page_end;
	return 0;
}

/* ------------------------------------------------------------- PIO */

static void complete_pio_in(struct vsnix_vcpu *vcpu, u64 val, u8 size)
{
	/* SDM Vol 2, IN: AL/AX keep the upper bits, EAX zero-extends RAX. */
	gpr_write_sized(vcpu, VSNIX_RAX, val, size);
}

/* Operands of an INS/OUTS, from its prefixes (SDM Vol 2, INS and OUTS). */
struct string_io {
	u8 addr_size;		/* 2, 4, 8 */
	u64 seg_base;		/* DS or override (OUTS), ES (INS) */
	bool long_mode;
	int step;		/* +size, or -size when RFLAGS.DF */
};

static u64 seg_base_of(const struct vsnix_sregs *s, u8 prefix)
{
	switch (prefix) {
	case 0x26: return s->es.base;
	case 0x2e: return s->cs.base;
	case 0x36: return s->ss.base;
	case 0x64: return s->fs.base;
	case 0x65: return s->gs.base;
	default: return s->ds.base;
	}
}

static int string_io_setup(struct vsnix_vcpu *vcpu, u8 size, bool in,
			   struct string_io *sio, struct vsnix_paging *pg)
{
	struct vsnix_sregs sregs;
	u8 insn[MAX_INSN_BYTES], seg = 0;
	unsigned int n, i;
	bool addr_override = false;

	vsnix_ops->get_sregs(vcpu, &sregs);
	vsnix_x86_paging_from_sregs(&sregs, vcpu->rflags, pg);
	pg->maxphyaddr = vsnix_x86_maxphyaddr(vcpu);

	n = fetch_insn(vcpu, pg, insn);
	for (i = 0; i < n; i++) {
		u8 b = insn[i];

		if (b == 0x67)
			addr_override = true;
		else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e ||
			 b == 0x64 || b == 0x65)
			seg = b;
		else if (b == 0x66 || b == 0xf0 || b == 0xf2 || b == 0xf3 ||
			 (pg->mode == VSNIX_MODE_LONG64 && (b & 0xf0) == 0x40))
			continue;
		else
			break;
	}
	/* The opcode must be INS/OUTS (6C-6F), or we misread the exit. */
	if (i >= n || (insn[i] & 0xfc) != 0x6c) {
		exit_emulation_error(vcpu, insn, n, vcpu->rip);
		return -EINVAL;
	}

	switch (pg->mode) {
	case VSNIX_MODE_LONG64:
		sio->addr_size = addr_override ? 4 : 8;
		break;
	case VSNIX_MODE_PROT32:
		sio->addr_size = addr_override ? 2 : 4;
		break;
	default:
		sio->addr_size = addr_override ? 4 : 2;
	}
	sio->long_mode = pg->mode == VSNIX_MODE_LONG64;
	/* INS writes ES:rDI, no override (SDM Vol 2, INS). */
	sio->seg_base = in ? sregs.es.base : seg_base_of(&sregs, seg);
	/* SDM Vol 3, 3.4.4: in 64-bit mode only FS and GS have a base. */
	if (sio->long_mode && !(!in && (seg == 0x64 || seg == 0x65)))
		sio->seg_base = 0;
	sio->step = (vcpu->rflags & X86_EFLAGS_DF) ? -(int)size : size;
	return 0;
}

static u64 string_linear(const struct string_io *sio, u64 index_reg)
{
	u64 linear = sio->seg_base + (index_reg & width_mask(sio->addr_size));

	return sio->long_mode ? linear : (u32)linear;
}

/* rSI/rDI += step, in the address size (wraps like the hardware). */
static void string_advance(struct vsnix_vcpu *vcpu, const struct string_io *sio,
			   unsigned int reg, long elements)
{
	gpr_write_sized(vcpu, reg, vcpu->gpr[reg] + elements * sio->step,
			sio->addr_size);
}

static void string_consume(struct vsnix_vcpu *vcpu, bool rep, u8 addr_size,
			   u32 done, u64 next_rip)
{
	u64 left = 0;

	if (rep) {
		left = (vcpu->gpr[VSNIX_RCX] & width_mask(addr_size)) - done;
		gpr_write_sized(vcpu, VSNIX_RCX, left, addr_size);
	}
	/* A REP with elements left runs again (SDM Vol 2, REP: resumable). */
	if (!left)
		vcpu->rip = next_rip;
}

/* Is the byte at a linear address writable guest RAM? */
static bool gva_writable(struct vsnix_vm *vm, const struct vsnix_paging *pg,
			 u64 linear)
{
	struct vsnix_memslot *slot;
	int idx;
	bool ok;
	u64 gpa;

	if (vsnix_gva_to_gpa(vm, pg, linear, &gpa))
		return false;
	idx = srcu_read_lock(&vm->srcu);
	slot = vsnix_memslot_find(vm, gpa);
	ok = slot && !(slot->flags & VSNIX_MEM_READONLY);
	srcu_read_unlock(&vm->srcu, idx);
	return ok;
}

/* Map a device-bus result onto the exit-handler contract. */
static int io_result(int ret)
{
	if (ret == VSNIX_IO_DONE)
		return 1;
	if (ret == -EINTR)
		return -EINTR;
	return 0;	/* VSNIX_IO_EXIT, or the device filled INTERNAL_ERROR */
}

static void fill_io_exit(struct vsnix_vcpu *vcpu, u16 port, u8 size, bool in,
			 u32 count, bool string, bool rep, u8 addr_size,
			 u64 next_rip)
{
	struct vsnix_run *run = vcpu->run;

	run->exit_reason = VSNIX_EXIT_IO;
	run->io.direction = in ? VSNIX_EXIT_IO_IN : VSNIX_EXIT_IO_OUT;
	run->io.size = size;
	run->io.port = port;
	run->io.count = count;
	run->io.data_offset = VSNIX_RUN_IO_DATA_OFFSET;

	vcpu->pending = in ? VSNIX_PENDING_PIO_IN : VSNIX_PENDING_PIO_OUT;
	vcpu->pending_next_rip = next_rip;
	vcpu->pending_pio = (struct vsnix_pending_pio) {
		.port = port, .size = size, .string = string, .rep = rep,
		.addr_size = addr_size, .count = count,
	};
	vcpu->stat.pio_user++;
	vcpu->stat.io_bytes_user += (u64)size * count;
	if (trace_vsnix_io_enabled()) {
		u64 val = 0;

		if (!in)
			memcpy(&val, pio_data_area(vcpu), size);
		trace_vsnix_io(vcpu->vm->id, vcpu->id, false, port, size, !in,
			       val, 0, VSNIX_TRACE_IO_USER);
	}
}

static int handle_string_pio(struct vsnix_vcpu *vcpu, u16 port, u8 size,
			     bool in, bool rep, u64 next_rip)
{
	unsigned int index_reg = in ? VSNIX_RDI : VSNIX_RSI;
	struct vsnix_paging pg;
	struct string_io sio;
	u32 count, batch, done;
	u8 *data;
	int ret = -ENODEV;

	if (string_io_setup(vcpu, size, in, &sio, &pg))
		return 0;
	count = 1;
	if (rep) {
		u64 rcx = vcpu->gpr[VSNIX_RCX] & width_mask(sio.addr_size);

		if (!rcx) {
			vcpu->rip = next_rip;
			return 1;
		}
		count = min_t(u64, rcx, U32_MAX);
	}
	/* One exit moves at most a page of data: the guest re-runs the REP. */
	batch = min_t(u32, count, PAGE_SIZE / size);

	/* In-kernel device first, one element at a time. */
	for (done = 0; done < batch; done++) {
		u64 linear = string_linear(&sio, vcpu->gpr[index_reg]);
		u64 val = 0;

		if (!in && vsnix_read_gva(vcpu->vm, &pg, linear, &val, size))
			goto fault;
		ret = vsnix_io_dispatch(vcpu, VSNIX_BUS_PIO, port, size, !in, &val);
		if (ret == -ENODEV)
			break;
		if (ret < 0)
			return io_result(ret);	/* element not done */
		if (in && vsnix_write_gva(vcpu->vm, &pg, linear, &val, size))
			goto fault;
		string_advance(vcpu, &sio, index_reg, 1);
		string_consume(vcpu, rep, sio.addr_size, 1, next_rip);
		if (ret != VSNIX_IO_DONE)
			return io_result(ret);
	}
	if (ret != -ENODEV || done)
		return 1;	/* batch done (or device gone mid-way): re-run */

	/*
	 * Userspace: check the guest memory of the batch now, so the
	 * completion only copies. OUTS data is copied into the run page.
	 */
	data = pio_data_area(vcpu);
	for (done = 0; done < batch; done++) {
		u64 linear = string_linear(&sio, vcpu->gpr[index_reg] +
					   (s64)done * sio.step);

		if (in) {
			if (!gva_writable(vcpu->vm, &pg, linear) ||
			    !gva_writable(vcpu->vm, &pg, linear + size - 1))
				break;
		} else if (vsnix_read_gva(vcpu->vm, &pg, linear,
					  data + done * size, size)) {
			break;
		}
	}
	if (!done)
		goto fault;
	fill_io_exit(vcpu, port, size, in, done, true, rep, sio.addr_size,
		     next_rip);
	return 0;

fault:
	{
		u64 info[3] = { port, vcpu->gpr[index_reg], vcpu->rip };

		/* The guest's string buffer is not RAM: nothing to emulate. */
		vsnix_exit_internal(vcpu, VSNIX_INTERNAL_EMULATION,
				    ARRAY_SIZE(info), info);
	}
	return 0;
}

int vsnix_x86_handle_pio(struct vsnix_vcpu *vcpu, u16 port, u8 size,
			 bool in, bool string, bool rep, u64 next_rip)
{
	u64 val;
	int ret;

	if (size != 1 && size != 2 && size != 4) {
		u64 info[2] = { port, size };

		vsnix_exit_internal(vcpu, VSNIX_INTERNAL_EMULATION,
				    ARRAY_SIZE(info), info);
		return 0;
	}
	if (string)
		return handle_string_pio(vcpu, port, size, in, rep, next_rip);

	val = in ? 0 : vcpu->gpr[VSNIX_RAX] & width_mask(size);
	ret = vsnix_io_dispatch(vcpu, VSNIX_BUS_PIO, port, size, !in, &val);
	if (ret == -ENODEV) {
		if (!in)
			memcpy(pio_data_area(vcpu), &val, size);
		fill_io_exit(vcpu, port, size, in, 1, false, false, 0, next_rip);
		return 0;
	}
	if (ret == VSNIX_IO_DONE || ret == VSNIX_IO_EXIT) {
		if (in)
			complete_pio_in(vcpu, val, size);
		vcpu->rip = next_rip;
	}
	return io_result(ret);
}

static void complete_string_in(struct vsnix_vcpu *vcpu,
			       const struct vsnix_pending_pio *p)
{
	struct vsnix_sregs sregs;
	struct vsnix_paging pg;
	struct string_io sio = { .addr_size = p->addr_size };
	const u8 *data = pio_data_area(vcpu);
	u32 i;

	vsnix_ops->get_sregs(vcpu, &sregs);
	vsnix_x86_paging_from_sregs(&sregs, vcpu->rflags, &pg);
	pg.maxphyaddr = vsnix_x86_maxphyaddr(vcpu);
	sio.long_mode = pg.mode == VSNIX_MODE_LONG64;
	sio.seg_base = sio.long_mode ? 0 : sregs.es.base;
	sio.step = (vcpu->rflags & X86_EFLAGS_DF) ? -(int)p->size : p->size;

	for (i = 0; i < p->count; i++) {
		u64 linear = string_linear(&sio, vcpu->gpr[VSNIX_RDI]);

		/*
		 * Memory checked at exit time went away (slot deleted): stop
		 * here; RIP stays, so the guest re-runs the INS and exits.
		 */
		if (vsnix_write_gva(vcpu->vm, &pg, linear, data + i * p->size,
				    p->size))
			return;
		string_advance(vcpu, &sio, VSNIX_RDI, 1);
		string_consume(vcpu, p->rep, p->addr_size, 1,
			       vcpu->pending_next_rip);
	}
}

static void complete_string_out(struct vsnix_vcpu *vcpu,
				const struct vsnix_pending_pio *p)
{
	struct string_io sio = {
		.addr_size = p->addr_size,
		.step = (vcpu->rflags & X86_EFLAGS_DF) ? -(int)p->size : p->size,
	};

	string_advance(vcpu, &sio, VSNIX_RSI, p->count);
	string_consume(vcpu, p->rep, p->addr_size, p->count,
		       vcpu->pending_next_rip);
}

/* ------------------------------------------------------------- MMIO */

static void complete_mmio_read(struct vsnix_vcpu *vcpu,
			       const struct vsnix_mmio_insn *insn, u64 val)
{
	val &= width_mask(insn->size);
	if (insn->sign_extend)
		val = sign_extend64(val, 8 * insn->size - 1);
	if (insn->high_byte) {
		vcpu->gpr[insn->reg] = (vcpu->gpr[insn->reg] & ~0xff00ULL) |
				       ((val & 0xff) << 8);
		return;
	}
	/* MOVZX/MOVSX: already extended; the destination width decides. */
	gpr_write_sized(vcpu, insn->reg, val, insn->dst_size);
}

static u64 mmio_write_value(struct vsnix_vcpu *vcpu,
			    const struct vsnix_mmio_insn *insn)
{
	u64 val;

	if (insn->has_imm)
		val = insn->imm;
	else if (insn->high_byte)
		val = vcpu->gpr[insn->reg] >> 8;
	else
		val = vcpu->gpr[insn->reg];
	return val & width_mask(insn->size);
}

bool vsnix_x86_fetch_fault(struct vsnix_vcpu *vcpu, u64 gpa)
{
	struct vsnix_vm *vm = vcpu->vm;
	struct vsnix_run *run = vcpu->run;
	struct vsnix_memslot *slot;
	bool noexec;
	int idx;

	idx = srcu_read_lock(&vm->srcu);
	slot = vsnix_memslot_find(vm, gpa);
	noexec = slot && (slot->flags & VSNIX_MEM_NOEXEC);
	srcu_read_unlock(&vm->srcu, idx);
	if (!noexec)
		return false;
	run->exit_reason = VSNIX_EXIT_MEMORY_FAULT;
	run->memory_fault.gpa = gpa;
	run->memory_fault.access = VSNIX_MEMORY_FAULT_EXEC;
	run->memory_fault.pad = 0;
	return true;
}

int vsnix_x86_handle_mmio(struct vsnix_vcpu *vcpu, u64 gpa, const u8 *insn,
			  unsigned int insn_len)
{
	struct vsnix_mmio_insn mi;
	struct vsnix_paging pg;
	u8 bytes[MAX_INSN_BYTES] = { };
	unsigned int n;
	u64 val;
	int ret;

	vsnix_x86_get_paging(vcpu, &pg);
	if (insn && insn_len) {
		n = min_t(unsigned int, insn_len, MAX_INSN_BYTES);
		memcpy(bytes, insn, n);
	} else {
		n = fetch_insn(vcpu, &pg, bytes);
	}
	if (!n || vsnix_decode_mmio(bytes, n, pg.mode, &mi)) {
		exit_emulation_error(vcpu, bytes, n, gpa);
		return 0;
	}

	val = mi.is_write ? mmio_write_value(vcpu, &mi) : 0;
	/* The xAPIC page is per vCPU: before the VM's MMIO bus. */
	if (vsnix_lapic_mmio(vcpu, gpa, mi.size, mi.is_write, &val))
		ret = VSNIX_IO_DONE;
	else
		ret = vsnix_io_dispatch(vcpu, VSNIX_BUS_MMIO, gpa, mi.size,
					mi.is_write, &val);
	if (ret == -ENODEV) {
		struct vsnix_run *run = vcpu->run;

		run->exit_reason = VSNIX_EXIT_MMIO;
		run->mmio.phys_addr = gpa;
		run->mmio.len = mi.size;
		run->mmio.is_write = mi.is_write;
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
		if (mi.is_write)
			memcpy(run->mmio.data, &val, mi.size);
		vcpu->pending = VSNIX_PENDING_MMIO;
		vcpu->pending_mmio = mi;
		vcpu->pending_mmio_gpa = gpa;
		vcpu->stat.mmio_user++;
		vcpu->stat.io_bytes_user += mi.size;
		trace_vsnix_io(vcpu->vm->id, vcpu->id, true, gpa, mi.size,
			       mi.is_write, mi.is_write ? val : 0, 0,
			       VSNIX_TRACE_IO_USER);
		return 0;
	}
	if (ret == VSNIX_IO_DONE || ret == VSNIX_IO_EXIT) {
		if (!mi.is_write)
			complete_mmio_read(vcpu, &mi, val);
		vcpu->rip += mi.len;
	}
	return io_result(ret);
}

void vsnix_x86_complete_pending(struct vsnix_vcpu *vcpu)
{
	const struct vsnix_pending_pio *p = &vcpu->pending_pio;
	u64 val = 0;

	switch (vcpu->pending) {
	case VSNIX_PENDING_PIO_IN:
		if (p->string) {
			complete_string_in(vcpu, p);
			break;
		}
		memcpy(&val, pio_data_area(vcpu), p->size);
		complete_pio_in(vcpu, val, p->size);
		vcpu->rip = vcpu->pending_next_rip;
		break;
	case VSNIX_PENDING_PIO_OUT:
		if (p->string)
			complete_string_out(vcpu, p);
		else
			vcpu->rip = vcpu->pending_next_rip;
		break;
	case VSNIX_PENDING_MMIO:
		if (!vcpu->pending_mmio.is_write) {
			/* Sizes come from our copy, not from run->mmio.len. */
			memcpy(&val, vcpu->run->mmio.data, sizeof(val));
			complete_mmio_read(vcpu, &vcpu->pending_mmio, val);
		}
		vcpu->rip += vcpu->pending_mmio.len;
		break;
	case VSNIX_PENDING_NONE:
		break;
	}
	vcpu->pending = VSNIX_PENDING_NONE;
}

/* ------------------------------------------------------------- CPUID */

/*
 * CPUID 8000_0008h EAX[7:0] (SDM Vol 3, 4.1.4; APM Vol 3, E.4.7); 36 where
 * the policy has no such leaf, as for a CPU without it.
 */
u8 vsnix_x86_maxphyaddr(struct vsnix_vcpu *vcpu)
{
	u32 eax, ebx, ecx, edx;
	u8 bits;

	vsnix_cpuid_lookup(vcpu, 0x80000008, 0, &eax, &ebx, &ecx, &edx);
	bits = eax & 0xff;
	return bits ? clamp_t(u8, bits, 32, 52) : 36;
}

/*
 * VMCALL (VMX) and VMMCALL (SVM) at CPL 0: a hypercall. Both exit (SDM
 * Vol 3C, "Instructions That Cause VM Exits Unconditionally"; APM Vol 2,
 * 15.9, VMMCALL intercepted); what they do is the hypervisor's ABI. vsnix
 * (CPUID 0x40000000 "vSnixvSnixvS") has no services: every number returns
 * VSNIX_HYPERCALL_ENOSYS in RAX, the other registers kept, so a guest may
 * probe. At CPL > 0 the caller raises #UD,
 * as on a CPU outside VMX/SVM operation. RAX is 32 bits outside 64-bit
 * mode. The caller moves RIP past the instruction.
 */
void vsnix_x86_hypercall(struct vsnix_vcpu *vcpu, bool long_mode)
{
	u64 ret = (u64)(s64)VSNIX_HYPERCALL_ENOSYS;

	vcpu->gpr[VSNIX_RAX] = long_mode ? ret : (u32)ret;
}

void vsnix_x86_emulate_cpuid(struct vsnix_vcpu *vcpu, unsigned int insn_len)
{
	u32 function = vcpu->gpr[VSNIX_RAX], index = vcpu->gpr[VSNIX_RCX];
	struct vsnix_cpuid_entry e = { .function = function, .index = index };
	u64 cr4 = 0;

	vsnix_cpuid_lookup(vcpu, function, index, &e.eax, &e.ebx, &e.ecx,
			   &e.edx);
	if (vsnix_cpuid_needs_cr4(function)) {
		struct vsnix_sregs sregs;

		vsnix_ops->get_sregs(vcpu, &sregs);
		cr4 = sregs.cr4;
	}
	vsnix_cpuid_apply_dynamic(&e, vcpu->id, cr4, vcpu->xcr0);
	if (function == 1)
		vsnix_cpuid_apply_lapic(&e, vsnix_lapic_in_kernel(vcpu),
					vsnix_lapic_in_kernel(vcpu) ?
					vsnix_lapic_get_base(vcpu) : 0);

	/* CPUID writes the 32-bit registers: upper halves cleared. */
	vcpu->gpr[VSNIX_RAX] = e.eax;
	vcpu->gpr[VSNIX_RBX] = e.ebx;
	vcpu->gpr[VSNIX_RCX] = e.ecx;
	vcpu->gpr[VSNIX_RDX] = e.edx;
	vcpu->rip += insn_len;
}
