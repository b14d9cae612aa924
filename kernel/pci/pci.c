// SPDX-License-Identifier: BSD-2-Clause
/*
 * The PCI layer at run time: finding the host bridge (ACPI MCFG or the
 * device tree, decoded by host.c), config-space access through the mapped
 * ECAM window, the bus scan that fills the device table (with each
 * device's MSI capability and INTx route), and the calls a driver makes
 * (find, enable, map a BAR). BAR sizing and assignment are in bar.c,
 * interrupts in msi.c and intx.c.
 *
 * Invariants: the ECAM window is mapped once and covers exactly the buses
 * [bus_start, bus_end]; config addresses are computed only through
 * cfg_addr(), which refuses anything outside it; the device table is
 * filled by pci_init() alone (boot CPU, before any driver looks); a bus is
 * scanned at most once, so a bridge loop cannot make the scan run away.
 */
#include "kernel/acpi/acpi.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/vm.h"
#include "kernel/mmio.h"
#include "kernel/pci/pci_internal.h"
#include "kernel/printk.h"
#include "lib/fdt.h"
#include "lib/fmt.h"
#include "lib/string.h"

static struct pci_host host;
static bool have_host;
static volatile uint8_t *ecam_va;
static struct pci_dev devs[PCI_DEV_MAX];
static unsigned nr_devs;
static struct pci_intx_map intx_map; /* the device-tree host's interrupt-map; n 0: none */

/* ---- Config space ------------------------------------------------------------------ */

static volatile uint8_t *cfg_addr(unsigned bus, unsigned dev, unsigned fn, unsigned off,
				  unsigned width)
{
	if (!ecam_va || bus < host.bus_start || bus > host.bus_end || dev > 31 || fn > 7 ||
	    off > 4096 - width || off % width)
		return NULL;
	return ecam_va + ((uint64_t)(bus - host.bus_start) << 20) + (dev << 15) + (fn << 12) + off;
}

uint32_t pci_raw_read(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned width)
{
	volatile uint8_t *p = cfg_addr(bus, dev, fn, off, width);
	if (!p)
		return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
	return width == 1 ? mmio_read8(p) : width == 2 ? mmio_read16(p) : mmio_read32(p);
}

void pci_raw_write(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned width,
		   uint32_t v)
{
	volatile uint8_t *p = cfg_addr(bus, dev, fn, off, width);
	if (!p)
		return;
	if (width == 2)
		mmio_write16(p, (uint16_t)v);
	else
		mmio_write32(p, v);
}

uint8_t pci_cfg_read8(const struct pci_dev *d, unsigned off)
{
	return (uint8_t)pci_raw_read(d->bus, d->dev, d->fn, off, 1);
}
uint16_t pci_cfg_read16(const struct pci_dev *d, unsigned off)
{
	return (uint16_t)pci_raw_read(d->bus, d->dev, d->fn, off, 2);
}
uint32_t pci_cfg_read32(const struct pci_dev *d, unsigned off)
{
	return pci_raw_read(d->bus, d->dev, d->fn, off, 4);
}
void pci_cfg_write16(const struct pci_dev *d, unsigned off, uint16_t v)
{
	pci_raw_write(d->bus, d->dev, d->fn, off, 2, v);
}
void pci_cfg_write32(const struct pci_dev *d, unsigned off, uint32_t v)
{
	pci_raw_write(d->bus, d->dev, d->fn, off, 4, v);
}

/* ---- Finding the host bridge ---------------------------------------------------------- */

/* The first okay pci-host-ecam-generic node of the boot device tree. 1 found, 0 none, -1 bad. */
static int host_from_dtb(struct pci_host *h, char *err, size_t n)
{
	static struct fdt f;
	struct fdt_error fe;

	if (fdt_init(&f, kva(boot_info.dtb), boot_info.dtb_size, &fe) != FDT_OK) {
		snprintf(err, n, "%s", fe.message);
		return -1;
	}
	return pci_host_from_fdt(&f, h, &intx_map, err, n);
}

/* 1 found, 0 none, -1 malformed (message in err). */
static int find_host(struct pci_host *h, char *err, size_t n)
{
	if (boot_info.acpi_rsdp) {
		const struct acpi_sdt_header *mcfg = acpi_find_table("MCFG");
		if (!mcfg)
			return 0;
		return pci_host_from_mcfg(mcfg, h, err, n) ? 1 : -1;
	}
	if (boot_info.dtb)
		return host_from_dtb(h, err, n);
	return 0;
}

/* ---- Scan ------------------------------------------------------------------------------ */

/*
 * Where the host's interrupt-map sends d's pin. Only devices on the root
 * bus: one behind a bridge would need its pin swizzled through each
 * bridge, and QEMU's machines here have none.
 */
static void route_intx(struct pci_dev *d)
{
	char err[120];
	if (!d->int_pin || !intx_map.n || d->bus != host.bus_start)
		return;
	const struct pci_intx_entry *e = pci_intx_lookup(&intx_map, d->bus, d->dev, d->fn,
							 d->int_pin);
	if (!e) {
		printk("pci: %02x:%02x.%u: INT%c# not in the host's interrupt-map", d->bus, d->dev,
		       d->fn, 'A' + d->int_pin - 1);
		return;
	}
	if (!arch_irq_from_fdt(e->spec, e->spec_cells, &d->intx_irq, &d->intx_level, err,
			       sizeof(err))) {
		printk("pci: %02x:%02x.%u: INT%c#: %s; no INTx", d->bus, d->dev, d->fn,
		       'A' + d->int_pin - 1, err);
		return;
	}
	d->intx_routed = true;
}

static void add_device(unsigned bus, unsigned dev, unsigned fn, uint32_t id)
{
	if (nr_devs == PCI_DEV_MAX) {
		printk("pci: %02x:%02x.%u: device table full (%u); ignored", bus, dev, fn,
		       PCI_DEV_MAX);
		return;
	}
	struct pci_dev *d = &devs[nr_devs++];
	uint32_t cr = pci_raw_read(bus, dev, fn, PCI_CLASS_REVISION, 4);
	*d = (struct pci_dev){.bus = (uint8_t)bus, .dev = (uint8_t)dev, .fn = (uint8_t)fn,
			      .vendor = (uint16_t)id, .device = (uint16_t)(id >> 16),
			      .class_code = cr >> 8, .revision = (uint8_t)cr};
	d->header_type = (uint8_t)pci_raw_read(bus, dev, fn, PCI_HEADER_TYPE, 1);
	unsigned type = d->header_type & 0x7f;
	pci_size_bars(d, type == 0 ? 6 : type == 1 ? 2 : 0, &host);
	d->msi_cap = (uint8_t)pci_find_cap(d, PCI_CAP_ID_MSI);
	d->msix_cap = (uint8_t)pci_find_cap(d, PCI_CAP_ID_MSIX);
	d->int_pin = (uint8_t)pci_raw_read(bus, dev, fn, PCI_INTERRUPT_PIN, 1);
	if (d->int_pin > 4)
		d->int_pin = 0;
	route_intx(d);
}

/* Scans `bus`; appends the secondary buses of bridges the firmware numbered to `queue`. */
static void scan_bus(unsigned bus, uint8_t *queue, unsigned *queued, bool *seen)
{
	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			uint32_t id = pci_raw_read(bus, dev, fn, PCI_VENDOR_ID, 4);
			if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0) {
				if (fn == 0)
					break;
				continue;
			}
			add_device(bus, dev, fn, id);
			uint8_t ht = (uint8_t)pci_raw_read(bus, dev, fn, PCI_HEADER_TYPE, 1);
			if ((ht & 0x7f) == 1) {
				unsigned sec = pci_raw_read(bus, dev, fn, PCI_SECONDARY_BUS, 1);
				if (sec > bus && sec <= host.bus_end && !seen[sec]) {
					seen[sec] = true;
					queue[(*queued)++] = (uint8_t)sec;
				} else {
					printk("pci: %02x:%02x.%u: bridge without a usable secondary "
					       "bus (%u); not followed", bus, dev, fn, sec);
				}
			}
			if (fn == 0 && !(ht & 0x80))
				break; /* not multi-function */
		}
	}
}

static void log_device(const struct pci_dev *d)
{
	char line[200];
	int len = snprintf(line, sizeof(line), "pci: %02x:%02x.%u %04x:%04x class %06x", d->bus,
			   d->dev, d->fn, d->vendor, d->device, d->class_code);
	for (unsigned i = 0; i < PCI_NR_BARS && len < (int)sizeof(line); i++) {
		const struct pci_bar *b = &d->bar[i];
		if (b->kind == PCI_BAR_NONE)
			continue;
		static const char *const kinds[] = {"", "mem32", "mem64", "io"};
		len += snprintf(line + len, sizeof(line) - (size_t)len, " BAR%u %s%s %#llx+%#llx",
				i, kinds[b->kind], b->prefetch ? "/pf" : "",
				(unsigned long long)b->addr, (unsigned long long)b->size);
	}
	if (d->msi_cap && len < (int)sizeof(line))
		len += snprintf(line + len, sizeof(line) - (size_t)len, " MSI@%#x", d->msi_cap);
	if (d->msix_cap && len < (int)sizeof(line))
		len += snprintf(line + len, sizeof(line) - (size_t)len, " MSI-X@%#x", d->msix_cap);
	if (d->intx_routed && len < (int)sizeof(line)) {
		char irq[40];
		arch_irq_describe(d->intx_irq, irq, sizeof(irq));
		snprintf(line + len, sizeof(line) - (size_t)len, " INT%c#->%s", 'A' + d->int_pin - 1,
			 irq);
	}
	printk("%s", line);
}

void pci_init(void)
{
	char err[200];
	int found = find_host(&host, err, sizeof(err));
	if (found < 0) {
		printk("pci: %s; continuing without PCI", err);
		return;
	}
	if (found == 0) {
		printk("pci: no ECAM host bridge (no MCFG table or pci-host-ecam-generic node)");
		return;
	}
	uint64_t bytes = (uint64_t)(host.bus_end - host.bus_start + 1) << 20;
	ecam_va = vm_map_mmio(host.ecam, bytes, "PCI ECAM");
	have_host = true;
	printk("pci: ECAM %#llx buses %u-%u from %s; BARs %s", (unsigned long long)host.ecam,
	       host.bus_start, host.bus_end, host.source,
	       host.assign ? "assigned here" : "as the firmware assigned them");

	static uint8_t queue[256];
	static bool seen[256];
	unsigned queued = 0;
	seen[host.bus_start] = true;
	queue[queued++] = (uint8_t)host.bus_start;
	for (unsigned i = 0; i < queued; i++)
		scan_bus(queue[i], queue, &queued, seen);
	if (host.assign)
		pci_assign_bars(devs, nr_devs, &host);
	for (unsigned i = 0; i < nr_devs; i++)
		log_device(&devs[i]);
}

/* ---- Drivers' calls ---------------------------------------------------------------------- */

const struct pci_host *pci_host(void)
{
	return have_host ? &host : NULL;
}

unsigned pci_dev_count(void)
{
	return nr_devs;
}

struct pci_dev *pci_dev_at(unsigned i)
{
	return i < nr_devs ? &devs[i] : NULL;
}

struct pci_dev *pci_find(uint16_t vendor, uint16_t device)
{
	for (unsigned i = 0; i < nr_devs; i++)
		if (devs[i].vendor == vendor && devs[i].device == device)
			return &devs[i];
	return NULL;
}

int pci_enable(struct pci_dev *d, uint16_t bits)
{
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar *b = &d->bar[i];
		bool io = b->kind == PCI_BAR_IO;
		if (b->kind != PCI_BAR_NONE && !b->addr &&
		    (bits & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)))
			return -EINVAL;
	}
	pci_cfg_write16(d, PCI_COMMAND, pci_cfg_read16(d, PCI_COMMAND) | bits);
	return 0;
}

void *pci_map_bar(const struct pci_dev *d, unsigned i, const char *what)
{
	if (i >= PCI_NR_BARS)
		return NULL;
	const struct pci_bar *b = &d->bar[i];
	if ((b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) || !b->addr || !b->size)
		return NULL;
	return vm_map_mmio(b->addr, b->size, what);
}
