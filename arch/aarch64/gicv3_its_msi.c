// SPDX-License-Identifier: BSD-2-Clause
/*
 * MSIs through the GICv3 ITS (gicv3_its.h): devices, their events and the
 * LPIs behind them.
 *
 * A device id gets an interrupt translation table (one page: 2^
 * ITS_EVENT_BITS entries) and MAPD the first time one of its requesters
 * asks for an MSI, and keeps it (a device table entry costs nothing).
 * Each MSI is one event of that device mapped (MAPTI) to one LPI of
 * collection 0; the message is GITS_TRANSLATER and the event id.
 *
 * Invariants: one lock (its_lock) covers the device and LPI tables, the
 * configuration table and the command queue, so commands of two callers
 * never interleave and a slot is never handed out twice; an LPI's
 * configuration byte is enabled only between its MAPTI and its DISCARD
 * (its_lpi_enable refuses an LPI not handed out); every change returns
 * only after its SYNC was consumed (or fails with -EIO once the queue was
 * reported stuck).
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/gic.h"
#include "arch/aarch64/gicv3_its.h"
#include "kernel/errno.h"
#include "kernel/irq.h"
#include "kernel/mm/frame.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "lib/string.h"

#define CMD_VALID   (1ull << 63)
#define PROP_ENABLE 1u
#define PROP_RES1   2u /* bit 1 of a configuration byte is RES1 */

struct its_device {
	bool used;
	uint32_t devid;
	phys_addr_t itt;
	uint32_t events; /* bit e: event e is mapped */
};

struct its_lpi {
	bool used;
	uint8_t dev; /* index into devices[] */
	uint8_t event;
};

static struct its_device devices[ITS_DEVICES_MAX];
static struct its_lpi lpis[ITS_LPIS];
static spinlock_t its_lock = SPINLOCK_INIT;

_Static_assert(ITS_LPI_BASE + ITS_LPIS <= IRQ_MAX, "kernel/irq.h's IRQ_MAX must cover the LPIs");

bool its_is_lpi(unsigned irq)
{
	return irq >= ITS_LPI_BASE && irq - ITS_LPI_BASE < ITS_LPIS;
}

/* The device slot of `devid`, mapped (MAPD) if new; -ENOSPC, -ENOMEM or -EIO (MAPD failed). */
static int device_get(uint32_t devid)
{
	int free = -ENOSPC;
	for (unsigned i = 0; i < ITS_DEVICES_MAX; i++) {
		if (devices[i].used && devices[i].devid == devid)
			return (int)i;
		if (!devices[i].used && free < 0)
			free = (int)i;
	}
	if (free < 0)
		return free;
	phys_addr_t itt;
	if (frame_alloc_zeroed(&itt) != 0)
		return -ENOMEM;
	dsb(ishst);
	const struct its_cmd cmds[2] = {
	    {{ITS_CMD_MAPD | (uint64_t)devid << 32, ITS_EVENT_BITS - 1, CMD_VALID | itt, 0}},
	    its_cmd_sync()};
	if (its_issue(cmds, 2, "MAPD") != 0)
		return -EIO; /* the ITT is leaked: an ITS that runs the MAPD late may use it */
	devices[free] = (struct its_device){.used = true, .devid = devid, .itt = itt};
	return free;
}

int its_msi_alloc(uint16_t rid)
{
	uint32_t devid;
	if (!its.ready || !id_map_lookup(&its.map, rid, &devid))
		return -ENODEV;
	irqflags_t flags = spin_lock_irqsave(&its_lock);
	int ret = -ENOSPC;
	unsigned slot = 0;
	while (slot < ITS_LPIS && lpis[slot].used)
		slot++;
	int dev = slot < ITS_LPIS ? device_get(devid) : -ENOSPC;
	if (dev < 0) {
		ret = dev;
		goto out;
	}
	unsigned event = 0;
	while (event < (1u << ITS_EVENT_BITS) && devices[dev].events & (1u << event))
		event++;
	if (event == 1u << ITS_EVENT_BITS)
		goto out;
	unsigned lpi = ITS_LPI_BASE + slot;
	its.prop[lpi - ITS_LPI_BASE] = GIC_PRIORITY | PROP_RES1; /* disabled until unmasked */
	dsb(ishst);
	struct its_cmd cmds[2] = {its_cmd_event(ITS_CMD_MAPTI, devid, event, lpi), its_cmd_sync()};
	if (its.broken == ITS_BREAK_NO_MAPTI)
		cmds[0] = its_cmd_sync(); /* test only: the event stays unmapped */
	if (its_issue(cmds, 2, "MAPTI") != 0) {
		ret = -EIO;
		goto out;
	}
	devices[dev].events |= 1u << event;
	lpis[slot] = (struct its_lpi){.used = true, .dev = (uint8_t)dev, .event = (uint8_t)event};
	ret = (int)lpi;
out:
	spin_unlock_irqrestore(&its_lock, flags);
	return ret;
}

void its_msi_free(unsigned lpi)
{
	if (!its_is_lpi(lpi))
		return;
	irqflags_t flags = spin_lock_irqsave(&its_lock);
	struct its_lpi *l = &lpis[lpi - ITS_LPI_BASE];
	if (l->used) {
		struct its_device *d = &devices[l->dev];
		its.prop[lpi - ITS_LPI_BASE] = 0;
		dsb(ishst);
		const struct its_cmd cmds[2] = {
		    its_cmd_event(ITS_CMD_DISCARD, d->devid, l->event, 0), its_cmd_sync()};
		its_issue(cmds, 2, "DISCARD");
		d->events &= ~(1u << l->event);
		l->used = false;
	}
	spin_unlock_irqrestore(&its_lock, flags);
}

void its_msi_compose(unsigned lpi, uint64_t *addr, uint32_t *data)
{
	uint32_t devid = 0, event = 0;
	its_lpi_owner(lpi, &devid, &event);
	*addr = its.base + ITS_TRANSLATER;
	*data = event;
}

void its_lpi_enable(unsigned lpi, bool on)
{
	if (!its_is_lpi(lpi))
		return;
	irqflags_t flags = spin_lock_irqsave(&its_lock);
	struct its_lpi *l = &lpis[lpi - ITS_LPI_BASE];
	if (l->used) {
		uint8_t *cfg = &its.prop[lpi - ITS_LPI_BASE];
		*cfg = (uint8_t)(on ? *cfg | PROP_ENABLE : *cfg & ~PROP_ENABLE);
		dsb(ishst); /* the byte before the INV that makes the redistributor reread it */
		const struct its_cmd cmds[2] = {
		    its_cmd_event(ITS_CMD_INV, devices[l->dev].devid, l->event, 0), its_cmd_sync()};
		its_issue(cmds, 2, "INV");
	}
	spin_unlock_irqrestore(&its_lock, flags);
}

bool its_lpi_owner(unsigned lpi, uint32_t *devid, uint32_t *event)
{
	if (!its_is_lpi(lpi))
		return false;
	irqflags_t flags = spin_lock_irqsave(&its_lock);
	const struct its_lpi *l = &lpis[lpi - ITS_LPI_BASE];
	bool used = l->used;
	if (used) {
		*devid = devices[l->dev].devid;
		*event = l->event;
	}
	spin_unlock_irqrestore(&its_lock, flags);
	return used;
}

int its_test_stuck_queue(void)
{
	if (!its.ready)
		return -ENODEV;
	irqflags_t flags = spin_lock_irqsave(&its_lock);
	its_disable();
	const struct its_cmd sync = its_cmd_sync();
	int err = its_issue(&sync, 1, "a SYNC queued while the ITS is disabled (its suite)");
	its_queue_reset();
	spin_unlock_irqrestore(&its_lock, flags);
	return err;
}

int its_test_int(uint32_t devid, uint32_t event)
{
	if (!its.ready)
		return -ENODEV;
	irqflags_t flags = spin_lock_irqsave(&its_lock);
	const struct its_cmd cmds[2] = {its_cmd_event(ITS_CMD_INT, devid, event, 0),
					its_cmd_sync()};
	int err = its_issue(cmds, 2, "INT") ? -EIO : 0;
	spin_unlock_irqrestore(&its_lock, flags);
	return err;
}
