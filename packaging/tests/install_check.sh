#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host check of `make install` (run by `make check`, TAP on stdout): into
# a temporary DESTDIR with PREFIX=/usr it lays out the binaries, the man
# pages (which `man -l` renders without a warning and which name every
# command and option the tools have), the systemd units, the udev rule,
# the sysusers.d group, and the DKMS tree: dkms.conf names the module that
# kmod/Kbuild builds, where it is built, and the kernel build command, and
# the tree holds the module's sources and no build output.
# VSNIX_DKMS_BUILD=1 also builds the module from the DKMS tree with
# dkms.conf's MAKE[0] against $KDIR (a minute or more: not in make check).
set -u
cd "$(dirname "$0")/../.." || exit 1

nr=0
failed=0
ok() {	# ok COND-STATUS DESCRIPTION
	nr=$((nr + 1))
	if [ "$1" = 0 ]; then
		echo "ok $nr $2"
	else
		echo "not ok $nr $2"
		failed=$((failed + 1))
	fi
}

tmp=$(mktemp -d /tmp/vsnix-install-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root
echo "TAP version 13"

make -s install DESTDIR="$dest" PREFIX=/usr >"$tmp/install.log" 2>&1
st=$?
ok $st "make install DESTDIR=... PREFIX=/usr"
[ $st = 0 ] || sed 's/^/# /' "$tmp/install.log" | tail -20

version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' packaging/dkms.conf)
dkms=$dest/usr/src/vsnix-$version
files="usr/bin/vsnixctl usr/sbin/vsnixd usr/share/man/man1/vsnixctl.1
	usr/share/man/man8/vsnixd.8 usr/lib/systemd/system/vsnixd.service
	usr/lib/systemd/system/vsnixd.socket usr/lib/udev/rules.d/60-vsnix.rules
	usr/lib/sysusers.d/vsnix.conf usr/src/vsnix-$version/dkms.conf"
missing=
for f in $files; do
	[ -f "$dest/$f" ] || missing="$missing $f"
done
ok "$([ -z "$missing" ]; echo $?)" "installed: binaries, man pages, units, udev rule, sysusers.d, dkms.conf${missing:+ (missing:$missing)}"
[ -x "$dest/usr/bin/vsnixctl" ] && [ -x "$dest/usr/sbin/vsnixd" ]
ok $? "vsnixctl and vsnixd are executable"

grep -qx 'ExecStart=/usr/sbin/vsnixd --vmm /usr/bin/vsnixctl' \
	"$dest/usr/lib/systemd/system/vsnixd.service" &&
	! grep -q '@' "$dest/usr/lib/systemd/system/vsnixd.service"
ok $? "vsnixd.service: ExecStart with the installed paths, no @placeholder@ left"
unit=$dest/usr/lib/systemd/system
grep -qx 'ListenStream=/run/vsnix/vsnixd.sock' "$unit/vsnixd.socket" &&
	grep -qx 'SocketGroup=vsnix' "$unit/vsnixd.socket" &&
	grep -qx 'Requires=vsnixd.socket' "$unit/vsnixd.service" &&
	grep -qx 'Also=vsnixd.socket' "$unit/vsnixd.service" &&
	grep -qx 'RuntimeDirectoryPreserve=yes' "$unit/vsnixd.service"
ok $? "vsnixd.socket: vsnixd's default socket, group vsnix; the service requires it and keeps /run/vsnix"
grep -qx 'g vsnix -' "$dest/usr/lib/sysusers.d/vsnix.conf" &&
	grep -q 'GROUP="vsnix"' "$dest/usr/lib/udev/rules.d/60-vsnix.rules"
ok $? "sysusers.d makes the vsnix group the udev rule gives /dev/vsnix to"
# systemd's own check of the units, as installed (the binaries at their
# DESTDIR place: verify wants ExecStart's file to exist; --man=no: the
# man pages are not installed on this host).
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$tmp/units"
	sed "s|=/usr/|=$dest/usr/|" "$unit/vsnixd.service" >"$tmp/units/vsnixd.service"
	cp "$unit/vsnixd.socket" "$tmp/units/"
	(cd "$tmp/units" && systemd-analyze verify --man=no ./vsnixd.socket ./vsnixd.service) \
		>"$tmp/verify.log" 2>&1 && [ ! -s "$tmp/verify.log" ]
	ok $? "systemd-analyze verify: vsnixd.socket and vsnixd.service, no error, no warning"
	sed 's/^/# /' "$tmp/verify.log"
else
	echo "ok $((nr += 1)) systemd-analyze verify # SKIP no systemd-analyze here"
fi

# dkms.conf is shell: read it as dkms does, with dkms's variables set.
conf=$(kernel_source_dir=/lib/modules/K/build dkms_tree=/var/lib/dkms bash -c '
	set -u; . "$1" && echo "$PACKAGE_NAME|$PACKAGE_VERSION|${BUILT_MODULE_NAME[0]}|${BUILT_MODULE_LOCATION[0]}|${MAKE[0]}|$AUTOINSTALL"' \
	_ "$dkms/dkms.conf" 2>&1)
want="vsnix|$version|vsnix|kmod/|make -C /lib/modules/K/build M=/var/lib/dkms/vsnix/$version/build modules|yes"
[ "$conf" = "$want" ]
ok $? "dkms.conf: vsnix $version, module vsnix built in kmod/ by 'make -C \$kernel_source_dir M=<build> modules', autoinstall"
if [ "$conf" != "$want" ]; then
	echo "# got:  $conf"
	echo "# want: $want"
fi
grep -qx 'obj-m += vsnix.o' "$dkms/kmod/Kbuild" && grep -qx 'obj-m += kmod/' "$dkms/Kbuild"
ok $? "the DKMS tree's Kbuild builds kmod/vsnix.ko, the module dkms.conf names"
# Every file git tracks there (any kind: .S, Kbuild...), else what find sees.
srcs=$(git ls-files kmod uapi 2>/dev/null)
[ -n "$srcs" ] || srcs=$(find kmod uapi -type f ! -name '*.o' ! -name '*.ko' ! -name '*.mod*' \
	! -name '.*' ! -name modules.order)
src_missing=
for f in $srcs; do
	cmp -s "$f" "$dkms/$f" || src_missing="$src_missing $f"
done
ok "$([ -z "$src_missing" ]; echo $?)" "the DKMS tree holds every source of kmod/ and uapi/${src_missing:+ (missing:$src_missing)}"
junk=$(find "$dkms" -type f \( -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' \))
ok "$([ -z "$junk" ]; echo $?)" "the DKMS tree holds no build output${junk:+ ($junk)}"

# The man pages: rendered by man -l without a warning, and complete.
for page in usr/share/man/man1/vsnixctl.1 usr/share/man/man8/vsnixd.8; do
	MAN_DISABLE_SECCOMP=1 LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$dest/$page" >"$tmp/page.txt" 2>"$tmp/page.err"
	st=$?
	[ $st = 0 ] && [ ! -s "$tmp/page.err" ] && grep -q '^NAME' "$tmp/page.txt" &&
		grep -q '^SYNOPSIS' "$tmp/page.txt"
	ok $? "man -l $(basename "$page"): renders, no warning, NAME and SYNOPSIS"
	sed 's/^/# /' "$tmp/page.err" | head -5
done
cmds=$(userspace/vsnixctl help | sed -n 's/^  \([a-z]\+\) .*/\1/p')
absent=
for c in $cmds; do
	grep -q "^\.B $c\( \|$\)" Documentation/man/vsnixctl.1 || absent="$absent $c"
done
ok "$([ -n "$cmds" ] && [ -z "$absent" ]; echo $?)" "vsnixctl.1 describes every command of 'vsnixctl help'${absent:+ (not:$absent)}"
opts=$(userspace/vsnixd/vsnixd --help | grep -o '^  --[a-z-]\+')
absent=
for o in $opts; do
	grep -q "^\.BI\? \\\\-\\\\-${o#--}\( \|$\)" Documentation/man/vsnixd.8 ||
		grep -q "^\.BI\? \\\\-\\\\-$(echo "${o#--}" | sed 's/-/\\\\-/g')\( \|\"\|$\)" \
			Documentation/man/vsnixd.8 || absent="$absent $o"
done
ok "$([ -n "$opts" ] && [ -z "$absent" ]; echo $?)" "vsnixd.8 describes every option of 'vsnixd --help'${absent:+ (not:$absent)}"

if [ "${VSNIX_DKMS_BUILD:-}" = 1 ]; then
	kdir=${KDIR:-/lib/modules/$(uname -r)/build}
	mkdir -p "$tmp/dkms/vsnix/$version"
	cp -a "$dkms" "$tmp/dkms/vsnix/$version/build"
	cmd=$(kernel_source_dir=$kdir dkms_tree=$tmp/dkms bash -c '. "$1"; echo "${MAKE[0]}"' \
		_ "$dkms/dkms.conf")
	(cd "$tmp/dkms/vsnix/$version/build" && $cmd) >"$tmp/build.log" 2>&1 &&
		[ -f "$tmp/dkms/vsnix/$version/build/kmod/vsnix.ko" ]
	ok $? "dkms.conf's MAKE[0] builds kmod/vsnix.ko from the DKMS tree against $kdir"
	tail -5 "$tmp/build.log" | sed 's/^/# /'
fi
echo "1..$nr"
[ $failed = 0 ]
