// SPDX-License-Identifier: BSD-2-Clause
/*
 * Multiboot2 boot information -> struct boot_info.
 *
 * The information block is untrusted input: its total size is bounded,
 * every tag's size is checked against the bytes left before the tag is
 * read, and every tag-specific field (memory map entry size, string
 * termination, RSDP length) is checked against the tag's own size. Any
 * violation panics naming the tag type and the field, so a malformed
 * block never turns into silent corruption.
 *
 * The framebuffer tag is the exception: a malformed one costs only the
 * screen, so it is reported on one line and the boot goes on without it.
 *
 * Everything kept is copied (command line, loader name): the block itself
 * lives in memory the frame allocator may later hand out.
 */
#include "boot/multiboot2.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"
#include "lib/string.h"

#define MB2_INFO_MAX (1u << 20)

enum mb2_tag_type {
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_LOADER_NAME = 2,
	MB2_TAG_MMAP = 6,
	MB2_TAG_FRAMEBUFFER = 8,
	MB2_TAG_EFI64 = 12,
	MB2_TAG_ACPI_OLD = 14,
	MB2_TAG_ACPI_NEW = 15,
	MB2_TAG_EFI_MMAP = 17,
};

struct mb2_tag {
	uint32_t type;
	uint32_t size;
};

struct mb2_mmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type;
	uint32_t reserved;
};

static char loader_name[64];

static void copy_string_tag(const struct mb2_tag *tag, char *dst, size_t dst_size,
			    const char *what)
{
	const char *s = (const char *)(tag + 1);
	size_t avail = tag->size - sizeof(*tag);
	if (strnlen(s, avail) == avail)
		panic("multiboot2_parse: tag %u (%s): string not NUL-terminated within size %u",
		      tag->type, what, tag->size);
	strlcpy(dst, s, dst_size);
}

static void parse_mmap(const struct mb2_tag *tag)
{
	if (tag->size < 16)
		panic("multiboot2_parse: tag 6 (memory map): size %u < 16", tag->size);
	const uint32_t *hdr = (const uint32_t *)(tag + 1);
	uint32_t entry_size = hdr[0];
	if (entry_size < sizeof(struct mb2_mmap_entry) || entry_size % 8)
		panic("multiboot2_parse: tag 6 (memory map): entry_size %u invalid (need >= 24, "
		      "multiple of 8)",
		      entry_size);
	const uint8_t *p = (const uint8_t *)(hdr + 2);
	const uint8_t *end = (const uint8_t *)tag + tag->size;
	if ((size_t)(end - p) % entry_size)
		panic("multiboot2_parse: tag 6 (memory map): size %u is not header + n * "
		      "entry_size %u",
		      tag->size, entry_size);
	for (; p < end; p += entry_size) {
		const struct mb2_mmap_entry *e = (const struct mb2_mmap_entry *)p;
		boot_info_add_mem(e->base, e->length, boot_mem_type_from_e820(e->type),
				  "multiboot2 tag 6 (memory map)");
	}
}

/* Tag 8: address, pitch, width, height, bpp, type, reserved, then the colour info. */
struct mb2_framebuffer {
	struct mb2_tag tag;
	uint64_t addr;
	uint32_t pitch, width, height;
	uint8_t bpp, type;
	uint16_t reserved;
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size; /* type 1 only */
} __packed;

enum { MB2_FB_INDEXED = 0, MB2_FB_RGB = 1, MB2_FB_EGA_TEXT = 2 };

static void parse_framebuffer(const struct mb2_tag *tag)
{
	const struct mb2_framebuffer *t = (const struct mb2_framebuffer *)tag;
	size_t common = offsetof(struct mb2_framebuffer, red_pos);
	if (tag->size < common) {
		printk("multiboot2: tag 8 (framebuffer): size %u < %u; no screen console",
		       tag->size, (unsigned)common);
		return;
	}
	if (t->type == MB2_FB_RGB && tag->size < sizeof(*t)) {
		printk(
		    "multiboot2: tag 8 (framebuffer): size %u < %u for the RGB colour fields; no "
		    "screen console",
		    tag->size, (unsigned)sizeof(*t));
		return;
	}
	if (t->type != MB2_FB_RGB && t->type != MB2_FB_EGA_TEXT) {
		printk("multiboot2: tag 8 (framebuffer): type %u (%s) not supported; no screen "
		       "console",
		       t->type, t->type == MB2_FB_INDEXED ? "indexed colour" : "unknown");
		return;
	}
	/* The geometry is checked by the console, which owns those rules (console_fb_check). */
	struct boot_framebuffer *fb = &boot_info.framebuffer;
	*fb = (struct boot_framebuffer){
	    .kind = t->type == MB2_FB_RGB ? BOOT_FB_RGB : BOOT_FB_EGA_TEXT,
	    .addr = t->addr,
	    .pitch = t->pitch,
	    .width = t->width,
	    .height = t->height,
	    .bpp = t->bpp,
	};
	if (t->type == MB2_FB_RGB) {
		fb->red_pos = t->red_pos;
		fb->red_size = t->red_size;
		fb->green_pos = t->green_pos;
		fb->green_size = t->green_size;
		fb->blue_pos = t->blue_pos;
		fb->blue_size = t->blue_size;
	}
}

static void parse_rsdp(const struct mb2_tag *tag, unsigned revision)
{
	/* RSDP v1 is 20 bytes; v2 is 36. The tag holds a copy. */
	uint32_t need = revision ? 36 : 20;
	if (tag->size < sizeof(*tag) + need)
		panic("multiboot2_parse: tag %u (ACPI RSDP): size %u too small for a %u-byte RSDP",
		      tag->type, tag->size, need);
	/* Prefer the ACPI 2.0 copy when both tags are present. */
	if (boot_info.acpi_rsdp && boot_info.acpi_revision >= revision)
		return;
	boot_info.acpi_rsdp = arch_virt_to_phys(tag + 1);
	boot_info.acpi_revision = revision;
}

void multiboot2_parse(phys_addr_t info_pa)
{
	const uint8_t *info = arch_phys_to_virt(info_pa);
	if (!info || (info_pa & 7))
		panic("multiboot2_parse: information block at %#lx is unreachable or misaligned",
		      (unsigned long)info_pa);
	uint32_t total = *(const uint32_t *)info;
	if (total < 16 || total > MB2_INFO_MAX)
		panic("multiboot2_parse: total_size %u out of range [16, %u]", total, MB2_INFO_MAX);
	boot_info_add_reserved(info_pa, total, "multiboot2 information");

	uint32_t off = 8;
	bool saw_end = false;
	while (off + sizeof(struct mb2_tag) <= total) {
		const struct mb2_tag *tag = (const struct mb2_tag *)(info + off);
		if (tag->size < sizeof(*tag) || tag->size > total - off)
			panic("multiboot2_parse: tag %u at offset %u: size %u runs past total_size %u",
			      tag->type, off, tag->size, total);
		switch (tag->type) {
		case MB2_TAG_END:
			saw_end = true;
			break;
		case MB2_TAG_CMDLINE:
			copy_string_tag(tag, boot_info.cmdline, sizeof(boot_info.cmdline),
					"command line");
			break;
		case MB2_TAG_LOADER_NAME:
			copy_string_tag(tag, loader_name, sizeof(loader_name), "boot loader name");
			boot_info.loader_name = loader_name;
			break;
		case MB2_TAG_MMAP:
			parse_mmap(tag);
			break;
		case MB2_TAG_FRAMEBUFFER:
			parse_framebuffer(tag);
			break;
		case MB2_TAG_ACPI_OLD:
			parse_rsdp(tag, 0);
			break;
		case MB2_TAG_ACPI_NEW:
			parse_rsdp(tag, 2);
			break;
		case MB2_TAG_EFI64:
			if (tag->size < 16)
				panic("multiboot2_parse: tag 12 (EFI64 system table): size %u < 16",
				      tag->size);
			boot_info.efi_system_table = *(const uint64_t *)(tag + 1);
			break;
		case MB2_TAG_EFI_MMAP:
			boot_info.efi_memory_map = true;
			break;
		default:
			break;
		}
		if (saw_end)
			break;
		off += ALIGN_UP(tag->size, 8u);
	}
	if (!saw_end)
		panic("multiboot2_parse: no end tag within total_size %u", total);
	if (boot_info.nr_mem == 0)
		panic("multiboot2_parse: tag 6 (memory map) missing: no memory map from the loader");
}
