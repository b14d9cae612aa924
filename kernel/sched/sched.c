// SPDX-License-Identifier: BSD-2-Clause
/*
 * The per-CPU round-robin scheduler (see thread.h for the model).
 *
 * A run queue holds the runnable threads of one CPU that are not running;
 * its lock protects the queue, the sleep list and the state of every thread
 * pinned to that CPU. Because threads never move, the queue is only ever
 * dequeued by its own CPU, inside schedule(), with interrupts disabled: so
 * schedule() may drop the lock before switching stacks.
 *
 * A finished thread is still running on its stack while it switches away;
 * the thread that runs next marks it DEAD (sched_finish_switch), and only
 * then may a joiner free its memory.
 */
#include "kernel/entry.h"
#include "kernel/sched/thread.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/vm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sync/wait.h"
#include "kernel/sched/sched_internal.h"
#include "kernel/time.h"
#include "lib/string.h"

struct run_queue {
	spinlock_t lock;
	struct thread *head, *tail;
	struct thread *sleepers;
	struct thread *current;
	struct thread *idle;
	struct thread *exiting; /* switched away for the last time; not yet DEAD */
	bool need_resched;
	struct sched_stats stats;
} __aligned(64);

static struct run_queue run_queues[CPU_MAX];
static struct thread boot_threads[CPU_MAX]; /* each CPU's boot context */
static struct wait_queue exit_wq = WAIT_QUEUE_INIT;

static struct run_queue *this_rq(void)
{
	return &run_queues[arch_cpu_id()];
}

struct thread *thread_current(void)
{
	return this_rq()->current;
}

void preempt_disable(void)
{
	this_cpu()->preempt_count++;
}

void preempt_enable(void)
{
	this_cpu()->preempt_count--;
}

void preempt_enable_resched(void)
{
	if (--this_cpu()->preempt_count || !arch_irq_enabled())
		return;
	struct run_queue *rq = this_rq();
	if (READ_ONCE(rq->need_resched) && rq->current)
		schedule();
}

static void enqueue(struct run_queue *rq, struct thread *t)
{
	t->rq_next = NULL;
	if (rq->tail)
		rq->tail->rq_next = t;
	else
		rq->head = t;
	rq->tail = t;
}

static struct thread *dequeue(struct run_queue *rq)
{
	struct thread *t = rq->head;
	if (t) {
		rq->head = t->rq_next;
		if (!rq->head)
			rq->tail = NULL;
		t->rq_next = NULL;
	}
	return t;
}

/*
 * Runs in whichever thread a switch resumed: finish what the previous one
 * could not. The exiting thread's state changes under the run-queue lock
 * like every other state change, so a concurrent thread_wake() sees
 * EXITING or DEAD, never a half-finished exit.
 */
static void sched_finish_switch(void)
{
	struct run_queue *rq = this_rq();
	spin_lock(&rq->lock);
	struct thread *dead = rq->exiting;
	rq->exiting = NULL;
	if (dead)
		atomic_store_release(&dead->state, THREAD_DEAD);
	spin_unlock(&rq->lock);
	if (dead)
		wait_queue_wake_all(&exit_wq);
}

void schedule(void)
{
	irqflags_t flags = arch_irq_save();
	struct run_queue *rq = this_rq();
	spin_lock(&rq->lock);
	struct thread *prev = rq->current;
	rq->need_resched = false;
	if (prev->state == THREAD_RUNNING && prev != rq->idle)
		enqueue(rq, prev);
	struct thread *next = dequeue(rq);
	if (!next)
		next = rq->idle;
	if (next == prev) {
		spin_unlock(&rq->lock);
		arch_irq_restore(flags);
		return;
	}
	rq->current = next;
	next->switches++;
	rq->stats.switches++;
	spin_unlock(&rq->lock);
	mm_switch(next->mm);
	arch_context_switch(&prev->ctx, &next->ctx);
	sched_finish_switch();
	arch_irq_restore(flags);
}

void thread_yield(void)
{
	schedule();
}

/* Takes `t` off its CPU's sleep list. rq->lock held. */
static void sleep_list_remove(struct run_queue *rq, struct thread *t)
{
	for (struct thread **link = &rq->sleepers; *link; link = &(*link)->rq_next) {
		if (*link == t) {
			*link = t->rq_next;
			t->rq_next = NULL;
			t->on_sleep_list = false;
			return;
		}
	}
	panic("thread_wake: %s marked on the sleep list but not found", t->name);
}

void thread_prepare_sleep(struct thread *me)
{
	struct run_queue *rq = &run_queues[me->cpu];
	spin_lock(&rq->lock);
	me->state = THREAD_SLEEPING;
	spin_unlock(&rq->lock);
}

void thread_prepare_sleep_until(struct thread *me, uint64_t deadline_ns)
{
	struct run_queue *rq = &run_queues[me->cpu];
	spin_lock(&rq->lock);
	me->state = THREAD_SLEEPING;
	me->wake_at_ns = deadline_ns;
	if (!me->on_sleep_list) {
		me->rq_next = rq->sleepers;
		me->on_sleep_list = true;
		rq->sleepers = me;
	}
	spin_unlock(&rq->lock);
}

void thread_wake(struct thread *t)
{
	unsigned cpu = t->cpu; /* pinned for life: read once, used after the unlock */
	struct run_queue *rq = &run_queues[cpu];
	irqflags_t flags = spin_lock_irqsave(&rq->lock);
	bool woke = false;
	if (t->state == THREAD_SLEEPING) {
		t->state = THREAD_RUNNING;
		if (t->on_sleep_list)
			sleep_list_remove(rq, t);
		/* Still on its CPU on the way to schedule(): it will see RUNNING and stay. */
		if (rq->current != t)
			enqueue(rq, t);
		rq->stats.wakeups++;
		woke = true;
	}
	spin_unlock_irqrestore(&rq->lock, flags);
	if (woke && cpu != arch_cpu_id())
		arch_ipi_send(cpumask_of(cpu), IPI_RESCHEDULE);
	else if (woke)
		rq->need_resched = true;
}

void sched_request_resched(void)
{
	this_rq()->need_resched = true;
}

void sched_irq_exit(void)
{
	struct run_queue *rq = this_rq();
	if (!rq->need_resched || this_cpu()->preempt_count || !rq->current)
		return;
	if (rq->current != rq->idle)
		rq->stats.preemptions++;
	schedule();
}

/* Called from the tick on every CPU: wake sleepers, and time-slice. */
void sched_tick(void)
{
	struct run_queue *rq = this_rq();
	if (!rq->current)
		return;
	uint64_t now = arch_time_ns();
	spin_lock(&rq->lock);
	struct thread **link = &rq->sleepers;
	while (*link) {
		struct thread *t = *link;
		if (t->wake_at_ns <= now) {
			*link = t->rq_next;
			t->on_sleep_list = false;
			t->state = THREAD_RUNNING;
			enqueue(rq, t);
			rq->stats.wakeups++;
		} else {
			link = &t->rq_next;
		}
	}
	if (rq->head)
		rq->need_resched = true;
	spin_unlock(&rq->lock);
}

void thread_sleep_ns(uint64_t ns)
{
	struct run_queue *rq = this_rq();
	irqflags_t flags = spin_lock_irqsave(&rq->lock);
	struct thread *me = rq->current;
	me->wake_at_ns = arch_time_ns() + ns;
	me->blocked_on = "thread_sleep_ns";
	me->state = THREAD_SLEEPING;
	me->rq_next = rq->sleepers;
	me->on_sleep_list = true;
	rq->sleepers = me;
	spin_unlock(&rq->lock);
	schedule();
	me->blocked_on = NULL;
	arch_irq_restore(flags);
}

static __noreturn void thread_entry(void)
{
	sched_finish_switch();
	arch_irq_enable();
	struct thread *t = thread_current();
	t->fn(t->arg);
	thread_exit();
}

struct thread *thread_create(const char *name, unsigned cpu, void (*fn)(void *arg), void *arg)
{
	return thread_create_mm(name, cpu, NULL, fn, arg);
}

struct thread *thread_create_mm(const char *name, unsigned cpu, struct mm *mm,
				void (*fn)(void *arg), void *arg)
{
	if (cpu >= CPU_MAX || !cpumask_test(cpumask_read(&cpu_online_mask), cpu))
		return NULL;
	phys_addr_t block;
	if (frame_alloc(THREAD_BLOCK_ORDER, &block) != 0)
		return NULL;
	struct thread *t = kva(block);
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->cpu = cpu;
	t->fn = fn;
	t->arg = arg;
	t->block = block;
	t->state = THREAD_RUNNING;
	if (mm) {
		t->mm = mm;
		mm_add_user(mm); /* dropped by thread_join */
	}
	arch_context_init(&t->ctx, (uint8_t *)t + (PAGE_SIZE << THREAD_BLOCK_ORDER), thread_entry);

	struct run_queue *rq = &run_queues[cpu];
	irqflags_t flags = spin_lock_irqsave(&rq->lock);
	enqueue(rq, t);
	spin_unlock_irqrestore(&rq->lock, flags);
	if (cpu != arch_cpu_id())
		arch_ipi_send(cpumask_of(cpu), IPI_RESCHEDULE);
	return t;
}

void thread_exit(void)
{
	arch_irq_disable();
	struct run_queue *rq = this_rq();
	spin_lock(&rq->lock);
	struct thread *me = rq->current;
	me->state = THREAD_EXITING; /* never woken or enqueued again */
	rq->exiting = me;
	spin_unlock(&rq->lock);
	schedule();
	panic("thread_exit: %s was scheduled after exiting", me->name);
}

static bool thread_is_dead(void *arg)
{
	return atomic_load_acquire(&((struct thread *)arg)->state) == THREAD_DEAD;
}

void thread_join(struct thread *t)
{
	if (t->joined)
		panic("thread_join: %s joined twice", t->name);
	t->joined = true;
	struct thread *me = thread_current();
	me->joining = t;
	me->blocked_on = "thread_join";
	wait_queue_wait(&exit_wq, thread_is_dead, t);
	me->blocked_on = NULL;
	me->joining = NULL;
	if (t->mm)
		atomic_fetch_sub(&t->mm->users, 1);
	frame_free(t->block, THREAD_BLOCK_ORDER);
}

void thread_stack_bounds(virt_addr_t *lo, virt_addr_t *hi)
{
	struct thread *t = thread_current();
	if (t >= boot_threads && t < boot_threads + CPU_MAX) {
		/* A CPU's boot context: the stack above its guard page (smp.c, the arch's entry).
		 */
		*lo = cpu_stack_guard(t->cpu) + PAGE_SIZE;
		*hi = *lo + CPU_STACK_SIZE;
	} else {
		*lo = (virt_addr_t)(t + 1);
		*hi = (virt_addr_t)t + (PAGE_SIZE << THREAD_BLOCK_ORDER);
	}
}

void sched_init_cpu(unsigned cpu)
{
	struct run_queue *rq = &run_queues[cpu];
	struct thread *boot = &boot_threads[cpu];
	boot->name = cpu == 0 ? "main" : "idle";
	boot->cpu = cpu;
	boot->state = THREAD_RUNNING;
	rq->lock = (spinlock_t)SPINLOCK_INIT;
	rq->current = boot;
	if (cpu != 0) {
		rq->idle = boot;
		return;
	}
	/* The boot CPU's boot context runs kernel_main and may block: it needs a separate idle. */
	struct thread *idle = thread_create("idle0", 0, NULL, NULL);
	if (!idle)
		panic("sched_init_cpu: no memory for cpu0's idle thread");
	spin_lock(&rq->lock);
	rq->head = rq->tail = NULL; /* thread_create queued it; idle is never queued */
	spin_unlock(&rq->lock);
	arch_context_init(&idle->ctx, (uint8_t *)idle + (PAGE_SIZE << THREAD_BLOCK_ORDER),
			  sched_idle_loop);
	rq->idle = idle;
}

void sched_idle_loop(void)
{
	sched_finish_switch();
	struct run_queue *rq = this_rq();
	for (;;) {
		/* Check with interrupts off; a wake-up IPI arriving now ends the halt at once. */
		arch_irq_disable();
		if (READ_ONCE(rq->head) || READ_ONCE(rq->need_resched)) {
			schedule();
			continue;
		}
		arch_cpu_idle();
	}
}

const char *sched_cpu_running(unsigned cpu)
{
	struct run_queue *rq = &run_queues[cpu];
	irqflags_t flags = spin_lock_irqsave(&rq->lock);
	const char *name = rq->current ? rq->current->name : NULL;
	spin_unlock_irqrestore(&rq->lock, flags);
	return name ? name : "?";
}

struct sched_stats sched_stats_cpu(unsigned cpu)
{
	return run_queues[cpu].stats;
}
