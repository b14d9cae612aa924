// SPDX-License-Identifier: BSD-2-Clause
/*
 * The SMMUv3's queues: commands in, events out, and the global error
 * register that stops the command queue.
 *
 * A batch is written behind PROD, a CMD_SYNC last, then PROD is written
 * once; the SMMU consumes in order, so when CONS reaches PROD everything
 * before the sync has taken effect (the completion guarantee the IOMMU
 * layer's `invalidate` promises). The driver polls CONS (QEMU executes the
 * queue when PROD is written; CMD_SYNC's interrupt is not needed).
 *
 * Command errors: the SMMU stops at the command it refused, with CONS
 * pointing at it and the reason in CONS.ERR, and flags GERROR.CMDQ_ERR.
 * The driver reports the command in one line, overwrites the entry with a
 * CMD_SYNC (a command that cannot fail) and acknowledges by toggling
 * GERRORN; the SMMU then resumes at CONS, so the batch completes and
 * later commands work.
 *
 * Events: EVENTQ_PROD.OVFLG toggles on each overflow, so an overflow is
 * pending while it differs from the flag last acknowledged through
 * EVENTQ_CONS.OVACKFLG (evtq_ovflg), not while it is set. QEMU never
 * overflows that way: with the queue full it aborts the write and raises
 * GERROR.EVENTQ_ABT_ERR, reported like the other global errors.
 *
 * Ordering against the SMMU (mmio.h, the arch's outer-shareable
 * barriers): entries before the PROD doorbell; the CONS read before what
 * it covers; the event entries read before the CONS write that lets the
 * SMMU overwrite them.
 *
 * Invariants: only a holder of s->lock writes commands or reads events;
 * the queue is empty whenever the lock is free, and a batch (its
 * commands and the sync) fits in it; a wait is bounded.
 */
#include "kernel/errno.h"
#include "kernel/iommu/smmuv3_hw.h"
#include "kernel/mm/frame.h"
#include "kernel/mmio.h"
#include "kernel/printk.h"
#include "lib/string.h"

#define SMMU_EVENTS_LOGGED 4		/* lines per drain */
#define SYNC_WAIT_NS	   100000000ull /* 100 ms: QEMU consumes at once, hardware in microseconds */

static uint32_t rd32(struct smmu *s, unsigned off)
{
	return mmio_read32(s->regs + off);
}

static void wr32(struct smmu *s, unsigned off, uint32_t v)
{
	mmio_write32(s->regs + off, v);
}

static uint32_t q_mask(const struct smmu_queue *q)
{
	return (2u << q->shift) - 1; /* index and wrap bit */
}

static uint64_t *q_entry(const struct smmu_queue *q, uint32_t idx)
{
	return q->entries + (idx & ((1u << q->shift) - 1)) * q->words;
}

static const char *cerror_name(unsigned e)
{
	static const char *const names[] = {"none", "illegal command", "abort on fetch",
					    "ATC invalidation sync"};
	return e < ARRAY_SIZE(names) ? names[e] : "unknown";
}

/* GERROR.CMDQ_ERR is pending: report the command at CONS, neutralise it, acknowledge. */
static void recover_cmd_error(struct smmu *s, uint32_t gerrorn)
{
	uint32_t cons = rd32(s, SMMU_CMDQ_CONS);
	uint64_t *e = q_entry(&s->cmdq, cons);
	struct smmu_cmd_error *r = &s->last_cmd_error;

	*r = (struct smmu_cmd_error){.opcode = (uint8_t)(e[0] & 0xff),
				     .cerror = (uint8_t)CMDQ_CONS_ERR(cons),
				     .cmd = {e[0], e[1]}};
	s->nr_cmd_errors++;
	printk("smmuv3: command queue error (%s) at entry %u: opcode %#x, command %#018llx "
	       "%#018llx; replaced by CMD_SYNC",
	       cerror_name(r->cerror), cons & ((1u << s->cmdq.shift) - 1), r->opcode,
	       (unsigned long long)e[0], (unsigned long long)e[1]);
	e[0] = CMD_SYNC;
	e[1] = 0;
	mmio_wmb(); /* the replacement before the acknowledgement that restarts the queue */
	wr32(s, SMMU_GERRORN, gerrorn ^ GERROR_CMDQ_ERR);
}

/* Other global errors are reported and acknowledged; none stops the command queue. */
static void ack_other_errors(struct smmu *s, uint32_t pending, uint32_t gerrorn)
{
	printk("smmuv3: global error %#x (GERROR%s) acknowledged", pending,
	       pending & GERROR_EVENTQ_ABT
		   ? ": EVENTQ_ABT_ERR, a write to the event queue aborted (QEMU: queue full)"
		   : "");
	wr32(s, SMMU_GERRORN, gerrorn ^ pending);
}

int smmu_issue_bounded(struct smmu *s, const uint64_t (*cmds)[2], unsigned n)
{
	struct smmu_queue *q = &s->cmdq;
	/* The queue is empty now (lock free): it holds 1 << shift entries, wrap bit apart. */
	if (n + 1 > (1u << q->shift))
		panic("smmu_issue: %u commands and a sync exceed the %u-entry queue", n,
		      1u << q->shift);
	int err = 0;
	irqflags_t f = spin_lock_irqsave(&s->lock);
	for (unsigned i = 0; i <= n; i++) {
		uint64_t *e = q_entry(q, q->prod);
		e[0] = i < n ? cmds[i][0] : CMD_SYNC;
		e[1] = i < n ? cmds[i][1] : 0;
		q->prod = (q->prod + 1) & q_mask(q);
	}
	mmio_wmb(); /* the entries before the doorbell */
	wr32(s, SMMU_CMDQ_PROD, q->prod);
	uint64_t deadline = arch_time_ns() + SYNC_WAIT_NS;
	for (;;) {
		uint32_t cons = rd32(s, SMMU_CMDQ_CONS);
		if ((cons & q_mask(q)) == q->prod)
			break;
		uint32_t gerror = rd32(s, SMMU_GERROR), gerrorn = rd32(s, SMMU_GERRORN);
		uint32_t pending = gerror ^ gerrorn;
		if (pending & GERROR_CMDQ_ERR)
			recover_cmd_error(s, gerrorn);
		else if (pending)
			ack_other_errors(s, pending, gerrorn);
		if (arch_time_ns() > deadline) {
			printk(
			    "smmuv3: the SMMU did not consume CMD_SYNC in 100 ms (CMDQ_CONS %#x, "
			    "PROD %#x, GERROR %#x)",
			    cons, q->prod, gerror);
			err = -ETIMEDOUT;
			break;
		}
		arch_cpu_relax();
	}
	mmio_rmb(); /* the sync's completion before anything the caller reads next */
	if (!err) {
		iommu_stat_add(&s->io.stats.syncs, 1);
		smmu_drain_events_locked(s);
	}
	spin_unlock_irqrestore(&s->lock, f);
	return err;
}

void smmu_issue(struct smmu *s, const uint64_t (*cmds)[2], unsigned n)
{
	/* Past enable, an SMMU that stops consuming leaves no safe way on. */
	if (smmu_issue_bounded(s, cmds, n))
		panic("smmu_issue: the SMMU stopped consuming commands");
}

static const char *event_name(unsigned type)
{
	switch (type) {
	case SMMU_EVT_C_BAD_STREAMID:
		return "C_BAD_STREAMID";
	case SMMU_EVT_C_BAD_STE:
		return "C_BAD_STE";
	case SMMU_EVT_C_BAD_CD:
		return "C_BAD_CD";
	case SMMU_EVT_F_TRANSLATION:
		return "F_TRANSLATION";
	case SMMU_EVT_F_ACCESS:
		return "F_ACCESS";
	case SMMU_EVT_F_PERMISSION:
		return "F_PERMISSION";
	default:
		return "event";
	}
}

void smmu_drain_events_locked(struct smmu *s)
{
	struct smmu_queue *q = &s->evtq;
	uint32_t prod = rd32(s, SMMU_EVENTQ_PROD), gerrorn = rd32(s, SMMU_GERRORN);
	uint32_t pending = (rd32(s, SMMU_GERROR) ^ gerrorn) & ~GERROR_CMDQ_ERR;
	unsigned seen = 0;
	if (pending)
		ack_other_errors(s, pending, gerrorn); /* e.g. EVENTQ_ABT_ERR: QEMU's full queue */
	/* A toggle: a new overflow only when it differs from what CONS acknowledged last. */
	if ((prod & EVTQ_OVFLG) != s->evtq_ovflg) {
		s->lost_events++;
		s->evtq_ovflg = prod & EVTQ_OVFLG; /* acknowledged with the CONS write below */
		printk("smmuv3: event queue overflowed: events were lost");
	}
	mmio_rmb(); /* PROD before the entries it covers */
	while (q->cons != (prod & q_mask(q))) {
		const uint64_t *e = q_entry(q, q->cons);
		struct smmu_event ev = {.type = (uint8_t)(e[0] & 0xff),
					.sid = (uint32_t)(e[0] >> 32),
					.addr = e[2],
					.read = (e[1] >> 35) & 1};
		s->events[s->nr_events++ % SMMU_EVENTS_KEPT] = ev;
		/* A faulting DMA can raise one event per word: the first few say enough. */
		if (seen++ < SMMU_EVENTS_LOGGED)
			printk("smmuv3: %s (%#x) stream %u, %s at %#llx", event_name(ev.type),
			       ev.type, ev.sid, ev.read ? "read" : "write",
			       (unsigned long long)ev.addr);
		q->cons = (q->cons + 1) & q_mask(q);
	}
	if (seen > SMMU_EVENTS_LOGGED)
		printk("smmuv3: ... and %u more events (%llu since boot)",
		       seen - SMMU_EVENTS_LOGGED, (unsigned long long)s->nr_events);
	mmio_mb(); /* the entries read before the SMMU may overwrite them */
	wr32(s, SMMU_EVENTQ_CONS, q->cons | s->evtq_ovflg);
}

static int queue_alloc(struct smmu_queue *q, unsigned shift, unsigned words)
{
	phys_addr_t pa;
	if (frame_alloc_zeroed(&pa) != 0)
		return -ENOMEM;
	*q = (struct smmu_queue){.entries = kva(pa), .pa = pa, .shift = shift, .words = words};
	return 0;
}

void smmu_queues_free(struct smmu *s)
{
	struct smmu_queue *qs[] = {&s->cmdq, &s->evtq};
	for (unsigned i = 0; i < ARRAY_SIZE(qs); i++) {
		if (qs[i]->entries)
			frame_free(qs[i]->pa, 0);
		*qs[i] = (struct smmu_queue){0};
	}
}

int smmu_queues_init(struct smmu *s)
{
	if (queue_alloc(&s->cmdq, SMMU_CMDQ_SHIFT, 2) || queue_alloc(&s->evtq, SMMU_EVTQ_SHIFT, 4))
		return -ENOMEM; /* smmu_queues_free gives back what was allocated */
	s->evtq_ovflg = 0;
	mmio_write64(s->regs + SMMU_CMDQ_BASE,
		     Q_BASE_RA | (s->cmdq.pa & Q_ADDR_MASK) | SMMU_CMDQ_SHIFT);
	wr32(s, SMMU_CMDQ_PROD, 0);
	wr32(s, SMMU_CMDQ_CONS, 0);
	mmio_write64(s->regs + SMMU_EVENTQ_BASE, (s->evtq.pa & Q_ADDR_MASK) | SMMU_EVTQ_SHIFT);
	wr32(s, SMMU_EVENTQ_PROD, 0);
	wr32(s, SMMU_EVENTQ_CONS, 0);
	return 0;
}
