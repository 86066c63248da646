#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build (once) the KUnit + debug kernel from Debian's linux-source-6.1 and
# print its build directory, usable as KDIR for out-of-tree modules.
# The build lives outside the repo in $VSNIX_CACHE/kernel-<hash>, where the
# hash covers the config fragment, this script and the source version, so it
# is rebuilt only when one of those changes.
set -eo pipefail
. "$(dirname "$0")/../lib/common.sh"

fragment=$VSNIX_ROOT/scripts/kunit/debug.config
tarball=$(ls /usr/src/linux-source-6.*.tar.xz 2>/dev/null | sort -V | tail -n1)
[ -n "$tarball" ] || die "no /usr/src/linux-source-6.*.tar.xz: run 'make deps'"
pkg=$(basename "$tarball" .tar.xz)
srcver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || stat -c %Y "$tarball")

hash=$( { cat "$fragment" "$0"; echo "$pkg $srcver"; } | sha256sum | cut -c1-12)
out=$VSNIX_CACHE/kernel-$hash
src=$VSNIX_CACHE/$pkg-$srcver

if [ -e "$out/.vsnix-done" ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$VSNIX_CACHE"
# Two builds of the same tree at once would corrupt it: serialize.
exec 9>"$VSNIX_CACHE/kernel.lock"
flock 9
if [ -e "$out/.vsnix-done" ]; then
	echo "$out"
	exit 0
fi

if [ ! -e "$src/.vsnix-extracted" ]; then
	note "extracting $tarball"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xf "$tarball" -C "$src.tmp" --strip-components=1
	touch "$src.tmp/.vsnix-extracted"
	mv "$src.tmp" "$src"
fi

jobs=$(nproc)
log=$out.log
note "building debug kernel in $out (log: $log; about 15-20 min on 2 cores)"
rm -rf "$out"
mkdir -p "$out"
{
	make -C "$src" O="$out" tinyconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$fragment"
	make -C "$src" O="$out" olddefconfig
} >"$log" 2>&1 || die "kernel configuration failed, see $log"

# merge_config only warns when Kconfig drops an option: insist on each one.
missing=0
while read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qx "$line" "$out/.config" || {
			note "debug.config: '$line' did not stick (dependency missing?)"
			missing=1
		}
		;;
	esac
done <"$fragment"
[ "$missing" = 0 ] || die "debug kernel config incomplete, see $log"

# `modules` is KVM's (kvm, kvm-intel, kvm-amd): installed under
# $out/modinst for the rig's initramfs.
nice -n 10 make -C "$src" O="$out" -j"$jobs" bzImage modules >>"$log" 2>&1 ||
	die "debug kernel build failed, see $log"
rm -rf "$out/modinst"
make -C "$src" O="$out" INSTALL_MOD_PATH="$out/modinst" INSTALL_MOD_STRIP=1 \
	DEPMOD=/bin/true modules_install >>"$log" 2>&1 ||
	die "debug kernel modules_install failed, see $log"
[ -s "$out/Module.symvers" ] || cp "$out/vmlinux.symvers" "$out/Module.symvers"
touch "$out/.vsnix-done"
note "debug kernel ready: $out"
echo "$out"
