#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# How many flood-ping replies a Solo5 test_net unikernel gives in the rig,
# under vsnixctl and under Solo5's own solo5-hvt tender on KVM, in the same
# machine (svm-6.12-kvm: Debian's 6.12, single-threaded TCG, where KVM
# runs). tests.bats' net cases want 100000 replies in 60 s (1667/s); this
# shows whether the rig can give that to anyone (scripts/solo5/cases).
#
#   scripts/solo5/ping-rate.sh SOLO5_CHECKOUT [ROUNDS] [SECONDS]
set -o pipefail
. "$(dirname "$0")/../rig/rig-lib.sh"

solo5=$1 rounds=${2:-2} secs=${3:-20}
[ -x "$solo5/tenders/hvt/solo5-hvt" ] && [ -f "$solo5/tests/test_net/test_net.hvt" ] ||
	die "$solo5: no built Solo5 (make test-solo5 SOLO5=... builds it)"
out=$RIG_DIR/solo5/ping-rate.out
mkdir -p "$RIG_DIR/solo5"
VSNIX_QEMU_TCG_THREAD=single VSNIX_612_MACHINE=svm-6.12-kvm \
	"$VSNIX_ROOT/scripts/rig/run-612.sh" --timeout $((120 + rounds * (2 * secs + 40))) \
	--add "$VSNIX_ROOT/scripts/solo5/ping-rate-in-rig.sh" \
	--add "$solo5/tenders/hvt/solo5-hvt" --add "$solo5/tests/test_net/test_net.hvt" \
	--cmd "sh /data/ping-rate-in-rig.sh $rounds $secs" >"$out" 2>&1
rc=$?
tr -d '\r' <"$out" | grep '^PINGRATE' || die "no result (exit $rc), see $out"
