/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PCI (Express) through ECAM: one host bridge, found from the ACPI MCFG
 * table (x86-64 q35) or the device tree's pci-host-ecam-generic node
 * (aarch64 virt); a scan of its buses; BARs sized, and assigned from the
 * bridge's windows where no firmware did (the device-tree case); memory
 * decoding and bus mastering turned on by the driver that owns a device;
 * one interrupt per device for its driver, MSI where the platform offers it
 * and legacy INTx (from the device tree's interrupt-map) otherwise (msi.c,
 * intx.c).
 *
 * Invariants:
 *  - Config space is reached only through the ECAM window, mapped once
 *    with vm_map_mmio() for the buses the host decodes; an access outside
 *    [bus_start, bus_end] is refused (reads give all ones).
 *  - pci_init() runs once, on the boot CPU, before anything else calls in
 *    here; afterwards the device table is read-only except for a device's
 *    command register, which its driver owns.
 *  - A malformed MCFG or device-tree node is reported on one line naming
 *    the table or property and the field; the kernel goes on without PCI.
 *  - A device signals in one way at a time: MSI enabled means INTx
 *    disabled in its command register, and the reverse.
 *  - A BAR's `addr` is a CPU physical address (bus address translated by
 *    the window it lies in); 0 means unassigned, and then it is never
 *    mapped or enabled.
 */
#ifndef PAGODA_KERNEL_PCI_PCI_H
#define PAGODA_KERNEL_PCI_PCI_H

#include "kernel/irq.h"
#include "kernel/types.h"

struct acpi_sdt_header;
struct fdt;

#define PCI_DEV_MAX 64
#define PCI_NR_BARS 6

/* Config-space offsets (type 0 and 1 headers). */
#define PCI_VENDOR_ID	    0x00
#define PCI_DEVICE_ID	    0x02
#define PCI_COMMAND	    0x04
#define PCI_STATUS	    0x06
#define PCI_CLASS_REVISION  0x08 /* revision 7:0, class code 31:8 */
#define PCI_HEADER_TYPE	    0x0e
#define PCI_BAR0	    0x10
#define PCI_SECONDARY_BUS   0x19 /* type 1 */
#define PCI_CAP_PTR	    0x34 /* type 0 and 1 */
#define PCI_INTERRUPT_PIN   0x3d /* 1-4: INTA#-INTD#, 0: none */
#define PCI_COMMAND_IO	    0x1
#define PCI_COMMAND_MEMORY  0x2
#define PCI_COMMAND_MASTER  0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_ID_MSI	    0x05
#define PCI_CAP_ID_MSIX	    0x11
/* MSI capability: message control at +2, then the address and data words. */
#define PCI_MSI_FLAGS	    0x02
#define PCI_MSI_ADDR_LO	    0x04
#define PCI_MSI_ADDR_HI	    0x08 /* 64-bit capability only */
#define PCI_MSI_DATA_32	    0x08
#define PCI_MSI_DATA_64	    0x0c
#define PCI_MSI_MASK_32	    0x0c /* with per-vector masking */
#define PCI_MSI_MASK_64	    0x10
#define PCI_MSI_FLAGS_ENABLE 0x0001
#define PCI_MSI_FLAGS_QSIZE  0x0070 /* multiple message enable: 0 = one vector */
#define PCI_MSI_FLAGS_64BIT  0x0080
#define PCI_MSI_FLAGS_MASKBIT 0x0100
#define PCI_CLASS_BRIDGE_HOST 0x060000 /* class code of a host bridge */

/* An address window of the host bridge: CPU address `cpu` is PCI bus address `bus`. */
struct pci_window {
	phys_addr_t cpu;
	uint64_t bus;
	uint64_t size; /* 0: absent */
};

struct pci_host {
	phys_addr_t ecam; /* CPU physical address of bus_start's config space */
	unsigned segment, bus_start, bus_end;
	/* Windows for BARs: 32-bit memory, 64-bit memory, I/O (device tree only). */
	struct pci_window mem32, mem64, io;
	bool assign; /* no firmware assigned BARs: the kernel must (device tree) */
	char source[24]; /* "ACPI MCFG" or the device-tree path */
};

enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_MEM32, PCI_BAR_MEM64, PCI_BAR_IO };

struct pci_bar {
	enum pci_bar_kind kind; /* MEM64 occupies this slot and the next (left NONE) */
	bool prefetch;
	phys_addr_t addr; /* CPU physical address; 0: unassigned */
	uint64_t size;
};

struct pci_dev {
	uint8_t bus, dev, fn;
	uint8_t header_type; /* bits 6:0: 0 device, 1 bridge */
	uint16_t vendor, device;
	uint32_t class_code; /* base class 23:16, subclass 15:8, prog-if 7:0 */
	uint8_t revision;
	struct pci_bar bar[PCI_NR_BARS];
	uint8_t msi_cap, msix_cap; /* config offsets of the capabilities; 0: absent */
	uint8_t int_pin; /* 1-4 for INTA#-INTD#; 0: no INTx */
	/* Where the host routes int_pin (device tree interrupt-map); false: nowhere known. */
	bool intx_routed, intx_level;
	unsigned intx_irq; /* the arch's interrupt number (GIC INTID) */
};

/* The requester id the device puts on its DMA (bus:dev.fn): an IOMMU's stream id. */
static inline uint16_t pci_rid(const struct pci_dev *d)
{
	return (uint16_t)(d->bus << 8 | d->dev << 3 | d->fn);
}

/* ---- Finding the host bridge (pure: tests feed synthetic input) ------------------ */

/*
 * Reads the first segment-0 entry of an MCFG table of mcfg->length bytes
 * (checksum already verified) into *out. Returns true when well formed;
 * otherwise writes a one-line message naming the field to err and returns
 * false. Never reads past mcfg->length.
 */
bool pci_host_from_mcfg(const struct acpi_sdt_header *mcfg, struct pci_host *out, char *err,
			size_t err_size);

/* The raw properties of a pci-host-ecam-generic node, as the tree holds them. */
struct pci_dt_node {
	const uint8_t *reg, *bus_range, *ranges; /* big-endian cells; NULL when absent */
	uint32_t reg_len, bus_range_len, ranges_len; /* bytes */
	unsigned parent_addr_cells, parent_size_cells; /* of the node's parent */
	unsigned addr_cells, size_cells; /* the node's own (3 and 2 for PCI) */
};
/*
 * Decodes a pci-host-ecam-generic node: reg (the ECAM window), bus-range
 * (default 0-255, cut to what the window holds) and ranges (the memory and
 * I/O windows). Returns true when well formed; otherwise a one-line
 * message naming the property and entry goes to err. Sets out->assign.
 */
bool pci_host_from_dt(const struct pci_dt_node *node, struct pci_host *out, char *err,
		      size_t err_size);

/*
 * The BAR that sizing found: `orig` and `probe` are the register(s) as read
 * before and after writing all ones (hi words for a 64-bit BAR, else 0).
 * Fills kind, prefetch and size; addr is the bus address the BAR held.
 */
void pci_bar_decode(uint32_t orig_lo, uint32_t probe_lo, uint32_t orig_hi, uint32_t probe_hi,
		    struct pci_bar *bar);

/*
 * A host's interrupt-map (device-tree PCI binding): for each child unit
 * address (phys.hi with bus/device/function, two more cells) and pin, the
 * interrupt parent's specifier. `mask` is interrupt-map-mask (all ones when
 * the node has none).
 */
#define PCI_INTX_MAP_MAX  64
#define PCI_INTX_SPEC_MAX 4
struct pci_intx_entry {
	uint32_t child[4]; /* phys.hi, phys.mid, phys.lo, pin */
	uint32_t spec[PCI_INTX_SPEC_MAX]; /* the parent's interrupt specifier */
	unsigned spec_cells;
};
struct pci_intx_map {
	uint32_t mask[4];
	unsigned n;
	struct pci_intx_entry e[PCI_INTX_MAP_MAX];
};
/* The raw properties, and how to learn an interrupt parent's cell counts from its phandle. */
struct pci_intx_dt {
	const uint8_t *map, *mask; /* big-endian cells; map NULL: no INTx routing */
	uint32_t map_len, mask_len; /* bytes */
	unsigned addr_cells, intr_cells; /* the host node's own (3 and 1 for PCI) */
	/* False when `phandle` names no interrupt controller. */
	bool (*parent_cells)(void *ctx, uint32_t phandle, unsigned *addr_cells,
			     unsigned *intr_cells);
	void *ctx;
};
/*
 * Decodes an interrupt-map into *out. True when well formed (a missing map
 * gives n = 0); otherwise a one-line message naming the property and entry
 * goes to err. Never reads past either property.
 */
bool pci_intx_map_decode(const struct pci_intx_dt *in, struct pci_intx_map *out, char *err,
			 size_t err_size);
/* The entry routing pin `pin` (1-4) of bus:dev.fn, or NULL. */
const struct pci_intx_entry *pci_intx_lookup(const struct pci_intx_map *m, unsigned bus,
					     unsigned dev, unsigned fn, unsigned pin);
/*
 * Finds the first okay pci-host-ecam-generic node of the validated tree `f`
 * and decodes it (pci_host_from_dt) into *h, with source = the node's path,
 * and its interrupt-map into *intx (a bad map is logged in one line and
 * leaves intx->n 0: no INTx routing, the host still usable). 1 found, 0 no
 * such node, -1 malformed (one line naming node and property in err).
 */
int pci_host_from_fdt(const struct fdt *f, struct pci_host *h, struct pci_intx_map *intx, char *err,
		      size_t n);

/* ---- The running system ------------------------------------------------------------ */

/*
 * Finds the host bridge (MCFG when the firmware gave ACPI tables, else the
 * device tree), maps its ECAM window, scans the buses, sizes every BAR and
 * assigns unassigned ones when the host says so. Logs one line per device.
 * Boot CPU, thread context, after mm_init. Without a host (or with a bad
 * description, reported) the device table stays empty.
 */
void pci_init(void);
/* The host bridge in use, or NULL when there is none. */
const struct pci_host *pci_host(void);
/* Devices found, in scan order (bus, device, function). */
unsigned pci_dev_count(void);
struct pci_dev *pci_dev_at(unsigned i);
/* The first device with these ids, or NULL. */
struct pci_dev *pci_find(uint16_t vendor, uint16_t device);

/*
 * Config access to `d` (any offset below 4096, naturally aligned for its
 * width). Reads outside the decoded buses give all ones.
 */
uint8_t pci_cfg_read8(const struct pci_dev *d, unsigned off);
uint16_t pci_cfg_read16(const struct pci_dev *d, unsigned off);
uint32_t pci_cfg_read32(const struct pci_dev *d, unsigned off);
void pci_cfg_write16(const struct pci_dev *d, unsigned off, uint16_t v);
void pci_cfg_write32(const struct pci_dev *d, unsigned off, uint32_t v);

/*
 * Sets `bits` (PCI_COMMAND_*) in d's command register. Refuses (-EINVAL,
 * nothing changed) to turn on memory or I/O decoding while a BAR of that
 * kind is unassigned. The owner of the device calls it, once.
 */
int pci_enable(struct pci_dev *d, uint16_t bits);
/* Maps memory BAR `i` of `d` uncached; NULL when it is not an assigned memory BAR. */
void *pci_map_bar(const struct pci_dev *d, unsigned i, const char *what);

/* ---- Interrupts (msi.c) --------------------------------------------------------------- */

/*
 * Config offset of d's first capability with this id, or 0. Follows the
 * list from PCI_CAP_PTR only when the status register says there is one,
 * and stops at a pointer into the header or after 48 hops (a loop).
 */
unsigned pci_find_cap(const struct pci_dev *d, uint8_t id);

enum pci_irq_kind { PCI_IRQ_NONE, PCI_IRQ_MSI, PCI_IRQ_INTX };
struct pci_irq {
	enum pci_irq_kind kind;
	unsigned irq; /* the arch's interrupt number the handler is installed on */
	bool level;
};
/*
 * Gives d one interrupt and installs fn(arg) on it: MSI when the device
 * has the capability, the platform an MSI target (arch_msi_alloc) and the
 * command line does not say pci.msi=off; then INTx is disabled in the
 * command register. Otherwise INTx where the host routes d's pin, with
 * INTx enabled. The handler runs with the device's interrupt active at
 * the controller until it returns (not taken again; a new edge is latched,
 * not lost), and must quieten a level-triggered device and flush that
 * write by a read from the device (kernel/irq.h). INTx lines are not
 * shared: a second device on a line in use gets -EBUSY. 0 and *out
 * filled; -ENODEV when neither exists (out->kind PCI_IRQ_NONE), or
 * irq_request's error. The device's owner, once.
 */
int pci_irq_setup(struct pci_dev *d, irq_handler_t fn, void *arg, struct pci_irq *out);
/*
 * Undoes pci_irq_setup: the device stops signalling, the handler is freed
 * (irq_free waits for a running one, so the caller may then free its
 * argument) and then the vector. Thread context.
 */
void pci_irq_release(struct pci_dev *d, struct pci_irq *irq);
/* Whether pci.msi allows MSI (it is not "off"). */
bool pci_msi_wanted(void);

#endif
