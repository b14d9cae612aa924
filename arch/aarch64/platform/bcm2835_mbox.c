// SPDX-License-Identifier: BSD-2-Clause
/*
 * The VideoCore mailbox of the BCM2835 family ("brcm,bcm2835-mbox", on the
 * Pi 3 at bus 0x7e00b880, CPU 0x3F00B880): the ARM asks the VideoCore
 * firmware for things (the framebuffer, clocks, board facts) by writing a
 * message's bus address, with the channel in its low four bits, to
 * mailbox 1, and waits for the same word to come back in mailbox 0.
 * Pagoda uses only the property channel (8): a message is a 16-byte
 * aligned buffer of 32-bit words, {total size, code, tags..., end tag 0},
 * which the VideoCore rewrites in place; code 0x80000000 means answered.
 *
 * Invariants: the message is in RAM below 1 GiB and reached by the
 * VideoCore through the uncached bus alias (physical | 0xC0000000), so it
 * is cleaned to the point of coherency before the exchange and
 * invalidated after it, before any answer is read; every wait is bounded
 * (BCM2835_MBOX_WAIT_NS) and a timeout or a refusal is a named error
 * returned to the caller, never a hang; replies for other channels or
 * other messages are drained and ignored.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/platform/platform.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/cmdline.h"
#include "kernel/mm/vm.h"

/* Offsets from the DTB's reg: mailbox 0 (VideoCore -> ARM) and 1 (ARM -> VideoCore). */
#define MBOX0_READ	  0x00
#define MBOX0_STATUS	  0x18
#define MBOX1_WRITE	  0x20
#define MBOX1_STATUS	  0x38
#define MBOX_FULL	  0x80000000u
#define MBOX_EMPTY	  0x40000000u
#define MBOX_CHAN_MASK	  0xFu
#define MBOX_BUS_UNCACHED 0xC0000000u
#define MBOX_ARM_RAM_TOP  0x40000000ull /* what the VideoCore's bus aliases reach */
#define MBOX_BAD_CHANNEL  15		/* mbox.break=bad_channel: no VideoCore service */

CMDLINE_PARAM(mbox_break_param, .key = "mbox.break", .kind = CMDLINE_ENUM,
	      .values = "none|bad_channel", .def = "none",
	      .help = "test-only: post property messages on a channel nobody serves, so the "
		      "bounded wait must give up with a named error");

static uintptr_t mbox;

/* Waits until (status register & mask) == 0; false once arch_time_ns() passes `deadline`. */
static bool mbox_wait_clear(unsigned reg, uint32_t mask, uint64_t deadline)
{
	while (mmio_read32(mbox + reg) & mask) {
		if (arch_time_ns() > deadline)
			return false;
		arch_cpu_relax();
	}
	return true;
}

const char *bcm2835_mbox_property(uint32_t *msg)
{
	phys_addr_t pa = arch_virt_to_phys(msg);
	uint32_t size = msg[0];
	unsigned channel = BCM2835_MBOX_CHAN_PROPERTY;

	if (!fdt_platform.mbox_base)
		return "no brcm,bcm2835-mbox in the device tree";
	if (pa % 16 || pa + size > MBOX_ARM_RAM_TOP || size < 12 || size % 4)
		return "message not 16-byte aligned RAM below 1 GiB, or of a bad size";
	if (!mbox)
		mbox = (uintptr_t)vm_map_mmio(fdt_platform.mbox_base, fdt_platform.mbox_size,
					      "VideoCore mailbox");
	if (cmdline_enum("mbox.break") == 1)
		channel = MBOX_BAD_CHANNEL;
	uint32_t word = (uint32_t)(pa | MBOX_BUS_UNCACHED) | channel;

	/* The VideoCore reads RAM, not this CPU's cache. */
	aarch64_dcache_clean_inval(msg, size);
	uint64_t deadline = arch_time_ns() + BCM2835_MBOX_WAIT_NS;
	if (!mbox_wait_clear(MBOX1_STATUS, MBOX_FULL, deadline))
		return "mailbox 1 (ARM to VideoCore) stayed full";
	mmio_write32(mbox + MBOX1_WRITE, word);
	deadline = arch_time_ns() + BCM2835_MBOX_WAIT_NS; /* one bound for all the replies */
	for (;;) {
		if (!mbox_wait_clear(MBOX0_STATUS, MBOX_EMPTY, deadline))
			return "no reply on mailbox 0 within 100 ms";
		uint32_t reply = mmio_read32(mbox + MBOX0_READ);
		/*
		 * Another channel's answer, or a late one to an earlier message
		 * that timed out: drained, and the wait goes on for ours.
		 */
		if ((reply & MBOX_CHAN_MASK) == channel &&
		    (reply & ~MBOX_CHAN_MASK & (uint32_t)(MBOX_ARM_RAM_TOP - 1)) == (uint32_t)pa)
			break;
	}
	/* Drop any line the CPU may have fetched while the VideoCore wrote. */
	aarch64_dcache_clean_inval(msg, size);
	if (msg[1] != BCM2835_MBOX_ANSWERED)
		return msg[1] == BCM2835_MBOX_ANSWERED + 1 ? "the firmware refused the message"
							   : "the message came back unanswered";
	return NULL;
}
