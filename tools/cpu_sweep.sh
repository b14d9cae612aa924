#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# `make cpu-sweep`: runs the whole suite (`make test`) once per CPU count
# and architecture and prints a markdown table of suite times and verdicts,
# for docs/benchmarks.md. Usage: cpu_sweep.sh "ARCHES" "COUNTS" [MAKE-ARGS...]
# The time is the kernel's own boot-to-exit run as the runner measured it
# (QEMU start to exit), not the build. Exits non-zero if any run failed.
set -u
arches=$1
counts=$2
shift 2
out=build/cpu-sweep
mkdir -p "$out"
fail=0
printf '| CPUs |'
for a in $arches; do printf ' %s |' "$a"; done
printf '\n|---|'
for a in $arches; do printf -- '---|'; done
printf '\n'
for n in $counts; do
	printf '| %s |' "$n"
	for a in $arches; do
		log="$out/$a-$n.log"
		make --no-print-directory test ARCH="$a" CPUS="$n" "$@" >"$log" 2>&1
		rc=$?
		verdict=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
		secs=$(sed -n 's/^ktest: qemu ran for \([0-9.]*\) s.*/\1/p' "$log" | tail -n 1)
		[ $rc -eq 0 ] || fail=1
		[ $rc -eq 0 ] && mark="" || mark=" **FAILED**"
		printf ' %s s (%s)%s |' "${secs:-?}" "${verdict:-no verdict}" "$mark"
	done
	printf '\n'
done
exit $fail
