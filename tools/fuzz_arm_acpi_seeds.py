#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Seeds for the acpi_table fuzz target's Arm decoders (tests/fuzz/fuzz_acpi_table.c).

  fuzz_arm_acpi_seeds.py OUT_DIR

Writes OUT_DIR/virt-arm-{APIC-gicv2,APIC-gicv3,SPCR,GTDT,FACP,IORT-smmu,IORT-its}.bin:
the tables QEMU 10's `virt` builds for ACPI-only boots (hw/arm/virt-acpi-build.c), laid
out by the ACPI specification and Arm's IORT specification (DEN 0049), with valid
checksums. Pagoda has no firmware-dump command on aarch64, so the layouts are written
here from the same facts the acpi_arm suite's synthetic tables use.
"""
import os
import struct
import sys


def table(sig, body, revision=1):
    length = 36 + len(body)
    hdr = struct.pack('<4sIBB6s8sIII', sig, length, revision, 0, b'PAGODA', b'FUZZSEED', 1, 0, 0)
    t = bytearray(hdr + body)
    t[9] = (0x100 - sum(t) % 256) % 256
    return bytes(t)


def gicc(cpu, mpidr, gicc_base=0):
    e = struct.pack('<BBHIIIIIQQQQIQQ', 0xB, 80, 0, cpu, cpu, 1, 0, 0, 0, gicc_base, 0, 0, 0, 0, mpidr)
    return e + b'\0' * (80 - len(e))


def madt(version):
    body = struct.pack('<II', 0, 0)
    body += struct.pack('<BBHIQIB3s', 0xC, 24, 0, 0, 0x08000000, 0, version, b'\0' * 3)
    for cpu in range(4):
        body += gicc(cpu, cpu, 0x08010000 if version == 2 else 0)
    if version == 2:
        body += struct.pack('<BBHIQIHH', 0xD, 24, 0, 0, 0x08020000, 0, 64, 80)
    else:
        body += struct.pack('<BBHQI', 0xE, 16, 0, 0x080A0000, 0xF60000)
        body += struct.pack('<BBHIQI', 0xF, 20, 0, 0, 0x08080000, 0)
    return table(b'APIC', body, 4)


def iort(smmu):
    nodes = []
    its = struct.pack('<BHBIIII', 0, 24, 1, 0, 0, 0, 1) + struct.pack('<I', 0)
    nodes.append(its)
    its_off = 48
    off = its_off + len(its)
    smmu_off = off
    if smmu:
        node = struct.pack('<BHBIII', 4, 68 + 20, 4, 1, 1, 68)
        node += struct.pack('<QIIQIIIIIII', 0x09050000, 1, 0, 0, 0, 106, 107, 108, 109, 0, 0)
        node += struct.pack('<IIIII', 0, 0xFFFF, 0, its_off, 0)
        nodes.append(node)
        off += len(node)
    rc = struct.pack('<BHBIII', 2, 36 + 20, 1, 2, 1, 36)
    rc += struct.pack('<IBHBIIB3s', 1, 0, 0, 3, 0, 0, 64, b'\0' * 3)
    rc += struct.pack('<IIIII', 0, 0xFFFF, 0, smmu_off if smmu else its_off, 0)
    nodes.append(rc)
    body = struct.pack('<III', len(nodes), 48, 0) + b''.join(nodes)
    return table(b'IORT', body, 3)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    spcr = struct.pack('<B3sBBBBQBBIBBBBBBHHBBIB3s', 3, b'\0' * 3, 0, 8, 0, 1, 0x09000000,
                       8, 0, 33, 3, 0, 1, 2, 0, 0, 0xFFFF, 0xFFFF, 0, 0, 0, 0, b'\0' * 3)
    gtdt = struct.pack('<QIIIIIIIIIQII', 0, 0, 29, 0, 30, 4, 27, 0, 26, 0, 0, 0, 0)
    facp = bytearray(276 - 36)
    struct.pack_into('<I', facp, 112 - 36, 1 << 20)  # HW_REDUCED_ACPI
    struct.pack_into('<H', facp, 129 - 36, 3)  # ARM_BOOT_ARCH: PSCI, HVC
    seeds = {'APIC-gicv2': madt(2), 'APIC-gicv3': madt(3), 'SPCR': table(b'SPCR', spcr, 2),
             'GTDT': table(b'GTDT', gtdt, 2), 'FACP': table(b'FACP', bytes(facp), 6),
             'IORT-smmu': iort(True), 'IORT-its': iort(False)}
    for name, data in seeds.items():
        with open(os.path.join(out, 'virt-arm-%s.bin' % name), 'wb') as f:
            f.write(data)


main()
