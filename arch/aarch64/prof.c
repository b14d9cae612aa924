// SPDX-License-Identifier: BSD-2-Clause
/*
 * The profiler's leaf test on aarch64 (kernel/arch.h arch_prof_leaf_return).
 * A `BL` sets x30 to the address after it, and a function that calls
 * nothing never changes it; one that does saves it first and then gets
 * x30 pointing into itself. So x30 is taken as the return address when the
 * instruction before it is a BL whose target is the interrupted function.
 */
#include "kernel/arch.h"
#include "kernel/entry.h"

#define BL_MASK	  0xfc000000u
#define BL_OPCODE 0x94000000u

virt_addr_t arch_prof_leaf_return(const struct tick_site *site, virt_addr_t fn)
{
	virt_addr_t ret = site->lr;
	if (ret % 4 || ret < (virt_addr_t)__text_start + 4 || ret > (virt_addr_t)__text_end)
		return 0;
	uint32_t insn = *(const uint32_t *)(ret - 4);
	if ((insn & BL_MASK) != BL_OPCODE)
		return 0;
	/* imm26, in instructions, signed, from the BL itself. */
	int64_t offset = (int64_t)((uint64_t)(insn & 0x03ffffffu) << 38) >> 36;
	return ret - 4 + (virt_addr_t)offset == fn ? ret : 0;
}
