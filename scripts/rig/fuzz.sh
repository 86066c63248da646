#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the two fuzzers (selftests/ioctl_fuzz, selftests/guest_fuzz) for as
# long as asked, on the KASAN/lockdep/kmemleak kernel by default.
#
#   scripts/rig/fuzz.sh CALLS [--seed S] [--machine svm-debug|svm|vmx]
#
# CALLS ioctls for ioctl_fuzz, CALLS/500 VMs (at least 50) for guest_fuzz.
# Any oops, WARN, KASAN report, leak, hang or failed assertion fails the run.
set -eo pipefail
. "$(dirname "$0")/rig-lib.sh"

calls=${1:-}
shift || true
case "$calls" in
'' | *[!0-9]*) die "usage: fuzz.sh CALLS [--seed S] [--machine M]" ;;
esac
seed=
machine=svm-debug
while [ $# -gt 0 ]; do
	case "$1" in
	--seed) seed=$2; shift ;;
	--machine) machine=$2; shift ;;
	*) die "unknown option '$1'" ;;
	esac
	shift
done

vms=$((calls / 500))
[ "$vms" -ge 50 ] || vms=50
# Measured on the debug kernel under TCG: ~2,000 calls and ~3 VMs a second.
limit=$((calls / 500 + vms + 120))
export VSNIX_RIG_TEST_ENV="VSNIX_FUZZ_CALLS=$calls VSNIX_FUZZ_VMS=$vms${seed:+ VSNIX_FUZZ_SEED=$seed}"
export VSNIX_TEST_TIMEOUT=$limit
# A machine that holds a fuzzer out of make test (a norun line in
# selftests/EXPECTED_SKIPS; none does now) still runs it here.
export VSNIX_RIG_RUN_ALL=1
export VSNIX_QEMU_MAX_S=$((2 * limit + 600))
export VSNIX_BOCHS_MAX_S=$((20 * limit + 600))
note "fuzz: $calls ioctls, $vms hostile VMs on $machine (limit ${limit}s a fuzzer)"
case "$machine" in
svm-debug) exec "$VSNIX_ROOT/scripts/rig/run-debug.sh" --tests "ioctl_fuzz guest_fuzz" ;;
svm) exec "$VSNIX_ROOT/scripts/rig/run-qemu.sh" --tests "ioctl_fuzz guest_fuzz" ;;
vmx) exec "$VSNIX_ROOT/scripts/rig/run-bochs.sh" --tests "ioctl_fuzz guest_fuzz" ;;
*) die "unknown machine '$machine' (svm-debug, svm or vmx)" ;;
esac
