#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Runs the libFuzzer targets tools/fuzz.mk built (docs/reliability.md,
# "Fuzzing"). One process at a time (-jobs=1 -workers=1: the machine's two
# cores are shared with QEMU runs).
#
#   fuzz_run.sh run DIR SECONDS TARGET...      fuzz each target SECONDS from its seeds
#                                              (FUZZ_RUNS=N: N inputs each instead, no time limit)
#   fuzz_run.sh repro DIR TARGET INPUT         replay one input
#   fuzz_run.sh negative GOOD_DIR BROKEN_DIR TARGET INPUT SECONDS SEED...
#                                              the broken build must crash (replaying INPUT,
#                                              and fuzzing from the SEED files), the good one not
#
# The seeds are tests/fuzz/corpus/<target>/ (read only); inputs libFuzzer
# finds go to DIR/corpus/<target>/ and crashing ones to DIR/crashes/<target>/
# (DIR is build/fuzz, or build/fuzz-break-<X> for a broken build). A crash prints
#   FAIL <target>: <reason>; input <path>
#   replay: make fuzz-repro TARGET=<target> INPUT=<path>
# and `run` ends with "N passed, N failed" and fails when N failed > 0.
set -u
mode=$1
shift
timeout=${FUZZ_TIMEOUT:-5} # seconds one input may take before it counts as a hang

# One line that says why a run failed: a harness check, or the sanitizer's
# kind of error with the first frame in Pagoda's sources, or a hang.
reason() { # reason LOG
	line=$(grep -m1 -E 'FUZZ BUG:|^panic: |runtime error:' "$1")
	if [ -z "$line" ] && kind=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer): [a-z-]+' "$1"); then
		at=$(grep -E '^ +#[0-9]+ ' "$1" | grep -m1 -E " $PWD/[^ ]+\.c:[0-9]+" | sed -E 's/.* in ([^ ]+) (.*)$/\1 \2/')
		line="$kind in ${at:-?}"
	fi
	[ -n "$line" ] || line=$(grep -m1 -E 'ERROR: libFuzzer' "$1")
	echo "${line:-no reason found}" | sed -E "s/^==[0-9]+== *//; s|$PWD/||g"
}

# The seed directories of a target: its own, and dt_pci reads the DTBs fdt does.
seed_dirs() { # seed_dirs TARGET: those that exist (or $FUZZ_SEED_DIR alone)
	if [ -n "${FUZZ_SEED_DIR:-}" ]; then
		echo "$PWD/$FUZZ_SEED_DIR"
		return
	fi
	for d in "$1" $([ "$1" = dt_pci ] && echo fdt); do
		[ -d "tests/fuzz/corpus/$d" ] && echo "$PWD/tests/fuzz/corpus/$d"
	done
	true
}

# fuzz DIR TARGET SECONDS LOG: one libFuzzer run; exit status libFuzzer's.
fuzz() {
	work=$PWD/$1/corpus/$2
	crashes=$PWD/$1/crashes/$2
	seeds=$(seed_dirs "$2")
	mkdir -p "$work" "$crashes" "$1/run/$2"
	# A count of inputs (the issue's 10^7-execution runs) or a time limit.
	if [ -n "${FUZZ_RUNS:-}" ]; then
		limit="-runs=$FUZZ_RUNS -max_total_time=0"
	else
		limit="-max_total_time=$3"
	fi
	# -jobs runs the fuzzer as a child whose log is fuzz-0.log in its directory.
	# shellcheck disable=SC2086 # $seeds: one directory a word; $limit: two options
	(cd "$1/run/$2" && rm -f fuzz-0.log &&
		"../../fuzz_$2" -jobs=1 -workers=1 $limit -timeout="$timeout" \
			-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" \
			"$work" $seeds >/dev/null 2>&1)
	rc=$?
	cp "$1/run/$2/fuzz-0.log" "$4" 2>/dev/null || : >"$4"
	if ! grep -q "INFO: seed corpus: files: [1-9]" "$4" && [ -n "$seeds" ]; then
		echo "fuzz: $2: libFuzzer read no seeds from $seeds (see $4)" >&2
		return 1
	fi
	return $rc
}

# The input a failed run left: the newest artifact in the target's crash directory.
newest_crash() { # newest_crash DIR TARGET
	ls -t "$1/crashes/$2"/crash-* "$1/crashes/$2"/timeout-* "$1/crashes/$2"/leak-* \
		"$1/crashes/$2"/oom-* 2>/dev/null | head -n 1
}

case "$mode" in
run)
	dir=$1 seconds=$2
	shift 2
	passed=0 failed=0
	for t in "$@"; do
		log=$dir/run/$t.log
		start=$(date +%s)
		if fuzz "$dir" "$t" "$seconds" "$log"; then
			runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
			echo "fuzz: ok   $t: ${runs:-?} inputs in $(($(date +%s) - start)) s"
			passed=$((passed + 1))
		else
			input=$(newest_crash "$dir" "$t")
			echo "fuzz: FAIL $t: $(reason "$log"); input ${input:-(none: see $log)}"
			echo "      replay: make fuzz-repro TARGET=$t INPUT=$input   (log: $log)"
			failed=$((failed + 1))
		fi
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	;;
repro)
	dir=$1 t=$2 input=$3
	log=$dir/run/$t.repro.log
	mkdir -p "$dir/run"
	if "$dir/fuzz_$t" -timeout="$timeout" "$input" >"$log" 2>&1; then
		echo "fuzz-repro: $t: $input: no crash"
	else
		cat "$log"
		echo "fuzz-repro: $t: $input: FAIL: $(reason "$log")"
		exit 1
	fi
	;;
negative)
	good=$1 broken=$2 t=$3 input=$4 seconds=$5
	shift 5
	ok=1
	mkdir -p "$good/run"
	if ! "$good/fuzz_$t" "$input" >"$good/run/$t.negative.log" 2>&1; then
		echo "fuzz-negative: FAIL: the intact build crashes on $input: $(reason "$good/run/$t.negative.log")"
		ok=0
	fi
	mkdir -p "$broken/run"
	if "$broken/fuzz_$t" "$input" >"$broken/run/$t.replay.log" 2>&1; then
		echo "fuzz-negative: FAIL: the broken build ($broken) passes $input"
		ok=0
	else
		echo "fuzz-negative: ok   replaying $input crashes the broken build: $(reason "$broken/run/$t.replay.log")"
	fi
	# From the seeds alone: a fresh corpus, the seeds of the broken parser's input.
	rm -rf "${broken:?}/corpus/$t" "${broken:?}/crashes/$t" "${broken:?}/seeds/$t"
	mkdir -p "$broken/seeds/$t"
	cp "$@" "$broken/seeds/$t/"
	start=$(date +%s)
	if FUZZ_SEED_DIR=$broken/seeds/$t fuzz "$broken" "$t" "$seconds" "$broken/run/$t.log"; then
		echo "fuzz-negative: FAIL: $seconds s of fuzzing $t found nothing in the broken build"
		ok=0
	else
		echo "fuzz-negative: ok   fuzzing the broken build crashed in $(($(date +%s) - start)) s: $(reason "$broken/run/$t.log")"
	fi
	[ $ok -eq 1 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
	[ $ok -eq 1 ]
	;;
*)
	echo "usage: fuzz_run.sh run|repro|negative ..." >&2
	exit 2
	;;
esac
