# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the vSnix scripts: sourced, never run.

VSNIX_ROOT=${VSNIX_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VSNIX_CACHE=${VSNIX_CACHE:-${HOME:-/root}/.cache/vsnix}

die() {
	echo "vsnix: error: $*" >&2
	exit 2
}

note() {
	echo "vsnix: $*" >&2
}

# The stock kernel the rig boots: the one linux-image-amd64 depends on,
# never a hard-coded version.
stock_kernel_version() {
	local dep

	dep=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
	      grep -o 'linux-image-[0-9][^ ,]*' | head -n1)
	dep=${dep#linux-image-}
	dep=${dep%-unsigned}
	if [ -z "$dep" ] || [ ! -e "/boot/vmlinuz-$dep" ]; then
		dep=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|/boot/vmlinuz-||' |
		      sort -V | tail -n1)
	fi
	[ -n "$dep" ] || die "no stock kernel in /boot: run 'make deps'"
	echo "$dep"
}
