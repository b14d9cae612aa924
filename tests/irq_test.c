// SPDX-License-Identifier: BSD-2-Clause
/*
 * irq suite: the device-interrupt handler table (kernel/irq.c) on its own,
 * with handlers installed on a number no controller delivers (IRQ_MAX - 1:
 * GIC INTIDs 1020-1023 are special, x86-64 vectors end at 255) and
 * dispatched by calling irq_dispatch() as the arch does, interrupts off.
 *
 * irq_free() must not return while another CPU still runs the handler it
 * removes (irq.break=free_no_wait makes it return at once: the first case
 * must then fail), and a handler runs with irq_in_handler() true, which
 * the sleeping primitives check.
 */
#include "kernel/arch.h"
#include "kernel/entry.h"
#include "kernel/errno.h"
#include "kernel/irq.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "tests/ktest.h"

#define TEST_IRQ	(IRQ_MAX - 1)
#define SLOW_HANDLER_NS 50000000ull

struct slow_ctx {
	uint32_t entered, left;
};

static void slow_handler(void *arg)
{
	struct slow_ctx *c = arg;
	atomic_store_release(&c->entered, 1);
	uint64_t until = arch_time_ns() + SLOW_HANDLER_NS;
	while (arch_time_ns() < until)
		arch_cpu_relax();
	atomic_store_release(&c->left, 1);
}

static void dispatch_once(void *arg)
{
	(void)arg;
	irqflags_t flags = arch_irq_save();
	irq_dispatch(TEST_IRQ);
	arch_irq_restore(flags);
}

static void record_arg(void *arg)
{
	*(void **)arg = arg;
}

static unsigned another_cpu(void)
{
	cpumask_t on = cpumask_read(&cpu_online_mask);
	for_each_cpu(c, on) if (c != arch_cpu_id()) return c;
	return arch_cpu_id();
}

/*
 * A handler is running on another CPU when its number is freed: irq_free()
 * returns only after it left, so its argument may then be freed. The next
 * owner of the number is called with its own argument.
 */
static void free_waits_for_the_running_handler(struct ktest *t)
{
	unsigned cpu = another_cpu();
	if (cpu == arch_cpu_id())
		KTEST_SKIP(t, "needs a second CPU");
	static struct slow_ctx ctx;
	ctx = (struct slow_ctx){0, 0};
	ASSERT_EQ(t, irq_request(TEST_IRQ, slow_handler, &ctx), 0);
	struct thread *th = thread_create("irq-dispatch", cpu, dispatch_once, NULL);
	ASSERT_TRUE(t, th != NULL);
	while (!atomic_load_acquire(&ctx.entered))
		arch_cpu_relax(); /* bounded by the case timeout */
	irq_free(TEST_IRQ);
	bool left = atomic_load_acquire(&ctx.left);
	thread_join(th);
	EXPECT_TRUE(t, left);

	void *seen = NULL;
	ASSERT_EQ(t, irq_request(TEST_IRQ, record_arg, &seen), 0);
	irqflags_t flags = arch_irq_save();
	EXPECT_TRUE(t, irq_dispatch(TEST_IRQ));
	arch_irq_restore(flags);
	irq_free(TEST_IRQ);
	EXPECT_TRUE(t, seen == &seen);
	/* Freed: a late dispatch finds nothing to call. */
	flags = arch_irq_save();
	EXPECT_FALSE(t, irq_dispatch(TEST_IRQ));
	arch_irq_restore(flags);
}

static void note_context(void *arg)
{
	*(bool *)arg = irq_in_handler();
}

static void handler_runs_marked_in_interrupt(struct ktest *t)
{
	bool inside = false;
	ASSERT_EQ(t, irq_request(TEST_IRQ, note_context, &inside), 0);
	EXPECT_EQ(t, irq_request(TEST_IRQ, note_context, &inside), -EBUSY);
	EXPECT_FALSE(t, irq_in_handler());
	irqflags_t flags = arch_irq_save();
	irq_dispatch(TEST_IRQ);
	bool after = irq_in_handler();
	arch_irq_restore(flags);
	irq_free(TEST_IRQ);
	EXPECT_TRUE(t, inside);
	EXPECT_FALSE(t, after);
}

static const struct ktest_case irq_cases[] = {
    KTEST_CASE(free_waits_for_the_running_handler),
    KTEST_CASE(handler_runs_marked_in_interrupt),
    KTEST_END,
};
KTEST_SUITE(irq_suite, "irq", irq_cases);
