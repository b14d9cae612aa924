// SPDX-License-Identifier: BSD-2-Clause
/*
 * PSCI calls (Arm Power State Coordination Interface, SMC Calling
 * Convention): function id in w0, arguments in x1-x3, result in x0. The
 * conduit is whatever the device tree's /psci node says: hvc when the
 * kernel runs at EL1 under a hypervisor or QEMU's built-in firmware, smc
 * when EL2 exists (virtualization=on) and firmware sits at EL3 or is
 * emulated there. Never assumed.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/platform/platform.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/printk.h"

#define PSCI_NOT_SUPPORTED (-1)
#define PSCI_SYSTEM_OFF	   0x84000008
#define PSCI_SYSTEM_RESET  0x84000009

int64_t aarch64_psci_call(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;
	/* SMCCC 1.0 lets the callee clobber x4-x17 as well. */
	switch (fdt_platform.psci) {
	case PSCI_HVC:
		__asm__ __volatile__("hvc #0"
				     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
				     :
				     : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",
				       "x13", "x14", "x15", "x16", "x17", "memory");
		break;
	case PSCI_SMC:
		__asm__ __volatile__("smc #0"
				     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
				     :
				     : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",
				       "x13", "x14", "x15", "x16", "x17", "memory");
		break;
	default:
		return PSCI_NOT_SUPPORTED;
	}
	return (int64_t)x0;
}

const char *aarch64_psci_error(int64_t err)
{
	static const char *const names[] = {
	    "SUCCESS",	  "NOT_SUPPORTED",    "INVALID_PARAMETERS", "DENIED",	"ALREADY_ON",
	    "ON_PENDING", "INTERNAL_FAILURE", "NOT_PRESENT",	    "DISABLED", "INVALID_ADDRESS",
	};
	if (err <= 0 && -err < (int64_t)(sizeof(names) / sizeof(names[0])))
		return names[-err];
	return "unknown error";
}

bool psci_cpu_start(unsigned cpu, uint64_t mpidr, phys_addr_t boot)
{
	if (fdt_platform.psci == PSCI_NONE) {
		printk("smp: cpu%u (MPIDR %#lx): no PSCI in the device tree to start it", cpu,
		       (unsigned long)mpidr);
		return false;
	}
	int64_t ret = aarch64_psci_call(fdt_platform.psci_cpu_on, mpidr,
					arch_virt_to_phys(secondary_entry), boot);
	if (ret != 0) {
		printk("smp: cpu%u (MPIDR %#lx): PSCI CPU_ON failed: %ld (%s)", cpu,
		       (unsigned long)mpidr, (long)ret, aarch64_psci_error(ret));
		return false;
	}
	return true;
}

void psci_poweroff(void)
{
	printk("power: powering off (PSCI SYSTEM_OFF)");
	int64_t err = aarch64_psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	printk("power: PSCI SYSTEM_OFF returned %s", aarch64_psci_error(err));
}

void psci_reset(void)
{
	printk("power: resetting (PSCI SYSTEM_RESET)");
	int64_t err = aarch64_psci_call(PSCI_SYSTEM_RESET, 0, 0, 0);
	printk("power: PSCI SYSTEM_RESET returned %s", aarch64_psci_error(err));
}
