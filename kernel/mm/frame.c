// SPDX-License-Identifier: BSD-2-Clause
/*
 * The buddy frame allocator.
 *
 * Blocks of 2^order frames are naturally aligned; a free block's head page
 * carries PAGE_FREE and its order and sits on free_lists[order]. Freeing a
 * block merges it with its buddy (the block at pa ^ (PAGE_SIZE << order))
 * for as long as the buddy is a free block of the same order, so free
 * memory never stays fragmented into pieces that could be whole.
 *
 * The struct page array itself is carved out of the first usable region
 * large enough to hold it, before anything else is allocated.
 *
 * Single frames go through a small cache per CPU first (Linux's per-CPU
 * page lists): a frame freed on a CPU goes on its cache, not into the
 * lists, and that CPU's next single-frame allocation takes it back, with
 * interrupts off and no lock. A fault's page, a table, an unmap's frames
 * then cost no buddy split and merge and no frame_lock. A cached frame is
 * free for every count (frame_free_count, frame_is_free: PAGE_CACHED), but
 * only its CPU can hand it out: an allocation the lists cannot serve
 * empties the caches into them and tries again (every CPU's by a cross-call
 * where the caller may wait, else its own), and frame_cache_drain() empties
 * this CPU's on request. A frame keeps the poison flag frame_free gave it
 * through the cache and a drain, and is checked when it is next handed out,
 * from the cache or the lists. Failure injection bypasses the caches (and
 * drains nothing), so that every allocation counts down under the lock.
 *
 * `mem=<size>` on the command line caps the RAM managed here: only the
 * lowest <size> bytes of usable RAM (counted in address order, the kernel
 * image and other reserved ranges inside it included, as Linux counts)
 * are handed out; everything at or above frame_limit is left alone.
 */
#include "kernel/mm/frame.h"
#include "kernel/boot_info.h"
#include "kernel/percpu.h"
#include "kernel/smp.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "lib/string.h"

static struct page *pages;
static uint64_t first_pfn, nr_pfns;
static struct page free_lists[FRAME_MAX_ORDER + 1]; /* list heads (sentinels) */
static spinlock_t frame_lock = SPINLOCK_INIT;
static uint64_t nr_free, nr_managed;
static int64_t fail_countdown = -1; /* test hook: -1 = off */
static bool late_done; /* frames above boot_mapped_limit added */
static phys_addr_t frame_limit = UINT64_MAX; /* mem=: no frame at or above it is managed */

/* 32 frames: an unmap of 32 pages and the populate after it stay in the cache. */
#define FRAME_CACHE_MAX 32
struct frame_cache {
	uint32_t count; /* written by its CPU with interrupts off; read anywhere for counts */
	phys_addr_t frames[FRAME_CACHE_MAX];
} __aligned(64);
static struct frame_cache frame_caches[CPU_MAX];
static bool poison_on_free; /* frame_poison_on_free() */

CMDLINE_PARAM(mem_param, .key = "mem", .kind = CMDLINE_SIZE, .min = MiB(16), .def = "all memory",
	      .fallback = "all memory",
	      .help = "use only the lowest <size> of usable RAM (e.g. mem=64M)");

struct page *frame_to_page(phys_addr_t pa)
{
	uint64_t pfn = pa >> PAGE_SHIFT;
	if (pfn < first_pfn || pfn - first_pfn >= nr_pfns)
		return NULL;
	return &pages[pfn - first_pfn];
}

phys_addr_t page_to_frame(const struct page *page)
{
	return (first_pfn + (uint64_t)(page - pages)) << PAGE_SHIFT;
}

static void list_push(unsigned order, struct page *p)
{
	struct page *head = &free_lists[order];
	p->next = head->next;
	p->prev = head;
	head->next->prev = p;
	head->next = p;
}

static void list_remove(struct page *p)
{
	p->prev->next = p->next;
	p->next->prev = p->prev;
	p->next = p->prev = NULL;
}

/* Frees a block into the lists, merging with free buddies. Lock held. */
static void buddy_insert(phys_addr_t pa, unsigned order)
{
	while (order < FRAME_MAX_ORDER) {
		phys_addr_t buddy_pa = pa ^ (PAGE_SIZE << order);
		struct page *buddy = frame_to_page(buddy_pa);
		if (!buddy || !(buddy->flags & PAGE_FREE) || buddy->order != order)
			break;
		list_remove(buddy);
		buddy->flags &= (uint16_t)~PAGE_FREE;
		pa &= ~(PAGE_SIZE << order); /* the merged block starts at the lower buddy */
		order++;
	}
	struct page *p = frame_to_page(pa);
	p->flags |= PAGE_FREE;
	p->order = (uint8_t)order;
	list_push(order, p);
}

uint64_t frame_poison_violations;
phys_addr_t frame_poison_last;

/* Lock held, or the block came off this CPU's cache: it was free until now, unwritten. */
static void check_poison(phys_addr_t block, unsigned order)
{
	for (uint64_t i = 0; i < (1ull << order); i++) {
		struct page *p = frame_to_page(block + (i << PAGE_SHIFT));
		if (!(p->flags & PAGE_POISONED))
			continue;
		p->flags &= (uint16_t)~PAGE_POISONED;
		const uint64_t *w = kva(block + (i << PAGE_SHIFT));
		for (unsigned j = 0; j < PAGE_SIZE / 8; j++) {
			if (w[j] != 0x0101010101010101ull * FRAME_POISON) {
				atomic_fetch_add(&frame_poison_violations, 1);
				frame_poison_last = block + (i << PAGE_SHIFT) + j * 8;
				break;
			}
		}
	}
}

/* A single frame off this CPU's cache; false if it is empty or failures are being injected. */
static bool cache_take(phys_addr_t *pa)
{
	if (atomic_load_relaxed(&fail_countdown) >= 0)
		return false;
	irqflags_t flags = arch_irq_save();
	struct frame_cache *c = &frame_caches[arch_cpu_id()];
	bool hit = c->count != 0;
	if (hit) {
		phys_addr_t block = c->frames[c->count - 1];
		atomic_store_relaxed(&c->count, c->count - 1);
		struct page *p = frame_to_page(block);
		p->flags &= (uint16_t)~PAGE_CACHED;
		p->refcount = 1;
		p->order = 0;
		check_poison(block, 0);
		*pa = block;
	}
	arch_irq_restore(flags);
	return hit;
}

/* A block being freed: refuses a double free, and clears what its user left in the metadata. */
static void page_forget(struct page *p, phys_addr_t pa)
{
	if (p->flags & (PAGE_FREE | PAGE_RESERVED | PAGE_CACHED))
		panic("frame_free: %#lx is already free or reserved (double free?)",
		      (unsigned long)pa);
	p->refcount = 0;
	p->flags = 0;
	p->pt_level = 0;
	p->pt_tlb_gen = 0;
}

/*
 * frame_free's path for a single frame: onto this CPU's cache, with its
 * metadata reset as the lists would have it; false if the cache is full.
 * Its double-free check reads flags without frame_lock: it catches a frame
 * freed again once the first free is done (cached, or in the lists), not
 * two frees racing on two CPUs.
 */
static bool cache_put(phys_addr_t pa, struct page *p, bool poison)
{
	irqflags_t flags = arch_irq_save();
	struct frame_cache *c = &frame_caches[arch_cpu_id()];
	bool room = c->count < FRAME_CACHE_MAX;
	if (room) {
		page_forget(p, pa);
		p->flags = PAGE_CACHED | (poison ? PAGE_POISONED : 0);
		c->frames[c->count] = pa;
		atomic_store_relaxed(&c->count, c->count + 1);
	}
	arch_irq_restore(flags);
	return room;
}

/* frame_alloc from the buddy lists, under frame_lock. */
static int frame_alloc_lists(unsigned order, phys_addr_t *pa);

void frame_cache_drain(void)
{
	irqflags_t flags = arch_irq_save();
	struct frame_cache *c = &frame_caches[arch_cpu_id()];
	spin_lock(&frame_lock);
	while (c->count) {
		phys_addr_t pa = c->frames[c->count - 1];
		atomic_store_relaxed(&c->count, c->count - 1);
		/* Its PAGE_POISONED, as frame_free set it, goes along: the lists check it. */
		frame_to_page(pa)->flags &= (uint16_t)~PAGE_CACHED;
		buddy_insert(pa, 0);
		nr_free++;
	}
	spin_unlock(&frame_lock);
	arch_irq_restore(flags);
}

static void drain_here(void *unused)
{
	(void)unused;
	frame_cache_drain();
}

/* Whether any CPU has frames cached. */
static bool caches_hold_frames(void)
{
	for (unsigned c = 0; c < CPU_MAX; c++)
		if (atomic_load_relaxed(&frame_caches[c].count))
			return true;
	return false;
}

int frame_alloc(unsigned order, phys_addr_t *pa)
{
	if (order > FRAME_MAX_ORDER)
		return -EINVAL;
	if (order == 0 && cache_take(pa))
		return 0;
	int err = frame_alloc_lists(order, pa);
	/* An injected failure is not a shortage: nothing to drain for. */
	if (err != -ENOMEM || !caches_hold_frames() || atomic_load_relaxed(&fail_countdown) >= 0)
		return err;
	/*
	 * Cached frames would do, or would let a block re-form: back to the
	 * lists with them, and look again. Every CPU's, by a waited cross-call,
	 * where the caller may wait (interrupts on, no spinlock held: no
	 * target can be spinning on a lock of ours); else only this CPU's.
	 */
	if (arch_irq_enabled() && this_cpu()->preempt_count == 0)
		xcall(cpumask_read(&cpu_online_mask), drain_here, NULL, XCALL_WAIT);
	else
		frame_cache_drain();
	return frame_alloc_lists(order, pa);
}

static int frame_alloc_lists(unsigned order, phys_addr_t *pa)
{
	irqflags_t flags = spin_lock_irqsave(&frame_lock);
	if (fail_countdown == 0) {
		spin_unlock_irqrestore(&frame_lock, flags);
		return -ENOMEM;
	}
	unsigned o = order;
	while (o <= FRAME_MAX_ORDER && free_lists[o].next == &free_lists[o])
		o++;
	if (o > FRAME_MAX_ORDER) {
		spin_unlock_irqrestore(&frame_lock, flags);
		return -ENOMEM;
	}
	struct page *p = free_lists[o].next;
	list_remove(p);
	p->flags &= (uint16_t)~PAGE_FREE;
	phys_addr_t block = page_to_frame(p);
	/* Split down to the requested order, returning the upper halves. */
	while (o > order) {
		o--;
		struct page *upper = frame_to_page(block + (PAGE_SIZE << o));
		upper->flags |= PAGE_FREE;
		upper->order = (uint8_t)o;
		list_push(o, upper);
	}
	p->refcount = 1;
	p->order = (uint8_t)order;
	nr_free -= 1ull << order;
	check_poison(block, order);
	if (fail_countdown > 0)
		fail_countdown--;
	spin_unlock_irqrestore(&frame_lock, flags);
	*pa = block;
	return 0;
}

int frame_alloc_zeroed(phys_addr_t *pa)
{
	int err = frame_alloc(0, pa);
	if (err == 0)
		arch_mem_zero(kva(*pa), PAGE_SIZE);
	return err;
}

void frame_poison_on_free(bool on)
{
	atomic_store_release(&poison_on_free, on);
}

void frame_free(phys_addr_t pa, unsigned order)
{
	bool poison = atomic_load_acquire(&poison_on_free);
	if (poison)
		memset(kva(pa), FRAME_POISON, PAGE_SIZE << order);
	struct page *p = frame_to_page(pa);
	if (!p || !IS_ALIGNED(pa, PAGE_SIZE << order) || order > FRAME_MAX_ORDER)
		panic("frame_free: %#lx (order %u) is not a block this allocator manages",
		      (unsigned long)pa, order);
	if (order == 0 && cache_put(pa, p, poison))
		return;
	irqflags_t flags = spin_lock_irqsave(&frame_lock);
	page_forget(p, pa);
	if (poison)
		for (uint64_t i = 0; i < (1ull << order); i++)
			p[i].flags |= PAGE_POISONED;
	buddy_insert(pa, order);
	nr_free += 1ull << order;
	spin_unlock_irqrestore(&frame_lock, flags);
}

/* Frees [start, end) frame by frame into the buddy lists; merging rebuilds large blocks. */
static void free_range(phys_addr_t start, phys_addr_t end)
{
	for (phys_addr_t pa = start; pa < end; pa += PAGE_SIZE) {
		struct page *p = frame_to_page(pa);
		p->flags = 0;
		buddy_insert(pa, 0);
		nr_free++;
		nr_managed++;
	}
}

void frame_release_reserved(phys_addr_t start, phys_addr_t end)
{
	irqflags_t flags = spin_lock_irqsave(&frame_lock);
	for (phys_addr_t pa = ALIGN_UP(start, PAGE_SIZE); pa + PAGE_SIZE <= end; pa += PAGE_SIZE) {
		struct page *p = frame_to_page(pa);
		if (p && (p->flags & PAGE_RESERVED))
			free_range(pa, pa + PAGE_SIZE);
	}
	spin_unlock_irqrestore(&frame_lock, flags);
}

static bool overlaps_reserved(phys_addr_t pa, phys_addr_t *skip_to)
{
	for (unsigned i = 0; i < boot_info.nr_reserved; i++) {
		const struct boot_mem_region *r = &boot_info.reserved[i];
		if (pa + PAGE_SIZE > r->base && pa < r->base + r->size) {
			*skip_to = ALIGN_UP(r->base + r->size, PAGE_SIZE);
			return true;
		}
	}
	return false;
}

/* Frees every usable, unreserved frame in [lo, hi). */
static void add_usable_frames(phys_addr_t lo, phys_addr_t hi)
{
	for (unsigned i = 0; i < boot_info.nr_mem; i++) {
		const struct boot_mem_region *r = &boot_info.mem[i];
		if (r->type != BOOT_MEM_USABLE)
			continue;
		phys_addr_t pa = MAX(ALIGN_UP(r->base, PAGE_SIZE), lo);
		phys_addr_t end = MIN(ALIGN_DOWN(r->base + r->size, PAGE_SIZE), hi);
		while (pa < end) {
			phys_addr_t skip;
			if (overlaps_reserved(pa, &skip)) {
				pa = skip;
				continue;
			}
			free_range(pa, pa + PAGE_SIZE);
			pa += PAGE_SIZE;
		}
	}
}

void frame_init_late(void)
{
	if (late_done)
		return;
	late_done = true;
	uint64_t before = nr_free;
	irqflags_t flags = spin_lock_irqsave(&frame_lock);
	add_usable_frames(arch_mm_layout.boot_mapped_limit, frame_limit);
	spin_unlock_irqrestore(&frame_lock, flags);
	if (nr_free != before)
		printk("frames: %lu more above the boot-mapped limit",
		       (unsigned long)(nr_free - before));
}

/* The address below which usable RAM adds up to `bytes`; UINT64_MAX if there is less. */
static phys_addr_t usable_limit(uint64_t bytes)
{
	for (unsigned i = 0; i < boot_info.nr_mem; i++) {
		const struct boot_mem_region *r = &boot_info.mem[i];
		if (r->type != BOOT_MEM_USABLE)
			continue;
		if (r->size >= bytes)
			return ALIGN_DOWN(r->base + bytes, PAGE_SIZE);
		bytes -= r->size;
	}
	return UINT64_MAX;
}

void frame_init(void)
{
	uint64_t cap;
	if (cmdline_get_u64("mem", &cap)) {
		/* boot_info_finish sorted the map: regions come in address order. */
		frame_limit = usable_limit(cap);
		if (frame_limit == UINT64_MAX)
			printk("frames: mem=%lu MiB is more than there is: using all memory",
			       (unsigned long)(cap >> 20));
		else
			printk("frames: mem=%lu MiB: RAM at or above %#lx is not used",
			       (unsigned long)(cap >> 20), (unsigned long)frame_limit);
	}
	phys_addr_t lo = UINT64_MAX, hi = 0;
	for (unsigned i = 0; i < boot_info.nr_mem; i++) {
		const struct boot_mem_region *r = &boot_info.mem[i];
		if (r->type != BOOT_MEM_USABLE)
			continue;
		lo = MIN(lo, ALIGN_UP(r->base, PAGE_SIZE));
		hi = MAX(hi, ALIGN_DOWN(MIN(r->base + r->size, frame_limit), PAGE_SIZE));
	}
	if (hi <= lo)
		panic("frame_init: boot_info has no usable memory");
	first_pfn = lo >> PAGE_SHIFT;
	nr_pfns = (hi - lo) >> PAGE_SHIFT;

	/* Find room for the page array in usable, unreserved, boot-mapped memory. */
	uint64_t array_bytes = ALIGN_UP(nr_pfns * sizeof(struct page), PAGE_SIZE);
	phys_addr_t array_pa = 0;
	for (unsigned i = 0; i < boot_info.nr_mem && !array_pa; i++) {
		const struct boot_mem_region *r = &boot_info.mem[i];
		if (r->type != BOOT_MEM_USABLE)
			continue;
		phys_addr_t pa = ALIGN_UP(r->base, PAGE_SIZE);
		phys_addr_t end =
		    MIN(MIN(r->base + r->size, arch_mm_layout.boot_mapped_limit), frame_limit);
		while (pa + array_bytes <= end) {
			phys_addr_t skip;
			bool clash = false;
			for (phys_addr_t q = pa; q < pa + array_bytes; q += PAGE_SIZE)
				if (overlaps_reserved(q, &skip)) {
					clash = true;
					break;
				}
			if (!clash) {
				array_pa = pa;
				break;
			}
			pa = skip;
		}
	}
	if (!array_pa)
		panic("frame_init: no room for %lu bytes of page metadata",
		      (unsigned long)array_bytes);
	boot_info_add_reserved(array_pa, array_bytes, "frame metadata");
	pages = kva(array_pa);
	if (!pages)
		panic("frame_init: page metadata at %#lx is not reachable", (unsigned long)array_pa);
	memset(pages, 0, array_bytes);
	for (uint64_t i = 0; i < nr_pfns; i++)
		pages[i].flags = PAGE_RESERVED;
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
		free_lists[o].next = free_lists[o].prev = &free_lists[o];

	add_usable_frames(0, MIN(arch_mm_layout.boot_mapped_limit, frame_limit));
	printk("frames: %lu free of %lu (%lu MiB), metadata %lu KiB at %#lx",
	       (unsigned long)nr_free, (unsigned long)nr_pfns, (unsigned long)(nr_free >> 8),
	       (unsigned long)(array_bytes >> 10), (unsigned long)array_pa);
}

uint64_t frame_free_count(void)
{
	uint64_t n = atomic_load_relaxed(&nr_free);
	for (unsigned c = 0; c < CPU_MAX; c++)
		n += atomic_load_relaxed(&frame_caches[c].count);
	return n;
}

bool frame_is_free(phys_addr_t pa)
{
	if (!frame_to_page(pa))
		return false;
	bool free = atomic_load_relaxed(&frame_to_page(pa)->flags) & PAGE_CACHED;
	irqflags_t flags = spin_lock_irqsave(&frame_lock);
	/* Blocks are naturally aligned: a free block holding pa starts at pa rounded down. */
	for (unsigned o = 0; o <= FRAME_MAX_ORDER && !free; o++) {
		const struct page *head = frame_to_page(pa & ~((PAGE_SIZE << o) - 1));
		free = head && (head->flags & PAGE_FREE) && head->order == o;
	}
	spin_unlock_irqrestore(&frame_lock, flags);
	return free;
}

uint64_t frame_total_count(void)
{
	return nr_managed;
}

void frame_fail_after(unsigned n)
{
	irqflags_t flags = spin_lock_irqsave(&frame_lock);
	fail_countdown = n;
	spin_unlock_irqrestore(&frame_lock, flags);
}

void frame_fail_clear(void)
{
	irqflags_t flags = spin_lock_irqsave(&frame_lock);
	fail_countdown = -1;
	spin_unlock_irqrestore(&frame_lock, flags);
}
