#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The files of `make demo`'s pool, in OUT (no root needed):
#   root.ext4        the Linux VM's root disk: 16 MiB of ext4 made by
#                    mkfs.ext4 -d from a tree with busybox (static) and
#                    /etc/rc.demo
#   initrd.cpio.gz   its initramfs: the stock kernel KVER's virtio_pci,
#                    virtio_blk and ext4 modules and demo-init.sh as /init,
#                    which mounts the root disk and runs rc.demo there
#   mkdemo.sh OUT KVER
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$1
kver=$2
[ -n "$kver" ] || { echo "usage: $0 OUT KVER" >&2; exit 2; }
mkdir -p "$out"
stamp=$out/.inputs
inputs=$(cat "$here/mkdemo.sh" "$here/demo-init.sh" "$here/rc.demo" /bin/busybox \
	  "$root/scripts/linux-guest/mkdiskinitrd.sh" | sha256sum | cut -c1-16)-$kver
[ -f "$out/root.ext4" ] && [ -f "$out/initrd.cpio.gz" ] &&
	[ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ] && exit 0

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/tree/{bin,etc,proc,sys,dev,tmp,var}
cp /bin/busybox "$stage/tree/bin/busybox"
for app in sh echo cat uname mount umount df free sync sleep grep head tr; do
	ln -s busybox "$stage/tree/bin/$app"
done
cp "$here/rc.demo" "$stage/tree/etc/rc.demo"
chmod 755 "$stage/tree/etc/rc.demo"
echo "vSnix demo root disk (busybox $(/bin/busybox | head -n1 | cut -d' ' -f2))" \
	>"$stage/tree/etc/issue"
mkfs=$(command -v mkfs.ext4 || echo /sbin/mkfs.ext4)
"$mkfs" -q -F -L demo-root -E root_owner=0:0 -d "$stage/tree" "$stage/root.ext4" 16M >/dev/null
# The initramfs: mkdiskinitrd.sh's modules with this /init.
"$root/scripts/linux-guest/mkdiskinitrd.sh" "$stage/initrd.cpio.gz" "$kver" \
	--init "$here/demo-init.sh" >/dev/null
mv "$stage/root.ext4" "$stage/initrd.cpio.gz" "$out/"
echo "$inputs" >"$stamp"
