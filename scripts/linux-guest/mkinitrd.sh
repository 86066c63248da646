#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A busybox initramfs for Linux guests of vsnix (the Linux-guest test, and
# any test that needs a small guest userland):
#   mkinitrd.sh OUT.cpio.gz [--init SCRIPT] [--add HOSTPATH=GUESTPATH]...
# /init is SCRIPT (default: init.sh here, the self-check of the test);
# /bin has busybox (static, from busybox-static) and vsnix-exit, which
# ends the run through the exit port at 0xf4; /lib/guest-lib.sh the
# inits' shared functions.
set -e
here=$(cd "$(dirname "$0")" && pwd)
out=$1
shift || { echo "usage: $0 OUT.cpio.gz [--init SCRIPT] [--add HOST=GUEST]..." >&2; exit 2; }
init=$here/init.sh
adds=()
while [ $# -gt 0 ]; do
	case "$1" in
	--init) init=$2; shift 2 ;;
	--add) adds+=("$2"); shift 2 ;;
	*) echo "mkinitrd.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
busybox=${BUSYBOX:-/bin/busybox}
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' || {
	echo "mkinitrd.sh: $busybox is not a static busybox (apt-get install busybox-static)" >&2
	exit 1
}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,run,etc}
cp "$busybox" "$stage/bin/busybox"
for app in $("$busybox" --list); do
	[ "$app" = busybox ] || ln -s busybox "$stage/bin/$app"
done
${CC:-gcc} -Os -static -nostdlib -fno-stack-protector -fno-pie -no-pie \
	-fcf-protection=none -Wall -Wextra -Werror \
	-o "$stage/bin/vsnix-exit" "$here/vsnix-exit.c"
cp "$init" "$stage/init"
mkdir -p "$stage/lib"
cp "$here/guest-lib.sh" "$stage/lib/guest-lib.sh"
chmod 755 "$stage/init"
for a in "${adds[@]}"; do
	mkdir -p "$stage/$(dirname "${a#*=}")"
	cp -L "${a%%=*}" "$stage/${a#*=}"
done
mkdir -p "$(dirname "$out")"
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -9 >"$out.tmp"
mv "$out.tmp" "$out"
