// SPDX-License-Identifier: BSD-2-Clause
/*
 * A fake architecture behind kernel/mm/pt_arch.h, for the host tests of the
 * generic page-table code. Its descriptors are deliberately nothing like any
 * real CPU's: every field sits at a different bit at each level, several
 * are stored inverted, the table-versus-leaf bit means "leaf" at one level
 * and "table" at the next, and the frame number is rotated and XOR-ed with a
 * per-level constant. Generic code that does `pte & mask`, tests `pte != 0`
 * for presence, or builds or decodes a descriptor itself gets garbage here,
 * and the checks below turn that garbage into a panic (a failed case).
 *
 * Encoding. A descriptor is built in two steps:
 *  1. a "logical" word S: bits 0..39 are the frame number (pa >> 12) XOR
 *     pfn_xor; bit 40 VALID and bit 41 INVALID are stored as is; bits 42..49
 *     (TYPE, WRITE, EXEC, USER, GLOBAL, DEVICE, ACCESSED, DIRTY, each 1 when
 *     the property holds; TYPE 1 = leaf) are XOR-ed with the level's `invert`
 *     mask;
 *  2. each logical bit f is moved to physical bit pos[f].
 * A descriptor is present iff physical VALID is 1 and INVALID is 0, so 0 is
 * absent at every level, as the contract requires, but so are many nonzero
 * values (fake_pte_absent_junk). A present descriptor with a bit set that no
 * field uses, a table at level 0, a leaf at the root, or a table descriptor
 * with attribute bits is a contract violation.
 *
 * Layout 0, hand-written. The frame-number field is contiguous but rotated
 * (frame bit i sits at lo + (i + rot) % 40) and XOR-ed with pfn_xor; "inv"
 * means stored inverted.
 *
 *  level | frame bits | rot | pfn_xor      | VALID | INVALID | TYPE, stored 1 means
 *  ------+------------+-----+--------------+-------+---------+---------------------
 *    0   |   12..51   |  5  | 0x00a5a5a5a5 |   0   |   52    |  1      leaf
 *    1   |   20..59   | 17  | 0x3c3c3c3c3c |  62   |    0    | 19 inv  table
 *    2   |    3..42   | 33  | 0x123456789a |  47   |   46    | 45      leaf
 *    3   |   24..63   |  9  | 0xfedcba9876 |  13   |   14    |  0 inv  table
 *
 *  level | WRITE  | EXEC   | USER | GLOBAL | DEVICE | ACCESSED | DIRTY
 *  ------+--------+--------+------+--------+--------+----------+------
 *    0   |  7 inv | 63 inv |   6  | 11 inv |  2     |    10    |  55
 *    1   |  1     |  2     |  60  |  3     |  4 inv |     5    |   6
 *    2   | 44 inv | 43 inv |  63  | 62     | 61     |     0    |   1
 *    3   |  1     |  2     |   3  |  4     |  5     |     6    |   7
 *
 * (Level 3, the root, holds tables only: its attribute positions are unused.)
 *
 * E.g. at level 0 "inv" WRITE is a read-only bit and inv EXEC a no-execute
 * bit, so a present read-only leaf has bits 7 and 63 set; at level 1 DEVICE
 * is stored as a "normal memory" bit.
 *
 * Layouts n >= 1 are generated from seed n: at each level, a pseudo-random
 * permutation of the 64 bit positions places all 50 logical bits (the 40
 * frame bits scattered individually), `invert` and `pfn_xor` are random too.
 *
 * arch_pte_write is a plain store; it, and the TLB functions, count calls
 * in `fake_arch` and append to the host event log (with the old and the new
 * value, so the tests can check the order of breaks, makes and flushes).
 * arch_pt_needs_bbm() answers `fake_bbm`: false like x86-64, true like
 * arm64, so the walker's two ways of replacing a live entry both run here.
 */
#include <stdio.h>
#include <stdlib.h>

#include "kernel/mm/pt_arch.h"
#include "kernel/printk.h"
#include "tests/host/host.h"

enum {
	F_PFN = 0, /* logical bits 0..39 */
	F_VALID = 40,
	F_INVALID,
	F_TYPE, /* 1 = leaf */
	F_WRITE,
	F_EXEC,
	F_USER,
	F_GLOBAL,
	F_DEVICE,
	F_ACCESSED,
	F_DIRTY,
	F_COUNT,	/* 50 logical bits */
	F_UNKNOWN = 63, /* set by decoding when a physical bit no field uses is 1 */
};
#define PFN_BITS 40
#define PFN_MASK ((1ull << PFN_BITS) - 1)
#define BIT(f)	 (1ull << (f))
#define ATTR_BITS                                                                                  \
	(BIT(F_WRITE) | BIT(F_EXEC) | BIT(F_USER) | BIT(F_GLOBAL) | BIT(F_DEVICE) |                \
	 BIT(F_ACCESSED) | BIT(F_DIRTY))
#define SENSE_BITS (BIT(F_TYPE) | ATTR_BITS)
/* Hot helpers: the randomized test decodes millions of descriptors under the sanitizers. */
#define HOT	 __attribute__((always_inline)) inline
#define PA_LIMIT (1ull << (PFN_BITS + PT_PAGE_SHIFT)) /* 52-bit physical addresses */

struct level_layout {
	uint8_t pos[F_COUNT]; /* physical bit of each logical bit */
	uint64_t invert;      /* logical bits among SENSE_BITS stored inverted */
	uint64_t pfn_xor;
};

enum fake_leaf_mode fake_leaf_mode = FAKE_LEAVES_ALL;
bool fake_bbm;
struct fake_arch_counters fake_arch;

static unsigned current_layout = ~0u;
static struct level_layout layouts[PT_LEVELS];
/* enc[l][k][b]: physical bits of logical byte k == b; dec: the reverse. */
static uint64_t enc[PT_LEVELS][8][256];
static uint64_t dec[PT_LEVELS][8][256];
/* The last descriptor decoded at each level: walks decode the same upper entries often. */
static pte_t memo_pte[PT_LEVELS];
static uint64_t memo_s[PT_LEVELS];

static __noreturn __printf(1, 2) void violation(const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fake_arch.violations++;
	panic("fake arch contract violation: %s", msg);
}

/* ---- Layouts ---------------------------------------------------------------- */

static void contiguous_pfn(struct level_layout *l, unsigned lo, unsigned rot)
{
	for (unsigned i = 0; i < PFN_BITS; i++)
		l->pos[F_PFN + i] = (uint8_t)(lo + (i + rot) % PFN_BITS);
}

static void set_fields(struct level_layout *l, const uint8_t p[10])
{
	for (unsigned f = F_VALID; f < F_COUNT; f++)
		l->pos[f] = p[f - F_VALID];
}

static void layout_hand(void)
{
	/*                     VALID INVALID TYPE W   X   U   G   DEV A   D */
	static const uint8_t l0[10] = {0, 52, 1, 7, 63, 6, 11, 2, 10, 55};
	static const uint8_t l1[10] = {62, 0, 19, 1, 2, 60, 3, 4, 5, 6};
	static const uint8_t l2[10] = {47, 46, 45, 44, 43, 63, 62, 61, 0, 1};
	static const uint8_t l3[10] = {13, 14, 0, 1, 2, 3, 4, 5, 6, 7};
	contiguous_pfn(&layouts[0], 12, 5);
	set_fields(&layouts[0], l0);
	layouts[0].invert = BIT(F_WRITE) | BIT(F_EXEC) | BIT(F_GLOBAL);
	layouts[0].pfn_xor = 0x00a5a5a5a5ull;
	contiguous_pfn(&layouts[1], 20, 17);
	set_fields(&layouts[1], l1);
	layouts[1].invert = BIT(F_TYPE) | BIT(F_DEVICE);
	layouts[1].pfn_xor = 0x3c3c3c3c3cull;
	contiguous_pfn(&layouts[2], 3, 33);
	set_fields(&layouts[2], l2);
	layouts[2].invert = BIT(F_WRITE) | BIT(F_EXEC);
	layouts[2].pfn_xor = 0x123456789aull;
	contiguous_pfn(&layouts[3], 24, 9);
	set_fields(&layouts[3], l3);
	layouts[3].invert = BIT(F_TYPE);
	layouts[3].pfn_xor = 0xfedcba9876ull;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static void layout_generated(unsigned seed)
{
	uint64_t s = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 0x1234567ull;
	for (unsigned l = 0; l < PT_LEVELS; l++) {
		uint8_t perm[64];
		for (unsigned i = 0; i < 64; i++)
			perm[i] = (uint8_t)i;
		for (unsigned i = 63; i > 0; i--) {
			unsigned j = (unsigned)(rng_next(&s) % (i + 1));
			uint8_t t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
		for (unsigned f = 0; f < F_COUNT; f++)
			layouts[l].pos[f] = perm[f];
		layouts[l].invert = rng_next(&s) & SENSE_BITS;
		layouts[l].pfn_xor = rng_next(&s) & PFN_MASK;
	}
}

static void build_tables(void)
{
	for (unsigned l = 0; l < PT_LEVELS; l++) {
		const struct level_layout *ly = &layouts[l];
		int field_at[64];
		for (unsigned p = 0; p < 64; p++)
			field_at[p] = -1;
		for (unsigned f = 0; f < F_COUNT; f++) {
			if (ly->pos[f] >= 64 || field_at[ly->pos[f]] != -1) {
				fprintf(stderr,
					"fake arch: layout %u level %u: bit %u used twice\n",
					current_layout, l, ly->pos[f]);
				abort();
			}
			field_at[ly->pos[f]] = (int)f;
		}
		for (unsigned k = 0; k < 8; k++) {
			for (unsigned b = 0; b < 256; b++) {
				uint64_t e = 0, d = 0;
				for (unsigned j = 0; j < 8; j++) {
					if (!(b & (1u << j)))
						continue;
					unsigned bit = 8 * k + j;
					if (bit < F_COUNT)
						e |= 1ull << ly->pos[bit];
					d |= field_at[bit] >= 0 ? 1ull << field_at[bit]
								: BIT(F_UNKNOWN);
				}
				enc[l][k][b] = e;
				dec[l][k][b] = d;
			}
		}
	}
}

void fake_arch_set_layout(unsigned layout)
{
	if (layout == current_layout)
		return;
	current_layout = layout;
	if (layout == 0)
		layout_hand();
	else
		layout_generated(layout);
	build_tables();
	for (unsigned l = 0; l < PT_LEVELS; l++) {
		memo_pte[l] = 0;
		memo_s[l] = 0; /* 0 decodes to 0 in every layout */
	}
}

unsigned fake_arch_get_layout(void)
{
	return current_layout;
}

void fake_arch_print_layout(void)
{
	static const char *names[] = {"VALID", "INVALID", "TYPE", "W", "X",
				      "U",     "G",	  "DEV",  "A", "D"};
	printf("# fake arch layout %u\n", current_layout);
	for (unsigned l = 0; l < PT_LEVELS; l++) {
		printf("#  level %u: pfn_xor %#llx, frame bits at", l,
		       (unsigned long long)layouts[l].pfn_xor);
		for (unsigned i = 0; i < PFN_BITS; i++)
			printf(" %u", layouts[l].pos[i]);
		printf("\n#           ");
		for (unsigned f = F_VALID; f < F_COUNT; f++)
			printf(" %s=%u%s", names[f - F_VALID], layouts[l].pos[f],
			       (layouts[l].invert & BIT(f)) ? "(inv)" : "");
		printf("\n");
	}
}

void fake_arch_reset(void)
{
	fake_arch = (struct fake_arch_counters){0};
	fake_leaf_mode = FAKE_LEAVES_ALL;
	fake_bbm = false;
	fake_arch_set_layout(0);
}

/* ---- Encoding and decoding ------------------------------------------------------ */

HOT static uint64_t scatter(uint64_t s, unsigned l)
{
	uint64_t p = 0;
	for (unsigned k = 0; k < 8; k++)
		p |= enc[l][k][(s >> (8 * k)) & 0xff];
	return p;
}

HOT static uint64_t gather(uint64_t p, unsigned l)
{
	if (p == memo_pte[l])
		return memo_s[l];
	uint64_t s = 0;
	for (unsigned k = 0; k < 8; k++)
		s |= dec[l][k][(p >> (8 * k)) & 0xff];
	memo_pte[l] = p;
	memo_s[l] = s;
	return s;
}

HOT static void check_level(unsigned level, const char *fn)
{
	if (current_layout == ~0u)
		fake_arch_set_layout(0);
	if (level >= PT_LEVELS)
		violation("%s: level %u", fn, level);
}

HOT static bool s_present(uint64_t s)
{
	return (s & BIT(F_VALID)) && !(s & BIT(F_INVALID));
}

/*
 * Checks a present descriptor (s = gather(pte)); returns its logical word
 * with senses applied (bit F_TYPE set: a leaf).
 */
HOT static uint64_t decode_s(pte_t pte, uint64_t s, unsigned level, const char *fn)
{
	if (!s_present(s))
		violation("%s: descriptor %#llx is absent at level %u", fn, (unsigned long long)pte,
			  level);
	if (s & BIT(F_UNKNOWN))
		violation("%s: descriptor %#llx at level %u has bits no field uses (corrupted?)",
			  fn, (unsigned long long)pte, level);
	uint64_t sem = s ^ layouts[level].invert;
	bool leaf = (sem & BIT(F_TYPE)) != 0;
	if (level == 0 && !leaf)
		violation("%s: descriptor %#llx is a table at level 0", fn,
			  (unsigned long long)pte);
	if (level == PT_LEVELS - 1 && leaf)
		violation("%s: descriptor %#llx is a leaf at the root level", fn,
			  (unsigned long long)pte);
	if (!leaf && (sem & ATTR_BITS))
		violation("%s: table descriptor %#llx at level %u has attribute bits", fn,
			  (unsigned long long)pte, level);
	return sem;
}

HOT static uint64_t decode_present(pte_t pte, unsigned level, const char *fn)
{
	return decode_s(pte, gather(pte, level), level, fn);
}

bool arch_pt_leaf_allowed(unsigned level)
{
	check_level(level, "arch_pt_leaf_allowed");
	switch (fake_leaf_mode) {
	case FAKE_LEAVES_ALL:
		return level <= 2;
	case FAKE_LEAVES_NO_1G:
		return level <= 1;
	case FAKE_LEAVES_4K_ONLY:
		return level == 0;
	}
	return false;
}

static uint64_t pfn_field(phys_addr_t pa, unsigned level)
{
	return ((pa >> PT_PAGE_SHIFT) ^ layouts[level].pfn_xor) & PFN_MASK;
}

pte_t arch_pte_make_table(phys_addr_t table, unsigned level)
{
	check_level(level, "arch_pte_make_table");
	if (level == 0)
		violation("arch_pte_make_table: level 0 holds no tables");
	if (!IS_ALIGNED(table, 1ull << PT_PAGE_SHIFT) || table >= PA_LIMIT)
		violation("arch_pte_make_table: table %#llx is not an encodable frame",
			  (unsigned long long)table);
	if (!host_frame_is_live(table))
		violation("arch_pte_make_table: table %#llx is not an allocated frame",
			  (unsigned long long)table);
	uint64_t s = pfn_field(table, level) | BIT(F_VALID) | layouts[level].invert;
	return scatter(s, level);
}

pte_t arch_pte_make_leaf(phys_addr_t pa, unsigned level, unsigned attrs)
{
	check_level(level, "arch_pte_make_leaf");
	if (!arch_pt_leaf_allowed(level))
		violation("arch_pte_make_leaf: no leaves at level %u in this mode", level);
	if (!IS_ALIGNED(pa, 1ull << pt_level_shift(level)) || pa >= PA_LIMIT)
		violation("arch_pte_make_leaf: pa %#llx is not an encodable level-%u address",
			  (unsigned long long)pa, level);
	if (attrs & ~0xffu)
		violation("arch_pte_make_leaf: unknown attribute bits %#x", attrs);
	if (!(attrs & PT_READ))
		violation("arch_pte_make_leaf: PT_READ missing from %#x (always set on a leaf)",
			  attrs);
	uint64_t sem = BIT(F_TYPE);
	if (attrs & PT_WRITE)
		sem |= BIT(F_WRITE);
	if (attrs & PT_EXEC)
		sem |= BIT(F_EXEC);
	if (attrs & PT_USER)
		sem |= BIT(F_USER);
	if (attrs & PT_GLOBAL)
		sem |= BIT(F_GLOBAL);
	if (attrs & PT_DEVICE)
		sem |= BIT(F_DEVICE);
	if (attrs & PT_ACCESSED)
		sem |= BIT(F_ACCESSED);
	if (attrs & PT_DIRTY)
		sem |= BIT(F_DIRTY);
	uint64_t s = pfn_field(pa, level) | BIT(F_VALID) | (sem ^ layouts[level].invert);
	return scatter(s, level);
}

enum pte_kind arch_pte_kind(pte_t pte, unsigned level)
{
	check_level(level, "arch_pte_kind");
	uint64_t s = gather(pte, level);
	if (!s_present(s))
		return PTE_ABSENT;
	uint64_t sem = decode_s(pte, s, level, "arch_pte_kind");
	return (sem & BIT(F_TYPE)) ? PTE_LEAF : PTE_TABLE;
}

phys_addr_t arch_pte_address(pte_t pte, unsigned level)
{
	check_level(level, "arch_pte_address");
	uint64_t sem = decode_present(pte, level, "arch_pte_address");
	phys_addr_t pa = ((sem & PFN_MASK) ^ layouts[level].pfn_xor) << PT_PAGE_SHIFT;
	if ((sem & BIT(F_TYPE)) && !IS_ALIGNED(pa, 1ull << pt_level_shift(level)))
		violation("arch_pte_address: level-%u leaf %#llx decodes to misaligned %#llx",
			  level, (unsigned long long)pte, (unsigned long long)pa);
	return pa;
}

unsigned arch_pte_attrs(pte_t pte, unsigned level)
{
	check_level(level, "arch_pte_attrs");
	uint64_t sem = decode_present(pte, level, "arch_pte_attrs");
	if (!(sem & BIT(F_TYPE)))
		violation("arch_pte_attrs: descriptor %#llx at level %u is a table",
			  (unsigned long long)pte, level);
	unsigned a = PT_READ;
	if (sem & BIT(F_WRITE))
		a |= PT_WRITE;
	if (sem & BIT(F_EXEC))
		a |= PT_EXEC;
	if (sem & BIT(F_USER))
		a |= PT_USER;
	if (sem & BIT(F_GLOBAL))
		a |= PT_GLOBAL;
	if (sem & BIT(F_DEVICE))
		a |= PT_DEVICE;
	if (sem & BIT(F_ACCESSED))
		a |= PT_ACCESSED;
	if (sem & BIT(F_DIRTY))
		a |= PT_DIRTY;
	return a;
}

bool arch_pt_needs_bbm(void)
{
	return fake_bbm;
}

void arch_pte_write(pte_t *slot, pte_t value)
{
	fake_arch.pte_writes++;
	host_event_log(EV_PTE_WRITE, 0, (uint64_t)(uintptr_t)slot, *slot, value, 0);
	*slot = value;
}

unsigned arch_pte_clear_run(pte_t *slots, unsigned n, unsigned level)
{
	unsigned seen = 0;
	for (unsigned i = 0; i < n; i++) {
		if (arch_pte_kind(slots[i], level) == PTE_LEAF)
			seen |= arch_pte_attrs(slots[i], level) & (PT_ACCESSED | PT_DIRTY);
		arch_pte_write(&slots[i], 0);
	}
	return seen;
}

bool arch_pte_needs_flush(pte_t old, pte_t new, unsigned level)
{
	/* Decided on decoded attributes only: this fake has no bit layout to lean on. */
	if (arch_pte_kind(old, level) != PTE_LEAF)
		return false;
	if (arch_pte_kind(new, level) != PTE_LEAF ||
	    arch_pte_address(old, level) != arch_pte_address(new, level))
		return true;
	unsigned a = arch_pte_attrs(old, level), b = arch_pte_attrs(new, level);
	if (a & ~b & (PT_READ | PT_WRITE | PT_EXEC))
		return true;
	return ((a ^ b) & (PT_USER | PT_GLOBAL | PT_DEVICE)) != 0;
}

unsigned arch_pte_protect_run(pte_t *slots, unsigned n, unsigned level, unsigned attrs,
			      unsigned keep, struct pte_run_change *out)
{
	/* Built from decoded attributes through arch_pte_write, so the event log sees each rewrite.
	 */
	unsigned i;
	*out = (struct pte_run_change){0};
	for (i = 0; i < n; i++) {
		pte_t old = slots[i];
		if (arch_pte_kind(old, level) != PTE_LEAF)
			continue;
		unsigned a = arch_pte_attrs(old, level);
		phys_addr_t pa = arch_pte_address(old, level);
		pte_t new =
		    arch_pte_make_leaf(pa, level, (attrs & ~(PT_ACCESSED | PT_DIRTY)) | (a & keep));
		if (new == old)
			continue;
		unsigned b = arch_pte_attrs(new, level);
		if (fake_bbm && ((a ^ b) & (PT_DEVICE | PT_GLOBAL)))
			break;
		arch_pte_write(&slots[i], new);
		pte_run_change_note(out, i, arch_pte_needs_flush(old, new, level));
	}
	return i;
}

void arch_tlb_flush_local_page(virt_addr_t va)
{
	fake_arch.page_flushes++;
	host_event_log(EV_FLUSH_PAGE, 0, va, 0, 0, 0);
}

void arch_tlb_flush_local_full(void)
{
	fake_arch.full_flushes++;
	host_event_log(EV_FLUSH_FULL, 0, 0, 0, 0, 0);
}

pte_t fake_pte_absent_junk(unsigned level, uint64_t seed)
{
	check_level(level, "fake_pte_absent_junk");
	uint64_t s = seed * 0x9E3779B97F4A7C15ull + 77;
	pte_t p = rng_next(&s) | 1; /* nonzero */
	const struct level_layout *ly = &layouts[level];
	if (seed & 1)
		p |= (1ull << ly->pos[F_VALID]) | (1ull << ly->pos[F_INVALID]);
	else
		p &= ~(1ull << ly->pos[F_VALID]);
	if (p == 0)
		p = 1ull << ly->pos[F_INVALID];
	return p;
}
