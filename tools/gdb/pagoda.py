# SPDX-License-Identifier: BSD-2-Clause
"""gdb helpers for Pagoda (docs/debugging.md), loaded by `make debug`'s gdb line
(`-ex 'source tools/gdb/pagoda.py'`):

  pagoda-walk ADDR   walk the selected CPU's page tables (CR3, or TTBR0/TTBR1
                     by the address's top bit) for ADDR, one line per level:
                     index, entry, what it points to, attributes decoded;
                     then the physical address, checked by reading 8 bytes
                     both at ADDR and through the kernel's direct map
  pagoda-cpus        per CPU: online, hardware id, ticks and interrupts, the
                     thread running and its mm, the mm loaded for the TLB
                     (lazy or not) and the generation this CPU reached
  pagoda-tlb         the TLB mode and transport, every CPU's counters (only
                     the non-zero ones by name) with its IPIs sent and
                     received, and the generations of each mm a CPU has loaded

Invariants: the helpers only read (registers, memory, symbols); nothing is
written to the guest. Page tables are read through the kernel's direct map
(arch_mm_layout.direct_map_base + pa), which the boot page tables already
provide, so a walk works from the kernel's entry on; the architecture is
taken from gdb's, so one file serves both.
"""

import os

import gdb

# Test-only (make gdb-check-negative): PAGODA_GDB_BREAK=walk_index makes the walker
# take each level's index from the wrong bits, and gdb-check's walk checks must fail.
BROKEN = os.environ.get("PAGODA_GDB_BREAK", "")
ADDR_MASK = 0x0000FFFFFFFFF000
LEVEL_NAMES = {"x86_64": ["PT", "PD", "PDPT", "PML4"], "aarch64": ["L3", "L2", "L1", "L0"]}


def arch():
    name = gdb.selected_inferior().architecture().name()
    return "aarch64" if "aarch64" in name else "x86_64"


def u64(value):
    return int(value) & 0xFFFFFFFFFFFFFFFF


def read_u64(addr):
    return int.from_bytes(bytes(gdb.selected_inferior().read_memory(addr, 8)), "little")


def direct_map(pa):
    return u64(gdb.parse_and_eval("arch_mm_layout.direct_map_base")) + pa


def register(name):
    return u64(gdb.selected_frame().read_register(name))


def root_of(va):
    """(physical address of the root table, what it came from) for va on this CPU."""
    if arch() == "x86_64":
        return register("cr3") & ADDR_MASK, "CR3"
    which = "TTBR1_EL1" if va >> 63 else "TTBR0_EL1"
    return register(which) & 0x0000FFFFFFFFFFFE, which


def x86_bits(entry, level):
    names = [(0, "P"), (1, "RW"), (2, "US"), (3, "PWT"), (4, "PCD"), (5, "A"), (6, "D"),
             (8, "G"), (63, "NX")]
    if level in (1, 2):
        names.append((7, "PS"))
    out = [n for b, n in names if (entry >> b) & 1]
    return " ".join(out), bool(entry & 1), level == 0 or (level in (1, 2) and entry & 0x80)


def arm_bits(entry, level):
    valid = bool(entry & 1)
    table = level > 0 and bool(entry & 2)
    if table:
        names = [(59, "PXNTable"), (60, "UXNTable"), (61, "APTable[0]"), (62, "APTable[1]"),
                 (63, "NSTable")]
        out = ["table"] + [n for b, n in names if (entry >> b) & 1]
        return " ".join(out), valid, False
    ap = (entry >> 6) & 3
    sh = ["non-shareable", "?", "outer", "inner"][(entry >> 8) & 3]
    out = ["page" if level == 0 else "block", f"AttrIndx={(entry >> 2) & 7}",
           ["EL1 RW", "EL0+EL1 RW", "EL1 RO", "EL0+EL1 RO"][ap], sh]
    out += [n for b, n in [(10, "AF"), (11, "nG"), (51, "DBM"), (53, "PXN"), (54, "UXN")]
            if (entry >> b) & 1]
    return " ".join(out), valid, True


def walk(va):
    """Prints the walk of va; returns the physical address or None."""
    a = arch()
    table, source = root_of(va)
    gdb.write(f"walk {va:#x} from {source} (root table at phys {table:#x})\n")
    decode = x86_bits if a == "x86_64" else arm_bits
    for level in range(3, -1, -1):
        shift = 12 + 9 * level
        index = (va >> (shift + (BROKEN == "walk_index"))) & 511
        entry = read_u64(direct_map(table) + index * 8)
        bits, valid, leaf = decode(entry, level)
        name = LEVEL_NAMES[a][level]
        head = f"  level {level} ({name:4}) [{index:3}] entry {entry:#018x}"
        if not valid:
            gdb.write(f"{head}  not present: {va:#x} is not mapped\n")
            return None
        nxt = entry & ADDR_MASK
        if leaf:
            size = 1 << shift
            pa = (nxt & ~(size - 1)) | (va & (size - 1))
            gdb.write(f"{head} -> {size >> 10} KiB frame {nxt & ~(size - 1):#x}  {bits}\n")
            gdb.write(f"  {va:#x} -> phys {pa:#x}\n")
            return pa
        gdb.write(f"{head} -> table {nxt:#x}  {bits}\n")
        table = nxt
    return None


class Walk(gdb.Command):
    """pagoda-walk ADDR: walk the selected CPU's page tables for ADDR (docs/debugging.md)."""

    def __init__(self):
        super().__init__("pagoda-walk", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        if not arg.strip():
            raise gdb.GdbError("usage: pagoda-walk ADDR (an expression: 0x..., &symbol, $pc)")
        value = gdb.parse_and_eval(arg)
        if value.type.code == gdb.TYPE_CODE_FUNC:
            value = value.address  # `pagoda-walk kernel_main` means its code
        va = u64(value)
        pa = walk(va)
        if pa is None:
            return
        try:
            direct, through = read_u64(va), read_u64(direct_map(pa))
        except gdb.MemoryError as e:
            gdb.write(f"  check: cannot read both ways ({e})\n")
            return
        same = "same" if direct == through else "DIFFERENT"
        gdb.write(f"  check: 8 bytes at {va:#x} = {direct:#x}, at phys {pa:#x} through the "
                  f"direct map = {through:#x}: {same}\n")


def online_mask():
    return u64(gdb.parse_and_eval("cpu_online_mask.bits"))


def cpu_ids():
    count = int(gdb.parse_and_eval("cpu_count"))
    return list(range(count))


def mm_name(ptr):
    p = u64(ptr)
    return "none" if p == 0 else f"mm {p:#x}"


class Cpus(gdb.Command):
    """pagoda-cpus: per-CPU state from the kernel's per-CPU arrays (docs/debugging.md)."""

    def __init__(self):
        super().__init__("pagoda-cpus", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        online = online_mask()
        ids = cpu_ids()
        gdb.write(f"{len(ids)} CPUs started, online mask {online:#x}\n")
        for i in ids:
            c = gdb.parse_and_eval(f"cpus[{i}]")
            rq = gdb.parse_and_eval(f"run_queues[{i}]")
            t = gdb.parse_and_eval(f"tlb_cpu[{i}]")
            cur = rq["current"]
            if u64(cur):
                thread = f"{cur['name'].string()} ({mm_name(cur['mm'])})"
            else:
                thread = "none"
            lazy = " lazy" if bool(t["lazy"]) else ""
            gdb.write(f"cpu{i}: {'online' if (online >> i) & 1 else 'offline'}, hw id "
                      f"{u64(c['hw_id']):#x}, ticks {int(c['ticks'])}, irqs {int(c['irqs'])}, "
                      f"preempt {int(c['preempt_count'])}; running {thread}; tlb: "
                      f"{mm_name(t['loaded'])}{lazy} at gen {int(t['gen'])}\n")


class Tlb(gdb.Command):
    """pagoda-tlb: TLB counters and generations (docs/debugging.md)."""

    def __init__(self):
        super().__init__("pagoda-tlb", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        mode = str(gdb.parse_and_eval("tlb_mode"))
        transport = "broadcast" if bool(gdb.parse_and_eval("tlb_broadcast")) else "IPIs"
        gdb.write(f"tlb: mode {mode}, {transport}\n")
        queues = gdb.parse_and_eval("'kernel/xcall.c'::queues")
        mms = {}
        for i in cpu_ids():
            c = gdb.parse_and_eval(f"tlb_cpu_counters[{i}]")
            stats = queues[i]["stats"]
            nonzero = [f"{f.name} {int(c[f.name])}" for f in c.type.fields() if int(c[f.name])]
            gdb.write(f"cpu{i}: ipis sent {int(stats['ipis_sent'])} recv "
                      f"{int(stats['ipis_received'])}; "
                      f"{', '.join(nonzero) if nonzero else 'all counters 0'}\n")
            loaded = gdb.parse_and_eval(f"tlb_cpu[{i}]")
            if u64(loaded["loaded"]):
                mms.setdefault(u64(loaded["loaded"]), []).append((i, int(loaded["gen"])))
        for mm, cpus in sorted(mms.items()):
            m = gdb.parse_and_eval(f"*(struct mm *){mm:#x}")
            at = ", ".join(f"cpu{i} at {g}" for i, g in cpus)
            gdb.write(f"mm {mm:#x}: gen {int(m['tlb_gen'])}, completed "
                      f"{int(m['tlb_gen_completed'])}, deferred {int(m['tlb_gen_deferred'])}; "
                      f"{at}\n")
        if not mms:
            gdb.write("no CPU has an address space loaded\n")


Walk()
Cpus()
Tlb()
gdb.write("pagoda: pagoda-walk ADDR, pagoda-cpus, pagoda-tlb (docs/debugging.md)\n")
