/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations private to kmod/core. */
#ifndef VSNIX_CORE_INTERNAL_H
#define VSNIX_CORE_INTERNAL_H

#include "vsnix.h"

/* virt.c */
int vsnix_virt_init(void);
void vsnix_virt_exit(void);
bool vsnix_virt_rebooting(void);

/* vm.c */
int vsnix_vm_create_fd(unsigned long flags);
void vsnix_vm_get(struct vsnix_vm *vm);
void vsnix_vm_put(struct vsnix_vm *vm);

/* vcpu.c */
int vsnix_vcpu_create_fd(struct vsnix_vm *vm, unsigned long id);
void vsnix_vcpu_destroy(struct vsnix_vcpu *vcpu);
void vsnix_vm_kick_all(struct vsnix_vm *vm);

/* memory.c */
int vsnix_set_memory_region(struct vsnix_vm *vm,
			    const struct vsnix_memory_region *r);
void vsnix_memslots_free(struct vsnix_vm *vm);	/* also memory_free */
int vsnix_vm_memory_init(struct vsnix_vm *vm);
void vsnix_vm_memory_free(struct vsnix_vm *vm);

/* guest_mem.c */
int vsnix_get_dirty_log(struct vsnix_vm *vm, const struct vsnix_dirty_log *log);

/* iobus.c */
void vsnix_io_init(struct vsnix_vm *vm);
void vsnix_io_destroy_all(struct vsnix_vm *vm);
int vsnix_io_destroy_id(struct vsnix_vm *vm, u32 id);
/* The device with this id, with a reference (drop: vsnix_io_put_id). */
struct vsnix_io_device *vsnix_io_get_id(struct vsnix_vm *vm, u32 id);
void vsnix_io_put_id(struct vsnix_io_device *dev);
long vsnix_vm_ioeventfd(struct vsnix_vm *vm, void __user *argp);
void vsnix_io_for_each(struct vsnix_vm *vm,
		       void (*fn)(struct vsnix_io_device *dev, void *arg),
		       void *arg);

/* irqfd.c; vsnix_wq: irqfd shutdowns and deferred device destroys. */
extern struct workqueue_struct *vsnix_wq;
long vsnix_vm_irqfd(struct vsnix_vm *vm, void __user *argp);
long vsnix_vm_irq_line(struct vsnix_vm *vm, void __user *argp);
void vsnix_irqfd_release(struct vsnix_vm *vm);
int vsnix_irqfd_module_init(void);
void vsnix_irqfd_module_exit(void);

/* devstate.c */
long vsnix_vm_get_device_state(struct vsnix_vm *vm, void __user *argp);
long vsnix_vm_device_input(struct vsnix_vm *vm, void __user *argp);
long vsnix_vm_set_device_state(struct vsnix_vm *vm, void __user *argp);

#endif /* VSNIX_CORE_INTERNAL_H */
