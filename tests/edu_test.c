// SPDX-License-Identifier: BSD-2-Clause
/*
 * edu suite: QEMU's edu device through kernel/drivers/edu.c: the identity
 * register, liveness (reads back the inverse), the factorial unit, and DMA
 * from RAM into the device's buffer and back, compared byte for byte, plus
 * a short transfer at odd offsets that must land exactly where asked.
 *
 * Completion is by interrupt: one DMA gives exactly one handler
 * invocation that saw DMA_IRQ, a factorial one with FACT_IRQ, a write to
 * the raise register one with exactly the causes written, and an
 * interrupt the device did not raise counts as none of these.
 *
 * Each DMA starts 100 ms (virtual time) after its command, so the suite
 * does six. The buffers are page-aligned statics in the kernel image,
 * which sits low in RAM: below edu's DMA mask on both machines (checked).
 * Behind a translating IOMMU (make test IOMMU=vtd) physical addresses
 * fault, so the round trip skips there; the vtd suite covers DMA then.
 */
#include "kernel/arch.h"
#include "kernel/drivers/edu.h"
#include "kernel/entry.h"
#include "kernel/errno.h"
#include "kernel/iommu/iommu.h"
#include "kernel/irq.h"
#include "kernel/pci/pci.h"
#include "kernel/sched/thread.h"
#include "lib/string.h"
#include "tests/ktest.h"

static uint8_t src[EDU_BUF_SIZE] __aligned(4096);
static uint8_t dst[EDU_BUF_SIZE] __aligned(4096);

static void need_edu(struct ktest *t)
{
	if (ktest_machine_has_no_pci()) {
		EXPECT_FALSE(t, edu_present());
		KTEST_SKIP(t, "the machine has no PCI bus (test.nopci), so no edu");
	}
	if (!edu_present()) {
		ktest_fail_msg(t, __FILE__, __LINE__, "no working edu device (QEMU -device edu)");
		ktest_abort(t);
	}
}

static void identity(struct ktest *t)
{
	need_edu(t);
	EXPECT_EQ(t, edu_identity(), EDU_IDENTITY);
}

static void liveness_inverts(struct ktest *t)
{
	static const uint32_t values[] = {0, 0xffffffffu, 0x12345678u, 0xa5a5a5a5u};
	need_edu(t);
	for (unsigned i = 0; i < ARRAY_SIZE(values); i++)
		EXPECT_EQ(t, edu_liveness(values[i]), ~values[i]);
}

static void factorial(struct ktest *t)
{
	static const struct {
		uint32_t n, want;
	} cases[] = {{0, 1}, {1, 1}, {5, 120}, {10, 3628800}, {12, 479001600}};
	need_edu(t);
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		uint32_t got = 0;
		ASSERT_EQ(t, edu_factorial(cases[i].n, &got), 0);
		EXPECT_EQ(t, got, cases[i].want);
	}
}

static void dma_round_trip(struct ktest *t)
{
	need_edu(t);
	if (iommu_hw())
		KTEST_SKIP(t, "an IOMMU translates edu's DMA, so physical addresses fault (the "
			      "vtd suite does DMA through it)");
	phys_addr_t src_pa = arch_virt_to_phys(src), dst_pa = arch_virt_to_phys(dst);
	ASSERT_LE(t, src_pa + sizeof(src) - 1, edu_dma_limit());
	ASSERT_LE(t, dst_pa + sizeof(dst) - 1, edu_dma_limit());
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7 + (i >> 8) + 1);
	memset(dst, 0, sizeof(dst));

	ASSERT_EQ(t, edu_dma(EDU_TO_DEVICE, src_pa, 0, EDU_BUF_SIZE), 0);
	ASSERT_EQ(t, edu_dma(EDU_FROM_DEVICE, dst_pa, 0, EDU_BUF_SIZE), 0);
	EXPECT_EQ(t, memcmp(src, dst, sizeof(src)), 0);

	/* 200 bytes from device offset 1000 to RAM offset 17: exactly those bytes. */
	memset(dst, 0xee, sizeof(dst));
	ASSERT_EQ(t, edu_dma(EDU_FROM_DEVICE, dst_pa + 17, 1000, 200), 0);
	EXPECT_EQ(t, memcmp(dst + 17, src + 1000, 200), 0);
	EXPECT_EQ(t, dst[16], 0xee);
	EXPECT_EQ(t, dst[217], 0xee);
}

static void dma_refuses_bad_ranges(struct ktest *t)
{
	need_edu(t);
	phys_addr_t pa = arch_virt_to_phys(dst);
	EXPECT_EQ(t, edu_dma(EDU_TO_DEVICE, pa, 0, 0), -EINVAL);
	EXPECT_EQ(t, edu_dma(EDU_TO_DEVICE, pa, 4000, 97), -EINVAL);
	EXPECT_EQ(t, edu_dma(EDU_FROM_DEVICE, pa, 0, EDU_BUF_SIZE + 1), -EINVAL);
	if (edu_dma_limit() != ~0ull)
		EXPECT_EQ(t, edu_dma(EDU_FROM_DEVICE, edu_dma_limit() - 10, 0, 16), -EINVAL);
}

/* ---- Completion interrupts ---------------------------------------------------------- */

static const struct pci_irq *need_irq(struct ktest *t)
{
	need_edu(t);
	const struct pci_irq *irq = edu_irq();
	if (!irq || irq->kind == PCI_IRQ_NONE) {
		ktest_fail_msg(t, __FILE__, __LINE__, "edu has no interrupt (see its boot line)");
		ktest_abort(t);
	}
	return irq;
}

/* A quiet spell after the completion: a second interrupt (a storm, a duplicate) shows. */
#define SETTLE_NS 30000000ull

/* One DMA, one handler invocation that saw DMA_IRQ; nothing else arrives afterwards. */
static void dma_completion_interrupt_once(struct ktest *t)
{
	const struct pci_irq *irq = need_irq(t);
	phys_addr_t pa = arch_virt_to_phys(src);
	for (unsigned i = 0; i < 2; i++) {
		struct edu_irq_stats before = edu_irq_stats();
		uint64_t raw = irq_count(irq->irq);
		ASSERT_EQ(t, edu_dma(i ? EDU_FROM_DEVICE : EDU_TO_DEVICE, pa, 0, 64), 0);
		thread_sleep_ns(SETTLE_NS);
		struct edu_irq_stats after = edu_irq_stats();
		EXPECT_EQ(t, after.dma - before.dma, 1u);
		EXPECT_EQ(t, after.handled - before.handled, 1u);
		EXPECT_EQ(t, after.factorial - before.factorial, 0u);
		EXPECT_EQ(t, after.spurious - before.spurious, 0u);
		EXPECT_EQ(t, irq_count(irq->irq) - raw, 1u);
	}
}

static void factorial_by_interrupt(struct ktest *t)
{
	need_irq(t);
	struct edu_irq_stats before = edu_irq_stats();
	uint32_t got = 0;
	ASSERT_EQ(t, edu_factorial(7, &got), 0);
	EXPECT_EQ(t, got, 5040u);
	thread_sleep_ns(SETTLE_NS);
	struct edu_irq_stats after = edu_irq_stats();
	EXPECT_EQ(t, after.factorial - before.factorial, 1u);
	EXPECT_EQ(t, after.handled - before.handled, 1u);
	EXPECT_EQ(t, after.dma - before.dma, 0u);
}

/* The raise register: the handler sees exactly the causes written, and acknowledges them. */
static void raise_register_reaches_handler(struct ktest *t)
{
	static const uint32_t causes[] = {0x00010000u, 0x80000000u, 0x12340000u};
	need_irq(t);
	for (unsigned i = 0; i < ARRAY_SIZE(causes); i++) {
		struct edu_irq_stats before = edu_irq_stats();
		uint32_t status = 0;
		ASSERT_EQ(t, edu_raise(causes[i], &status), 0);
		EXPECT_EQ(t, status, causes[i]); /* the last one's bits were acknowledged */
		thread_sleep_ns(SETTLE_NS);
		EXPECT_EQ(t, edu_irq_stats().handled - before.handled, 1u);
	}
	EXPECT_EQ(t, edu_raise(0, NULL), -EINVAL);
}

/*
 * An interrupt on edu's line that the device did not raise (its status
 * register reads 0) is not counted as a completion: delivered here by
 * calling the dispatch the arch calls, interrupts off as there. Safe on
 * any CPU: the handler tolerates a status of 0 and its statistics are
 * under a lock, not under "the handler runs on CPU 0 alone".
 */
static void stray_interrupt_not_counted(struct ktest *t)
{
	const struct pci_irq *irq = need_irq(t);
	struct edu_irq_stats before = edu_irq_stats();
	irqflags_t flags = arch_irq_save();
	bool dispatched = irq_dispatch(irq->irq);
	arch_irq_restore(flags);
	EXPECT_TRUE(t, dispatched);
	struct edu_irq_stats after = edu_irq_stats();
	EXPECT_EQ(t, after.spurious - before.spurious, 1u);
	EXPECT_EQ(t, after.handled - before.handled, 0u);
	EXPECT_EQ(t, after.dma - before.dma, 0u);
	EXPECT_EQ(t, after.factorial - before.factorial, 0u);
}

/*
 * A DMA that times out (here: a 10 ms wait for a transfer edu starts after
 * 100 ms) returns only once the device is idle again: what it transfers
 * late is in RAM when the call returns, and nothing changes afterwards; the
 * next transfer is not dropped by a busy device and not ended early by the
 * late completion. edu.break=no_quiesce returns at once and must fail this.
 */
static void dma_timeout_leaves_the_device_idle(struct ktest *t)
{
	need_irq(t);
	if (iommu_hw())
		KTEST_SKIP(t, "an IOMMU translates edu's DMA, so physical addresses fault");
	phys_addr_t src_pa = arch_virt_to_phys(src), dst_pa = arch_virt_to_phys(dst);
	for (unsigned i = 0; i < 256; i++)
		src[i] = (uint8_t)(i ^ 0x5c);
	ASSERT_EQ(t, edu_dma(EDU_TO_DEVICE, src_pa, 0, 256), 0);
	memset(dst, 0, sizeof(dst));
	struct edu_irq_stats before = edu_irq_stats();

	edu_test_set_irq_wait_ns(10000000ull);
	int err = edu_dma(EDU_FROM_DEVICE, dst_pa, 0, 256);
	edu_test_set_irq_wait_ns(0);
	bool landed = memcmp(dst, src, 256) == 0;
	memset(dst, 0, 256); /* the range is the caller's again */
	int next = edu_dma(EDU_FROM_DEVICE, dst_pa + 2048, 0, 256);
	thread_sleep_ns(200000000ull); /* twice edu's delay: a transfer still running lands */
	EXPECT_EQ(t, err, -ETIMEDOUT);
	EXPECT_TRUE(t, landed);
	EXPECT_EQ(t, next, 0);
	EXPECT_EQ(t, memcmp(dst + 2048, src, 256), 0);
	bool untouched = true;
	for (unsigned i = 0; i < 256; i++)
		untouched &= dst[i] == 0;
	EXPECT_TRUE(t, untouched);
	EXPECT_EQ(t, edu_irq_stats().dma - before.dma, 2u);
}

static const struct ktest_case edu_cases[] = {
    KTEST_CASE(identity),
    KTEST_CASE(liveness_inverts),
    KTEST_CASE(factorial),
    KTEST_CASE(dma_round_trip),
    KTEST_CASE(dma_refuses_bad_ranges),
    KTEST_CASE(dma_completion_interrupt_once),
    KTEST_CASE(factorial_by_interrupt),
    KTEST_CASE(raise_register_reaches_handler),
    KTEST_CASE(stray_interrupt_not_counted),
    KTEST_CASE(dma_timeout_leaves_the_device_idle),
    KTEST_END,
};
KTEST_SUITE(edu_suite, "edu", edu_cases);
