/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the files of kernel/pci/ share and nothing else includes: raw
 * config access by bus/device/function (used while scanning, before a
 * struct pci_dev exists) and the BAR steps of the scan (bar.c).
 *
 * Invariants: the raw accessors go through the same bounds check as the
 * public ones (a read outside the ECAM window gives all ones, a write is
 * dropped); the BAR steps run only from pci_init().
 */
#ifndef PAGODA_KERNEL_PCI_PCI_INTERNAL_H
#define PAGODA_KERNEL_PCI_PCI_INTERNAL_H

#include "kernel/pci/pci.h"

/* `width` is 1, 2 or 4 bytes; writes take 2 or 4. */
uint32_t pci_raw_read(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned width);
void pci_raw_write(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned width,
		   uint32_t v);
/*
 * Sizes d's first `nbars` BARs with decoding off (restored afterwards) and
 * records each as a CPU address through h's windows; a BAR whose bus
 * address is 0, or lies in no window of a host that assigns, stays 0.
 */
void pci_size_bars(struct pci_dev *d, unsigned nbars, const struct pci_host *h);
/*
 * Gives every unassigned BAR of the `n` devices an address from h's
 * windows, largest first, each naturally aligned; one that does not fit is
 * reported and left unassigned.
 */
void pci_assign_bars(struct pci_dev *devs, unsigned n, const struct pci_host *h);

#endif
