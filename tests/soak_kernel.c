// SPDX-License-Identifier: BSD-2-Clause
/*
 * The soak's kernel part (soak.h): kernel mappings changed under the soak
 * threads' reads. Each soak thread owns one page of a window of kernel
 * address space (global mappings of kernel_pt, all in one leaf table)
 * and remaps it to a fresh frame every SOAK_KERNEL_EVERY cycles: the old
 * frame is unmapped, freed (and poisoned: the soak frees with poisoning
 * on), and a new one carrying the next tag is mapped. Every soak thread
 * reads pages of the others each cycle.
 *
 * Kernel mappings are global: no ASID or mm switch drops them, so only
 * the kernel's own flush (on every online CPU, docs/tlb.md rule 12) keeps
 * a reader from using the old frame. A read that saw its page's count
 * the same even value before and after must read that version's tag and
 * must not fault; a read of the poison is stale whatever the count (the
 * old frame is freed only after the unmap's flush). The first wrong read
 * stops the run as a STALE ACCESS (tlb.break=kernel_local_only must be
 * caught so).
 *
 * Invariants: only a page's owner writes its slot and remaps it; one more
 * page after the threads' (`pin`) stays mapped from soak_kernel_start to
 * soak_kernel_finish, so the window's leaf table lives as long even when
 * every owner is between its unmap and its map, and no epoch sees the
 * table allocated or freed.
 */
#include "kernel/atomic.h"
#include "kernel/entry.h"
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/vm.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "tests/ktest.h"
#include "tests/soak.h"

#define SOAK_KERNEL_EVERY 16 /* cycles between a thread's remaps of its page */
#define SOAK_KERNEL_READS 2  /* pages read per cycle */
#define SOAK_KERNEL_BURST 64 /* reads of a page per visit */
/* Clear of the kpt suite's window (test_base + 8 GiB), 2 MiB aligned: one leaf table. */
#define SOAK_KVA(i)	      (arch_mm_layout.test_base + GiB(9) + (virt_addr_t)(i)*PAGE_SIZE)
#define SOAK_KTAG(i, version) (0x4B50000000000000ull | (uint64_t)(i) << 40 | (version))
#define SOAK_POISON_WORD      (0x0101010101010101ull * FRAME_POISON)

struct soak_kslot {
	uint32_t seq; /* odd while the owner remaps it; version = seq / 2 */
	phys_addr_t frame, prev_frame;
};

static struct {
	struct soak_kslot slots[CPU_MAX];
	unsigned nr;
	phys_addr_t pin;    /* the pinning page's frame, never remapped */
	unsigned pin_index; /* its page: the one after the threads' */
	uint64_t remaps, reads;
} ks;

/* One visit of a page: reads until one is wrong or the burst is over. */
struct kread {
	unsigned page;
	uint32_t before, after;
	uint64_t word;
};

static void read_burst(void *arg)
{
	struct kread *k = arg;
	struct soak_kslot *s = &ks.slots[k->page];
	volatile uint64_t *p = (volatile uint64_t *)SOAK_KVA(k->page);
	for (unsigned r = 0; r < SOAK_KERNEL_BURST; r++) {
		k->before = atomic_load_acquire(&s->seq);
		k->word = *p;
		smp_rmb();
		k->after = atomic_load_acquire(&s->seq);
		bool settled = k->before == k->after && !(k->before & 1);
		if (k->word == SOAK_POISON_WORD ||
		    (settled && k->word != SOAK_KTAG(k->page, k->before / 2)))
			return;
	}
}

static void judge(const struct kread *k, bool faulted)
{
	struct soak_kslot *s = &ks.slots[k->page];
	uint32_t after = faulted ? atomic_load_acquire(&s->seq) : k->after;
	bool settled = k->before == after && !(k->before & 1);
	uint64_t want = SOAK_KTAG(k->page, k->before / 2);
	const char *what = NULL;
	if (!faulted && k->word == SOAK_POISON_WORD)
		what = "read the poison of a freed frame";
	else if (settled && faulted)
		what = "faulted on a page mapped all along";
	else if (settled && k->word != want)
		what = "read another version's frame";
	if (!what)
		return;
	struct soak_report r = {.cpu = arch_cpu_id(),
				.slot = k->page,
				.va = SOAK_KVA(k->page),
				.kernel = true,
				.seen_va = faulted ? 0 : k->word,
				.gen = k->before / 2,
				.seq_before = k->before,
				.seq_after = after,
				.frame = s->frame,
				.prev_frame = s->prev_frame};
	snprintf(r.what, sizeof(r.what), "a kernel page %s (want %#lx)", what, (unsigned long)want);
	soak_fail(&r);
}

/* Remaps page `i` to a fresh frame with the next tag; 0 or the error. */
static int remap(unsigned i)
{
	struct soak_kslot *s = &ks.slots[i];
	phys_addr_t fresh;
	int err = frame_alloc(0, &fresh);
	if (err)
		return err;
	atomic_store_release(&s->seq, s->seq + 1);
	smp_mb(); /* readers see the change begun before the entry goes */
	err = pt_unmap(&kernel_pt, SOAK_KVA(i), PAGE_SIZE);
	if (err) {
		frame_free(fresh, 0);
		return err;
	}
	frame_free(s->frame, 0); /* poisoned: every CPU's flush is done by now */
	/*
	 * The tag is visible before the entry that maps it (x86-64 keeps
	 * stores in order; arm64's entry write begins with a dsb ishst), so
	 * a reader that reaches the new frame reads its tag, not the poison
	 * it may still hold from its last free.
	 */
	*(volatile uint64_t *)kva(fresh) = SOAK_KTAG(i, (s->seq + 1) / 2);
	err = pt_map(&kernel_pt, SOAK_KVA(i), fresh, PAGE_SIZE, PT_READ | PT_WRITE | PT_GLOBAL);
	if (err) {
		frame_free(fresh, 0);
		s->frame = 0;
		return err;
	}
	s->prev_frame = s->frame;
	s->frame = fresh;
	atomic_store_release(&s->seq, s->seq + 1);
	atomic_fetch_add(&ks.remaps, 1);
	return 0;
}

static int map_fresh(unsigned i, phys_addr_t *pa)
{
	int err = frame_alloc(0, pa);
	if (err)
		return err;
	*(volatile uint64_t *)kva(*pa) = SOAK_KTAG(i, 0);
	err = pt_map(&kernel_pt, SOAK_KVA(i), *pa, PAGE_SIZE, PT_READ | PT_WRITE | PT_GLOBAL);
	if (err)
		frame_free(*pa, 0);
	return err;
}

int soak_kernel_start(unsigned threads)
{
	memset(&ks, 0, sizeof(ks));
	soak_kblock_start();
	ks.pin_index = threads;
	int err = map_fresh(threads, &ks.pin);
	if (err) {
		ks.pin = 0;
		return err;
	}
	for (unsigned i = 0; i < threads; i++) {
		err = map_fresh(i, &ks.slots[i].frame);
		if (err) {
			ks.slots[i].frame = 0;
			soak_kernel_finish();
			return err;
		}
		ks.nr++;
	}
	return 0;
}

/* Idempotent: the soak suite's exit hook calls it after a failed case too. */
void soak_kernel_finish(void)
{
	soak_kblock_finish();
	for (unsigned i = 0; i < ks.nr; i++) {
		if (!ks.slots[i].frame)
			continue;
		if (pt_unmap(&kernel_pt, SOAK_KVA(i), PAGE_SIZE) == 0)
			frame_free(ks.slots[i].frame, 0);
		ks.slots[i].frame = 0;
	}
	if (ks.pin && pt_unmap(&kernel_pt, SOAK_KVA(ks.pin_index), PAGE_SIZE) == 0)
		frame_free(ks.pin, 0);
	ks.pin = 0;
	ks.nr = 0;
}

void soak_kernel_cycle(unsigned me, uint64_t cycle, uint64_t *rng)
{
	if (cycle % SOAK_KERNEL_EVERY == me % SOAK_KERNEL_EVERY) {
		int err = remap(me);
		if (err) {
			struct soak_report r = {.cpu = arch_cpu_id(), .slot = me, .broken = true};
			snprintf(r.what, sizeof(r.what), "a remap of a kernel page failed (%d)",
				 err);
			soak_fail(&r);
			return;
		}
	}
	soak_kblock_cycle(me);
	for (unsigned n = 0; n < SOAK_KERNEL_READS && ks.nr > 1 && !soak_stopping(); n++) {
		struct kread k = {.page = (unsigned)(soak_rng_next(rng) % ks.nr)};
		if (k.page == me)
			k.page = (k.page + 1) % ks.nr;
		struct fault_info f;
		bool faulted = ktest_expect_fault(read_burst, &k, &f);
		judge(&k, faulted);
		atomic_fetch_add(&ks.reads, 1);
	}
}

void soak_kernel_counts(uint64_t *remaps, uint64_t *reads)
{
	*remaps = atomic_load_relaxed(&ks.remaps);
	*reads = atomic_load_relaxed(&ks.reads);
}
