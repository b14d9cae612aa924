/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Device register access for generic code: plain volatile loads and stores
 * of exactly the named width, on addresses vm_map_mmio() returned (which
 * map uncached device memory on both arches). Each access is one bus
 * transaction; the compiler neither merges, splits nor reorders them
 * against each other.
 *
 * Ordering against normal memory (a DMA buffer the CPU filled before it
 * writes a device's "start" register) is the caller's job: mmio_wmb()
 * before the doorbell, mmio_rmb() after reading a "done" bit and before
 * reading what the device wrote, mmio_mb() after reading entries the
 * device wrote and before the register write that lets it reuse them.
 * They are the arch's device barriers (kernel/arch.h: outer shareable on
 * arm64), not smp_*(), which order only what CPUs see of each other.
 */
#ifndef PAGODA_KERNEL_MMIO_H
#define PAGODA_KERNEL_MMIO_H

#include "kernel/arch.h"
#include "kernel/types.h"

static inline uint8_t mmio_read8(const volatile void *p)
{
	return *(const volatile uint8_t *)p;
}
static inline uint16_t mmio_read16(const volatile void *p)
{
	return *(const volatile uint16_t *)p;
}
static inline uint32_t mmio_read32(const volatile void *p)
{
	return *(const volatile uint32_t *)p;
}
static inline uint64_t mmio_read64(const volatile void *p)
{
	return *(const volatile uint64_t *)p;
}
static inline void mmio_write8(volatile void *p, uint8_t v)
{
	*(volatile uint8_t *)p = v;
}
static inline void mmio_write16(volatile void *p, uint16_t v)
{
	*(volatile uint16_t *)p = v;
}
static inline void mmio_write32(volatile void *p, uint32_t v)
{
	*(volatile uint32_t *)p = v;
}
static inline void mmio_write64(volatile void *p, uint64_t v)
{
	*(volatile uint64_t *)p = v;
}
/* Normal-memory stores before this are visible to a device before later MMIO writes. */
#define mmio_wmb() arch_mmio_wmb()
/* MMIO reads before this complete before later normal-memory reads. */
#define mmio_rmb() arch_mmio_rmb()
/* Every access before this (reads of device-written entries) before every later one. */
#define mmio_mb() arch_mmio_mb()

#endif
