// SPDX-License-Identifier: BSD-2-Clause
/*
 * Base address registers: sizing (write all ones, read back, restore),
 * translation of the bus address a BAR holds to a CPU address through the
 * host's windows, and assignment from those windows where no firmware
 * did (aarch64 virt boots without one).
 *
 * Invariants: a BAR is sized with the device's memory and I/O decoding
 * off, so the all-ones probe never claims addresses on the bus; every
 * assigned BAR is naturally aligned (a BAR's size is a power of two and
 * its low address bits are read-only) and lies wholly inside one window;
 * windows are handed out upwards and never reused, so no two BARs
 * overlap. A 64-bit BAR's upper half is written before the lower one.
 */
#include "kernel/pci/pci_internal.h"
#include "kernel/printk.h"

#define BAR_IO	      0x1u
#define BAR_TYPE_64   0x4u /* bits 2:1 = 10 */
#define BAR_PREFETCH  0x8u
#define BAR_IO_MASK   0x3u
#define BAR_MEM_MASK  0xfu

void pci_bar_decode(uint32_t orig_lo, uint32_t probe_lo, uint32_t orig_hi, uint32_t probe_hi,
		    struct pci_bar *bar)
{
	uint64_t mask;

	*bar = (struct pci_bar){0};
	if (orig_lo & BAR_IO) {
		mask = probe_lo & ~BAR_IO_MASK;
		bar->kind = PCI_BAR_IO;
		bar->addr = orig_lo & ~BAR_IO_MASK;
	} else {
		mask = probe_lo & ~BAR_MEM_MASK;
		bar->prefetch = orig_lo & BAR_PREFETCH;
		bar->addr = orig_lo & ~BAR_MEM_MASK;
		bar->kind = PCI_BAR_MEM32;
		if ((orig_lo & 0x6u) == BAR_TYPE_64) {
			bar->kind = PCI_BAR_MEM64;
			mask |= (uint64_t)probe_hi << 32;
			bar->addr |= (uint64_t)orig_hi << 32;
		}
	}
	if (!mask) { /* every address bit read back 0: the BAR is not implemented */
		*bar = (struct pci_bar){0};
		return;
	}
	bar->size = mask & -mask; /* the lowest writable address bit */
}

/* The window a BAR of `kind` at bus address `bus` lies in, or NULL. */
static const struct pci_window *window_of(const struct pci_host *h, enum pci_bar_kind kind,
					  uint64_t bus, uint64_t size)
{
	const struct pci_window *c[2] = {&h->mem32, &h->mem64};
	if (kind == PCI_BAR_IO)
		c[0] = &h->io, c[1] = NULL;
	for (unsigned i = 0; i < 2 && c[i]; i++)
		if (c[i]->size && bus >= c[i]->bus && bus - c[i]->bus < c[i]->size &&
		    size <= c[i]->size - (bus - c[i]->bus))
			return c[i];
	return NULL;
}

void pci_size_bars(struct pci_dev *d, unsigned nbars, const struct pci_host *h)
{
	uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);
	pci_cfg_write16(d, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned i = 0; i < nbars; i++) {
		unsigned off = PCI_BAR0 + 4 * i;
		uint32_t lo = pci_cfg_read32(d, off), plo, hi = 0, phi = 0;
		pci_cfg_write32(d, off, 0xffffffffu);
		plo = pci_cfg_read32(d, off);
		pci_cfg_write32(d, off, lo);
		bool is64 = !(lo & BAR_IO) && (lo & 0x6u) == BAR_TYPE_64 && i + 1 < nbars;
		if (is64) {
			hi = pci_cfg_read32(d, off + 4);
			pci_cfg_write32(d, off + 4, 0xffffffffu);
			phi = pci_cfg_read32(d, off + 4);
			pci_cfg_write32(d, off + 4, hi);
		}
		struct pci_bar *b = &d->bar[i];
		pci_bar_decode(lo, plo, hi, phi, b);
		if (b->kind == PCI_BAR_MEM64 && !is64)
			b->kind = PCI_BAR_NONE; /* a 64-bit BAR in the last slot: malformed */
		if (b->addr && h->assign) {
			const struct pci_window *w = window_of(h, b->kind, b->addr, b->size);
			b->addr = w ? w->cpu + (b->addr - w->bus) : 0;
		}
		if (is64)
			i++;
	}
	pci_cfg_write16(d, PCI_COMMAND, cmd);
}

/* Hands out one BAR from `w`, whose next free bus address is *next. */
static bool place(const struct pci_window *w, uint64_t *next, struct pci_dev *d, unsigned i)
{
	struct pci_bar *b = &d->bar[i];
	if (!w->size)
		return false;
	if (*next < w->bus)
		*next = w->bus ? w->bus : 0x1000; /* bus address 0 would read as unassigned */
	uint64_t at = ALIGN_UP(*next, b->size);
	if (at < *next || at - w->bus > w->size || b->size > w->size - (at - w->bus))
		return false;
	*next = at + b->size;
	unsigned off = PCI_BAR0 + 4 * i;
	if (b->kind == PCI_BAR_MEM64)
		pci_cfg_write32(d, off + 4, (uint32_t)(at >> 32));
	pci_cfg_write32(d, off, (uint32_t)at);
	b->addr = w->cpu + (at - w->bus);
	return true;
}

void pci_assign_bars(struct pci_dev *devs, unsigned n, const struct pci_host *h)
{
	uint64_t next_mem32 = 0, next_mem64 = 0, next_io = 0;
	static bool no_room[PCI_DEV_MAX][PCI_NR_BARS];
	for (;;) {
		/* The largest unassigned BAR: big ones first wastes the least to alignment. */
		struct pci_dev *best = NULL;
		unsigned bk = 0, bi = 0;
		for (unsigned k = 0; k < n; k++)
			for (unsigned i = 0; i < PCI_NR_BARS; i++) {
				struct pci_bar *b = &devs[k].bar[i];
				if (b->kind != PCI_BAR_NONE && !b->addr && !no_room[k][i] &&
				    (!best || b->size > best->bar[bi].size))
					best = &devs[k], bk = k, bi = i;
			}
		if (!best)
			return;
		struct pci_bar *b = &best->bar[bi];
		bool ok;
		if (b->kind == PCI_BAR_IO)
			ok = place(&h->io, &next_io, best, bi);
		else if (b->kind == PCI_BAR_MEM64 && h->mem64.size)
			ok = place(&h->mem64, &next_mem64, best, bi);
		else
			ok = place(&h->mem32, &next_mem32, best, bi);
		if (!ok) {
			printk("pci: %02x:%02x.%u BAR%u: no room for %#llx bytes in the host's "
			       "windows; left unassigned", best->bus, best->dev, best->fn, bi,
			       (unsigned long long)b->size);
			no_room[bk][bi] = true;
		}
	}
}
