// SPDX-License-Identifier: BSD-2-Clause
/*
 * The soak's kernel block (soak.h): a live 2 MiB kernel block split under
 * the soak threads' reads. Soak thread 0 owns it and steps it every
 * SOAK_KBLOCK_EVERY of its cycles: map a 2 MiB-aligned frame run as one
 * global block (page 5 carrying tag v); later split it (pt_protect of page
 * 3) and, in pt_test_after_replace, right after the split's invalidation
 * and before the walk goes on, give readers a settled state the old block
 * cannot match: with the table in (no break-before-make), page 5's new
 * entry points to another frame carrying tag v + 1; with break-before-make
 * the block is gone, so page 5 must fault. Then unmap and free both.
 * The other threads read page 5 each cycle. A TLB that kept the block
 * (tlb.break=replace_no_flush) reads tag v then: a STALE ACCESS at kernel.
 *
 * Invariants: the entry is pointed elsewhere without a flush, so no CPU
 * may have read the block's range between the split's invalidation and the
 * repoint: readers enter only while `quiet` is clear and count themselves
 * `inside`; the owner sets quiet and waits for inside to drain before the
 * split, and reopens only once the repoint is made. A read that saw the
 * same even seq before and after must match that state; no read may see
 * the poison. Only the owner changes the block; the hook acts only on its
 * own split (kb.splitting).
 */
#include "kernel/atomic.h"
#include "kernel/entry.h"
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/mm/vm.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "tests/kpt.h"
#include "tests/ktest.h"
#include "tests/soak.h"

#define SOAK_KBLOCK_EVERY   16	    /* owner cycles between steps */
#define SOAK_KBLOCK_HOLD_NS 200000  /* at most, the split holds its window for a reader */
#define SOAK_KBLOCK_CALL_NS 2000000 /* at most, the owner waits for a reader to camp */
#define SOAK_KBLOCK_CAMP_NS 3000000 /* at most, a reader camps */
#define SOAK_KBLOCK_BURST   64
/* 2 MiB aligned, clear of the kernel part's window (+9 GiB) and the kpt suite's (+8 GiB). */
#define SOAK_KBLOCK_VA	   (arch_mm_layout.test_base + GiB(9) + MiB(4))
#define SOAK_KBLOCK_PAGE   (SOAK_KBLOCK_VA + 5 * PAGE_SIZE) /* the page read */
#define SOAK_KBLOCK_TAG(v) (0x4B42000000000000ull | (v))
#define SOAK_KBLOCK_POISON (0x0101010101010101ull * FRAME_POISON)

enum kblock_state { KB_UNMAPPED, KB_BLOCK, KB_REPOINTED, KB_GONE };

static struct {
	uint32_t seq;	  /* odd while the owner changes the block */
	uint32_t state;	  /* enum kblock_state, settled when seq is even */
	uint64_t version; /* the tag page 5 reads in KB_BLOCK; KB_REPOINTED: version + 1 */
	uint32_t quiet, inside;
	uint32_t announced;	    /* a split is coming: readers camp on the block (kblock_camp) */
	phys_addr_t run, elsewhere; /* the 2 MiB run, page 5's other frame */
	bool splitting, off;
	uint64_t splits, reads, held_reads;
	uint64_t owner_cycles; /* soak thread 0's own cycles: it steps every SOAK_KBLOCK_EVERY */
} kb;

static void publish(uint32_t state, bool settled)
{
	if (settled) {
		kb.state = state;
		smp_mb();
	}
	atomic_store_release(&kb.seq, kb.seq + 1);
	smp_mb();
}

/* Closes the readers' door and waits until none is inside. */
static void quiesce(void)
{
	atomic_store_release(&kb.quiet, 1);
	smp_mb();
	while (atomic_load_acquire(&kb.inside))
		arch_cpu_relax();
}

/* Opens it and holds until a reader went through or the bound passed. */
static void hold_open(void)
{
	uint64_t reads = atomic_load_acquire(&kb.reads);
	atomic_store_release(&kb.quiet, 0);
	uint64_t until = arch_time_ns() + SOAK_KBLOCK_HOLD_NS;
	while (atomic_load_acquire(&kb.reads) == reads && arch_time_ns() < until)
		arch_cpu_relax();
	atomic_fetch_add(&kb.held_reads, atomic_load_acquire(&kb.reads) != reads);
}

/* After the split's invalidation, before the walk goes on: the state the old block cannot match. */
static void after_split(struct pt *pt, virt_addr_t va)
{
	(void)va;
	if (pt != &kernel_pt || !kb.splitting)
		return;
	kb.splitting = false;
	pte_t *slot = kpt_kernel_page_slot(SOAK_KBLOCK_PAGE);
	if (slot && arch_pte_kind(*slot, 0) == PTE_LEAF) {
		/* No flush: no CPU read the range since the block was invalidated (quiesce). */
		unsigned attrs = arch_pte_attrs(*slot, 0);
		arch_pte_write(slot, arch_pte_make_leaf(kb.elsewhere, 0, attrs));
		publish(KB_REPOINTED, true);
	} else {
		publish(KB_GONE, true); /* break-before-make: the block is invalid until the make */
	}
	hold_open();
	quiesce();
	publish(0, false); /* odd again: the walk goes on */
}

/*
 * One step of the owner: map the block, have readers cache it, split it,
 * unmap it. 0 or the error. The block lives only this long: under QEMU a
 * live kernel block makes flushes near it costly.
 */
static int kblock_step(void)
{
	int err;
	{
		*(volatile uint64_t *)kva(kb.run + 5 * PAGE_SIZE) = SOAK_KBLOCK_TAG(kb.version);
		*(volatile uint64_t *)kva(kb.elsewhere) = SOAK_KBLOCK_TAG(kb.version + 1);
		publish(0, false);
		err = pt_map(&kernel_pt, SOAK_KBLOCK_VA, kb.run, MiB(2),
			     PT_READ | PT_WRITE | PT_GLOBAL);
		if (err) {
			publish(KB_UNMAPPED, true);
			return err;
		}
		publish(KB_BLOCK, true);
		atomic_store_release(&kb.quiet, 0);
	}
	/* Called readers read the block now (caching it) and wait through the split for the window.
	 */
	uint64_t reads = atomic_load_acquire(&kb.reads);
	atomic_store_release(&kb.announced, 1);
	uint64_t until = arch_time_ns() + SOAK_KBLOCK_CALL_NS;
	while (atomic_load_acquire(&kb.reads) == reads && arch_time_ns() < until)
		arch_cpu_relax();
	quiesce();
	publish(0, false);
	kb.splitting = true;
	pt_test_after_replace = after_split;
	err =
	    pt_protect(&kernel_pt, SOAK_KBLOCK_VA + 3 * PAGE_SIZE, PAGE_SIZE, PT_READ | PT_GLOBAL);
	pt_test_after_replace = NULL;
	kb.splitting = false;
	kb.splits += err == 0;
	int uerr = pt_unmap(&kernel_pt, SOAK_KBLOCK_VA, MiB(2));
	atomic_store_release(&kb.announced, 0);
	kb.version += 2;
	publish(KB_UNMAPPED, true);
	return err ? err : uerr;
}

static void read_block(void *arg)
{
	uint64_t *word = arg;
	for (unsigned r = 0; r < SOAK_KBLOCK_BURST; r++) {
		*word = *(volatile uint64_t *)SOAK_KBLOCK_PAGE;
		if (*word == SOAK_KBLOCK_POISON)
			return;
	}
}

/* A read of page 5 by a thread other than the owner, judged by the block's state; false: shut. */
static bool kblock_read(void)
{
	atomic_fetch_add(&kb.inside, 1);
	smp_mb();
	if (atomic_load_acquire(&kb.quiet)) {
		atomic_fetch_add(&kb.inside, -1u);
		return false;
	}
	uint32_t before = atomic_load_acquire(&kb.seq);
	uint32_t state = kb.state;
	uint64_t version = kb.version;
	uint64_t word = 0;
	struct fault_info f;
	bool faulted = ktest_expect_fault(read_block, &word, &f);
	smp_rmb();
	uint32_t after = atomic_load_acquire(&kb.seq);
	atomic_fetch_add(&kb.inside, -1u);
	atomic_fetch_add(&kb.reads, 1);
	bool settled = before == after && !(before & 1) && state != KB_UNMAPPED;
	uint64_t want = SOAK_KBLOCK_TAG(version + (state == KB_REPOINTED));
	const char *what = NULL;
	if (!faulted && word == SOAK_KBLOCK_POISON)
		what = "read the poison of a freed frame";
	else if (settled && state == KB_GONE && !faulted)
		what = "read a block invalidated for its split";
	else if (settled && state != KB_GONE && faulted)
		what = "faulted on a page mapped all along";
	else if (settled && state != KB_GONE && word != want)
		what = "read through the block its split replaced";
	if (!what)
		return true;
	struct soak_report r = {.cpu = arch_cpu_id(),
				.va = SOAK_KBLOCK_PAGE,
				.kernel = true,
				.seen_va = faulted ? 0 : word,
				.gen = version,
				.seq_before = before,
				.seq_after = after,
				.frame =
				    state == KB_REPOINTED ? kb.elsewhere : kb.run + 5 * PAGE_SIZE,
				.prev_frame = kb.run + 5 * PAGE_SIZE};
	snprintf(r.what, sizeof(r.what), "a split kernel block %s (want %#lx)", what,
		 (unsigned long)want);
	soak_fail(&r);
	return true;
}

/*
 * While a split is announced: read the block (its entry cached here), then
 * keep reading it whenever the door is open, until the split is over or
 * the bound passes, so a CPU holding the old block reads in the window.
 */
static void kblock_camp(void)
{
	uint64_t until = arch_time_ns() + SOAK_KBLOCK_CAMP_NS;
	while (atomic_load_acquire(&kb.announced) && arch_time_ns() < until && !soak_stopping())
		if (!kblock_read())
			arch_cpu_relax();
}

void soak_kblock_cycle(unsigned me)
{
	if (me != 0) {
		if (kb.off || kb.state == KB_UNMAPPED)
			return;
		if (atomic_load_acquire(&kb.announced))
			kblock_camp();
		else
			kblock_read();
		return;
	}
	/*
	 * Counted in the owner's own cycles, from its first, not in the run's
	 * rounds: with 16 threads sharing a short run the owner could claim no
	 * round that is a multiple (CI at de14e35: no split in 500 cycles on 16
	 * CPUs).
	 */
	if (kb.off || kb.owner_cycles++ % SOAK_KBLOCK_EVERY != 0)
		return;
	int err = kblock_step();
	if (err) {
		struct soak_report r = {.cpu = arch_cpu_id(), .broken = true};
		snprintf(r.what, sizeof(r.what), "a kernel block step failed (%d)", err);
		soak_fail(&r);
	}
}

int64_t soak_kblock_splits(void)
{
	return kb.off ? -1 : (int64_t)kb.splits;
}

void soak_kblock_start(void)
{
	memset(&kb, 0, sizeof(kb));
	kb.quiet = 1;
	/* Held for the whole run, so every epoch's frame count sees the same. */
	int err = frame_alloc(9, &kb.run);
	if (!err && (err = frame_alloc(0, &kb.elsewhere)) != 0)
		frame_free(kb.run, 9);
	if (err) {
		kb.off = true;
		printk("soak: kernel block: no 2 MiB frame run (%d), its splits are skipped\n",
		       err);
	}
}

void soak_kblock_finish(void)
{
	bool mapped = kb.state != KB_UNMAPPED || (kb.seq & 1);
	if (!kb.off && (!mapped || pt_unmap(&kernel_pt, SOAK_KBLOCK_VA, MiB(2)) == 0)) {
		frame_free(kb.run, 9);
		frame_free(kb.elsewhere, 0);
	}
	if (kb.splits)
		printk("soak: kernel block: %lu splits, %lu held open for a read; %lu reads\n",
		       (unsigned long)kb.splits, (unsigned long)kb.held_reads,
		       (unsigned long)kb.reads);
	if (pt_test_after_replace == after_split)
		pt_test_after_replace = NULL; /* a step cut short (the case timed out) */
	memset(&kb, 0, sizeof(kb));
	kb.off = true; /* nothing held: a second call frees nothing */
	kb.quiet = 1;
}
