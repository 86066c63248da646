#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Solo5's own tests with vsnixctl: builds the Solo5 checkout unmodified
# (./configure.sh && make), then runs the hvt cases of its tests.bats that
# apply to Linux hosts (scripts/solo5/cases) in the rig: QEMU (SVM) and
# Bochs (VMX, a smaller set). Prints TAP and "N passed, N failed".
#
#   scripts/solo5/test.sh SOLO5_CHECKOUT [--svm|--vmx]
#
# VSNIX_SOLO5_VMX_CASES: the case names Bochs runs (default below).
# The QEMU machine runs single-threaded TCG unless VSNIX_QEMU_TCG_THREAD
# says otherwise: the flood-ping cases got 99-630 replies/s from the
# multi-threaded emulator on a loaded host and about 1000/s from the
# single-threaded one (scripts/solo5/ping-rate.sh).
set -o pipefail
. "$(dirname "$0")/../rig/rig-lib.sh"

solo5=$1
machines="svm vmx"
case "$2" in
--svm) machines=svm ;;
--vmx) machines=vmx ;;
"") ;;
*) die "unknown option '$2'" ;;
esac

if [ -z "$solo5" ]; then
	echo "1..0 # SKIP no Solo5 checkout: make test-solo5 SOLO5=<path to github.com/Solo5/solo5>"
	echo "0 passed, 0 failed"
	exit 0
fi
[ -f "$solo5/configure.sh" ] && [ -f "$solo5/tests/tests.bats" ] ||
	die "$solo5 is not a Solo5 checkout (no configure.sh, tests/tests.bats)"

# Solo5's own build, in its tree, with its own scripts.
if [ ! -f "$solo5/Makeconf" ]; then
	(cd "$solo5" && ./configure.sh) || die "Solo5's configure.sh failed"
fi
mkdir -p "$RIG_DIR/solo5"
make -C "$solo5" >"$RIG_DIR/solo5/build.log" 2>&1 ||
	die "Solo5's make failed, see $RIG_DIR/solo5/build.log"
grep -q '^CONFIG_HVT_TENDER=1' "$solo5/Makeconf" 2>/dev/null ||
	note "Makeconf has no CONFIG_HVT_TENDER=1: tests.bats would skip every hvt case"

mkdir -p "$RIG_DIR/solo5"
cases=$VSNIX_ROOT/scripts/solo5/cases
adds=(--add "$VSNIX_ROOT/scripts/solo5/guest.sh")
for kernel in $(grep -v '^#' "$cases" | cut -d'|' -f2 | sort -u); do
	path=$(find "$solo5/tests" -name "$kernel" -type f | head -n1)
	[ -n "$path" ] && adds+=(--add "$path")
done

# Bochs: every case but the four network ones (their taps need the host's
# ip, which Bochs' host root disc lacks, and their flood pings would take
# hours there); about 7 minutes with the boot (wave 12: 20 of 20 pass).
vmx_cases=${VSNIX_SOLO5_VMX_CASES:-}

next=1 pass=0 fail=0 skip=0
for machine in $machines; do
	staged=$RIG_DIR/solo5/$machine.cases
	if [ "$machine" = vmx ]; then
		grep -v '^#' "$cases" | awk -F'|' -v keep="$vmx_cases" '
			BEGIN { n = split(keep, k, "|"); for (i = 1; i <= n; i++) want[k[i]] = 1 }
			keep != "" && want[$1]
			keep == "" && $3 !~ /(^| )(net|ping=)/' >"$staged"
		runner=(run-bochs.sh --timeout "${VSNIX_SOLO5_BOCHS_S:-1500}")
		limit=600
	else
		grep -v '^#' "$cases" >"$staged"
		runner=(run-qemu.sh --timeout "${VSNIX_SOLO5_QEMU_S:-1200}")
		export VSNIX_QEMU_TCG_THREAD=${VSNIX_QEMU_TCG_THREAD:-single}
		limit=60
	fi
	cp "$staged" "$RIG_DIR/solo5/solo5-cases"
	"$VSNIX_ROOT/scripts/rig/${runner[0]}" "${runner[@]:1}" "${adds[@]}" \
		--add "$RIG_DIR/solo5/solo5-cases" \
		--cmd "sh /data/guest.sh $limit" >"$RIG_DIR/solo5/$machine.out" 2>&1
	rc=$?
	riglog=$RIG_DIR/$machine.rig.log
	console=$RIG_DIR/$machine.console.log
	seen=0
	while IFS= read -r line; do
		case "$line" in
		"ok "*) echo "ok $next $machine: solo5 ${line#ok }"; pass=$((pass + 1)) ;;
		"not ok "*) echo "not ok $next $machine: solo5 ${line#not ok }"; fail=$((fail + 1)) ;;
		"skip "*)
			rest=${line#skip }
			echo "ok $next $machine: solo5 ${rest%%: *} # SKIP ${rest#*: }"
			skip=$((skip + 1)) ;;
		"# "*) echo "$line"; continue ;;
		*) continue ;;
		esac
		next=$((next + 1))
		seen=$((seen + 1))
	done < <(tr -d '\r' <"$riglog" 2>/dev/null | sed -n 's/^@@SOLO5 //p')
	want=$(wc -l <"$staged")
	if [ "$rc" -ne 0 ] || [ "$seen" -ne "$want" ]; then
		echo "not ok $next $machine: solo5 run ended early (exit $rc, $seen of $want cases), see $RIG_DIR/solo5/$machine.out"
		next=$((next + 1)) fail=$((fail + 1))
	fi
	# The host kernel must stay quiet while the guests fault and abort.
	bad=$(tr -d '\r' <"$console" | sed -n '/@@VSNIX-RIG start/,$p' |
	      grep -E 'BUG:|WARNING:|Oops|general protection|kernel BUG at|invalid opcode|KASAN|soft lockup' | head -n1)
	if [ -n "$bad" ]; then
		echo "not ok $next $machine: solo5 kernel console: $bad"
		fail=$((fail + 1))
	else
		echo "ok $next $machine: solo5 kernel console clean"
		pass=$((pass + 1))
	fi
	next=$((next + 1))
done
echo "1..$((next - 1))"
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
