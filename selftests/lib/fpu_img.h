/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The FPU image the FPU selftests load and compare on the host and in the
 * guest (x87 FCW and two stack registers, MXCSR, 16 XMM/YMM registers),
 * and the asm pieces that move it in and out of the registers.
 */
#ifndef VSNIX_SELFTEST_FPU_IMG_H
#define VSNIX_SELFTEST_FPU_IMG_H

#include <stddef.h>
#include <stdint.h>

#define NR_VEC		16

struct fpu_img {
	uint8_t ymm[NR_VEC][32];
	uint32_t mxcsr;
	uint16_t fcw;
	uint16_t pad;
	double st0, st1;
};

#define LOAD_XMM(i)  "movdqu " #i "*32(%[in]), %%xmm" #i "\n\t"
#define LOAD_YMM(i)  "vmovdqu " #i "*32(%[in]), %%ymm" #i "\n\t"
#define STORE_XMM(i) "movdqu %%xmm" #i ", " #i "*32(%[out])\n\t"
#define STORE_YMM(i) "vmovdqu %%ymm" #i ", " #i "*32(%[out])\n\t"
#define ALL16(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) \
		 M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)
#define VEC_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", \
		     "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

/* x87: FCW and two stack registers; MXCSR. Shared by host and guest. */
#define LOAD_X87 \
	"fninit\n\t" \
	"fldcw %c[fcw](%[in])\n\t" \
	"fldl %c[st1](%[in])\n\t" \
	"fldl %c[st0](%[in])\n\t" \
	"ldmxcsr %c[mx](%[in])\n\t"
#define STORE_X87 \
	"fnstcw %c[fcw](%[out])\n\t" \
	"stmxcsr %c[mx](%[out])\n\t" \
	"fstpl %c[st0](%[out])\n\t" \
	"fstpl %c[st1](%[out])\n\t"
#define OFFS [fcw] "i"(offsetof(struct fpu_img, fcw)), \
	     [st0] "i"(offsetof(struct fpu_img, st0)), \
	     [st1] "i"(offsetof(struct fpu_img, st1)), \
	     [mx] "i"(offsetof(struct fpu_img, mxcsr))

#endif /* VSNIX_SELFTEST_FPU_IMG_H */
