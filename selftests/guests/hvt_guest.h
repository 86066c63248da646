/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Freestanding runtime of the test unikernels: hvt hypercalls, the Solo5
 * ABI and manifest ELF notes, and a few string helpers. Guests are linked
 * at 1 MiB (hvt.lds) and entered in long mode with RDI = boot info.
 */
#ifndef HVT_GUEST_H
#define HVT_GUEST_H

#include <stddef.h>
#include <stdint.h>
#include "../../uapi/linux/vsnix_hvt.h"

/* A hypercall is a 32-bit OUT of the argument's address (vsnix_hvt.h). */
static inline void hvt_hypercall(int nr, volatile void *arg)
{
	__asm__ volatile("outl %0, %1"
			 : : "a"((uint32_t)(uintptr_t)arg),
			     "d"((uint16_t)(HVT_HYPERCALL_PIO_BASE + nr))
			 : "memory");
}

/* The ABI note: name "Solo5", type "ABI1", target hvt, version 2. */
#define HVT_DECLARE_ABI_NOTE						\
	static const struct {						\
		struct solo5_nhdr h;					\
		struct abi1_info i;					\
	} hvt_abi_note __attribute__((section(".note.solo5.abi"),	\
				      aligned(4), used)) = {		\
		.h = { sizeof(SOLO5_NOTE_NAME), sizeof(struct abi1_info), \
		       SOLO5_NOTE_ABI1, SOLO5_NOTE_NAME },		\
		.i = { HVT_ABI_TARGET, HVT_ABI_VERSION, 0, 0 },		\
	}

/*
 * The manifest note with N device entries after the reserved first one.
 * The descriptor starts 8-aligned after the 20-byte header: 4 pad bytes,
 * counted in n_descsz, as Solo5's own declaration does.
 */
#define HVT_DECLARE_MANIFEST(N, ...)					\
	struct hvt_mft_note_##N {					\
		struct solo5_nhdr h;					\
		uint32_t pad;						\
		uint32_t version;					\
		uint32_t entries;					\
		struct mft_entry e[(N) + 1];				\
	};								\
	static const struct hvt_mft_note_##N hvt_mft_note		\
	__attribute__((section(".note.solo5.manifest"), aligned(8), used)) = { \
		.h = { sizeof(SOLO5_NOTE_NAME),				\
		       sizeof(struct hvt_mft_note_##N) - sizeof(struct solo5_nhdr), \
		       SOLO5_NOTE_MFT1, SOLO5_NOTE_NAME },		\
		.version = MFT_VERSION,					\
		.entries = (N) + 1,					\
		.e = { { .name = "", .type = MFT_RESERVED_FIRST },	\
		       __VA_ARGS__ },					\
	}

#define MFT_BLOCK(n)	{ .name = n, .type = MFT_DEV_BLOCK_BASIC }
#define MFT_NET(n)	{ .name = n, .type = MFT_DEV_NET_BASIC }

/* hvt_rt.c */
extern const struct hvt_boot_info *boot_info;
int guest_main(const char *cmdline);	/* returns the exit status */
void puts_n(const char *s, size_t len);
void puts_str(const char *s);
void put_dec(const char *label, uint64_t v);
void put_hex(const char *label, uint64_t v);
__attribute__((noreturn)) void halt(int status);
__attribute__((noreturn)) void halt_cookie(int status, void *cookie,
					   uint64_t rbx);
uint64_t walltime_ns(void);
size_t str_len(const char *s);
int str_ncmp(const char *a, const char *b, size_t n);
const char *str_find(const char *hay, const char *needle);
/* Value of "key=<decimal>" in the command line, or def. */
long cmdline_number(const char *cmdline, const char *key, long def);
/* Handle (manifest index) of a device by name and type, or -1. */
long mft_handle(const char *name, uint32_t type);
const struct mft_entry *mft_entry_at(long handle);
void mem_set(void *p, int c, size_t n);
void mem_copy(void *d, const void *s, size_t n);
int mem_cmp(const void *a, const void *b, size_t n);

#endif /* HVT_GUEST_H */
