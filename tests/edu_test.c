// SPDX-License-Identifier: BSD-2-Clause
/*
 * edu suite: QEMU's edu device through kernel/drivers/edu.c: the identity
 * register, liveness (reads back the inverse), the factorial unit, and DMA
 * from RAM into the device's buffer and back, compared byte for byte, plus
 * a short transfer at odd offsets that must land exactly where asked.
 *
 * Each DMA starts 100 ms (virtual time) after its command, so the suite
 * does three. The buffers are page-aligned statics in the kernel image,
 * which sits low in RAM: below edu's DMA mask on both machines (checked).
 * Behind a translating IOMMU (make test IOMMU=vtd) physical addresses
 * fault, so the round trip skips there; the vtd suite covers DMA then.
 */
#include "kernel/arch.h"
#include "kernel/drivers/edu.h"
#include "kernel/errno.h"
#include "kernel/iommu/iommu.h"
#include "lib/string.h"
#include "tests/ktest.h"

static uint8_t src[EDU_BUF_SIZE] __aligned(4096);
static uint8_t dst[EDU_BUF_SIZE] __aligned(4096);

static void need_edu(struct ktest *t)
{
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

static const struct ktest_case edu_cases[] = {
    KTEST_CASE(identity),
    KTEST_CASE(liveness_inverts),
    KTEST_CASE(factorial),
    KTEST_CASE(dma_round_trip),
    KTEST_CASE(dma_refuses_bad_ranges),
    KTEST_END,
};
KTEST_SUITE(edu_suite, "edu", edu_cases);
