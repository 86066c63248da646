#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the path of the host root image for machines without virtio-9p
# (Bochs), building it first when its inputs changed:
#
#   scripts/rig/hostroot.sh
#   scripts/rig/hostroot.sh --tools   the commands on it, one a line, as
#                                     hostrun may name them (name or path)
#
# The image is an ISO 9660 disc with Rock Ridge (symlinks, modes) holding
# the host tools that hostrun runs there ($HOSTROOT_TOOLS), every shared
# library they load (ldd), and a few files from /etc, at their host paths
# (merged /usr as on the host). The guest mounts it read-only at /host, as
# the QEMU machines mount the whole host root over 9p. It is cached as
# $VSNIX_CACHE/hostroot-<hash>.iso: the hash covers this script, the path,
# size and mtime of the tools and /etc files, and dpkg's status file (the
# libraries come from packages), so a package change or a new tool in the
# list makes a new image; the check costs no ldd. Images unused for a day
# are removed.
set -eo pipefail
. "$(dirname "$0")/../lib/common.sh"

# What hostrun may run on the Bochs machine: bpftrace (selftests/trace_tools,
# with sh, mount and cat around it) and systemd-udevd with udevadm and stat
# (the rig's devnode check). A command not listed makes hostrun exit 4.
HOSTROOT_TOOLS="/usr/bin/bpftrace /usr/bin/sh /usr/bin/dash /usr/bin/mount
	/usr/bin/true /usr/bin/false /usr/bin/cat /usr/bin/stat /usr/bin/test
	/usr/bin/env /usr/bin/ls /usr/bin/rm /usr/bin/udevadm
	/lib/systemd/systemd-udevd"
HOSTROOT_FILES="/etc/passwd /etc/group /etc/ld.so.cache"

if [ "$1" = --tools ]; then
	for f in $HOSTROOT_TOOLS; do
		basename "$f"
		echo "$f"
		case "$f" in
		/usr/*) echo "${f#/usr}" ;;
		esac
	done | sort -u
	exit 0
fi

for tool in xorriso ldd realpath sha256sum; do
	command -v "$tool" >/dev/null || die "$tool missing: run 'make deps'"
done

# Every file the image needs, one per line: the tools, the libraries the
# dynamic linker loads for them (ldd prints "name => path (addr)" and the
# linker's own "path (addr)"), the /etc files.
hostroot_inputs() {
	local f

	for f in $HOSTROOT_TOOLS $HOSTROOT_FILES; do
		[ -e "$f" ] || die "$f missing: run 'make deps' (scripts/rig/hostroot.sh)"
		echo "$f"
	done
	for f in $HOSTROOT_TOOLS; do
		ldd "$(realpath "$f")" 2>/dev/null |
			awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
	done
}

# copy_path STAGE PATH: PATH at its host location under STAGE. A symlink
# stays a symlink (same target text) and its target is copied too; the
# directories on the way are the host's real ones (/lib is usr/lib).
copy_path() {
	local stage=$1 path=$2 dir base link

	dir=$(realpath "$(dirname "$path")")
	base=$(basename "$path")
	[ -e "$stage$dir/$base" ] || [ -L "$stage$dir/$base" ] && return 0
	mkdir -p "$stage$dir"
	if [ -L "$path" ]; then
		link=$(readlink "$path")
		ln -s "$link" "$stage$dir/$base"
		case "$link" in
		/*) copy_path "$stage" "$link" ;;
		*) copy_path "$stage" "$dir/$link" ;;
		esac
	else
		cp -p "$path" "$stage$dir/$base"
	fi
}

build_image() {
	local out=$1 stage=$1.stage top f

	rm -rf "$stage"
	mkdir -p "$stage"/{proc,sys,dev,tmp,run,root,etc}
	# The host's merged /usr: /bin, /lib, ... are symlinks into /usr.
	for top in bin sbin lib lib64; do
		[ -L "/$top" ] && ln -s "$(readlink "/$top")" "$stage/$top"
	done
	sort -u <<<"$inputs" | while read -r f; do
		copy_path "$stage" "$f"
	done
	cat >"$stage/.vsnix-hostroot" <<-EOF
		vsnix rig host root image (scripts/rig/hostroot.sh), hash $hash
		tools: $(tr -s ' \t\n' ' ' <<<"$HOSTROOT_TOOLS")
	EOF
	xorriso -as mkisofs -quiet -R -iso-level 3 -V VSNIXROOT -o "$out.tmp" "$stage" \
		2>"$out.log" || die "xorriso failed for the host root image, see $out.log"
	mv "$out.tmp" "$out"
	rm -rf "$stage" "$out.log"
}

# shellcheck disable=SC2086 # the lists are words
hash=$({ cat "$0"; stat -L -c '%n %s %Y' $HOSTROOT_TOOLS $HOSTROOT_FILES \
		/var/lib/dpkg/status; } | sha256sum | cut -c1-16)
image=$VSNIX_CACHE/hostroot-$hash.iso
mkdir -p "$VSNIX_CACHE"
exec 9>"$VSNIX_CACHE/hostroot.lock"
flock 9
if [ ! -f "$image" ]; then
	note "host root image: building $image"
	inputs=$(hostroot_inputs | sort -u)
	build_image "$image"
fi
touch "$image"
find "$VSNIX_CACHE" -maxdepth 1 -name 'hostroot-*.iso' ! -newer "$image" -mmin +1440 \
	-delete 2>/dev/null || true
echo "$image"
