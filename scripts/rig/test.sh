#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the selftests on the rig's machines and print one TAP stream, then
# "N passed, N failed[, N skipped]". Exits 1 on any failure.
#
#   scripts/rig/test.sh                 svm, svm-panic, svm-6.12,
#                                       svm-6.12-kvm (QEMU), vmx (Bochs),
#                                       kunit+svm-debug, svm-debug-kvm
#   scripts/rig/test.sh --quick         svm and svm-panic only
#   scripts/rig/test.sh --612           svm-6.12 and svm-6.12-kvm only
#                                       (Debian's 6.12 kernel)
#   scripts/rig/test.sh --vmx           vmx only
#   scripts/rig/test.sh --debug         kunit + svm-debug, svm-debug-kvm
#   ... --tests "name1 name2"           a subset of the selftests; the name
#                                       "panic" selects the svm-panic step
set -o pipefail
. "$(dirname "$0")/rig-lib.sh"

machines="svm svm-panic svm-6.12 svm-6.12-kvm vmx svm-debug svm-debug-kvm"
wanted=
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) machines="svm svm-panic" ;;
	--612) machines="svm-6.12 svm-6.12-kvm" ;;
	--vmx) machines="vmx" ;;
	--debug) machines="svm-debug svm-debug-kvm" ;;
	--tests) wanted=$2; shift ;;
	-h|--help) sed -n '3,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done

# svm-panic (scripts/rig/panic-check.sh) kills its machine: it runs with
# the whole set, or when "panic" is named. svm-6.12-kvm and svm-debug-kvm
# run only the tests that load KVM (scripts/rig/run-kvm.sh).
if [ -n "$wanted" ] && ! echo " $wanted " | grep -Eq " (ebusy_kvm|kvm_handoff) "; then
	machines=$(echo " $machines " | sed 's/ svm-6.12-kvm / /; s/ svm-debug-kvm / /')
fi
if [ -n "$wanted" ]; then
	if echo " $wanted " | grep -q " panic "; then
		wanted=$(echo " $wanted " | sed 's/ panic / /g; s/^ *//; s/ *$//')
		[ -n "$wanted" ] || machines=$(echo " $machines " | grep -o " svm-panic ")
	else
		machines=$(echo " $machines " | sed 's/ svm-panic / /')
	fi
fi

postmortem() {
	local machine=$1 con=$RIG_DIR/$1.console.log rig=$RIG_DIR/$1.rig.log

	[ -f "$rig" ] && [ -f "$con" ] || return 0
	[ "$machine" = svm-panic ] && return 0
	if ! tr -d '\r' <"$rig" | grep -q '^@@VSNIX-RIG end'; then
		echo "# $machine: post-mortem: the machine stopped before the end" \
			"($(cat "$RIG_DIR/$machine.status" 2>/dev/null)); its console's last lines:"
		tr -d '\r' <"$con" | grep -v '^$' | tail -n 25 | sed "s/^/# $machine: | /"
		# Where its wall time went (run-bochs.sh).
		cat "$RIG_DIR/$machine.slowest" 2>/dev/null
	fi
	if grep -q '@@VSNIX-STUCK' "$con"; then
		echo "# $machine: post-mortem: a stuck test; the console from its marker:"
		tr -d '\r' <"$con" | sed -n '/@@VSNIX-STUCK/,$p' | grep -v '^$' | head -n 60 |
			sed "s/^/# $machine: | /"
	fi
}

# The debug kernel (scripts/kunit/build-kernel.sh: about 20 minutes of
# both cores when not cached) builds while Bochs runs vmx: Bochs is one
# thread, and its guest's clock counts instructions, so a niced build on
# the other core costs the vmx tests no time limit (only their machine's
# wall-clock guard, raised for that). run-debug.sh then finds it built,
# or waits on the build's lock for the rest.
debug_kernel_pid=
prebuild_debug_kernel() {
	case " $machines " in
	*" svm-debug "* | *" svm-debug-kvm "*) ;;
	*) return 0 ;;
	esac
	nice -n 19 "$VSNIX_ROOT/scripts/kunit/build-kernel.sh" \
		>"$RIG_DIR/debug-kernel.log" 2>&1 &
	debug_kernel_pid=$!
	export VSNIX_BOCHS_MAX_S=${VSNIX_BOCHS_MAX_S:-3000}
}

mkdir -p "$RIG_DIR"
next=1
pass=0
fail=0
skip=0
# The report's own logic first (a second, no emulator).
if "$VSNIX_ROOT/scripts/rig/report-test.sh" >"$RIG_DIR/report-test.log" 2>&1; then
	echo "ok $next rig: report.awk self-test (scripts/rig/report-test.sh)"
	pass=1
else
	cat "$RIG_DIR/report-test.log"
	echo "not ok $next rig: report.awk self-test (scripts/rig/report-test.sh)"
	fail=1
fi
next=$((next + 1))
export VSNIX_RIG_SUMMARY=0
for machine in $machines; do
	case "$machine" in
	svm) runner=(run-qemu.sh) ;;
	svm-6.12) runner=(run-612.sh) ;;
	svm-6.12-kvm) runner=(run-kvm.sh) ;;
	vmx) runner=(run-bochs.sh) ;;
	svm-debug) runner=(run-debug.sh) ;;
	svm-debug-kvm) runner=(run-kvm.sh --debug) ;;
	svm-panic) runner=(panic-check.sh) ;;
	esac
	rm -f "$RIG_DIR/$machine.counts" "$RIG_DIR/$machine.tap"
	[ "$machine" != vmx ] || prebuild_debug_kernel
	started=$SECONDS
	VSNIX_RIG_FIRST=$next "$VSNIX_ROOT/scripts/rig/${runner[0]}" "${runner[@]:1}" --tests "$wanted" |
		tee "$RIG_DIR/$machine.tap"
	rc=$?
	echo "# $machine: $((SECONDS - started)) s of wall time"
	if [ -s "$RIG_DIR/$machine.counts" ]; then
		read -r p f s next <"$RIG_DIR/$machine.counts"
		pass=$((pass + p))
		fail=$((fail + f))
		skip=$((skip + s))
	fi
	if [ ! -s "$RIG_DIR/$machine.counts" ] || [ "$rc" -ne 0 ]; then
		echo "not ok $next $machine: runner failed (exit $rc) before reporting, see above"
		next=$((next + 1))
		fail=$((fail + 1))
	fi
done

# A prebuild that outlived its machines (a run without svm-debug after all).
[ -z "$debug_kernel_pid" ] || wait "$debug_kernel_pid" 2>/dev/null

# A machine that stopped early or a stuck test: the end of its console,
# printed last so that a truncated CI log still shows it.
for machine in $machines; do
	postmortem "$machine"
done
# The failures again, just above the counts: CI keeps a log's end. With
# the first lines of each one's diagnostics (report.awk prints them under
# it: exit code, vsnixctl's stderr, console warnings).
for machine in $machines; do
	awk '/^not ok/ { print "# failed: " $0; n = 0; infail = 1; next }
	     infail && /^# / { if (++n <= 25) print "#   " substr($0, 3); next }
	     { infail = 0 }' "$RIG_DIR/$machine.tap" 2>/dev/null
done

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
