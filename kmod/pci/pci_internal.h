/* SPDX-License-Identifier: GPL-2.0 */
/* Between the host bridge (host.c) and the functions (pci.c). */
#ifndef VSNIX_PCI_INTERNAL_H
#define VSNIX_PCI_INTERNAL_H

#include "pci.h"

/* pci.c: one access inside a dword, f->lock taken inside. */
u32 vsnix_pci_cfg_read(struct vsnix_pci_func *f, u32 off, u32 len);
void vsnix_pci_cfg_write(struct vsnix_pci_func *f, u32 off, u32 len, u32 val);
void vsnix_pci_bars_update(struct vsnix_pci_func *f);

/* host.c */
void vsnix_pci_host_put(struct vsnix_pci_host *host);
/* -EEXIST (with a message) when devfn is taken; vm->lock held. */
int vsnix_pci_host_slot_free(struct vsnix_pci_host *host, u8 devfn,
			     const char *who);
/* Under vm->lock after slot_free said yes, and f->lock: cannot fail. */
void vsnix_pci_host_attach(struct vsnix_pci_host *host,
			   struct vsnix_pci_func *f);
/* Off the host's table (host may be NULL: never attached). */
void vsnix_pci_host_detach(struct vsnix_pci_host *host,
			   struct vsnix_pci_func *f);
u32 vsnix_pci_host_intx_gsi(struct vsnix_pci_host *host, unsigned int slot,
			    unsigned int pin);
/* A function's INTx output changed: the shared GSI is their wired OR. */
void vsnix_pci_host_intx(struct vsnix_pci_host *host, u32 gsi, bool level);
bool vsnix_pci_host_bar_ok(struct vsnix_pci_host *host, u64 base, u64 size);

#endif /* VSNIX_PCI_INTERNAL_H */
