// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the MMIO instruction decoder (arch/x86/emulate.c). Encodings were
 * checked against objdump; lengths and operands follow Intel SDM Vol 2.
 */
#include <kunit/test.h>
#include "../arch/x86/x86.h"

struct decode_case {
	const char *name;
	enum vsnix_cpu_mode mode;
	u8 bytes[16];
	u8 nbytes;
	/* expected */
	u8 len, size, reg, is_write, dst_size;
	u8 high_byte, has_imm, zero_extend, sign_extend;
	u64 imm;
};

#define M64 VSNIX_MODE_LONG64
#define M32 VSNIX_MODE_PROT32
#define M16 VSNIX_MODE_REAL

static const struct decode_case good_cases[] = {
	/* 64-bit mode */
	{ "mov %eax,(%rdi)", M64, { 0x89, 0x07 }, 2, 2, 4, VSNIX_RAX, 1, 4 },
	{ "mov %rax,(%rdi)", M64, { 0x48, 0x89, 0x07 }, 3, 3, 8, VSNIX_RAX, 1, 8 },
	{ "mov %ax,(%rdi)", M64, { 0x66, 0x89, 0x07 }, 3, 3, 2, VSNIX_RAX, 1, 2 },
	{ "mov %ah,(%rdi)", M64, { 0x88, 0x27 }, 2, 2, 1, VSNIX_RAX, 1, 1, 1 },
	{ "mov %spl,(%rdi)", M64, { 0x40, 0x88, 0x27 }, 3, 3, 1, VSNIX_RSP, 1, 1 },
	{ "mov %r8d,0x8(%rdi)", M64, { 0x44, 0x89, 0x47, 0x08 }, 4,
	  4, 4, VSNIX_R8, 1, 4 },
	{ "mov 0x12345678(%rip),%eax", M64,
	  { 0x8b, 0x05, 0x78, 0x56, 0x34, 0x12 }, 6, 6, 4, VSNIX_RAX, 0, 4 },
	{ "mov 0x100(%rsp),%r9", M64,
	  { 0x4c, 0x8b, 0x8c, 0x24, 0x00, 0x01, 0x00, 0x00 }, 8,
	  8, 8, VSNIX_R9, 0, 8 },
	{ "mov disp32(,%r12,1),%eax", M64,
	  { 0x42, 0x8b, 0x04, 0x25, 0x00, 0x00, 0xe0, 0xfe }, 8,
	  8, 4, VSNIX_RAX, 0, 4 },
	{ "mov 0x1000(,%rsi,4),%eax", M64,
	  { 0x8b, 0x04, 0xb5, 0x00, 0x10, 0x00, 0x00 }, 7, 7, 4, VSNIX_RAX, 0, 4 },
	{ "mov 0x0(%r13),%eax", M64, { 0x41, 0x8b, 0x45, 0x00 }, 4,
	  4, 4, VSNIX_RAX, 0, 4 },
	{ "mov (%r12),%eax", M64, { 0x41, 0x8b, 0x04, 0x24 }, 4,
	  4, 4, VSNIX_RAX, 0, 4 },
	{ "mov %r8b,(%rdi)", M64, { 0x44, 0x88, 0x07 }, 3, 3, 1, VSNIX_R8, 1, 1 },
	{ "mov (%rdi),%r15b", M64, { 0x44, 0x8a, 0x3f }, 3, 3, 1, VSNIX_R15, 0, 1 },
	{ "movq $-1 with 66 and REX.W", M64,
	  { 0x66, 0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff }, 8,
	  8, 8, 0, 1, 8, 0, 1, .imm = ~0ULL },
	{ "mov (%rdi),%r15", M64, { 0x4c, 0x8b, 0x3f }, 3, 3, 8, VSNIX_R15, 0, 8 },
	{ "mov (%rdi),%bh", M64, { 0x8a, 0x3f }, 2, 2, 1, VSNIX_RBX, 0, 1, 1 },
	{ "mov (%rdi),%dil", M64, { 0x40, 0x8a, 0x3f }, 3, 3, 1, VSNIX_RDI, 0, 1 },
	{ "mov %fs:0x10,%eax", M64,
	  { 0x64, 0x8b, 0x04, 0x25, 0x10, 0x00, 0x00, 0x00 }, 8,
	  8, 4, VSNIX_RAX, 0, 4 },
	{ "rex.W ignored before 66", M64, { 0x48, 0x66, 0x89, 0x07 }, 4,
	  4, 2, VSNIX_RAX, 1, 2 },
	{ "movl $0x12345678,(%rdi)", M64,
	  { 0xc7, 0x07, 0x78, 0x56, 0x34, 0x12 }, 6, 6, 4, 0, 1, 4, 0, 1,
	  .imm = 0x12345678 },
	{ "movq $-1,(%rdi)", M64, { 0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff }, 7,
	  7, 8, 0, 1, 8, 0, 1, .imm = ~0ULL },
	{ "movq $0x7fffffff,(%rdi)", M64,
	  { 0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0x7f }, 7,
	  7, 8, 0, 1, 8, 0, 1, .imm = 0x7fffffff },
	{ "movw $0x1234,(%rdi)", M64, { 0x66, 0xc7, 0x07, 0x34, 0x12 }, 5,
	  5, 2, 0, 1, 2, 0, 1, .imm = 0x1234 },
	{ "movb $0xab,(%rdi)", M64, { 0xc6, 0x07, 0xab }, 3, 3, 1, 0, 1, 1, 0, 1,
	  .imm = 0xab },
	{ "movb $0x5a,0x1000(%rdi)", M64,
	  { 0xc6, 0x87, 0x00, 0x10, 0x00, 0x00, 0x5a }, 7, 7, 1, 0, 1, 1, 0, 1,
	  .imm = 0x5a },
	{ "movl $1,0x8(%rdi)", M64,
	  { 0xc7, 0x47, 0x08, 0x01, 0x00, 0x00, 0x00 }, 7, 7, 4, 0, 1, 4, 0, 1,
	  .imm = 1 },
	{ "movabs moffs64,%eax", M64,
	  { 0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 }, 9,
	  9, 4, VSNIX_RAX, 0, 4 },
	{ "movabs %rax,moffs64", M64,
	  { 0x48, 0xa3, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 }, 10,
	  10, 8, VSNIX_RAX, 1, 8 },
	{ "addr32 mov moffs32,%al", M64, { 0x67, 0xa0, 0x44, 0x33, 0x22, 0x11 }, 6,
	  6, 1, VSNIX_RAX, 0, 1 },
	{ "movzbl (%rdi),%eax", M64, { 0x0f, 0xb6, 0x07 }, 3, 3, 1, VSNIX_RAX, 0, 4,
	  .zero_extend = 1 },
	{ "movswq 0x2(%rdi),%rax", M64, { 0x48, 0x0f, 0xbf, 0x47, 0x02 }, 5,
	  5, 2, VSNIX_RAX, 0, 8, .sign_extend = 1 },
	{ "movzbw (%rdi),%ax", M64, { 0x66, 0x0f, 0xb6, 0x07 }, 4,
	  4, 1, VSNIX_RAX, 0, 2, .zero_extend = 1 },
	{ "movzwl (%rsi),%r9d", M64, { 0x44, 0x0f, 0xb7, 0x0e }, 4,
	  4, 2, VSNIX_R9, 0, 4, .zero_extend = 1 },
	{ "movzbl (%rdi),%esp: no high byte", M64, { 0x0f, 0xb6, 0x27 }, 3,
	  3, 1, VSNIX_RSP, 0, 4, .zero_extend = 1 },
	/* 32-bit protected mode */
	{ "mov 0xfee00000,%ecx", M32, { 0x8b, 0x0d, 0x00, 0x00, 0xe0, 0xfe }, 6,
	  6, 4, VSNIX_RCX, 0, 4 },
	{ "mov 0xfee00000,%eax (moffs32)", M32, { 0xa1, 0x00, 0x00, 0xe0, 0xfe }, 5,
	  5, 4, VSNIX_RAX, 0, 4 },
	{ "addr16 mov (%bx),%eax", M32, { 0x67, 0x8b, 0x07 }, 3,
	  3, 4, VSNIX_RAX, 0, 4 },
	{ "addr16 mov moffs16,%eax", M32, { 0x67, 0xa1, 0x34, 0x12 }, 4,
	  4, 4, VSNIX_RAX, 0, 4 },
	{ "movl $1,0xfee00000", M32,
	  { 0xc7, 0x05, 0x00, 0x00, 0xe0, 0xfe, 0x01, 0x00, 0x00, 0x00 }, 10,
	  10, 4, 0, 1, 4, 0, 1, .imm = 1 },
	{ "movw $0x1234,0xfee00000", M32,
	  { 0x66, 0xc7, 0x05, 0x00, 0x00, 0xe0, 0xfe, 0x34, 0x12 }, 9,
	  9, 2, 0, 1, 2, 0, 1, .imm = 0x1234 },
	{ "movsbl 0x4(%ecx),%eax", M32, { 0x0f, 0xbe, 0x41, 0x04 }, 4,
	  4, 1, VSNIX_RAX, 0, 4, .sign_extend = 1 },
	/* real mode: 16-bit addressing */
	{ "mov %ax,(%bx)", M16, { 0x89, 0x07 }, 2, 2, 2, VSNIX_RAX, 1, 2 },
	{ "mov 0x1234,%ax", M16, { 0x8b, 0x06, 0x34, 0x12 }, 4,
	  4, 2, VSNIX_RAX, 0, 2 },
	{ "mov 0x5(%bx),%al", M16, { 0x8a, 0x47, 0x05 }, 3, 3, 1, VSNIX_RAX, 0, 1 },
	{ "mov 0x1234(%bx),%ax", M16, { 0x8b, 0x87, 0x34, 0x12 }, 4,
	  4, 2, VSNIX_RAX, 0, 2 },
	{ "mov %eax,(%bx)", M16, { 0x66, 0x89, 0x07 }, 3, 3, 4, VSNIX_RAX, 1, 4 },
	{ "addr32 mov %ax,(%esp)", M16, { 0x67, 0x89, 0x04, 0x24 }, 4,
	  4, 2, VSNIX_RAX, 1, 2 },
	{ "addr32 mov 0xfee00000,%ax", M16,
	  { 0x67, 0x8b, 0x05, 0x00, 0x00, 0xe0, 0xfe }, 7, 7, 2, VSNIX_RAX, 0, 2 },
	{ "mov 0x8000,%al", M16, { 0xa0, 0x00, 0x80 }, 3, 3, 1, VSNIX_RAX, 0, 1 },
	{ "movb $0x41,0x8000", M16, { 0xc6, 0x06, 0x00, 0x80, 0x41 }, 5,
	  5, 1, 0, 1, 1, 0, 1, .imm = 0x41 },
	{ "movw $0x1234,0x8000", M16, { 0xc7, 0x06, 0x00, 0x80, 0x34, 0x12 }, 6,
	  6, 2, 0, 1, 2, 0, 1, .imm = 0x1234 },
	{ "movl $0x12345678,0x8000", M16,
	  { 0x66, 0xc7, 0x06, 0x00, 0x80, 0x78, 0x56, 0x34, 0x12 }, 9,
	  9, 4, 0, 1, 4, 0, 1, .imm = 0x12345678 },
	{ "mov %ah,0x8000", M16, { 0x88, 0x26, 0x00, 0x80 }, 4,
	  4, 1, VSNIX_RAX, 1, 1, 1 },
	{ "mov %ax,%es:(%bx)", M16, { 0x26, 0x89, 0x07 }, 3, 3, 2, VSNIX_RAX, 1, 2 },
	{ "movzbw (%bx),%ax", M16, { 0x0f, 0xb6, 0x07 }, 3, 3, 1, VSNIX_RAX, 0, 2,
	  .zero_extend = 1 },
	/* trailing bytes beyond the instruction are ignored */
	{ "mov %eax,(%rdi) + junk", M64, { 0x89, 0x07, 0xff, 0xff }, 4,
	  2, 4, VSNIX_RAX, 1, 4 },
};

static void decode_good(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(good_cases); i++) {
		const struct decode_case *c = &good_cases[i];
		struct vsnix_mmio_insn out;
		int ret = vsnix_decode_mmio(c->bytes, c->nbytes, c->mode, &out);

		KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%s", c->name);
		if (ret)
			continue;
		KUNIT_EXPECT_EQ_MSG(test, out.len, c->len, "%s", c->name);
		KUNIT_EXPECT_EQ_MSG(test, out.size, c->size, "%s", c->name);
		KUNIT_EXPECT_EQ_MSG(test, out.is_write, c->is_write, "%s", c->name);
		KUNIT_EXPECT_EQ_MSG(test, out.has_imm, c->has_imm, "%s", c->name);
		KUNIT_EXPECT_EQ_MSG(test, out.dst_size, c->dst_size, "%s", c->name);
		KUNIT_EXPECT_EQ_MSG(test, !!out.zero_extend, c->zero_extend,
				    "%s", c->name);
		KUNIT_EXPECT_EQ_MSG(test, !!out.sign_extend, c->sign_extend,
				    "%s", c->name);
		if (c->has_imm) {
			KUNIT_EXPECT_EQ_MSG(test, out.imm, c->imm, "%s", c->name);
		} else {
			KUNIT_EXPECT_EQ_MSG(test, out.reg, c->reg, "%s", c->name);
			KUNIT_EXPECT_EQ_MSG(test, out.high_byte, c->high_byte,
					    "%s", c->name);
		}
	}
}

struct bad_case {
	const char *name;
	enum vsnix_cpu_mode mode;
	u8 bytes[20];
	u8 nbytes;
};

static const struct bad_case bad_cases[] = {
	{ "empty", M64, { }, 0 },
	{ "rep mov", M64, { 0xf3, 0x89, 0x07 }, 3 },
	{ "repne mov", M64, { 0xf2, 0x89, 0x07 }, 3 },
	{ "lock mov (#UD)", M64, { 0xf0, 0x89, 0x07 }, 3 },
	{ "register operand (mod 3)", M64, { 0x89, 0xc0 }, 2 },
	{ "add, not mov", M64, { 0x01, 0x07 }, 2 },
	{ "c7 /1 is not mov", M64, { 0xc7, 0x4f, 0x08, 1, 0, 0, 0 }, 7 },
	{ "movs (string)", M64, { 0xa5 }, 1 },
	{ "0f 0b (ud2)", M64, { 0x0f, 0x0b }, 2 },
	{ "prefix only", M64, { 0x66 }, 1 },
	{ "rex only", M64, { 0x48 }, 1 },
	{ "no modrm", M64, { 0x8b }, 1 },
	{ "truncated sib", M64, { 0x8b, 0x04 }, 2 },
	{ "truncated disp8", M64, { 0x8b, 0x47 }, 2 },
	{ "truncated rip disp32", M64, { 0x8b, 0x05, 0x78, 0x56, 0x34 }, 5 },
	{ "truncated imm32", M64, { 0xc7, 0x47, 0x08, 0x01, 0x00, 0x00 }, 6 },
	{ "truncated imm8", M64, { 0xc6, 0x07 }, 2 },
	{ "truncated moffs64", M64, { 0xa1, 0, 0, 0, 0 }, 5 },
	{ "truncated moffs16", M16, { 0xa1, 0x00 }, 2 },
	{ "truncated disp16", M16, { 0x8b, 0x06, 0x34 }, 3 },
	{ "truncated 0f", M64, { 0x0f }, 1 },
	{ "truncated movzx modrm", M64, { 0x0f, 0xb6 }, 2 },
	{ "0x40 is inc in 32-bit mode", M32, { 0x40, 0x89, 0x07 }, 3 },
	{ "longer than 15 bytes", M64,
	  { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	    0x66, 0x66, 0x66, 0x89, 0x07 }, 16 },
	{ "15-byte cut off inside disp", M64,
	  { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x26,
	    0x8b, 0x04, 0x25, 0x00, 0x00, 0xe0, 0xfe }, 18 },
};

static void decode_bad(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct vsnix_mmio_insn out;

		KUNIT_EXPECT_EQ_MSG(test, -EINVAL,
				    vsnix_decode_mmio(c->bytes, c->nbytes, c->mode,
						      &out), "%s", c->name);
		KUNIT_EXPECT_EQ_MSG(test, out.len, 0, "%s", c->name);
	}
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_decode_mmio(NULL, 4, M64,
		       &(struct vsnix_mmio_insn){ }));
}

/* Every prefix of a valid encoding is rejected, never over-read. */
static void decode_every_truncation(struct kunit *test)
{
	unsigned int i, n;

	for (i = 0; i < ARRAY_SIZE(good_cases); i++) {
		const struct decode_case *c = &good_cases[i];

		for (n = 0; n < c->len; n++) {
			struct vsnix_mmio_insn out;
			u8 *buf = kunit_kmalloc(test, n ? n : 1, GFP_KERNEL);

			/* Exactly n bytes: KASAN catches a read past them. */
			memcpy(buf, c->bytes, n);
			KUNIT_EXPECT_EQ_MSG(test, -EINVAL,
					    vsnix_decode_mmio(buf, n, c->mode, &out),
					    "%s cut to %u", c->name, n);
		}
	}
}

/* The limit of 15 bytes: a 15-byte MOV decodes, a 16-byte one does not. */
static void decode_length_limit(struct kunit *test)
{
	u8 insn[16];
	struct vsnix_mmio_insn out;

	memset(insn, 0x3e, sizeof(insn));
	/* 13 x ds: + 89 07 = 15 bytes */
	insn[13] = 0x89;
	insn[14] = 0x07;
	KUNIT_EXPECT_EQ(test, 0, vsnix_decode_mmio(insn, 15, M64, &out));
	KUNIT_EXPECT_EQ(test, out.len, 15);
	/* 14 x ds: + 89 07 = 16 bytes */
	insn[13] = 0x3e;
	insn[14] = 0x89;
	insn[15] = 0x07;
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_decode_mmio(insn, 16, M64, &out));
}

static struct kunit_case emulate_cases[] = {
	KUNIT_CASE(decode_good),
	KUNIT_CASE(decode_bad),
	KUNIT_CASE(decode_every_truncation),
	KUNIT_CASE(decode_length_limit),
	{}
};

static struct kunit_suite emulate_suite = {
	.name = "vsnix_decode_mmio",
	.test_cases = emulate_cases,
};

kunit_test_suite(emulate_suite);
