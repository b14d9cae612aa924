// SPDX-License-Identifier: BSD-2-Clause
/*
 * The emulated IOMMU's "hardware" (emu.h): the command thread, the IOTLB,
 * the table walk and device accesses.
 *
 * Invariants:
 *  - every IOTLB lookup, fill, invalidation and every piece of a device
 *    access happens under hw->lock, so a command that has taken effect is
 *    ordered against every access: none that starts later uses what it
 *    invalidated, none that started earlier is still moving data;
 *  - commands take effect in queue order, and a SYNC's value is stored
 *    only after everything before it did (then the sync interrupt);
 *  - the walker reads descriptors the way a page-table walker does: one
 *    load each, no lock of the CPU side, through the arch's decoding
 *    (pt_arch.h), refusing leaves that user mode could not reach.
 */
#include "kernel/iommu/emu.h"
#include "kernel/iommu/iommu.h"
#include "kernel/time.h"
#include "kernel/atomic.h"
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"
#include "lib/string.h"

static struct emu_iotlb_entry *iotlb_set(struct emu_iommu *hw, uint64_t vpn)
{
	return &hw->iotlb[(vpn % hw->iotlb_sets) * hw->iotlb_ways];
}

static struct emu_iotlb_entry *iotlb_lookup(struct emu_iommu *hw, uint16_t asid, uint64_t vpn)
{
	struct emu_iotlb_entry *set = iotlb_set(hw, vpn);
	for (unsigned w = 0; w < hw->iotlb_ways; w++)
		if (set[w].valid && set[w].asid == asid && set[w].vpn == vpn)
			return &set[w];
	return NULL;
}

/* Fills the least recently used way of the page's set. */
static void iotlb_fill(struct emu_iommu *hw, uint16_t asid, uint64_t vpn, phys_addr_t pa,
		       bool writable)
{
	struct emu_iotlb_entry *set = iotlb_set(hw, vpn), *victim = &set[0];
	for (unsigned w = 0; w < hw->iotlb_ways; w++) {
		if (!set[w].valid) {
			victim = &set[w];
			break;
		}
		if (set[w].lru < victim->lru)
			victim = &set[w];
	}
	*victim = (struct emu_iotlb_entry){true, writable, asid, vpn, pa, ++hw->lru_clock};
}

static void iotlb_invalidate(struct emu_iommu *hw, const struct emu_cmd *c)
{
	uint64_t first = c->start >> PAGE_SHIFT, end = (c->end + PAGE_SIZE - 1) >> PAGE_SHIFT;
	for (unsigned i = 0; i < hw->iotlb_sets * hw->iotlb_ways; i++) {
		struct emu_iotlb_entry *e = &hw->iotlb[i];
		if (!e->valid)
			continue;
		bool hit = c->op == EMU_CMD_INV_ALL ||
			   (e->asid == c->asid &&
			    (c->op == EMU_CMD_INV_ASID || (e->vpn >= first && e->vpn < end)));
		if (hit) {
			e->valid = false;
			hw->stats.entries_invalidated++;
		}
	}
}

static void execute(struct emu_iommu *hw, const struct emu_cmd *c)
{
	irqflags_t flags = spin_lock_irqsave(&hw->lock);
	if (c->op < EMU_CMD_COUNT)
		hw->stats.cmds[c->op]++;
	switch (c->op) {
	case EMU_CMD_INV_RANGE:
	case EMU_CMD_INV_ASID:
	case EMU_CMD_INV_ALL:
		iotlb_invalidate(hw, c);
		break;
	case EMU_CMD_CFGI_STE:
		if (c->stream < EMU_STREAMS)
			hw->ste_cached[c->stream] = false;
		break;
	case EMU_CMD_SYNC:
		atomic_store_release(c->sync_word, c->value);
		break;
	default:
		printk("emu-iommu: illegal command %u ignored", c->op);
	}
	spin_unlock_irqrestore(&hw->lock, flags);
	if (c->op == EMU_CMD_SYNC)
		wait_queue_wake_all(&hw->sync_irq);
}

static bool has_work(void *arg)
{
	struct emu_iommu *hw = arg;
	return atomic_load_acquire(&hw->cmdq_prod) != atomic_load_relaxed(&hw->cmdq_cons) ||
	       atomic_load_acquire(&hw->stop);
}

/*
 * Like hardware that keeps fetching, the thread polls the queue for a
 * while after its last command before it sleeps on the doorbell: a
 * burst of invalidations then costs no wake-up each.
 */
#define EMU_POLL_NS 200000

static void command_thread(void *arg)
{
	struct emu_iommu *hw = arg;
	for (;;) {
		uint64_t until = arch_time_ns() + EMU_POLL_NS;
		/* Yielding, so that a DMA engine sharing this CPU keeps running. */
		while (!has_work(hw) && arch_time_ns() < until)
			thread_yield();
		wait_queue_wait(&hw->doorbell, has_work, hw);
		uint32_t prod = atomic_load_acquire(&hw->cmdq_prod);
		if (prod == hw->cmdq_cons && atomic_load_acquire(&hw->stop))
			return;
		/*
		 * iommu.break=drop_sync: the driver no longer waits, so hold the
		 * window open as a slower IOMMU would (a stale access must land).
		 */
		if (iommu_broken == IOMMU_BREAK_DROP_SYNC)
			time_delay_ns(300000);
		while (hw->cmdq_cons != prod) {
			struct emu_cmd c = hw->cmdq[hw->cmdq_cons % EMU_CMDQ_SIZE];
			execute(hw, &c);
			atomic_store_release(&hw->cmdq_cons, hw->cmdq_cons + 1);
		}
		wait_queue_wake_all(&hw->cmdq_space);
	}
}

int emu_iommu_start(struct emu_iommu *hw, unsigned entries, unsigned cpu)
{
	unsigned ways = 4, sets = entries / ways ? entries / ways : 1;
	if (sets * ways * sizeof(struct emu_iotlb_entry) > PAGE_SIZE << 4)
		return -EINVAL;
	memset(hw, 0, sizeof(*hw));
	phys_addr_t pa;
	if (frame_alloc(4, &pa))
		return -ENOMEM;
	hw->iotlb = kva(pa);
	memset(hw->iotlb, 0, PAGE_SIZE << 4);
	hw->iotlb_sets = sets;
	hw->iotlb_ways = ways;
	hw->lock = (spinlock_t)SPINLOCK_INIT;
	hw->doorbell = (struct wait_queue)WAIT_QUEUE_INIT;
	hw->sync_irq = (struct wait_queue)WAIT_QUEUE_INIT;
	hw->cmdq_space = (struct wait_queue)WAIT_QUEUE_INIT;
	hw->thread = thread_create("emu-iommu", cpu, command_thread, hw);
	if (!hw->thread) {
		frame_free(pa, 4);
		return -ENOMEM;
	}
	return 0;
}

void emu_iommu_stop(struct emu_iommu *hw)
{
	atomic_store_release(&hw->stop, true);
	wait_queue_wake_all(&hw->doorbell);
	thread_join(hw->thread);
	frame_free(kva_to_pa(hw->iotlb), 4);
	hw->iotlb = NULL;
}

void emu_iommu_doorbell(struct emu_iommu *hw)
{
	wait_queue_wake_all(&hw->doorbell);
}

/* Lock held. Queues an event (or counts it lost when the queue is full). */
static void report(struct emu_iommu *hw, enum emu_event_kind kind, unsigned stream,
		   virt_addr_t iova, bool write)
{
	hw->stats.faults++;
	uint32_t prod = hw->evtq_prod;
	if (prod - atomic_load_acquire(&hw->evtq_cons) >= EMU_EVTQ_SIZE) {
		hw->stats.events_lost++;
		return;
	}
	hw->evtq[prod % EMU_EVTQ_SIZE] = (struct emu_event){kind, stream, iova, write};
	atomic_store_release(&hw->evtq_prod, prod + 1);
}

/* The walk: a leaf user mode may reach, or false. */
static bool walk(phys_addr_t root, virt_addr_t iova, phys_addr_t *page, bool *writable)
{
	const pte_t *table = kva(root);
	for (unsigned level = PT_LEVELS - 1;; level--) {
		pte_t pte = READ_ONCE(table[(iova >> pt_level_shift(level)) % PT_ENTRIES]);
		enum pte_kind kind = arch_pte_kind(pte, level);
		if (kind == PTE_LEAF) {
			unsigned attrs = arch_pte_attrs(pte, level);
			if (!(attrs & PT_USER))
				return false;
			uint64_t offset = iova & ((1ull << pt_level_shift(level)) - 1);
			*page = arch_pte_address(pte, level) + ALIGN_DOWN(offset, PAGE_SIZE);
			*writable = attrs & PT_WRITE;
			return true;
		}
		if (kind != PTE_TABLE || level == 0)
			return false;
		table = kva(arch_pte_address(pte, level));
	}
}

/* Lock held. The frame `iova` reaches for `stream`, or false (event queued). */
static bool translate(struct emu_iommu *hw, unsigned stream, virt_addr_t iova, bool write,
		      phys_addr_t *page)
{
	if (stream >= EMU_STREAMS) {
		report(hw, EMU_EVT_BAD_STE, stream, iova, write);
		return false;
	}
	if (!hw->ste_cached[stream]) {
		struct emu_ste *ste = &hw->strtab[stream];
		hw->ste_cache[stream].mode = atomic_load_acquire(&ste->mode);
		hw->ste_cache[stream].asid = ste->asid;
		hw->ste_cache[stream].root = ste->root;
		hw->ste_cached[stream] = true;
	}
	const struct emu_ste *ste = &hw->ste_cache[stream];
	if (ste->mode != EMU_STE_TRANSLATE) {
		report(hw, ste->mode == EMU_STE_ABORT ? EMU_EVT_ABORT : EMU_EVT_BAD_STE, stream, iova,
		       write);
		return false;
	}
	/* Input addresses beyond the user half fault: the kernel half is never a device's. */
	if (iova < arch_mm_layout.user_base || iova >= arch_mm_layout.user_top) {
		report(hw, EMU_EVT_TRANSLATION, stream, iova, write);
		return false;
	}
	uint64_t vpn = iova >> PAGE_SHIFT;
	struct emu_iotlb_entry *e = iotlb_lookup(hw, ste->asid, vpn);
	bool writable;
	if (e) {
		hw->stats.iotlb_hits++;
		e->lru = ++hw->lru_clock;
		*page = e->pa;
		writable = e->writable;
	} else {
		hw->stats.iotlb_misses++;
		hw->stats.walks++;
		if (!walk(ste->root, iova, page, &writable)) {
			report(hw, EMU_EVT_TRANSLATION, stream, iova, write);
			return false;
		}
		iotlb_fill(hw, ste->asid, vpn, *page, writable);
	}
	if (write && !writable) {
		report(hw, EMU_EVT_PERMISSION, stream, iova, write);
		return false;
	}
	return true;
}

/*
 * Moves data the way a bus does: in naturally aligned words when the
 * addresses and length allow, so a word a CPU writes at the same moment
 * is seen whole, before or after, never torn.
 */
static void bus_copy(void *dst, const void *src, uint64_t len)
{
	if ((((uintptr_t)dst | (uintptr_t)src | len) & 7) == 0) {
		for (uint64_t i = 0; i < len / 8; i++)
			WRITE_ONCE(((uint64_t *)dst)[i], READ_ONCE(((const uint64_t *)src)[i]));
	} else if ((((uintptr_t)dst | (uintptr_t)src | len) & 3) == 0) {
		for (uint64_t i = 0; i < len / 4; i++)
			WRITE_ONCE(((uint32_t *)dst)[i], READ_ONCE(((const uint32_t *)src)[i]));
	} else {
		memcpy(dst, src, len);
	}
}

int emu_iommu_access(struct emu_iommu *hw, unsigned stream, virt_addr_t iova, void *buf,
		     uint64_t len, bool write)
{
	uint8_t *b = buf;
	while (len) {
		uint64_t piece = MIN(len, PAGE_SIZE - (iova & (PAGE_SIZE - 1)));
		irqflags_t flags = spin_lock_irqsave(&hw->lock);
		phys_addr_t page;
		bool ok = translate(hw, stream, iova, write, &page);
		if (ok) {
			uint8_t *mem = (uint8_t *)kva(page) + (iova & (PAGE_SIZE - 1));
			if (write)
				bus_copy(mem, b, piece);
			else
				bus_copy(b, mem, piece);
			hw->stats.accesses++;
		}
		spin_unlock_irqrestore(&hw->lock, flags);
		if (!ok)
			return -EFAULT;
		iova += piece;
		b += piece;
		len -= piece;
	}
	return 0;
}
