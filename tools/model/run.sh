#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# `make model`: checks the TLB generation model (tools/model/tlb_gen.pml),
# the halting cross-call wait's (xcall_wake.pml), the ASID allocator's
# (asid.pml) and the kernel mappings' (kpt.pml) exhaustively with spin, once
# per variant below, MODEL_JOBS at a time. The
# kernel's protocol must verify; each broken variant (a -DBREAK_... switch
# mirroring a `tlb.break=` or `tlb.skip_flush` of the kernel) must be
# rejected with a counterexample trail. Prints one line per variant and
# ends with "N passed, N failed" (a variant passes when spin's verdict is
# the expected one); exits non-zero when any did not.
#
# Usage: run.sh [OUT_DIR] [NAME...]   (default build/model; NAME: only those)
# Each variant gets OUT_DIR/NAME/ with pan's output (pan.out) and, when
# rejected, the trail (<model>.pml.trail) and its replay (trail.txt:
# `spin -t -p`). Memory is capped (MODEL_MEMLIM MiB, default 2048) and the
# search is exhaustive: a search that runs out of memory or depth fails.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build/model}
[ $# -gt 0 ] && shift
only="$*"
memlim=${MODEL_MEMLIM:-2048}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The configurations: x86-64 (untagged, tlb=gen), its tlb=mmgen, and arm64
# with tlb=ipi (tagged). Three CPUs (two gatherers and the user CPU) where
# the state space allows it, two for the tagged one.
X86="-DNGATHER=2"
MMGEN="-DNGATHER=2 -DMMGEN"
ARM="-DNGATHER=1 -DTAGGED"
ARM_SPARED="$ARM -DFIX_SWITCHED_AWAY_FREED=0"
# The live mode switch (tlb_mode.pml) on 2 CPUs: with 3 it verifies too, but
# takes 30.8 M states and 61 s (docs/reliability.md).
MODE="-DNGATHER=1 -DMODE_SWITCH"

# The halting cross-call wait (xcall_wake.pml): a variant whose flags name it.
XCALL="-DXCALL_WAKE"

# The ASID allocator with tagged switch-ins, teardown and SVA pins (asid.pml).
ASID="-DASID_MODEL"
# With 3 ids a rollover can move the old mm's id while a CPU is switching.
ASID3="$ASID -DNID=3 -DNOPS=8"

# Changes to the kernel's own tables and their invalidation (kpt.pml).
KPT="-DKPT_MODEL"

# name|flags|expected (verified, rejected)|what
VARIANTS="x86|$X86|verified|the protocol, x86-64 tlb=gen, 3 CPUs
x86-mmgen|$MMGEN|verified|the protocol, tlb=mmgen, 3 CPUs
arm64-ipi|$ARM|verified|the protocol, arm64 tlb=ipi, 2 CPUs
arm64-mmgen|$ARM -DMMGEN|verified|the protocol, arm64 tlb=mmgen, 2 CPUs
spare_switched_away|$ARM_SPARED|rejected|tlb.break=spare_switched_away (the gap the model found, docs/reliability.md)
skip_flush|$X86 -DBREAK_SKIP_FLUSH|rejected|tlb.skip_flush
free_before_flush|$X86 -DBREAK_FREE_BEFORE_FLUSH|rejected|tlb.break=free_before_flush
no_defer_bump|$X86 -DBREAK_NO_DEFER_BUMP|rejected|tlb.break=no_defer_bump
skip_lazy_always|$X86 -DBREAK_SKIP_LAZY_ALWAYS|rejected|tlb.break=skip_lazy_always
switch_order|$X86 -DBREAK_SWITCH_ORDER|rejected|tlb.break=switch_order
settle_no_flush|$X86 -DBREAK_SETTLE_NO_FLUSH|rejected|tlb.break=settle_no_flush
nested_blind|$X86 -DBREAK_NESTED_BLIND|rejected|tlb.break=nested_blind
nested_blind-mmgen|$MMGEN -DBREAK_NESTED_BLIND|rejected|tlb=mmgen tlb.break=nested_blind
lazy_no_catch_up|$X86 -DBREAK_LAZY_NO_CATCH_UP|rejected|tlb.break=lazy_no_catch_up
catch_up_skips_ring|$X86 -DBREAK_CATCH_UP_SKIPS_RING|rejected|tlb.break=catch_up_skips_ring
complete_to_before|$X86 -DBREAK_COMPLETE_TO_BEFORE|rejected|tlb.break=complete_to_before
defer_every_level|$X86 -DDEFER_EVERY_LEVEL|rejected|tlb.break=defer_every_level: the root deferred for a level it only passed through (an exactness check, not a stale translation)
switch_no_catch_up|$ARM -DBREAK_SWITCH_NO_CATCH_UP|rejected|tlb.break=switch_no_catch_up
skip_adoption_after_deferring|$X86 -DMUT_SKIP_ANY|rejected|mutant: skip adoption whenever the gather deferred anything (the bound must be defer_gen)
reuse_defer_gen_freeing|$X86 -DMUT_REUSE_FREED|rejected|mutant: a request that freed tables reuses defer_gen
x86-mode|$MODE|verified|the live mode switch (tlb_mode.pml), x86-64 tlb=gen at boot, 2 CPUs
x86-mmgen-mode|$MODE -DMMGEN|verified|the live mode switch, tlb=mmgen at boot, 2 CPUs
arm64-mode|$ARM -DMODE_SWITCH|verified|the live mode switch, arm64 tlb=ipi at boot, 2 CPUs
mode_switch_ignores_users|$MODE -DBREAK_MODE_SWITCH_IGNORES_USERS|rejected|tlb.break=mode_switch_ignores_users
mode_switch_ignores_users-mmgen|$MODE -DMMGEN -DBREAK_MODE_SWITCH_IGNORES_USERS|rejected|tlb=mmgen tlb.break=mode_switch_ignores_users (an operation spanning two modes)
mode_switch_ignores_users-arm64|$ARM -DMODE_SWITCH -DBREAK_MODE_SWITCH_IGNORES_USERS|rejected|tlb.break=mode_switch_ignores_users, arm64
refused_switch_forgets|$MODE -DBREAK_REFUSED_SWITCH_FORGETS|verified|tlb.break=refused_switch_forgets leaves no stale translation: it breaks only the rule that a refusal changes nothing (the mm suite's catch)
mode-ignore_gathers|$MODE -DMUT_IGNORE_GATHERS|verified|mutant: no -EAGAIN; the unload alone keeps the property
mode-no_unload|$MODE -DMUT_NO_UNLOAD|verified|mutant: completed without the unload; no gather open keeps the property
x86-batch|$X86 -DBATCH|verified|the protocol with a reclaim batch (tlb_batch.c), x86-64 tlb=gen, 3 CPUs
x86-mmgen-batch|$MMGEN -DBATCH|verified|the protocol with a reclaim batch, tlb=mmgen, 3 CPUs
arm64-ipi-batch|$ARM -DBATCH|verified|the protocol with a reclaim batch, arm64 tlb=ipi, 2 CPUs
batch_free_early|$X86 -DBATCH -DBREAK_BATCH_FREE_EARLY|rejected|tlb.break=batch_free_early
batch_closes_at_hand_off|$MMGEN -DBATCH -DBREAK_BATCH_CLOSES_AT_HAND_OFF|rejected|tlb=mmgen tlb.break=batch_closes_at_hand_off
batch_closes_at_hand_off-gen|$X86 -DBATCH -DBREAK_BATCH_CLOSES_AT_HAND_OFF|verified|tlb=gen survives batch_closes_at_hand_off: the later change takes on the batch's pending flush (docs/tlb.md)
xcall_wake|$XCALL|verified|the halting cross-call wait: no halt is lost (xcall_wake.pml)
xcall_wake-any_halt|$XCALL -DMUT_ANY_HALT|verified|variant: a target wakes a waiter halted for any slot
xcall_no_wake|$XCALL -DBREAK_NO_WAKE|rejected|xcall.break=no_wake
xcall_no_waiter_fence|$XCALL -DMUT_NO_WAITER_FENCE|rejected|mutant: the waiter reads busy before its halted store is visible
xcall_no_target_fence|$XCALL -DMUT_NO_TARGET_FENCE|rejected|mutant: the target reads halted before its busy store is visible
asid|$ASID|verified|the ASID allocator: no agent hits another mm's or a stale entry under its tag (asid.pml)
asid_no_carry|$ASID -DBREAK_ASID_NO_CARRY|rejected|tlb.break=asid_no_carry
asid_forget_reserved|$ASID -DBREAK_ASID_FORGET_RESERVED|rejected|tlb.break=asid_forget_reserved
asid_pin_ignored|$ASID -DBREAK_ASID_PIN_IGNORED|rejected|tlb.break=asid_pin_ignored
asid_orphan_freed|$ASID -DBREAK_ASID_ORPHAN_FREED|rejected|tlb.break=asid_orphan_freed
asid_release_unused|$ASID -DBREAK_ASID_RELEASE_UNUSED|rejected|tlb.break=asid_release_unused (the bug the model found, docs/reliability.md)
asid-3ids|$ASID3|verified|the ASID allocator with 3 ids, 8 operations: mm_switch unloads the old root before taking the next id, and every hit counts
asid-window-open|$ASID3 -DNPAUSE=1 -DSWITCH_KEEPS_OLD_ROOT=1|rejected|the kernel before 2026-12-03 (old root kept until the new one is loaded): a hit inside mm_switch after a rollover moved the old mm's id
kpt|$KPT|verified|kernel mappings, x86-64 (the table written over the block), 3 CPUs, one coming online (kpt.pml)
kpt-arm64|$KPT -DBBM|verified|kernel mappings, arm64 (break-before-make)
kpt-pages|$KPT -DPAGES|verified|kernel mappings, pages from the start (no split)
kpt-unmap|$KPT -DUNMAP0|verified|kernel mappings, both pages unmapped: the emptied table freed after a full flush
kpt-unmap-arm64|$KPT -DBBM -DUNMAP0|verified|kernel mappings, both pages unmapped, arm64
kernel_local_only|$KPT -DBREAK_KERNEL_LOCAL_ONLY|rejected|tlb.break=kernel_local_only
kernel_local_only-arm64|$KPT -DBBM -DBREAK_KERNEL_LOCAL_ONLY|rejected|tlb.break=kernel_local_only, arm64
kernel_local_only-pages|$KPT -DPAGES -DBREAK_KERNEL_LOCAL_ONLY|rejected|tlb.break=kernel_local_only, no split (kpt.downgrade_reaches_other_cpus)
replace_no_flush|$KPT -DBREAK_REPLACE_NO_FLUSH|rejected|tlb.break=replace_no_flush
replace_no_flush-arm64|$KPT -DBBM -DBREAK_REPLACE_NO_FLUSH|rejected|tlb.break=replace_no_flush, arm64
kpt_online_first|$KPT -DMUT_ONLINE_FIRST|rejected|mutant: cpu_online_mask read before the tables change (rule 12's flusher fence)
kpt_ap_flush_first|$KPT -DMUT_AP_FLUSH_FIRST|rejected|mutant: a CPU coming online flushes, then joins cpu_online_mask
kpt_no_stop_wait|$KPT -DMUT_NO_STOP_WAIT|rejected|mutant: an operation does not wait for a walk stopped after a replace (pt->stopped_by)
kpt_no_stop_wait-arm64|$KPT -DBBM -DMUT_NO_STOP_WAIT|rejected|mutant: the same under break-before-make: the broken slot taken for a hole
kpt_free_table_first|$KPT -DUNMAP0 -DMUT_FREE_TABLE_FIRST|rejected|mutant: the unhooked table freed before its flush
kpt_split_flush_page|$KPT -DMUT_SPLIT_FLUSH_PAGE|rejected|mutant: a split flushes only the page the walk goes on to change
kpt_split_flush_page-arm64|$KPT -DBBM -DMUT_SPLIT_FLUSH_PAGE|rejected|mutant: the same under break-before-make"

command -v spin >/dev/null 2>&1 || { echo "model: spin is not installed (make model installs it as root)"; exit 1; }

# With no names given, the variants run MODEL_JOBS at a time (default: one
# per core), each as `run.sh OUT NAME`; their lines are printed in list order.
jobs=${MODEL_JOBS:-$(nproc 2>/dev/null || echo 1)}
if [ -z "$only" ] && [ "$jobs" -gt 1 ]; then
	names=$(echo "$VARIANTS" | cut -d'|' -f1)
	# The longest searches start first (`longest`, measured in CI), so that
	# none is left running alone at the end: asid-3ids alone takes about
	# a third of the whole on 2 cores.
	longest="asid-3ids x86 batch_closes_at_hand_off-gen x86-batch asid"
	{
		for name in $longest; do echo "$name"; done
		echo "$names" | grep -vxF "$(echo "$longest" | tr ' ' '\n')"
	} | xargs -P "$jobs" -I{} sh -c 'sh "$0" "$1" "$2" >"$1/$2.result" 2>&1' \
		"$here/run.sh" "$out" {}
	passed=0
	failed=0
	for name in $names; do
		head -n 1 "$out/$name.result"
		if grep -q "^1 passed, 0 failed" "$out/$name.result"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
		fi
	done
	echo "$passed passed, $failed failed"
	# No variant run at all (a broken list, a name that matches none) is a failure.
	[ $failed -eq 0 ] && [ $passed -gt 0 ]
	exit
fi
passed=0
failed=0
# Field splitting on newlines only, for the variant list.
nl='
'
IFS_SAVED=$IFS
IFS=$nl
for v in $VARIANTS; do
	IFS=$IFS_SAVED
	name=${v%%|*}
	rest=${v#*|}
	flags=${rest%%|*}
	rest=${rest#*|}
	expect=${rest%%|*}
	what=${rest#*|}
	if [ -n "$only" ] && ! echo " $only " | grep -q " $name "; then
		IFS=$nl
		continue
	fi
	model=tlb_gen.pml
	case " $flags " in *" -DXCALL_WAKE "*) model=xcall_wake.pml ;; esac
	case " $flags " in *" -DASID_MODEL "*) model=asid.pml ;; esac
	case " $flags " in *" -DKPT_MODEL "*) model=kpt.pml ;; esac
	dir=$out/$name
	rm -rf "$dir"
	mkdir -p "$dir"
	# A verifier searches millions of states: -O2 pays for its 5 s compile.
	# A mutant's trail comes within a few hundred thousand: -O1 compiles in 1.5 s.
	opt=-O1
	[ "$expect" = verified ] && opt=-O2
	start=$(date +%s.%N)
	# shellcheck disable=SC2086
	(cd "$dir" && spin $flags -a "$here/$model" >spin.out 2>&1 &&
		gcc $opt -w -DSAFETY -DCOLLAPSE -DMEMLIM="$memlim" -o pan pan.c >gcc.out 2>&1 &&
		./pan -m20000 -w24 >pan.out 2>&1)
	secs=$(echo "$(date +%s.%N) $start" | awk '{ printf "%.1f", $1 - $2 }')
	states=$(sed -n 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p' "$dir/pan.out" 2>/dev/null | head -n 1)
	errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$dir/pan.out" 2>/dev/null | head -n 1)
	if [ -z "$errors" ]; then
		verdict="no verdict (see $dir)"
	elif [ "$errors" != 0 ]; then
		verdict=rejected
	elif grep -q "Search not completed\|max search depth too small" "$dir/pan.out"; then
		verdict="incomplete (memory or depth)"
	else
		verdict=verified
	fi
	detail=""
	if [ "$verdict" = rejected ]; then
		trail=$(ls "$dir"/*.trail 2>/dev/null | head -n 1)
		# shellcheck disable=SC2086
		(cd "$dir" && spin $flags -t -k "$trail" -p "$here/$model" >trail.txt 2>&1)
		why=$(sed -n 's/^pan:1: \(.*\) (at depth \([0-9]*\))/\1, depth \2/p' "$dir/pan.out" | head -n 1)
		detail=" with trail ${trail#"$PWD"/} ($why)"
	fi
	if [ "$verdict" = "$expect" ]; then
		passed=$((passed + 1))
		mark=ok
	else
		failed=$((failed + 1))
		mark="FAILED, expected $expect"
	fi
	echo "$name: $verdict$detail, ${states:-?} states, $secs s [$mark] - $what"
	IFS=$nl
done
IFS=$IFS_SAVED
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
