#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Prints the path of a kernel BTF blob for vmlinux.h: $VMLINUX_BTF, else
# this host's /sys/kernel/btf/vmlinux, else the .BTF of the rig's stock
# kernel, decompressed from /boot/vmlinuz-<ver> into $1 (the build folder).
set -e
out=${1:-.}
if [ -n "$VMLINUX_BTF" ]; then
	echo "$VMLINUX_BTF"
	exit 0
fi
if [ -r /sys/kernel/btf/vmlinux ]; then
	echo /sys/kernel/btf/vmlinux
	exit 0
fi
ver=$(../scripts/rig/stock-kernel.sh 2>/dev/null || true)
img=/boot/vmlinuz-$ver
if [ -z "$ver" ] || [ ! -r "$img" ]; then
	echo "btf-source.sh: no /sys/kernel/btf/vmlinux and no stock kernel image: set VMLINUX_BTF" >&2
	exit 1
fi
# The compressed payload starts at its format's magic; try each match.
for fmt in "xz -dc:\3757zXZ" "gzip -dc:\037\213\010" "zstd -dc:(\265/\375"; do
	cmd=${fmt%%:*}
	magic=$(printf '%b' "${fmt#*:}")
	for off in $(LC_ALL=C grep -aboF "$magic" "$img" 2>/dev/null | cut -d: -f1); do
		tail -c +$((off + 1)) "$img" | $cmd > "$out/vmlinux.elf" 2>/dev/null || true
		if [ -s "$out/vmlinux.elf" ] && bpftool btf dump file "$out/vmlinux.elf" >/dev/null 2>&1; then
			echo "$out/vmlinux.elf"
			exit 0
		fi
	done
done
echo "btf-source.sh: no BTF found in $img: set VMLINUX_BTF" >&2
exit 1
