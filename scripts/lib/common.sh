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

# Debian bookworm's own kernel series: the rig's default.
VSNIX_DEFAULT_SERIES=6.1

# stock_kernel_version [SERIES]: the stock kernel the rig boots, never a
# hard-coded version. Without SERIES: the one linux-image-amd64 depends on
# (bookworm's 6.1). With SERIES (e.g. 6.12, from bookworm-backports): the
# newest installed kernel of that series.
stock_kernel_version() {
	local series=$1 dep

	if [ -n "$series" ]; then
		dep=$(stock_kernel_of_series "$series")
		[ -n "$dep" ] || die "no $series kernel in /boot: run 'make deps'"
		echo "$dep"
		return
	fi
	dep=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
	      grep -o 'linux-image-[0-9][^ ,]*' | head -n1)
	dep=${dep#linux-image-}
	dep=${dep%-unsigned}
	# Without the metapackage: bookworm's series, never a newer one.
	[ -n "$dep" ] && [ -e "/boot/vmlinuz-$dep" ] ||
		dep=$(stock_kernel_of_series "$VSNIX_DEFAULT_SERIES")
	[ -n "$dep" ] || die "no stock kernel in /boot: run 'make deps'"
	echo "$dep"
}

# The newest /boot/vmlinuz-<SERIES>.*-amd64 ("6.1" does not match 6.12).
stock_kernel_of_series() {
	local f

	for f in /boot/vmlinuz-"$1".*-amd64; do
		[ -e "$f" ] && echo "${f#/boot/vmlinuz-}"
	done | sort -V | tail -n1
}
