#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian (bookworm) packages vSnix needs to build and test.
#   scripts/setup-deps.sh              install what is missing
#   scripts/setup-deps.sh --if-missing same, silent when all are present
#   scripts/setup-deps.sh --check      only report; exit 1 if any is missing
# Besides bookworm's packages it installs the 6.12 kernel (image and
# headers) from bookworm-backports, by their versioned names: the rig's
# default kernel stays bookworm's 6.1 (linux-image-amd64).
set -eo pipefail

BPO_SUITE=bookworm-backports
BPO_LIST=/etc/apt/sources.list.d/vsnix-backports.sources
BPO_SERIES=6.12

PACKAGES="build-essential linux-image-amd64 linux-headers-amd64
	qemu-system-x86 bochs bochs-term bochsbios vgabios
	busybox-static cpio isolinux syslinux-common xorriso util-linux
	linux-source-6.1 flex bison bc libelf-dev libssl-dev dwarves
	libbpf-dev bpftool clang llvm bpftrace iproute2 iputils-ping kmod udev e2fsprogs
	dnsmasq-base
	libjson-c-dev pkg-config xz-utils libseccomp-dev acpica-tools
	libsqlite3-dev sqlite3 man-db groff-base
	zlib1g-dev liblzma-dev libzstd-dev liblz4-dev libbz2-dev"

# One dpkg-query for all of them: every build target runs this.
missing_packages() {
	local installed pkg

	# dpkg-query fails on a name it has never seen, after listing the rest.
	installed=" $({ dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $PACKAGES \
			2>/dev/null || true; } | awk '/^ii/ { printf "%s ", $NF }')"
	for pkg in $PACKAGES; do
		case "$installed" in
		*" $pkg "*) ;;
		*) echo "$pkg" ;;
		esac
	done
}

# True when an image and its headers of the backports series are installed.
bpo_kernel_present() {
	local img

	for img in $(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' \
			"linux-image-$BPO_SERIES.*-amd64" \
			"linux-image-$BPO_SERIES.*-amd64-unsigned" 2>/dev/null |
		     awk '/^ii/ { print $NF }'); do
		img=${img%-unsigned}
		case $(dpkg-query -W -f='${db:Status-Abbrev}' \
			"linux-headers-${img#linux-image-}" 2>/dev/null) in
		ii*) return 0 ;;
		esac
	done
	return 1
}

# The URI of the Debian mirror this machine already uses for bookworm
# (deb822 .sources or one-line .list form): backports come from it too.
debian_mirror() {
	local f

	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] && [ "$f" != "$BPO_LIST" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
		     /(^|\n)Suites:[^\n]*[ \t]bookworm([ \t]|\n|$)/ ||
		     /(^|\n)Suites:[ \t]*bookworm([ \t]|\n|$)/ {
			for (i = 1; i <= NF; i++)
				if ($i ~ /^URIs:/) {
					split($i, w, /[ \t]+/); print w[2]; exit
				}
		     }' "$f"
	done
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" { u = ""; s = ""
			for (i = 2; i <= NF; i++) {
				if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; continue }
				if (u == "") u = $i; else if (s == "") s = $i
			}
			if (s == "bookworm") print u }'
	return 0
}

# True when apt can install package $1.
installable() {
	apt-cache policy "$1" 2>/dev/null |
		awk '$1 == "Candidate:" { found = $2 != "(none)" } END { exit !found }'
}

# The newest kernel version (6.12.<n>+deb12-amd64) whose headers and image
# apt can install, then the image's package: the signed one, or the
# -unsigned one (the same /boot/vmlinuz) while a new version's signed
# package has not been published yet.
bpo_kernel_packages() {
	local ver image

	for ver in $({ apt-cache pkgnames "linux-headers-$BPO_SERIES." || true; } |
		     sed -n "s/^linux-headers-\($BPO_SERIES\.[0-9]*+deb12-amd64\)\$/\1/p" |
		     sort -rV); do
		installable "linux-headers-$ver" || continue
		for image in "linux-image-$ver" "linux-image-$ver-unsigned"; do
			if installable "$image"; then
				echo "$image linux-headers-$ver"
				return
			fi
		done
	done
}

# Add the backports suite (once) and install the newest versioned 6.12
# image and headers it has, never its linux-image-amd64 metapackage.
install_bpo_kernel() {
	local mirror pkgs

	if ! grep -rqs "$BPO_SUITE" /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
			/etc/apt/sources.list.d/*.sources; then
		mirror=$(debian_mirror | awk 'NR == 1')
		[ -n "$mirror" ] || {
			echo "vsnix: error: no bookworm entry in the apt sources to take a mirror from" >&2
			exit 1
		}
		printf '%s\n' 'Types: deb' "URIs: $mirror" "Suites: $BPO_SUITE" \
			'Components: main' \
			'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' |
			$sudo tee "$BPO_LIST" >/dev/null
		echo "vsnix: added $BPO_SUITE from $mirror ($BPO_LIST)" >&2
	fi
	$sudo apt-get update
	pkgs=$(bpo_kernel_packages)
	[ -n "$pkgs" ] || {
		echo "vsnix: error: no installable linux-image and linux-headers $BPO_SERIES.*-amd64 in $BPO_SUITE" >&2
		exit 1
	}
	echo "vsnix: installing the $BPO_SERIES kernel from $BPO_SUITE: $pkgs" >&2
	$sudo apt-get install -y --no-install-recommends -t "$BPO_SUITE" $pkgs
}

mode=${1:-install}
missing=$(missing_packages | tr '\n' ' ')
bpo=
bpo_kernel_present || bpo="linux-image-$BPO_SERIES.*-amd64 (from $BPO_SUITE)"
if [ -z "${missing// /}" ] && [ -z "$bpo" ]; then
	[ "$mode" = --if-missing ] || echo "vsnix: all build and test packages are installed"
	exit 0
fi
if [ "$mode" = --check ]; then
	echo "vsnix: missing packages: $missing $bpo" >&2
	exit 1
fi

echo "vsnix: installing missing packages: $missing $bpo" >&2
sudo=
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || {
		echo "vsnix: error: need root to install: $missing $bpo" >&2
		exit 1
	}
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
if [ -n "${missing// /}" ]; then
	$sudo apt-get update
	$sudo apt-get install -y --no-install-recommends $missing
fi
[ -z "$bpo" ] || install_bpo_kernel
still=$(missing_packages | tr '\n' ' ')
bpo_kernel_present || still="$still linux-image-$BPO_SERIES.*-amd64"
if [ -n "${still// /}" ]; then
	echo "vsnix: error: still missing after apt-get: $still" >&2
	exit 1
fi
