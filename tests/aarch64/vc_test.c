// SPDX-License-Identifier: BSD-2-Clause
/*
 * vc suite: the VideoCore mailbox (arch/aarch64/platform/bcm2835_mbox.c)
 * on a board whose device tree names one (the Pi 3 under QEMU raspi3b).
 * A property message asking for the board revision and the VideoCore's
 * memory must come back answered, with the VideoCore's memory right above
 * the ARM's (where the firmware keeps it), and a framebuffer the screen
 * console uses must lie inside that memory, never in the kernel's RAM.
 *
 * Guarded by `mbox.break=bad_channel` (messages posted on a channel no
 * one serves): the exchange must then time out with a named error and
 * property_exchange_is_answered fail, while the kernel boots on without
 * its screen (make screen-check ARCH=aarch64 BOARD=raspi3b).
 * Skips where the device tree has no brcm,bcm2835-mbox.
 */
#include "arch/aarch64/platform/platform.h"
#include "boot/fdt_platform.h"
#include "kernel/boot_info.h"
#include "tests/ktest.h"

#define TAG_GET_BOARD_REVISION 0x00010002u
#define TAG_GET_VC_MEMORY      0x00010006u
#define TAG_ANSWERED	       0x80000000u

static uint32_t vc_msg[16] __attribute__((aligned(16)));

static void property_exchange_is_answered(struct ktest *t)
{
	if (!fdt_platform.mbox_base)
		KTEST_SKIP(t, "no brcm,bcm2835-mbox in the device tree");
	/* clang-format off */
	const uint32_t request[12] = {
	    12 * 4, 0,                          /* size, request code */
	    TAG_GET_BOARD_REVISION, 4, 0, 0,    /* the revision */
	    TAG_GET_VC_MEMORY, 8, 0, 0, 0,      /* base, size */
	    0,                                  /* end tag */
	};
	/* clang-format on */
	for (unsigned i = 0; i < ARRAY_SIZE(request); i++)
		vc_msg[i] = request[i];

	const char *why = bcm2835_mbox_property(vc_msg);
	if (why)
		ktest_log(t, "mailbox: %s", why);
	ASSERT_TRUE(t, why == NULL);
	EXPECT_EQ(t, vc_msg[1], BCM2835_MBOX_ANSWERED);
	EXPECT_TRUE(t, vc_msg[4] & TAG_ANSWERED);
	EXPECT_TRUE(t, vc_msg[8] & TAG_ANSWERED);

	uint64_t vc_base = vc_msg[9], vc_size = vc_msg[10], ram_top = 0;
	for (unsigned i = 0; i < boot_info.nr_mem; i++) {
		const struct boot_mem_region *r = &boot_info.mem[i];
		if (r->base + r->size > ram_top)
			ram_top = r->base + r->size;
	}
	ktest_log(t, "board revision %#x, VideoCore memory %#lx+%#lx, ARM RAM up to %#lx",
		  vc_msg[5], (unsigned long)vc_base, (unsigned long)vc_size,
		  (unsigned long)ram_top);
	EXPECT_TRUE(t, vc_size > 0);
	EXPECT_EQ(t, vc_base, ram_top);

	const struct boot_framebuffer *fb = &boot_info.framebuffer;
	if (fb->kind == BOOT_FB_NONE)
		return;
	EXPECT_TRUE(t, fb->addr >= vc_base);
	EXPECT_TRUE(t, fb->addr + (uint64_t)fb->pitch * fb->height <= vc_base + vc_size);
	EXPECT_TRUE(t, fb->pitch >= fb->width * fb->bpp / 8);
}

static const struct ktest_case vc_cases[] = {
    KTEST_CASE(property_exchange_is_answered),
    KTEST_END,
};
KTEST_SUITE(vc_suite, "vc", vc_cases);
