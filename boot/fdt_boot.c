// SPDX-License-Identifier: BSD-2-Clause
/*
 * fdt_boot_parse(): turns the device tree the aarch64 firmware handed us
 * into struct boot_info (memory, reserved ranges, command line, CPUs) and
 * struct fdt_platform (PSCI, GIC, timer, console UART). The PCIe host
 * bridge is the PCI layer's to read (kernel/pci/pci.c), from boot_info.dtb.
 *
 * The blob is validated whole by fdt_check before anything is read, so a
 * corrupt blob panics with fdt_check's message ("fdt_boot_parse: fdt:
 * header: magic ..."). Semantic problems (a memory node without reg, a CPU
 * with a bad MPIDR, no GIC) panic in the same shape, naming the node path
 * and property: "fdt_boot_parse: fdt: node /cpus/cpu@1: property 'reg': ...".
 * Optional things (a UART, PSCI when every CPU uses spin tables) are
 * left zero with a log line instead.
 *
 * Under UEFI (boot_info.efi_memory_map set by efi_boot_parse first) the
 * memory map and the command line are the EFI stub's: /memory nodes and
 * /chosen/bootargs are ignored, reservations and the blob still count.
 *
 * Invariants: runs once, on the boot CPU, before any other CPU is started;
 * every value in fdt_platform comes from the blob (nothing assumed from
 * the machine model); the blob itself is reserved so the allocator never
 * hands it out while it is still referenced by boot_info.dtb. Device `reg`
 * values (console, interrupt controller, PM watchdog) are translated
 * through their buses' `ranges` (lib/fdt_ranges.c): on QEMU virt they sit
 * under the root and are CPU addresses already, on the Raspberry Pi they
 * sit under /soc at VideoCore bus addresses.
 *
 * The Raspberry Pi 3 has no GIC: its interrupt controller is the BCM2836
 * ARM local block ("brcm,bcm2836-l1-intc"), recorded as gic_version 0 with
 * the timer's interrupts as that block's per-core timer lines (0-3).
 */
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"
#include "lib/fdt.h"
#include "lib/fmt.h"
#include "lib/string.h"

struct fdt_platform fdt_platform;

/* Never read more than this from the address the firmware gave us. */
#define FDT_BOOT_MAX_SIZE MiB(2)
/* PSCI 0.2+ CPU_ON, SMC64 calling convention. */
#define PSCI_CPU_ON_64 0xC4000003u
/* MPIDR_EL1 affinity fields Aff3 (39:32) and Aff2..Aff0 (23:0), as cpu reg encodes them. */
#define MPIDR_AFF_MASK 0xff00ffffffull
#define SRC_MAX	       96

/* Panics with err's message; err came from a lib/fdt lookup. */
static __noreturn void die_err(const struct fdt_error *err)
{
	panic("fdt_boot_parse: %s", err->message);
}

/* Panics naming `node` and `prop` (either may be absent: -1 / NULL). */
static __noreturn void die(const struct fdt *f, int node, const char *prop, const char *fmt, ...)
    __printf(4, 5);
static __noreturn void die(const struct fdt *f, int node, const char *prop, const char *fmt, ...)
{
	struct fdt_error err;
	char what[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* A quoted property value may hold anything: the panic stays one line. */
	for (char *c = what; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	fdt_error_set(&err, FDT_ERR_BADVALUE, f, node, prop, what);
	die_err(&err);
}

/* A string property: NULL when absent, a panic when present but not a string. */
static const char *opt_string(const struct fdt *f, int node, const char *name)
{
	struct fdt_prop p;
	const char *s;
	if (fdt_get_prop(f, node, name, &p) != FDT_OK)
		return NULL;
	s = fdt_prop_string(f, node, name);
	if (!s)
		die(f, node, name, "not a NUL-terminated string (length %u)", p.len);
	return s;
}

/* "fdt <path>" for boot_info's source arguments. */
static const char *source(const struct fdt *f, int node, char buf[SRC_MAX])
{
	char path[SRC_MAX - 4];
	fdt_node_path(f, node, path, sizeof(path));
	snprintf(buf, SRC_MAX, "fdt %s", path);
	return buf;
}

/* A range from `prop` of `node`: panics when it wraps past 2^64. */
static void check_range(const struct fdt *f, int node, const char *prop, uint64_t base,
			uint64_t size)
{
	if (size && base + size - 1 < base)
		die(f, node, prop, "range 0x%llx + 0x%llx wraps", (unsigned long long)base,
		    (unsigned long long)size);
}

/*
 * Entry `index` of reg as a CPU physical address; panics when reg is
 * missing, malformed or too short, or a bus above cannot translate it.
 */
static void reg_entry(const struct fdt *f, int node, unsigned index, uint64_t *base, uint64_t *size)
{
	struct fdt_error err;
	if (fdt_reg_get(f, node, index, base, size, &err) != FDT_OK ||
	    fdt_translate(f, node, *base, *size, base, &err) != FDT_OK)
		die_err(&err);
	check_range(f, node, "reg", *base, *size);
}

/* The first node with status okay compatible with one of `compat`, tried in order. */
static int find_okay(const struct fdt *f, const char *const *compat, unsigned n, unsigned *which)
{
	unsigned i;
	int node;
	for (i = 0; i < n; i++) {
		for (node = fdt_find_compatible(f, -1, compat[i]); node >= 0;
		     node = fdt_find_compatible(f, node, compat[i])) {
			if (fdt_node_okay(f, node)) {
				if (which)
					*which = i;
				return node;
			}
		}
	}
	return FDT_ERR_NOTFOUND;
}

/* ---- Memory and reservations ---------------------------------------------------- */

static void parse_memory(const struct fdt *f, phys_addr_t dtb)
{
	char src[SRC_MAX];
	struct fdt_error err;
	struct fdt_reg reg;
	uint64_t base, size, total = 0;
	unsigned regions = 0, reserved = 0, i;
	int root = fdt_root(f), node, rmem;
	const char *type;

	fdt_for_each_child(f, root, node)
	{
		if (boot_info.efi_memory_map)
			break; /* UEFI: the EFI memory map is the truth (efi_boot_parse) */
		type = opt_string(f, node, "device_type");
		if (!type || strcmp(type, "memory") != 0 || !fdt_node_okay(f, node))
			continue;
		if (fdt_reg_init(f, node, &reg, &err) != FDT_OK)
			die_err(&err);
		if (fdt_reg_count(&reg) == 0)
			die(f, node, "reg", "empty");
		source(f, node, src);
		while (fdt_reg_next(&reg, &base, &size)) {
			if (!size)
				continue;
			check_range(f, node, "reg", base, size);
			boot_info_add_mem(base, size, BOOT_MEM_USABLE, src);
			regions++;
			total += size;
		}
	}
	if (!regions && !boot_info.efi_memory_map)
		die(f, root, NULL, "no memory node (device_type \"memory\") with a non-empty reg");

	for (i = 0; fdt_rsv_get(f, i, &base, &size); i++) {
		if (!size)
			continue;
		boot_info_add_reserved(base, size, "fdt /memreserve/");
		reserved++;
	}
	rmem = fdt_find_path(f, "/reserved-memory");
	if (rmem >= 0) {
		fdt_for_each_child(f, rmem, node)
		{
			struct fdt_prop p;
			if (!fdt_node_okay(f, node) || fdt_get_prop(f, node, "reg", &p) != FDT_OK)
				continue; /* dynamic (size/alloc-ranges) regions are not ours to
					     place */
			if (fdt_reg_init(f, node, &reg, &err) != FDT_OK)
				die_err(&err);
			source(f, node, src);
			while (fdt_reg_next(&reg, &base, &size)) {
				if (!size)
					continue;
				check_range(f, node, "reg", base, size);
				boot_info_add_reserved(base, size, src);
				reserved++;
			}
		}
	}
	boot_info_add_reserved(dtb, f->totalsize, "fdt blob");

	if (boot_info.efi_memory_map)
		printk("fdt: memory: from the EFI map (/memory ignored); %u reserved range(s) + "
		       "the blob",
		       reserved);
	else
		printk("fdt: memory: %u region(s), %llu MiB; %u reserved range(s) + the blob",
		       regions, (unsigned long long)(total >> 20), reserved);
}

/* ---- /chosen and the console ------------------------------------------------------ */

static void parse_chosen(const struct fdt *f)
{
	static const char *const pl011[] = {"arm,pl011"};
	const char *args = NULL, *out = NULL, *colon;
	int chosen = fdt_find_path(f, "/chosen"), node = FDT_ERR_NOTFOUND;
	uint64_t base, size;
	size_t len;

	if (chosen >= 0) {
		args = opt_string(f, chosen, "bootargs");
		out = opt_string(f, chosen, "stdout-path");
		if (!out)
			out = opt_string(f, chosen, "linux,stdout-path");
	}
	if (boot_info.efi_memory_map)
		args = NULL; /* UEFI: the command line is the stub's, from LoadOptions */
	if (args && strlcpy(boot_info.cmdline, args, sizeof(boot_info.cmdline)) >=
			sizeof(boot_info.cmdline))
		printk("fdt: /chosen/bootargs truncated to %u bytes",
		       (unsigned)sizeof(boot_info.cmdline) - 1);

	/* "serial0:115200n8": the path (or alias) ends at the first ':'. */
	if (out) {
		colon = strchr(out, ':');
		len = colon ? (size_t)(colon - out) : strlen(out);
		node = fdt_find_path_n(f, out, len);
		if (node < 0)
			printk("fdt: uart: stdout-path \"%s\" names no node", out);
		else if (!fdt_is_compatible(f, node, "arm,pl011"))
			node = FDT_ERR_NOTFOUND;
	}
	if (node < 0)
		node = find_okay(f, pl011, 1, NULL);
	if (node < 0) {
		printk("fdt: uart: no arm,pl011 node");
		return;
	}
	reg_entry(f, node, 0, &base, &size);
	fdt_platform.uart_base = base;
	fdt_platform.uart_size = size;
	fdt_node_path(f, node, fdt_platform.stdout_path, sizeof(fdt_platform.stdout_path));
	printk("fdt: uart: pl011 %s at 0x%llx%s", fdt_platform.stdout_path,
	       (unsigned long long)base, out ? "" : " (no stdout-path)");
}

/*
 * The clock rate the tree states for `node`: the clock-frequency of the
 * fixed-clock its first `clocks` phandle names, through the AUX block (a
 * gate: the mini UART runs at its parent's rate). 0 for any other
 * provider: a PLL or divider (the Pis' cprman, the firmware's clock
 * driver) computes its rate, which the tree does not state.
 */
static uint32_t stated_clock_hz(const struct fdt *f, int node)
{
	struct fdt_prop p;
	uint32_t hz;
	for (unsigned hop = 0; hop < 2; hop++) {
		if (fdt_get_prop(f, node, "clocks", &p) != FDT_OK || p.len < 4)
			return 0;
		node = fdt_node_by_phandle(f, fdt_be32(p.data));
		if (node < 0)
			return 0;
		if (fdt_is_compatible(f, node, "fixed-clock"))
			return fdt_prop_u32(f, node, "clock-frequency", &hz) ? hz : 0;
		if (!fdt_is_compatible(f, node, "brcm,bcm2835-aux"))
			return 0;
	}
	return 0;
}

/*
 * The first okay node compatible with one of `compat` (*node, negative for
 * none) and its reg entry 0 translated; 0 when that fails, logged naming
 * the node and `what` is then missing. For optional devices only.
 */
static phys_addr_t optional_reg(const struct fdt *f, const char *const *compat, unsigned n,
				const char *what, int *node, uint64_t *size)
{
	struct fdt_error err;
	uint64_t base;
	*node = find_okay(f, compat, n, NULL);
	if (*node < 0)
		return 0;
	if (fdt_reg_get(f, *node, 0, &base, size, &err) != FDT_OK ||
	    fdt_translate(f, *node, base, *size, &base, &err) != FDT_OK) {
		printk("%s; no %s", err.message, what);
		return 0;
	}
	return base;
}

/*
 * The Raspberry Pis' mini UART (what a Pi's header pins carry with
 * enable_uart=1 and Bluetooth on the PL011). Optional: absent or
 * malformed, the console is the PL011 alone, said in one line.
 */
static void parse_aux_uart(const struct fdt *f)
{
	static const char *const uart_compat[] = {"brcm,bcm2835-aux-uart"};
	static const char *const aux_compat[] = {"brcm,bcm2835-aux"};
	uint64_t size;
	int node, aux;
	phys_addr_t uart = optional_reg(f, uart_compat, 1, "mini UART", &node, &size);
	if (!uart)
		return;
	phys_addr_t block = optional_reg(f, aux_compat, 1, "mini UART", &aux, &size);
	if (aux < 0)
		printk("fdt: aux-uart: no okay brcm,bcm2835-aux block (AUXENB); no mini UART");
	if (!block)
		return;
	fdt_platform.aux_uart_base = uart;
	fdt_platform.aux_base = block;
	fdt_platform.aux_uart_clock_hz = stated_clock_hz(f, node);
	printk("fdt: aux-uart: mini UART at 0x%llx, AUX at 0x%llx, clock %s",
	       (unsigned long long)uart, (unsigned long long)block,
	       fdt_platform.aux_uart_clock_hz ? "stated" : "not stated");
}

/* ---- PSCI and CPUs ---------------------------------------------------------------- */

static void parse_psci(const struct fdt *f)
{
	static const char *const compat[] = {"arm,psci-1.0", "arm,psci-0.2", "arm,psci"};
	struct fdt_prop p;
	const char *method;
	unsigned which;
	int node = find_okay(f, compat, ARRAY_SIZE(compat), &which);

	if (node < 0) {
		printk("fdt: psci: none");
		return;
	}
	method = opt_string(f, node, "method");
	if (!method)
		die(f, node, "method", "missing");
	if (strcmp(method, "hvc") == 0)
		fdt_platform.psci = PSCI_HVC;
	else if (strcmp(method, "smc") == 0)
		fdt_platform.psci = PSCI_SMC;
	else
		die(f, node, "method", "\"%s\" is neither \"hvc\" nor \"smc\"", method);
	fdt_platform.psci_cpu_on = PSCI_CPU_ON_64;
	if (fdt_get_prop(f, node, "cpu_on", &p) == FDT_OK &&
	    !fdt_prop_u32(f, node, "cpu_on", &fdt_platform.psci_cpu_on))
		die(f, node, "cpu_on", "length %u, expected one cell", p.len);
	printk("fdt: psci: %s via %s, cpu_on 0x%x", compat[which], method,
	       fdt_platform.psci_cpu_on);
}

static const char *const enable_names[] = {"none", "psci", "spin-table"};

/*
 * The enable-method of a secondary CPU; CPU_ENABLE_NONE (logged) when it
 * cannot be started. Spin tables also give their release address.
 */
static enum cpu_enable_method cpu_method(const struct fdt *f, int node, uint64_t *release)
{
	const char *m = opt_string(f, node, "enable-method");
	char path[64];

	fdt_node_path(f, node, path, sizeof(path));
	if (!m) {
		printk("fdt: cpus: %s has no enable-method; not started", path);
		return CPU_ENABLE_NONE;
	}
	if (strcmp(m, "psci") == 0) {
		if (fdt_platform.psci == PSCI_NONE)
			die(f, node, "enable-method", "\"psci\" but no PSCI node");
		return CPU_ENABLE_PSCI;
	}
	if (strcmp(m, "spin-table") == 0) {
		if (!fdt_prop_u64(f, node, "cpu-release-addr", release))
			die(f, node, "cpu-release-addr",
			    "missing or not 1-2 cells (enable-method is spin-table)");
		if (!*release)
			die(f, node, "cpu-release-addr", "is 0");
		return CPU_ENABLE_SPIN_TABLE;
	}
	printk("fdt: cpus: %s: unknown enable-method \"%s\"; not started", path, m);
	return CPU_ENABLE_NONE;
}

static void parse_cpus(const struct fdt *f, uint64_t boot_mpidr)
{
	struct {
		uint64_t mpidr, release;
	} spin[CPU_MAX];
	unsigned ac, sc, count = 0, skipped = 0, nr_spin = 0, i, j;
	struct fdt_error err;
	struct fdt_reg reg;
	uint64_t mpidr, size, release;
	enum cpu_enable_method m;
	bool boot_seen = false, is_boot;
	int cpus = fdt_find_path(f, "/cpus"), node;
	const char *type;

	if (cpus < 0)
		die(f, -1, NULL, "no /cpus node");
	if (fdt_parent_cells(f, cpus, &ac, &sc, &err) != FDT_OK)
		die_err(&err);
	if (ac < 1 || ac > 2)
		die(f, cpus, "#address-cells", "%u, expected 1 or 2", ac);
	boot_mpidr &= MPIDR_AFF_MASK;

	fdt_for_each_child(f, cpus, node)
	{
		type = opt_string(f, node, "device_type");
		if (!type || strcmp(type, "cpu") != 0)
			continue; /* cpu-map and friends */
		if (fdt_reg_init(f, node, &reg, &err) != FDT_OK)
			die_err(&err);
		if (!fdt_reg_next(&reg, &mpidr, &size))
			die(f, node, "reg", "empty");
		if (mpidr & ~MPIDR_AFF_MASK)
			die(f, node, "reg", "0x%llx has bits outside the MPIDR affinity fields",
			    (unsigned long long)mpidr);
		is_boot = mpidr == boot_mpidr;
		if (is_boot && boot_seen)
			die(f, node, "reg", "boot CPU MPIDR 0x%llx listed twice",
			    (unsigned long long)mpidr);
		for (i = 0; i < boot_info.nr_cpus && i < CPU_MAX; i++)
			if (boot_info.cpus[i].hw_id == mpidr)
				die(f, node, "reg", "MPIDR 0x%llx listed twice",
				    (unsigned long long)mpidr);
		if (!is_boot) {
			if (!fdt_node_okay(f, node)) {
				skipped++;
				continue;
			}
			release = 0;
			m = cpu_method(f, node, &release);
			if (m == CPU_ENABLE_NONE) {
				skipped++;
				continue;
			}
			if (fdt_platform.cpu_enable == CPU_ENABLE_NONE)
				fdt_platform.cpu_enable = m;
			if (m == CPU_ENABLE_SPIN_TABLE && nr_spin < CPU_MAX) {
				spin[nr_spin].mpidr = mpidr;
				spin[nr_spin].release = release;
				nr_spin++;
			}
		}
		boot_seen |= is_boot;
		boot_info_add_cpu(mpidr, is_boot);
		count++;
	}
	if (!boot_seen)
		die(f, cpus, NULL, "the boot CPU (MPIDR 0x%llx) is not listed",
		    (unsigned long long)boot_mpidr);

	/* Match by MPIDR: boot_info decides the index each CPU gets. */
	for (j = 0; j < nr_spin; j++)
		for (i = 0; i < boot_info.nr_cpus && i < ARRAY_SIZE(fdt_platform.cpu_release_addr);
		     i++)
			if (boot_info.cpus[i].hw_id == spin[j].mpidr)
				fdt_platform.cpu_release_addr[i] = spin[j].release;

	printk("fdt: cpus: %u (boot MPIDR 0x%llx), secondaries via %s, %u skipped", count,
	       (unsigned long long)boot_mpidr, enable_names[fdt_platform.cpu_enable], skipped);
}

/* ---- GIC and timer ------------------------------------------------------------------- */

/* The node that `node`'s interrupts go to: the nearest interrupt-parent, followed. */
static int interrupt_parent(const struct fdt *f, int node)
{
	struct fdt_prop p;
	uint32_t phandle;
	int n, target;
	for (n = node; n >= 0; n = fdt_parent(f, n)) {
		if (fdt_get_prop(f, n, "interrupt-parent", &p) != FDT_OK)
			continue;
		if (!fdt_prop_u32(f, n, "interrupt-parent", &phandle))
			die(f, n, "interrupt-parent", "length %u, expected one cell", p.len);
		target = fdt_node_by_phandle(f, phandle);
		if (target < 0)
			die(f, n, "interrupt-parent", "phandle 0x%x matches no node", phandle);
		return target;
	}
	die(f, node, "interrupt-parent", "missing here and in every ancestor");
}

/*
 * The timer's lines on the BCM2836 local controller: two-cell specifiers
 * <line flags>, line 0-3 = the per-core CNTPS, CNTPNS, CNTHP, CNTV inputs.
 * Stored where a GIC's PPI numbers go: the local driver maps "PPI" n to
 * timer line n.
 */
/*
 * Opens the timer `node`'s interrupts as specifiers of `cells` cells for
 * the controller `ic` (`what` names that kind in the panic); at least the
 * three the kernel reads: secure physical, non-secure physical, virtual.
 */
static void timer_specifiers(const struct fdt *f, int node, int ic, uint32_t cells,
			     const char *what, struct fdt_cells *c)
{
	struct fdt_error err;
	uint32_t icells;
	if (!fdt_prop_u32(f, ic, "#interrupt-cells", &icells) || icells != cells)
		die(f, ic, "#interrupt-cells", "missing or not %u (%s)", cells, what);
	if (fdt_prop_cells(f, node, "interrupts", cells, c, &err) != FDT_OK)
		die_err(&err);
	if (fdt_cells_left(c) < 3 * cells)
		die(f, node, "interrupts", "%u entries, need at least 3",
		    fdt_cells_left(c) / cells);
}

static void parse_local_timer(const struct fdt *f, int node, int ic)
{
	struct fdt_cells c;
	uint64_t num[3], flags;
	unsigned i;

	if (!fdt_is_compatible(f, ic, "brcm,bcm2836-l1-intc"))
		die(f, node, "interrupt-parent", "is not the brcm,bcm2836-l1-intc");
	timer_specifiers(f, node, ic, 2, "a local-controller specifier", &c);
	for (i = 0; i < 3; i++) {
		fdt_cells_read(&c, 1, &num[i]);
		fdt_cells_read(&c, 1, &flags);
		if (num[i] >= 4)
			die(f, node, "interrupts", "entry %u: line %llu is not a timer line (0-3)",
			    i, (unsigned long long)num[i]);
	}
	fdt_platform.timer_ppi_phys = (unsigned)num[1];
	fdt_platform.timer_ppi_virt = (unsigned)num[2];
}

static void parse_timer(const struct fdt *f)
{
	static const char *const compat[] = {"arm,armv8-timer", "arm,armv7-timer"};
	struct fdt_cells c;
	uint64_t type[3], num[3], flags;
	unsigned i;
	int node = find_okay(f, compat, ARRAY_SIZE(compat), NULL), ic;

	if (node < 0)
		die(f, -1, NULL, "no arm,armv8-timer node");
	ic = interrupt_parent(f, node);
	if (fdt_platform.gic_version == 0) {
		parse_local_timer(f, node, ic);
		return;
	}
	/* secure physical, non-secure physical, virtual[, hypervisor] */
	timer_specifiers(f, node, ic, 3, "a GIC specifier", &c);
	for (i = 0; i < 3; i++) {
		fdt_cells_read(&c, 1, &type[i]);
		fdt_cells_read(&c, 1, &num[i]);
		fdt_cells_read(&c, 1, &flags);
		if (type[i] != 1 || num[i] >= 16)
			die(f, node, "interrupts", "entry %u (type %llu, number %llu) is not a PPI",
			    i, (unsigned long long)type[i], (unsigned long long)num[i]);
	}
	fdt_platform.timer_ppi_phys = (unsigned)num[1];
	fdt_platform.timer_ppi_virt = (unsigned)num[2];
}

/*
 * The first okay MSI target compatible with `compat` (a GICv2m frame, a
 * GICv3 ITS): its first reg entry, `align`ed and at least `min_size`
 * long, and its phandle (0 when it has none). Optional: a malformed one is
 * reported on one line and left out (PCI devices then use INTx), never a
 * panic. Its node when *base was set, else a negative value.
 */
static int parse_msi_target(const struct fdt *f, const char *compat, const char *what,
			    uint64_t align, uint64_t min_size, phys_addr_t *base_out,
			    uint64_t *size_out, uint32_t *phandle)
{
	struct fdt_error err;
	uint64_t base, size;
	char path[64];
	int node = find_okay(f, &compat, 1, NULL);
	if (node < 0)
		return node;
	if (fdt_reg_get(f, node, 0, &base, &size, &err) != FDT_OK) {
		printk("%s; no %s", err.message, what);
		return FDT_ERR_NOTFOUND;
	}
	fdt_node_path(f, node, path, sizeof(path));
	if (!base || base % align || (min_size && size < min_size)) {
		printk("fdt: node %s: property 'reg': frame %#llx+%#llx is not a non-zero "
		       "multiple of %llu KiB of at least %llu KiB; no %s",
		       path, (unsigned long long)base, (unsigned long long)size,
		       (unsigned long long)(align >> 10), (unsigned long long)(min_size >> 10),
		       what);
		return FDT_ERR_NOTFOUND;
	}
	if (phandle && !fdt_prop_u32(f, node, "phandle", phandle) &&
	    !fdt_prop_u32(f, node, "linux,phandle", phandle))
		*phandle = 0;
	*base_out = base;
	*size_out = size;
	return node;
}

/* An ITS that says it is no MSI controller, or has no phandle for msi-map, is not used. */
static void parse_its(const struct fdt *f)
{
	phys_addr_t base;
	uint64_t size;
	uint32_t phandle;
	struct fdt_prop p;
	char path[64];
	int node = parse_msi_target(f, "arm,gic-v3-its", "GICv3 ITS", KiB(64), KiB(128), &base,
				    &size, &phandle);
	if (node < 0)
		return;
	fdt_node_path(f, node, path, sizeof(path));
	if (fdt_get_prop(f, node, "msi-controller", &p) != FDT_OK || !phandle) {
		printk("fdt: node %s: property '%s': missing; no GICv3 ITS", path,
		       phandle ? "msi-controller" : "phandle");
		return;
	}
	fdt_platform.its_base = base;
	fdt_platform.its_size = size;
	fdt_platform.its_phandle = phandle;
}

static void parse_gic(const struct fdt *f)
{
	static const char *const v3[] = {"arm,gic-v3"};
	static const char *const v2[] = {"arm,cortex-a15-gic", "arm,gic-400", "arm,cortex-a9-gic"};
	static const char *const l1[] = {"brcm,bcm2836-l1-intc"};
	struct fdt_error err;
	struct fdt_reg reg;
	int node = find_okay(f, v3, 1, NULL);
	uint64_t b0, s0, b1, s1;

	fdt_platform.gic_version = 3;
	if (node < 0) {
		node = find_okay(f, v2, ARRAY_SIZE(v2), NULL);
		fdt_platform.gic_version = 2;
	}
	if (node < 0 && (node = find_okay(f, l1, 1, NULL)) >= 0) {
		fdt_platform.gic_version = 0;
		reg_entry(f, node, 0, &b0, &s0);
		fdt_platform.local_intc_base = b0;
		fdt_platform.local_intc_size = s0;
		parse_timer(f);
		printk("fdt: irq: bcm2836 local controller 0x%llx; timer line phys %u virt %u",
		       (unsigned long long)b0, fdt_platform.timer_ppi_phys,
		       fdt_platform.timer_ppi_virt);
		return;
	}
	if (node < 0)
		die(f, -1, NULL,
		    "no interrupt controller (arm,gic-v3, arm,cortex-a15-gic, arm,gic-400, "
		    "arm,cortex-a9-gic or brcm,bcm2836-l1-intc)");
	if (fdt_reg_init(f, node, &reg, &err) != FDT_OK)
		die_err(&err);
	if (fdt_reg_count(&reg) < 2)
		die(f, node, "reg", "needs 2 entries (distributor and %s), has %u",
		    fdt_platform.gic_version == 3 ? "redistributors" : "CPU interface",
		    fdt_reg_count(&reg));
	reg_entry(f, node, 0, &b0, &s0);
	reg_entry(f, node, 1, &b1, &s1);
	fdt_platform.gicd_base = b0;
	fdt_platform.gicd_size = s0;
	if (fdt_platform.gic_version == 3) {
		fdt_platform.gicr_base = b1;
		fdt_platform.gicr_size = s1;
		parse_its(f);
	} else {
		fdt_platform.gicc_base = b1;
		fdt_platform.gicc_size = s1;
		parse_msi_target(f, "arm,gic-v2m-frame", "GICv2m MSI", KiB(4), 0,
				 &fdt_platform.v2m_base, &fdt_platform.v2m_size, NULL);
	}
	parse_timer(f);
	printk("fdt: gic: v%u gicd 0x%llx %s 0x%llx; timer PPI phys %u virt %u",
	       fdt_platform.gic_version, (unsigned long long)b0,
	       fdt_platform.gic_version == 3 ? "gicr" : "gicc", (unsigned long long)b1,
	       fdt_platform.timer_ppi_phys, fdt_platform.timer_ppi_virt);
}

/* The root's first compatible string: what the board code is chosen by. */
static void parse_model(const struct fdt *f)
{
	const char *c = opt_string(f, fdt_root(f), "compatible");
	struct fdt_prop p;
	uint32_t len = 0;
	strlcpy(fdt_platform.board, c ? c : "", sizeof(fdt_platform.board));
	if (c && fdt_get_prop(f, fdt_root(f), "compatible", &p) == FDT_OK) {
		/* Whole strings only: a cut one could match a shorter name. */
		for (uint32_t i = 0; i < p.len && i < sizeof(fdt_platform.board_compat); i++)
			if (c[i] == 0)
				len = i + 1;
		memcpy(fdt_platform.board_compat, c, len);
	}
	fdt_platform.board_compat_len = len;
}

/*
 * The BCM2835 power manager and watchdog (reset and power-off on the
 * Raspberry Pis) and the VideoCore mailbox (the framebuffer). Optional:
 * without the PM, reset and power-off use PSCI (or halt); without the
 * mailbox there is no screen console. Malformed: one line each.
 */
static void parse_bcm2835(const struct fdt *f)
{
	static const char *const pm[] = {"brcm,bcm2835-pm-wdt", "brcm,bcm2835-pm"};
	static const char *const mbox[] = {"brcm,bcm2835-mbox"};
	uint64_t size;
	int node;
	phys_addr_t base = optional_reg(f, pm, ARRAY_SIZE(pm), "PM watchdog", &node, &size);
	if (base) {
		fdt_platform.pm_base = base;
		fdt_platform.pm_size = size;
		printk("fdt: PM watchdog at 0x%llx", (unsigned long long)base);
	}
	base = optional_reg(f, mbox, ARRAY_SIZE(mbox), "VideoCore mailbox", &node, &size);
	if (base) {
		fdt_platform.mbox_base = base;
		fdt_platform.mbox_size = size;
		printk("fdt: VideoCore mailbox at 0x%llx", (unsigned long long)base);
	}
}

void fdt_boot_parse(phys_addr_t dtb, uint64_t boot_mpidr)
{
	static struct fdt f; /* kept off the early boot stack */
	struct fdt_error err;
	const void *blob;
	uint64_t avail;

	if (!dtb)
		panic("fdt_boot_parse: no device tree (address 0)");
	blob = arch_phys_to_virt(dtb);
	/*
	 * Read only what the header claims, capped; with a bad magic the
	 * header alone is enough for fdt_check to say so.
	 */
	avail = MIN(MAX((uint64_t)fdt_peek_totalsize(blob), (uint64_t)FDT_HEADER_SIZE),
		    FDT_BOOT_MAX_SIZE);
	if (fdt_init(&f, blob, (size_t)avail, &err) != FDT_OK)
		panic("fdt_boot_parse: %s", err.message);

	memset(&fdt_platform, 0, sizeof(fdt_platform));
	boot_info.dtb = dtb;
	boot_info.dtb_size = f.totalsize;

	parse_model(&f);
	parse_memory(&f, dtb);
	parse_chosen(&f);
	parse_aux_uart(&f);
	parse_psci(&f);
	parse_cpus(&f, boot_mpidr);
	parse_gic(&f);
	parse_bcm2835(&f);
}
