#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark (not a test): kvm-unit-tests' vmexit entries under vsnix and
# under kvm_amd in the same emulated PC (Documentation/benchmarks.rst,
# "kvm-unit-tests vmexit"). Builds the module, vsnixctl and the checkout's
# x86/vmexit.flat (its own make), boots the QEMU rig once and runs
# userspace/bench/kut-vmexit-in-rig.sh there.
#   userspace/bench/kut-vmexit-bench.sh KUT_CHECKOUT [RUNS] [TESTS]
# VSNIX_QEMU_TCG_THREAD=single|multi picks the rig's TCG mode (multi, the
# run-qemu.sh default, unless set).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
kut=${1:?usage: kut-vmexit-bench.sh KUT_CHECKOUT [RUNS] [TESTS]}
runs=${2:-5}
tests=${3:-}
[ -f "$kut/x86/vmexit.c" ] || { echo "bench: $kut is not a kvm-unit-tests checkout" >&2; exit 1; }
make -C "$root" rig-modules userspace >/dev/null
[ -f "$kut/config.mak" ] || (cd "$kut" && ./configure --arch=x86_64 >/dev/null)
make -C "$kut" x86/vmexit.flat >/dev/null
"$root/scripts/rig/run-qemu.sh" --timeout "${VSNIX_BENCH_TIMEOUT:-3000}" \
	--add "$root/userspace/bench/kut-vmexit-in-rig.sh" --add "$kut/x86/vmexit.flat" \
	--cmd "hostrun true && sh /data/kut-vmexit-in-rig.sh $runs${tests:+ \"$tests\"}" |
	grep -E "^(bench|median|minimum):|VSNIX-CMD"
