// SPDX-License-Identifier: BSD-2-Clause
/*
 * Host implementations of what kernel/mm/pt.c and pt_walk.c link against:
 * the frame allocator (aligned_alloc, with a registry that catches double frees,
 * frees of unknown frames and accesses through kva() to frames that are not
 * live, plus failure injection), frame_to_page (a side table), no-op
 * spinlocks and interrupt masking that still check balance, the kernel
 * mapping shootdown (one CPU: the local flush, logged), panic(), and
 * console output to stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/arch.h"
#include "kernel/errno.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/mm/tlb.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "tests/host/host.h"

/* ---- Event log ------------------------------------------------------------ */

#define EVENTS_MAX (1u << 18)
static struct host_event *events;
static size_t nr_events;
static bool events_overflow;

void host_event_log(enum host_event_kind kind, unsigned level, uint64_t a, uint64_t b, uint64_t c,
		    uint64_t d)
{
	if (!events) {
		events = calloc(EVENTS_MAX, sizeof(*events));
		if (!events)
			abort();
	}
	if (nr_events == EVENTS_MAX) {
		events_overflow = true;
		return;
	}
	events[nr_events++] = (struct host_event){kind, level, a, b, c, d};
}

void host_events_reset(void)
{
	nr_events = 0;
	events_overflow = false;
}

size_t host_event_count(void)
{
	return nr_events;
}

const struct host_event *host_event_get(size_t i)
{
	return i < nr_events ? &events[i] : NULL;
}

bool host_events_overflowed(void)
{
	return events_overflow;
}

/* ---- Frames ----------------------------------------------------------------- */

struct frame_node {
	phys_addr_t pa;
	void *ptr;
	unsigned order;
	struct page page;
	struct frame_node *next;
};

#define BUCKETS 4096
static struct frame_node *buckets[BUCKETS];
static uint64_t live_frames;
static int64_t fail_countdown = -1; /* -1: no injection */

phys_addr_t host_pa_offset;
bool host_frame_pages = true;
uint64_t host_alloc_attempts;
uint64_t host_alloc_failures;
uint64_t host_freed_marked_table;

static unsigned bucket_of(phys_addr_t pa)
{
	return (unsigned)(((pa >> PAGE_SHIFT) * 0x9E3779B97F4A7C15ull) >> 52) & (BUCKETS - 1);
}

static inline __attribute__((always_inline)) struct frame_node *lookup(phys_addr_t pa)
{
	for (struct frame_node *n = buckets[bucket_of(pa)]; n; n = n->next)
		if (n->pa == pa)
			return n;
	return NULL;
}

/* Blocks lookup_containing found recently (walks look up the same few tables); cleared on free. */
#define FOUND_CACHE 64
static struct frame_node *found_cache[FOUND_CACHE];

static void found_cache_clear(void)
{
	memset(found_cache, 0, sizeof(found_cache));
}

/* The live block containing pa, whatever its order. */
static struct frame_node *lookup_containing(phys_addr_t pa)
{
	struct frame_node **c = &found_cache[(pa >> PAGE_SHIFT) % FOUND_CACHE];
	if (*c && pa - (*c)->pa < (PAGE_SIZE << (*c)->order))
		return *c;
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++) {
		struct frame_node *n = lookup(ALIGN_DOWN(pa, PAGE_SIZE << o));
		if (n && pa - n->pa < (PAGE_SIZE << n->order))
			return *c = n;
	}
	return NULL;
}

int frame_alloc(unsigned order, phys_addr_t *pa)
{
	if (order > FRAME_MAX_ORDER)
		return -EINVAL;
	host_alloc_attempts++;
	if (fail_countdown == 0) {
		host_alloc_failures++;
		host_event_log(EV_ALLOC_FAIL, 0, 0, order, 0, 0);
		return -ENOMEM;
	}
	size_t bytes = PAGE_SIZE << order;
	void *ptr = aligned_alloc(bytes, bytes);
	if (!ptr) {
		fprintf(stderr, "host frame_alloc: out of host memory\n");
		abort();
	}
	memset(ptr, 0xA5, bytes); /* frame_alloc does not clear: callers must not assume zeros */
	struct frame_node *n = calloc(1, sizeof(*n));
	if (!n)
		abort();
	n->pa = (phys_addr_t)(uintptr_t)ptr + host_pa_offset;
	n->ptr = ptr;
	n->order = order;
	unsigned b = bucket_of(n->pa);
	n->next = buckets[b];
	buckets[b] = n;
	live_frames += 1ull << order;
	if (fail_countdown > 0)
		fail_countdown--;
	host_event_log(EV_ALLOC, 0, n->pa, order, 0, 0);
	*pa = n->pa;
	return 0;
}

int frame_alloc_zeroed(phys_addr_t *pa)
{
	int err = frame_alloc(0, pa);
	if (err == 0)
		memset(kva(*pa), 0, PAGE_SIZE);
	return err;
}

static void unlink_node(struct frame_node *n)
{
	struct frame_node **pp = &buckets[bucket_of(n->pa)];
	while (*pp != n)
		pp = &(*pp)->next;
	*pp = n->next;
}

void frame_free(phys_addr_t pa, unsigned order)
{
	struct frame_node *n = lookup(pa);
	if (!n)
		panic("frame_free: %#lx (order %u) is not a live frame: double free or never "
		      "allocated",
		      (unsigned long)pa, order);
	if (n->order != order)
		panic("frame_free: %#lx freed with order %u, allocated with order %u",
		      (unsigned long)pa, order, n->order);
	if (n->page.flags & PAGE_TABLE)
		host_freed_marked_table++;
	host_event_log(EV_FREE, 0, pa, order, 0, 0);
	found_cache_clear();
	unlink_node(n);
	live_frames -= 1ull << order;
	free(n->ptr);
	free(n);
}

struct page *frame_to_page(phys_addr_t pa)
{
	if (!host_frame_pages)
		return NULL;
	struct frame_node *n = lookup(pa);
	return n ? &n->page : NULL;
}

void frame_fail_after(unsigned n)
{
	fail_countdown = n;
}

void frame_fail_clear(void)
{
	fail_countdown = -1;
}

void *kva(phys_addr_t pa)
{
	if (!lookup_containing(pa))
		panic("kva: %#lx is not inside a live frame", (unsigned long)pa);
	return (void *)(uintptr_t)(pa - host_pa_offset);
}

phys_addr_t kva_to_pa(const void *va)
{
	phys_addr_t pa = (phys_addr_t)(uintptr_t)va + host_pa_offset;
	if (!lookup_containing(pa))
		panic("kva_to_pa: %p is not inside a live frame", va);
	return pa;
}

uint64_t host_live_frames(void)
{
	return live_frames;
}

bool host_frame_is_live(phys_addr_t pa)
{
	return lookup_containing(pa) != NULL;
}

uint64_t host_frames_release_all(void)
{
	uint64_t released = 0;
	found_cache_clear();
	for (unsigned b = 0; b < BUCKETS; b++) {
		while (buckets[b]) {
			struct frame_node *n = buckets[b];
			buckets[b] = n->next;
			released += 1ull << n->order;
			free(n->ptr);
			free(n);
		}
	}
	live_frames = 0;
	return released;
}

/* ---- Interrupts and spinlocks ------------------------------------------------- */

bool host_irqs_enabled = true;
uint64_t host_kernel_flushes;

void arch_cpu_relax(void)
{
}

/* pt.c and pt_walk.c read two switches (replace_no_flush, defer_every_level); never set here */
enum tlb_break tlb_broken;

/* One host "CPU": every online CPU is this one, so the flush is the local one. */
void tlb_flush_kernel_range(virt_addr_t start, uint64_t pages, bool full)
{
	host_kernel_flushes++;
	host_event_log(EV_KERNEL_FLUSH, 0, start, pages, full, 0);
	if (full) {
		arch_tlb_flush_local_full();
		return;
	}
	for (uint64_t i = 0; i < pages; i++)
		arch_tlb_flush_local_page(start + i * PAGE_SIZE);
}

irqflags_t arch_irq_save(void)
{
	irqflags_t was = host_irqs_enabled;
	host_irqs_enabled = false;
	return was;
}

void arch_irq_restore(irqflags_t flags)
{
	host_irqs_enabled = flags != 0;
}

void arch_irq_enable(void)
{
	host_irqs_enabled = true;
}

void arch_irq_disable(void)
{
	host_irqs_enabled = false;
}

bool arch_irq_enabled(void)
{
	return host_irqs_enabled;
}

/* One host thread, "CPU 0": the only CPU online (pt.c's live-tree check reads it). */
cpumask_t cpu_online_mask = {1};

/* One host thread: a lock is either free or held by "CPU 0". */
void spin_lock(spinlock_t *lock)
{
	if (lock->holder != 0)
		panic("spin_lock: %p already held (recursive acquisition)", (void *)lock);
	lock->next++;
	lock->holder = 1;
}

void spin_unlock(spinlock_t *lock)
{
	if (lock->holder == 0)
		panic("spin_unlock: %p is not held", (void *)lock);
	lock->holder = 0;
	lock->owner++;
}

bool spin_trylock(spinlock_t *lock)
{
	if (lock->holder != 0)
		return false;
	spin_lock(lock);
	return true;
}

bool spin_is_locked(spinlock_t *lock)
{
	return lock->holder != 0;
}

/* ---- Console and panic ---------------------------------------------------------- */

void (*host_panic_hook)(const char *msg);

void vprintk(const char *fmt, va_list ap)
{
	fputs("[host] ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
}

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void console_write(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

void console_puts(const char *s)
{
	fputs(s, stdout);
}

__noreturn void panic(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("#   PANIC: %s\n", msg); /* a TAP comment: a case may expect it */
	fflush(stdout);
	if (host_panic_hook)
		host_panic_hook(msg);
	abort();
}

void host_stubs_reset(void)
{
	fail_countdown = -1;
	host_pa_offset = 0;
	host_frame_pages = true;
	host_alloc_attempts = 0;
	host_alloc_failures = 0;
	host_freed_marked_table = 0;
	host_irqs_enabled = true;
	host_kernel_flushes = 0;
	host_events_reset();
}
