// SPDX-License-Identifier: GPL-2.0
/*
 * Decoder for the few instructions a guest uses to touch MMIO: MOV between
 * a register or immediate and memory, and MOVZX/MOVSX loads. The hardware
 * gives the guest-physical address; the decoder only needs the length, the
 * access size, the register and the immediate. Intel SDM Vol 2, chapter 2
 * (instruction format) and the MOV/MOVZX/MOVSX pages are the reference.
 *
 * Pure: no guest access and no core symbols, so the KUnit module can
 * compile this file alone.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include "x86.h"

/* SDM Vol 2, 2.3.11: an instruction is at most 15 bytes. */
#define VSNIX_MAX_INSN_LEN	15

struct decode_state {
	const u8 *bytes;
	unsigned int avail;	/* min(avail, 15) */
	unsigned int pos;
	u8 opsize;		/* 2, 4 or 8 */
	u8 addrsize;		/* 2, 4 or 8 */
	u8 rex;			/* 0 when there is no REX prefix */
};

static int fetch_u8(struct decode_state *st, u8 *val)
{
	if (st->pos >= st->avail)
		return -EINVAL;
	*val = st->bytes[st->pos++];
	return 0;
}

/* Little-endian immediate or displacement of n bytes. */
static int fetch_le(struct decode_state *st, unsigned int n, u64 *val)
{
	unsigned int i;

	if (st->pos > st->avail || n > st->avail - st->pos)
		return -EINVAL;
	*val = 0;
	for (i = 0; i < n; i++)
		*val |= (u64)st->bytes[st->pos + i] << (8 * i);
	st->pos += n;
	return 0;
}

static int skip(struct decode_state *st, unsigned int n)
{
	if (st->pos > st->avail || n > st->avail - st->pos)
		return -EINVAL;
	st->pos += n;
	return 0;
}

static bool is_segment_prefix(u8 b)
{
	return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e ||
	       b == 0x64 || b == 0x65;
}

/*
 * Legacy prefixes, then REX in 64-bit mode (SDM Vol 2, 2.1.1 and 2.2.1):
 * a REX prefix counts only when it immediately precedes the opcode, so a
 * legacy prefix after it cancels it.
 */
static int decode_prefixes(struct decode_state *st, enum vsnix_cpu_mode mode)
{
	bool opsize_override = false, addrsize_override = false;
	u8 b;

	for (;;) {
		if (st->pos >= st->avail)
			return -EINVAL;
		b = st->bytes[st->pos];
		if (b == 0x66) {
			opsize_override = true;
		} else if (b == 0x67) {
			addrsize_override = true;
		} else if (is_segment_prefix(b)) {
			/* The hardware already applied the segment. */
		} else if (b == 0xf0 || b == 0xf2 || b == 0xf3) {
			/*
			 * LOCK MOV raises #UD (SDM Vol 2, LOCK), and REP/REPNE
			 * have no meaning for these opcodes: never emulate.
			 */
			return -EINVAL;
		} else if (mode == VSNIX_MODE_LONG64 && (b & 0xf0) == 0x40) {
			st->rex = b;
			st->pos++;
			continue;
		} else {
			break;
		}
		st->rex = 0;
		st->pos++;
	}

	switch (mode) {
	case VSNIX_MODE_REAL:
	case VSNIX_MODE_PROT16:
		st->opsize = opsize_override ? 4 : 2;
		st->addrsize = addrsize_override ? 4 : 2;
		break;
	case VSNIX_MODE_PROT32:
		st->opsize = opsize_override ? 2 : 4;
		st->addrsize = addrsize_override ? 2 : 4;
		break;
	case VSNIX_MODE_LONG64:
		/* SDM Vol 1, 3.6.1: REX.W beats 66; 67 selects 32-bit. */
		if (st->rex & 0x08)
			st->opsize = 8;
		else
			st->opsize = opsize_override ? 2 : 4;
		st->addrsize = addrsize_override ? 4 : 8;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/*
 * ModRM, SIB and displacement (SDM Vol 2, 2.1.5 tables 2-1/2-2, 2.2.1.6).
 * Only memory forms are accepted: mod == 3 names a register, which cannot
 * have caused an MMIO exit. REX.B does not change the special cases.
 */
static int decode_modrm(struct decode_state *st, u8 *reg)
{
	u8 modrm, mod, rm, sib;
	unsigned int disp = 0;

	if (fetch_u8(st, &modrm))
		return -EINVAL;
	mod = modrm >> 6;
	rm = modrm & 7;
	*reg = (modrm >> 3) & 7;
	if (mod == 3)
		return -EINVAL;

	if (st->addrsize == 2) {
		if (mod == 1)
			disp = 1;
		else if (mod == 2 || (mod == 0 && rm == 6))
			disp = 2;
		return skip(st, disp);
	}

	if (rm == 4) {
		if (fetch_u8(st, &sib))
			return -EINVAL;
		if (mod == 0 && (sib & 7) == 5)
			disp = 4;	/* no base, disp32 */
	}
	if (mod == 0 && rm == 5)
		disp = 4;		/* disp32, or RIP + disp32 in 64-bit */
	else if (mod == 1)
		disp = 1;
	else if (mod == 2)
		disp = 4;
	return skip(st, disp);
}

/* Register operand of the ModRM reg field, with REX.R and byte regs. */
static void set_reg_operand(struct decode_state *st, u8 reg, u8 size,
			    struct vsnix_mmio_insn *out)
{
	/* SDM Vol 2, 2.1.5 / 3.7.2.1: without REX, byte regs 4-7 are AH-BH. */
	if (size == 1 && !st->rex && reg >= 4) {
		out->reg = reg - 4;
		out->high_byte = 1;
		return;
	}
	out->reg = reg | ((st->rex & 0x04) ? 8 : 0);
}

static u64 sign_extend_imm(u64 imm, unsigned int bytes)
{
	unsigned int shift = 64 - 8 * bytes;

	return (u64)((s64)(imm << shift) >> shift);
}

static int decode_two_byte(struct decode_state *st, struct vsnix_mmio_insn *out)
{
	u8 op, reg;

	if (fetch_u8(st, &op))
		return -EINVAL;
	switch (op) {
	case 0xb6:		/* MOVZX r, r/m8 */
	case 0xb7:		/* MOVZX r, r/m16 */
	case 0xbe:		/* MOVSX r, r/m8 */
	case 0xbf:		/* MOVSX r, r/m16 */
		if (decode_modrm(st, &reg))
			return -EINVAL;
		out->size = (op & 1) ? 2 : 1;
		out->dst_size = st->opsize;
		out->zero_extend = op < 0xbe;
		out->sign_extend = op >= 0xbe;
		out->is_write = 0;
		/* The destination is a full register, never AH-BH. */
		out->reg = reg | ((st->rex & 0x04) ? 8 : 0);
		return 0;
	default:
		return -EINVAL;
	}
}

int vsnix_decode_mmio(const u8 *bytes, unsigned int avail,
		      enum vsnix_cpu_mode mode, struct vsnix_mmio_insn *out)
{
	struct decode_state st = {
		.bytes = bytes,
		.avail = min_t(unsigned int, avail, VSNIX_MAX_INSN_LEN),
	};
	u8 op, reg;
	u64 imm;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!bytes)
		return -EINVAL;
	ret = decode_prefixes(&st, mode);
	if (ret)
		return ret;
	if (fetch_u8(&st, &op))
		return -EINVAL;

	switch (op) {
	case 0x0f:
		ret = decode_two_byte(&st, out);
		break;
	case 0x88:		/* MOV r/m8, r8 */
	case 0x89:		/* MOV r/m, r */
	case 0x8a:		/* MOV r8, r/m8 */
	case 0x8b:		/* MOV r, r/m */
		ret = decode_modrm(&st, &reg);
		if (ret)
			break;
		out->size = (op & 1) ? st.opsize : 1;
		out->dst_size = out->size;
		out->is_write = op <= 0x89;
		set_reg_operand(&st, reg, out->size, out);
		break;
	case 0xc6:		/* MOV r/m8, imm8 */
	case 0xc7:		/* MOV r/m, imm16/imm32 */
		ret = decode_modrm(&st, &reg);
		if (ret)
			break;
		if (reg != 0) {	/* only /0 is MOV */
			ret = -EINVAL;
			break;
		}
		out->size = (op & 1) ? st.opsize : 1;
		out->dst_size = out->size;
		out->is_write = 1;
		out->has_imm = 1;
		/* SDM Vol 2, MOV: with REX.W the imm32 is sign-extended. */
		ret = fetch_le(&st, min_t(unsigned int, out->size, 4), &imm);
		if (ret)
			break;
		out->imm = out->size == 8 ? sign_extend_imm(imm, 4) : imm;
		break;
	case 0xa0:		/* MOV AL, moffs8 */
	case 0xa1:		/* MOV eAX, moffs */
	case 0xa2:		/* MOV moffs8, AL */
	case 0xa3:		/* MOV moffs, eAX */
		/* SDM Vol 2, 2.2.1.4: the offset has the address size. */
		ret = skip(&st, st.addrsize);
		if (ret)
			break;
		out->size = (op & 1) ? st.opsize : 1;
		out->dst_size = out->size;
		out->is_write = op >= 0xa2;
		out->reg = VSNIX_RAX;
		break;
	default:
		ret = -EINVAL;
	}

	if (ret) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	out->len = st.pos;
	return 0;
}
