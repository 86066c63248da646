#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The SVM machine on Debian's 6.12 kernel (the bookworm-backports series that
# scripts/setup-deps.sh installs beside bookworm's 6.1): build vsnix.ko
# against its headers in build/k612, boot it under QEMU/SVM and run the
# same selftests (TAP prefix "svm-6.12:"); its 9p, virtio, tun and KVM
# modules come from its own /lib/modules.
#
#   scripts/rig/run-612.sh [--tests "a b"] [--verbose] [--cmd ... --add ...]
set -eo pipefail
. "$(dirname "$0")/rig-lib.sh"

series=6.12
machine=${VSNIX_612_MACHINE:-svm-$series}
kver=$(stock_kernel_version "$series")
kdir=/lib/modules/$kver/build
[ -d "$kdir" ] || die "no headers for $kver ($kdir): run 'make deps'"

mkdir -p "$RIG_DIR"
rig_lock "$machine-build"
src=$VSNIX_ROOT/build/k612
rig_build_module "$machine" "$kdir" "$src"

exec "$VSNIX_ROOT/scripts/rig/run-qemu.sh" --machine "$machine" --series "$series" \
	--module "$src/kmod/vsnix.ko" "$@"
