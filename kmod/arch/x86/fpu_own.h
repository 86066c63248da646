/* SPDX-License-Identifier: GPL-2.0 */
/* The module's own guest FPU switch (fpu_own.c), called from fpu.c only. */
#ifndef VSNIX_X86_FPU_OWN_H
#define VSNIX_X86_FPU_OWN_H

#include <linux/types.h>

struct vsnix_vcpu;
struct vsnix_xsave;

int vsnix_fpu_own_setup(void);
u64 vsnix_fpu_own_xfeatures(void);
int vsnix_fpu_own_init(struct vsnix_vcpu *vcpu);
void vsnix_fpu_own_free(struct vsnix_vcpu *vcpu);
void vsnix_fpu_own_enter(struct vsnix_vcpu *vcpu);
void vsnix_fpu_own_exit(struct vsnix_vcpu *vcpu);
void vsnix_fpu_own_get(struct vsnix_vcpu *vcpu, struct vsnix_xsave *xs);
int vsnix_fpu_own_set(struct vsnix_vcpu *vcpu, const struct vsnix_xsave *xs);

#endif
