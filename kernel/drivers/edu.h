/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Driver for QEMU's `edu` teaching device (PCI 1234:11e8, hw/misc/edu.c):
 * an identity register, a liveness register that reads back the inverse
 * of what was written, a factorial unit, and a DMA engine moving up to
 * 4 KiB between RAM and the device's buffer at device address 0x40000.
 *
 * Completion is by interrupt: a DMA command carries the "raise an
 * interrupt" bit and the status register's IRQFACT bit is kept set, so
 * the device raises DMA_IRQ (0x100) or FACT_IRQ (0x1) in its interrupt
 * status register when done; the handler reads that register,
 * acknowledges what it read and wakes the waiter, which sleeps at most
 * 1 s (edu starts a transfer 100 ms of virtual time after the command).
 * There is no fallback to polling: without an interrupt (no MSI target
 * and no INTx route, or it never comes) the calls fail. The interrupt is
 * MSI where the platform offers it, INTx otherwise (kernel/pci/msi.c).
 *
 * Invariants: the device is used only after its identity register read
 * 0x010000ed; DMA addresses are physical (no IOMMU in between) and every
 * one lies within the device's DMA mask (edu ANDs addresses with it, so a
 * wider address would silently reach other memory): the mask is QEMU's
 * default of 28 bits unless `edu.dma_bits=` says what `-device
 * edu,dma_mask=` was given; one caller at a time drives the device (a
 * mutex serialises them).
 */
#ifndef PAGODA_KERNEL_DRIVERS_EDU_H
#define PAGODA_KERNEL_DRIVERS_EDU_H

#include "kernel/types.h"

struct pci_dev;
struct pci_irq;

#define EDU_VENDOR    0x1234
#define EDU_DEVICE    0x11e8
#define EDU_IDENTITY  0x010000edu /* major 1, minor 0, 0xed */
#define EDU_BUF_ADDR  0x40000u	  /* device address of the DMA buffer */
#define EDU_BUF_SIZE  4096u
#define EDU_IRQ_FACTORIAL 0x001u /* interrupt status causes QEMU's edu raises itself */
#define EDU_IRQ_DMA	  0x100u

enum edu_dma_dir {
	EDU_TO_DEVICE,	 /* RAM -> the device's buffer */
	EDU_FROM_DEVICE, /* the device's buffer -> RAM */
};

/*
 * Finds the device on the PCI bus, turns on memory decoding and bus
 * mastering, maps BAR0 and checks the identity register; logs one line.
 * Boot CPU, after pci_init(). Without the device nothing else works
 * (edu_present() is false).
 */
void edu_init(void);
bool edu_present(void);
/* Raw register 0 (EDU_IDENTITY on a healthy device). */
uint32_t edu_identity(void);
/* Writes `v` to the liveness register and returns what it reads back (~v). */
uint32_t edu_liveness(uint32_t v);
/*
 * n! computed by the device (32 bits, wrapping as the device does). 0 and
 * the result in *out; -ETIMEDOUT when its interrupt did not come within
 * 1 s (the call then waited until the device finished, so the next
 * command is not dropped); -EIO when the device never finished a command
 * and is no longer used; -EBUSY when it is still running one (which this
 * driver never leaves behind); -ENODEV when the device has no interrupt;
 * -ENOENT without it.
 */
int edu_factorial(uint32_t n, uint32_t *out);
/* The highest physical address the device's DMA reaches (its mask). */
uint64_t edu_dma_limit(void);
/*
 * Moves `len` bytes between RAM at physical address `ram` and the device
 * buffer at offset `off`, and waits for the transfer (at most 1 s).
 * Returns 0; -EINVAL when len is 0, the range leaves the 4 KiB buffer or
 * the RAM range is beyond edu_dma_limit(); -ENOENT without the device;
 * -ENODEV when it has no interrupt; -ETIMEDOUT when the completion
 * interrupt did not come within 1 s: the transfer may still have happened
 * (late), but the call returns only once the device is idle again; -EIO
 * when it never became idle (the device is not used again, and the range
 * may still be written: keep it); -EBUSY as for edu_factorial(). The caller
 * keeps the RAM range allocated and does not touch it until this returns.
 */
int edu_dma(enum edu_dma_dir dir, phys_addr_t ram, uint32_t off, uint32_t len);
/*
 * The same with a bus address: what the device puts on the bus, which an
 * IOMMU in between translates (an I/O virtual address; with a shared
 * address space, the user virtual address itself). Only the device's
 * DMA mask is checked here; whether the address reaches memory is the
 * IOMMU's business (a translation fault leaves the transfer undone, and
 * the IOMMU reports it). Same return values as edu_dma().
 */
int edu_dma_bus(enum edu_dma_dir dir, uint64_t bus, uint32_t off, uint32_t len);
/* The device on the bus (its requester id is the IOMMU's stream id), or NULL. */
struct pci_dev *edu_pci_dev(void);

/* What the interrupt handler has seen since boot. */
struct edu_irq_stats {
	uint64_t handled;   /* invocations that found a cause in the status register */
	uint64_t spurious;  /* invocations that found none (not raised by the device) */
	uint64_t dma;	    /* of the handled: DMA completions */
	uint64_t factorial; /* of the handled: factorial completions */
};
/* A consistent snapshot, from any CPU (the handler updates it under a lock). */
struct edu_irq_stats edu_irq_stats(void);
/*
 * Test only: how long a command waits for its interrupt before it times out
 * (0: the default 1 s). Returns the previous value.
 */
uint64_t edu_test_set_irq_wait_ns(uint64_t ns);
/* The interrupt edu_init chose (kind PCI_IRQ_NONE: none), or NULL without the device. */
const struct pci_irq *edu_irq(void);
/*
 * Writes `bits` to the raise register (0x60), so the device raises its
 * interrupt with those causes, and waits (at most 1 s) for the handler to
 * see them. 0 and the interrupt status the handler read in *status;
 * -ETIMEDOUT, -EIO, -ENODEV, -ENOENT as above; -EINVAL for bits 0.
 */
int edu_raise(uint32_t bits, uint32_t *status);

#endif
