#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The debug-kernel machine: build (once, cached) the KUnit/debug kernel, build
# vsnix.ko and vsnix_kunit.ko against it, boot it under QEMU/SVM, run the
# KUnit suites (TAP prefix "kunit:") and then the selftests ("svm-debug:"),
# with KASAN, lockdep and kmemleak watching.
#
#   scripts/rig/run-debug.sh [--tests "a b"] [--verbose]
#
# VSNIX_DEBUG_MACHINE=svm-debug-kvm (scripts/rig/run-kvm.sh --debug): the
# same kernel without KUnit, for the tests that load KVM.
set -eo pipefail
. "$(dirname "$0")/rig-lib.sh"

machine=${VSNIX_DEBUG_MACHINE:-svm-debug}

mkdir -p "$RIG_DIR"
rig_lock svm-debug-build
kdir=$("$VSNIX_ROOT/scripts/kunit/build-kernel.sh")
[ -f "$kdir/arch/x86/boot/bzImage" ] || die "no bzImage in $kdir"

src=$VSNIX_ROOT/build/kdebug
rig_build_module "$machine" "$kdir" "$src"

kunit=(--kunit-module "$src/kmod/tests/vsnix_kunit.ko")
[ "$machine" = svm-debug ] || kunit=()
exec "$VSNIX_ROOT/scripts/rig/run-qemu.sh" --machine "$machine" \
	--kernel "$kdir/arch/x86/boot/bzImage" \
	--module "$src/kmod/vsnix.ko" "${kunit[@]}" \
	--modules-dir "$kdir/modinst" \
	--boot-allowance "${VSNIX_DEBUG_BOOT_S:-400}" "$@"
