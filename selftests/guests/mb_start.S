/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Multiboot v1 entry of the test kernel (spec 3.1 header, 3.2 state):
 * EAX = 0x2BADB002, EBX = multiboot info, 32-bit flat segments, no stack.
 * Built twice: as an ELF, and with MB_KLUDGE as a flat binary whose header
 * carries the load addresses (flag 16).
 */
#define MB_MAGIC	0x1BADB002
#ifdef MB_KLUDGE
#define MB_FLAGS	0x00010003	/* page-align mods, mem info, addresses */
#else
#define MB_FLAGS	0x00000003
#endif

	.section .multiboot, "a"
	.align 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
#ifdef MB_KLUDGE
	.long mb_header		/* header_addr */
	.long _load_start	/* load_addr */
	.long _load_end		/* load_end_addr */
	.long _bss_end		/* bss_end_addr */
	.long _start		/* entry_addr */
#endif

	.text
	.code32
	.globl _start
_start:
	movl	$stack_top, %esp
	pushl	%ebx
	pushl	%eax
	call	mb_main
1:	cli
	hlt
	jmp	1b

	.bss
	.align 16
stack:
	.space 16384
stack_top:
