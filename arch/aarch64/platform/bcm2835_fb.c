// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Raspberry Pi's framebuffer, as the VideoCore firmware (or QEMU's
 * raspi3b model of it) hands it out through the mailbox's property
 * channel: one message sets the physical and virtual size (640x480), the
 * depth (32 bits) and the pixel order (RGB), allocates the buffer and
 * reads its pitch. The answer becomes boot_info.framebuffer, the same
 * description the x86-64 loader gives, and the generic screen console
 * (kernel/console/) draws on it.
 *
 * Invariants: a description is published only when every tag was answered
 * and the answer is usable (the size and depth asked for, a pitch that
 * holds a line, a buffer that holds every line and lies outside the RAM
 * the kernel allocates); otherwise one line names the failing step and
 * boot_info.framebuffer stays BOOT_FB_NONE (the serial console goes on).
 * The buffer's bus address is turned into a physical one by dropping the
 * VideoCore alias bits (bits 30-31), as on the real board.
 */
#include "arch/aarch64/platform/platform.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"

#define FB_WIDTH	    640
#define FB_HEIGHT	    480
#define FB_DEPTH	    32
#define FB_ORDER_RGB	    1 /* the firmware's pixel order: 0 BGR, 1 RGB */
#define FB_ALIGN	    4096
#define FB_BUS_ALIAS_MASK   0x3FFFFFFFu
#define TAG_SET_PHYS_WH	    0x00048003u
#define TAG_SET_VIRT_WH	    0x00048004u
#define TAG_SET_DEPTH	    0x00048005u
#define TAG_SET_PIXEL_ORDER 0x00048006u
#define TAG_ALLOCATE	    0x00040001u
#define TAG_GET_PITCH	    0x00040008u
#define TAG_ANSWERED	    0x80000000u

static uint32_t fb_msg[36] __attribute__((aligned(16)));

/* Appends tag `tag` with `n` value words at fb_msg[at]; returns the index of its first value. */
static unsigned fb_put_tag(unsigned *at, uint32_t tag, unsigned n, uint32_t v0, uint32_t v1)
{
	unsigned i = *at;
	fb_msg[i] = tag;
	fb_msg[i + 1] = 4 * n; /* value buffer size */
	fb_msg[i + 2] = 0;     /* request */
	fb_msg[i + 3] = v0;
	if (n > 1)
		fb_msg[i + 4] = v1;
	*at = i + 3 + n;
	return i + 3;
}

/* Whether the tag whose values start at fb_msg[v] came back with its answer flag. */
static bool fb_answered(unsigned v)
{
	return fb_msg[v - 1] & TAG_ANSWERED;
}

static bool fb_overlaps_ram(uint64_t base, uint64_t size)
{
	for (unsigned i = 0; i < boot_info.nr_mem; i++) {
		const struct boot_mem_region *r = &boot_info.mem[i];
		if (base < r->base + r->size && r->base < base + size)
			return true;
	}
	return false;
}

/* Sends the request and checks the answer; NULL when `fb` was filled, else what failed. */
static const char *fb_negotiate(struct boot_framebuffer *fb)
{
	unsigned at = 2;
	unsigned phys = fb_put_tag(&at, TAG_SET_PHYS_WH, 2, FB_WIDTH, FB_HEIGHT);
	unsigned virt = fb_put_tag(&at, TAG_SET_VIRT_WH, 2, FB_WIDTH, FB_HEIGHT);
	unsigned depth = fb_put_tag(&at, TAG_SET_DEPTH, 1, FB_DEPTH, 0);
	unsigned order = fb_put_tag(&at, TAG_SET_PIXEL_ORDER, 1, FB_ORDER_RGB, 0);
	unsigned alloc = fb_put_tag(&at, TAG_ALLOCATE, 2, FB_ALIGN, 0);
	unsigned pitch = fb_put_tag(&at, TAG_GET_PITCH, 1, 0, 0);
	fb_msg[at++] = 0; /* end tag */
	fb_msg[0] = 4 * at;
	fb_msg[1] = 0;

	const char *why = bcm2835_mbox_property(fb_msg);
	if (why)
		return why;
	if (!fb_answered(phys) || !fb_answered(virt) || !fb_answered(depth) ||
	    !fb_answered(order) || !fb_answered(alloc) || !fb_answered(pitch))
		return "a tag came back without its answer flag";
	if (fb_msg[phys] != FB_WIDTH || fb_msg[phys + 1] != FB_HEIGHT || fb_msg[virt] != FB_WIDTH ||
	    fb_msg[virt + 1] != FB_HEIGHT)
		return "the firmware gave another size than 640x480";
	if (fb_msg[depth] != FB_DEPTH)
		return "the firmware gave another depth than 32 bits";
	uint32_t line = fb_msg[pitch];
	uint64_t base = fb_msg[alloc] & FB_BUS_ALIAS_MASK, size = fb_msg[alloc + 1];
	if (line < FB_WIDTH * FB_DEPTH / 8)
		return "the pitch is shorter than a line";
	if (!base || size < (uint64_t)line * FB_HEIGHT)
		return "the buffer is missing or smaller than pitch x height";
	if (fb_overlaps_ram(base, size))
		return "the buffer overlaps RAM the kernel allocates";

	bool rgb = fb_msg[order] == FB_ORDER_RGB;
	*fb = (struct boot_framebuffer){
	    .kind = BOOT_FB_RGB,
	    .addr = base,
	    .pitch = line,
	    .width = FB_WIDTH,
	    .height = FB_HEIGHT,
	    .bpp = FB_DEPTH,
	    /* Little-endian words: RGB puts red in the lowest byte. */
	    .red_pos = rgb ? 0 : 16,
	    .red_size = 8,
	    .green_pos = 8,
	    .green_size = 8,
	    .blue_pos = rgb ? 16 : 0,
	    .blue_size = 8,
	};
	return NULL;
}

bool bcm2835_fb_init(void)
{
	struct boot_framebuffer fb;
	const char *why = fb_negotiate(&fb);
	if (why) {
		printk("console: VideoCore framebuffer: %s; serial console only", why);
		return false;
	}
	boot_info.framebuffer = fb;
	return true;
}
