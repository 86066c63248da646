#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The selftests that load KVM (ebusy_kvm, kvm_handoff), in a machine of
# their own under single-threaded TCG: multi-threaded TCG (QEMU 7.2)
# crashes on the kernel's cross-CPU code patching that KVM triggers for
# each VM, and single-threaded TCG redelivers SVM-injected interrupts to
# nested Linux guests (run-qemu.sh, Documentation/security.rst), so the
# other machines hold these two out.
#   svm-6.12-kvm (default): Debian's 6.12 kernel, the series where KVM
#     holds SVM from the moment it loads; ebusy_kvm also checks 6.1's
#     behaviour there (kvm.enable_virt_at_load=0).
#   svm-debug-kvm (--debug): the debug kernel (KASAN, lockdep, kmemleak)
#     with its own KVM modules, without KUnit (scripts/rig/run-debug.sh).
#
#   scripts/rig/run-kvm.sh [--debug] [--tests "a b"] [--verbose]
set -eo pipefail
. "$(dirname "$0")/rig-lib.sh"

kvm_tests="ebusy_kvm kvm_handoff"
wanted=
debug=0
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--tests) wanted=$2; shift ;;
	--debug) debug=1 ;;
	*) args+=("$1") ;;
	esac
	shift
done
selected=
for t in $kvm_tests; do
	if [ -z "$wanted" ] || echo " $wanted " | grep -q " $t "; then
		selected="$selected $t"
	fi
done
[ -n "$selected" ] || die "none of $kvm_tests asked for"
export VSNIX_QEMU_TCG_THREAD=${VSNIX_QEMU_TCG_THREAD:-single}
if [ "$debug" = 1 ]; then
	VSNIX_DEBUG_MACHINE=svm-debug-kvm exec "$VSNIX_ROOT/scripts/rig/run-debug.sh" \
		--tests "${selected# }" "${args[@]}"
fi
VSNIX_612_MACHINE=svm-6.12-kvm exec "$VSNIX_ROOT/scripts/rig/run-612.sh" \
	--tests "${selected# }" "${args[@]}"
