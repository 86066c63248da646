#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian (bookworm) packages vSnix needs to build and test.
#   scripts/setup-deps.sh              install what is missing
#   scripts/setup-deps.sh --if-missing same, silent when all are present
#   scripts/setup-deps.sh --check      only report; exit 1 if any is missing
set -eo pipefail

PACKAGES="build-essential linux-image-amd64 linux-headers-amd64
	qemu-system-x86 bochs bochs-term bochsbios vgabios
	busybox-static cpio isolinux syslinux-common xorriso util-linux
	linux-source-6.1 flex bison bc libelf-dev libssl-dev dwarves
	libbpf-dev bpftool clang llvm bpftrace iproute2 kmod udev e2fsprogs
	libjson-c-dev pkg-config xz-utils"

missing_packages() {
	local pkg state

	for pkg in $PACKAGES; do
		state=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
		case "$state" in
		ii*) ;;
		*) echo "$pkg" ;;
		esac
	done
}

mode=${1:-install}
missing=$(missing_packages | tr '\n' ' ')
if [ -z "${missing// /}" ]; then
	[ "$mode" = --if-missing ] || echo "vsnix: all build and test packages are installed"
	exit 0
fi
if [ "$mode" = --check ]; then
	echo "vsnix: missing packages: $missing" >&2
	exit 1
fi

echo "vsnix: installing missing packages: $missing" >&2
sudo=
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || {
		echo "vsnix: error: need root to install: $missing" >&2
		exit 1
	}
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y --no-install-recommends $missing
still=$(missing_packages | tr '\n' ' ')
if [ -n "${still// /}" ]; then
	echo "vsnix: error: still missing after apt-get: $still" >&2
	exit 1
fi
