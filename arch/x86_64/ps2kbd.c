// SPDX-License-Identifier: BSD-2-Clause
/*
 * The polled PS/2 keyboard: the i8042 controller's status port 0x64 and
 * data port 0x60, read from the console loop (arch_console_getc, in
 * console_in.c) and turned into terminal bytes by ps2kbd_translate. This
 * is what makes `pagoda>` usable on a PC's screen with no serial port: a
 * PS/2 keyboard, or a USB keyboard the firmware emulates as one.
 *
 * The controller is probed only where it may exist: the FADT's
 * IAPC_BOOT_ARCH says whether an 8042 is there (ACPI 2.0 on); with no
 * FADT, or one too old to say, the status port is read and a floating
 * bus (0xff) means none. The firmware's setup is kept (keyboard enabled,
 * its interrupt as it was: Pagoda never unmasks IRQ 1), except that
 * translation to set 1 is turned on if it was off.
 *
 * Invariants: every wait on the controller is bounded, so a missing or
 * dead 8042 costs at most a few milliseconds at boot and never hangs; a
 * byte with the status's mouse bit set is mouse data and is dropped; the
 * queue of translated bytes is filled only when empty, so the bytes of
 * one key (ESC [ A) reach the reader together and none is lost. Only the
 * console loop calls ps2kbd_getc, so nothing here needs a lock.
 */
#include "arch/x86_64/ps2kbd.h"
#include "arch/x86_64/x86.h"
#include "kernel/acpi/acpi.h"
#include "kernel/cmdline.h"
#include "kernel/printk.h"

#define I8042_DATA	 0x60
#define I8042_STATUS	 0x64 /* read: status; write: a controller command */
#define ST_OUT_FULL	 0x01 /* a byte waits at the data port */
#define ST_IN_FULL	 0x02 /* the controller has not taken the last byte written */
#define ST_AUX		 0x20 /* the waiting byte is from the mouse port */
#define CMD_READ_CONFIG	 0x20
#define CMD_WRITE_CONFIG 0x60
#define CFG_TRANSLATE	 0x40  /* set 2 from the keyboard reaches the CPU as set 1 */
#define I8042_SPINS	 20000 /* a few ms under TCG; a live 8042 answers in microseconds */
#define I8042_FLUSH_MAX	 32    /* its buffer holds one byte; the keyboard's, 16 */
#define POLL_MAX	 16    /* scancode bytes read per call before giving up for now */

CMDLINE_PARAM(kbd_break_param, .key = "kbd.break", .kind = CMDLINE_ENUM, .values = "none|shift",
	      .def = "none",
	      .help = "test-only: the PS/2 keyboard ignores Shift, so make "
		      "screen-console-check fails");

static struct {
	bool present;
	struct ps2kbd_state state;
	char queue[PS2KBD_OUT_MAX];
	uint8_t head, count;
} kbd;

static bool wait_status(uint8_t mask, bool set)
{
	for (unsigned i = 0; i < I8042_SPINS; i++) {
		if (!!(inb(I8042_STATUS) & mask) == set)
			return true;
		__asm__ __volatile__("pause");
	}
	return false;
}

static bool i8042_command(uint8_t cmd)
{
	if (!wait_status(ST_IN_FULL, false))
		return false;
	outb(I8042_STATUS, cmd);
	return true;
}

static bool i8042_write_data(uint8_t v)
{
	if (!wait_status(ST_IN_FULL, false))
		return false;
	outb(I8042_DATA, v);
	return true;
}

static void i8042_flush(void)
{
	for (unsigned i = 0; i < I8042_FLUSH_MAX && (inb(I8042_STATUS) & ST_OUT_FULL); i++)
		(void)inb(I8042_DATA);
}

/* False, with the reason printed, when the FADT says there is no 8042. */
static bool fadt_allows_8042(void)
{
	const struct acpi_sdt_header *t = acpi_find_table("FACP");
	struct acpi_fadt_info f;
	char err[128];
	if (!t || !acpi_fadt_parse(t, &f, err, sizeof(err)))
		return true; /* power.c names a bad FADT; the status port decides */
	if (f.i8042 == ACPI_8042_ABSENT) {
		printk("kbd: the FADT's IAPC_BOOT_ARCH says there is no 8042; no PS/2 keyboard");
		return false;
	}
	return true;
}

void ps2kbd_init(void)
{
	if (!fadt_allows_8042())
		return;
	if (inb(I8042_STATUS) == 0xff) {
		printk("kbd: no i8042 (status port 0x64 reads 0xff); no PS/2 keyboard");
		return;
	}
	i8042_flush();
	if (!i8042_command(CMD_READ_CONFIG) || !wait_status(ST_OUT_FULL, true)) {
		printk("kbd: the i8042 does not answer its read-config command; no PS/2 keyboard");
		return;
	}
	uint8_t cfg = inb(I8042_DATA);
	if (!(cfg & CFG_TRANSLATE)) {
		if (!i8042_command(CMD_WRITE_CONFIG) || !i8042_write_data(cfg | CFG_TRANSLATE)) {
			printk("kbd: the i8042 does not take its config byte; no PS/2 keyboard");
			return;
		}
		printk("kbd: i8042 translation to scancode set 1 was off; turned on");
	}
	kbd.state.ignore_shift = cmdline_enum("kbd.break") == 1;
	kbd.present = true;
	printk("kbd: PS/2 keyboard on the i8042 (US layout), polled by the console");
}

bool ps2kbd_present(void)
{
	return kbd.present;
}

bool ps2kbd_queued(void)
{
	return kbd.count != 0;
}

int ps2kbd_getc(void)
{
	if (!kbd.present)
		return -1;
	for (unsigned i = 0; i < POLL_MAX && kbd.count == 0; i++) {
		uint8_t st = inb(I8042_STATUS);
		if (!(st & ST_OUT_FULL))
			break;
		uint8_t code = inb(I8042_DATA);
		if (st & ST_AUX)
			continue;
		kbd.head = 0;
		kbd.count = (uint8_t)ps2kbd_translate(&kbd.state, code, kbd.queue);
	}
	if (kbd.count == 0)
		return -1;
	kbd.count--;
	return (uint8_t)kbd.queue[kbd.head++];
}
