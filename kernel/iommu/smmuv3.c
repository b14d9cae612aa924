// SPDX-License-Identifier: BSD-2-Clause
/* Placeholder until the SMMUv3 driver lands (issue 13): finds nothing. */
#include "kernel/iommu/iommu.h"

void smmuv3_probe(void)
{
}
