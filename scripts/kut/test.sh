#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kvm-unit-tests with vsnixctl: builds the checkout unmodified (its own
# ./configure && make), then runs the x86/unittests.cfg entries named in
# VSNIX_KUT_TESTS (the LAPIC/SMP ones by default) with their smp count
# and test arguments, each image through `vsnixctl run --cpus N` in the
# rig (QEMU/SVM; --vmx: Bochs/VMX). Prints TAP and "N passed, N failed".
#
#   scripts/kut/test.sh KUT_CHECKOUT [--svm|--vmx|--both]
#
# Each entry's limit is the cfg's timeout times the machine's factor
# (VSNIX_KUT_FACTOR_SVM, VSNIX_KUT_FACTOR_VMX; VSNIX_KUT_FACTOR for both;
# VSNIX_KUT_TIMEOUT: seconds for every entry); the whole machine's is its
# boot plus the limits, at most VSNIX_KUT_QEMU_S / VSNIX_KUT_BOCHS_S.
set -o pipefail
. "$(dirname "$0")/../rig/rig-lib.sh"

kut=$1
machines=svm
case "$2" in
--svm) machines=svm ;;
--vmx) machines=vmx ;;
--both) machines="svm vmx" ;;
"") ;;
*) die "unknown option '$2'" ;;
esac
tests=${VSNIX_KUT_TESTS:-"xapic x2apic ioapic smptest smptest3 eventinj vmexit_cpuid vmexit_ipi vmexit_ipi_halt vmexit_tscdeadline vmexit_tscdeadline_immed vmexit_mov_from_cr8 vmexit_mov_to_cr8 vmexit_inl_pmtimer vmexit_vmcall vmexit_ple_round_robin vmexit_cr0_wp vmexit_cr4_pge"}

if [ -z "$kut" ]; then
	echo "1..0 # SKIP no kvm-unit-tests checkout: make test-kut KUT=<path to kvm-unit-tests>"
	echo "0 passed, 0 failed"
	exit 0
fi
cfg=$kut/x86/unittests.cfg
[ -f "$kut/configure" ] && [ -f "$cfg" ] ||
	die "$kut is not a kvm-unit-tests checkout (no configure, x86/unittests.cfg)"

mkdir -p "$RIG_DIR/kut"
if [ ! -f "$kut/config.mak" ]; then
	(cd "$kut" && ./configure --arch=x86_64) >"$RIG_DIR/kut/configure.log" 2>&1 ||
		die "kvm-unit-tests' configure failed, see $RIG_DIR/kut/configure.log"
fi
make -C "$kut" >"$RIG_DIR/kut/build.log" 2>&1 ||
	die "kvm-unit-tests' make failed, see $RIG_DIR/kut/build.log"

# The cfg's entries: [name], file =, smp =, test_args =, timeout =, and
# from qemu_params the CPU model's "-x2apic" (vsnixctl --no-x2apic). The
# limit column is the cfg's timeout, or run_tests.sh's default of 90 s.
cases=$RIG_DIR/kut/kut-cases.cfg
awk -v want=" $tests " '
	function flush() {
		if (name != "" && index(want, " " name " "))
			printf "%s|%s|%s|%s|%s|%s\n", name, file, smp, args, tmo, flags
	}
	/^\[.*\]$/ { flush(); name = substr($0, 2, length($0) - 2)
		     file = ""; smp = 1; args = ""; tmo = 90; flags = ""; next }
	/^qemu_params *=.*-x2apic/ { flags = "--no-x2apic" }
	/^file *=/ { sub(/^file *= */, ""); file = $0 }
	/^smp *=/ { sub(/^smp *= */, ""); smp = $0 }
	/^test_args *=/ { sub(/^test_args *= */, ""); gsub(/\047|"/, ""); args = $0 }
	/^timeout *=/ { sub(/^timeout *= */, ""); tmo = $0 + 0 }
	END { flush() }' "$cfg" >"$cases"
# Names the cfg does not have run nothing; say so (apic-split left
# kvm-unit-tests in 2025 with the split-irqchip entries; the TSC deadline
# timer is a sub-test of apic.flat, run by x2apic and xapic).
for t in $tests; do
	cut -d'|' -f1 "$cases" | grep -qxF -- "$t" ||
		echo "# $t: not an entry of $cfg, not run"
done
adds=(--add "$VSNIX_ROOT/scripts/kut/guest.sh")
for f in $(cut -d'|' -f2 "$cases" | sort -u); do
	adds+=(--add "$kut/x86/$f")
done

# kut_cases MACHINE: the cases with each limit for MACHINE, in guest
# seconds. The cfg's timeouts are for KVM on hardware; here every exit is
# emulated by QEMU's TCG (svm) or Bochs (vmx), so each limit is multiplied
# by the machine's factor, so that a slow entry ends with its own
# PASS/FAIL lines rather than a kill. Measured on apic.flat (30,000 +
# 200,000 NMI IPIs, each an exit on both vCPUs): x2apic (cfg 30 s) took
# 57 guest s on Bochs, whose clock counts instructions (not load), and
# 592 s of QEMU's wall-clock guest time on a loaded host (before the NMI
# fix made it run all its rounds). VSNIX_KUT_TIMEOUT (seconds) replaces
# every limit; VSNIX_KUT_FACTOR every factor.
kut_cases() {
	local factor

	case "$1" in
	vmx) factor=${VSNIX_KUT_FACTOR:-${VSNIX_KUT_FACTOR_VMX:-5}} ;;
	*) factor=${VSNIX_KUT_FACTOR:-${VSNIX_KUT_FACTOR_SVM:-30}} ;;
	esac
	awk -F'|' -v OFS='|' -v f="$factor" -v force="${VSNIX_KUT_TIMEOUT:-0}" \
		'{ $5 = force > 0 ? force : $5 * f; print }' "$cases"
}

next=1 pass=0 fail=0 skip=0
for machine in $machines; do
	mkdir -p "$RIG_DIR/kut/$machine"
	kut_cases "$machine" >"$RIG_DIR/kut/$machine/kut-cases"
	# The whole machine: its boot plus every limit (a Bochs guest second
	# is about 7 s of wall time), capped.
	sum=$(awk -F'|' '{ s += $5 } END { print s + 0 }' "$RIG_DIR/kut/$machine/kut-cases")
	if [ "$machine" = vmx ]; then
		limit=$((600 + sum * 7))
		cap=${VSNIX_KUT_BOCHS_S:-5400}
		runner=run-bochs.sh
	else
		limit=$((120 + sum))
		cap=${VSNIX_KUT_QEMU_S:-3600}
		runner=run-qemu.sh
	fi
	[ "$limit" -le "$cap" ] || limit=$cap
	runner=("$runner" --timeout "$limit")
	"$VSNIX_ROOT/scripts/rig/${runner[0]}" "${runner[@]:1}" "${adds[@]}" \
		--add "$RIG_DIR/kut/$machine/kut-cases" \
		--cmd "sh /data/guest.sh" >"$RIG_DIR/kut/$machine.out" 2>&1
	rc=$?
	seen=0
	while IFS= read -r line; do
		case "$line" in
		"ok "*) echo "ok $next $machine: kut ${line#ok }"; pass=$((pass + 1)) ;;
		"not ok "*) echo "not ok $next $machine: kut ${line#not ok }"; fail=$((fail + 1)) ;;
		"skip "*)
			rest=${line#skip }
			echo "ok $next $machine: kut ${rest%%: *} # SKIP ${rest#*: }"
			skip=$((skip + 1)) ;;
		"# "*) echo "$line"; continue ;;
		*) continue ;;
		esac
		next=$((next + 1))
		seen=$((seen + 1))
	done < <(tr -d '\r' <"$RIG_DIR/$machine.rig.log" 2>/dev/null | sed -n 's/^@@KUT //p')
	want=$(wc -l <"$cases")
	if [ "$rc" -ne 0 ] || [ "$seen" -ne "$want" ]; then
		echo "not ok $next $machine: kut run ended early (exit $rc, $seen of $want cases), see $RIG_DIR/kut/$machine.out"
		next=$((next + 1)) fail=$((fail + 1))
	fi
done
echo "1..$((next - 1))"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
