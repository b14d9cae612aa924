// SPDX-License-Identifier: BSD-2-Clause
/*
 * The profiler's leaf test on x86-64 (kernel/arch.h arch_prof_leaf_return).
 * A `call rel32` (E8 and a 32-bit displacement from the next instruction)
 * pushes the address after it; until the callee pushes anything, that is
 * the word at rsp. A word there that is an address in text right after an
 * E8 whose displacement lands on the interrupted function is taken as its
 * return address; anything else (a saved register, a local, a stale
 * return address left in an alignment slot) is not.
 */
#include "kernel/arch.h"
#include "kernel/entry.h"

#define CALL_REL32 0xe8
#define CALL_LEN   5

virt_addr_t arch_prof_leaf_return(const struct tick_site *site, virt_addr_t fn)
{
	virt_addr_t ret = *(const virt_addr_t *)site->sp;
	if (ret < (virt_addr_t)__text_start + CALL_LEN || ret > (virt_addr_t)__text_end)
		return 0;
	const uint8_t *call = (const uint8_t *)(ret - CALL_LEN);
	if (call[0] != CALL_REL32)
		return 0;
	int32_t disp;
	__builtin_memcpy(&disp, call + 1, sizeof(disp)); /* unaligned */
	return ret + (virt_addr_t)(int64_t)disp == fn ? ret : 0;
}
