#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The initramfs of the virtio-blk end-to-end test: mkinitrd.sh with
# disk-init.sh as /init, the stock kernel KVER's virtio_pci, virtio_blk,
# virtio_console and ext4 modules with their dependencies (from this machine's
# /lib/modules, in load order, decompressed) and mke2fs with its libraries.
#   mkdiskinitrd.sh OUT.cpio.gz KVER [--init SCRIPT] [--add HOST=GUEST]...
# (the benchmark's initramfs passes its own /init and tool).
set -e
here=$(cd "$(dirname "$0")" && pwd)
out=$1
kver=$2
[ -n "$kver" ] || { echo "usage: $0 OUT.cpio.gz KVER [mkinitrd.sh options]" >&2; exit 2; }
shift 2
init=$here/disk-init.sh
extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	--init) init=$2; shift 2 ;;
	*) extra+=("$1"); shift ;;
	esac
done
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
adds=()
: >"$stage/list"
for m in virtio_pci virtio_blk virtio_console ext4; do
	modprobe -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r path; do
	name=$(basename "$path")
	case "$name" in
	*.xz) xz -dc "$path" >"$stage/${name%.xz}"; name=${name%.xz} ;;
	*.zst) zstd -qdc "$path" >"$stage/${name%.zst}"; name=${name%.zst} ;;
	*) cp "$path" "$stage/$name" ;;
	esac
	echo "$name" >>"$stage/list"
done
for f in "$stage"/*.ko; do
	adds+=(--add "$f=/lib/vsnix-mod/$(basename "$f")")
done
adds+=(--add "$stage/list=/lib/vsnix-modules")
mke2fs=$(command -v mke2fs || echo /sbin/mke2fs)
adds+=(--add "$mke2fs=/sbin/mke2fs")
for lib in $(ldd "$mke2fs" | awk '/=>/ { print $3 } /^\t\// { print $1 }'); do
	adds+=(--add "$lib=$lib")
done
[ -f /etc/mke2fs.conf ] && adds+=(--add "/etc/mke2fs.conf=/etc/mke2fs.conf")
"$here/mkinitrd.sh" "$out" --init "$init" "${adds[@]}" "${extra[@]}"
