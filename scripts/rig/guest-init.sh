#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# PID 1 of the rig's initramfs. Loads vsnix.ko, checks the rig itself, runs
# the selftests (or one command), unloads, and powers off. The host parses
# the markers ("@@VSNIX-...") and TAP lines; see scripts/rig/report.awk.

/bin/busybox mkdir -p /proc /sys /dev /tmp /run
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin
# No /dev/console in the archive (packing needs no root): take it now.
exec </dev/console >/dev/console 2>&1
export PATH=/bin:/sbin
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

. /lib/vsnix/guest-lib.sh
. /etc/vsnix/rig.conf

KMEMLEAK=/sys/kernel/debug/kmemleak
VSNIX_GID=4242
# vsnix.ko's count of page-allocator pages (kmod/core/pages.c).
PAGES=/sys/module/vsnix/parameters/pages
pages_base=

# The rig's channel to the host is the second serial port (fd 3): the
# tests' TAP and the markers there are never split by kernel messages, and
# the tests' output stays out of the kernel log they may inspect. The
# console keeps the kernel's messages and a few markers put in via kmsg.
if [ -c /dev/ttyS1 ] && stty -F /dev/ttyS1 115200 raw -echo 2>/dev/null; then
	exec 3>/dev/ttyS1
else
	exec 3>/dev/console
fi

say() {
	printf '%s\n' "$*" >&3
}

klog() {
	printf '<5>%s\n' "$*" >/dev/kmsg
}

check() {
	say "@@VSNIX-CHECK $*"
}

# Known leak suspects from boot are not ours: mark them reported, so that
# the scan after rmmod shows only what happened during the run.
kmemleak_baseline() {
	[ -w "$KMEMLEAK" ] || return 0
	echo scan >"$KMEMLEAK"
	echo clear >"$KMEMLEAK"
}

kmemleak_check() {
	local leaks

	if [ ! -w "$KMEMLEAK" ]; then
		check kmemleak skip "kernel has no kmemleak"
		return
	fi
	# An object is reported only once it is 5 s old (mm/kmemleak.c).
	sleep 6
	echo scan >"$KMEMLEAK"
	leaks=$(cat "$KMEMLEAK")
	if [ -z "$leaks" ]; then
		check kmemleak ok "no new leak suspects"
	else
		echo "$leaks" >&3
		check kmemleak fail "new leak suspects, see above"
	fi
}

# Start the host's real systemd-udevd in the 9p chroot, with the repo's
# rule in /run/udev/rules.d and a vsnix group added to a copy of the
# host's /etc/group bound over the original.
udev_start() {
	host_prepare || return 1
	host_exec test -x /lib/systemd/systemd-udevd || return 1
	cp "$HOST_ROOT/etc/group" /run/group
	grep -q '^vsnix:' /run/group || echo "vsnix:x:$VSNIX_GID:" >>/run/group
	mount --bind /run/group "$HOST_ROOT/etc/group" || return 1
	mkdir -p "$HOST_ROOT/run/udev/rules.d"
	cp /etc/vsnix/60-vsnix.rules "$HOST_ROOT/run/udev/rules.d/"
	host_exec /lib/systemd/systemd-udevd --daemon || return 1
}

udev_check() {
	local got

	host_exec udevadm settle --timeout=60
	got=$(host_exec stat -c '%a %G %F' /dev/vsnix 2>&1)
	if [ "$got" = "660 vsnix character special file" ]; then
		check devnode ok "/dev/vsnix 0660 group vsnix (host systemd-udevd, repo rule)"
	else
		check devnode fail "/dev/vsnix: want '660 vsnix character special file', got '$got'"
	fi
	host_exec udevadm control --exit
}

# vsnix's page count, once it is back at its value after insmod (a VM's
# last reference may drop a moment after its fds close), or after 3 s.
pages_now() {
	local try=0 n

	[ -r "$PAGES" ] || { echo -; return; }
	while :; do
		n=$(cat "$PAGES")
		[ "$n" = "$pages_base" ] || [ $try -ge 30 ] && break
		usleep 100000
		try=$((try + 1))
	done
	echo "$n"
}

pages_check() {
	local n

	if [ -z "$pages_base" ] || [ "$pages_base" = - ]; then
		check pages fail "no $PAGES after insmod: cannot count vsnix's pages"
		return
	fi
	n=$(pages_now)
	if [ "$n" = "$pages_base" ]; then
		check pages ok "vsnix holds $n page(s), as after insmod: no page leaked"
	else
		check pages fail "vsnix holds $n page(s) before rmmod, $pages_base after insmod: leak"
	fi
}

# A test still alive STUCK_GRACE seconds after timeout(1)'s SIGKILL is stuck
# in the kernel: the watchdog shows where (sysrq w: blocked tasks; l: each
# CPU's backtrace), then wakes this shell (USR1 ends its wait) so that the
# tests after it still run. rc 200 tells report.awk.
STUCK_GRACE=30
test_stuck=0
trap 'test_stuck=1' USR1

stuck_watchdog() {
	local name=$1 pid=$2 left=$(($3 + STUCK_GRACE))

	while [ "$left" -gt 0 ]; do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 5
		left=$((left - 5))
	done
	kill -0 "$pid" 2>/dev/null || return 0
	klog "@@VSNIX-STUCK $name: alive ${STUCK_GRACE} s after SIGKILL"
	echo 1 >/proc/sys/kernel/sysrq
	echo w >/proc/sysrq-trigger
	echo l >/proc/sysrq-trigger
	kill -USR1 $$
}

run_one() {
	local name=$1 limit=$2 pid rc

	test_stuck=0
	VSNIX_RIG_MACHINE=$RIG_MACHINE timeout -s KILL "$limit" \
		"/selftests/$name" </dev/null >&3 2>&1 &
	pid=$!
	stuck_watchdog "$name" "$pid" "$limit" &
	wait "$pid"
	rc=$?
	[ "$test_stuck" = 1 ] && return 200
	return "$rc"
}

# Exits where QEMU's TCG saved the host's state as the guest's, as the SVM
# backend counts them (kmod/arch/x86/svm/svm_exit.c, Documentation/
# security.rst). Not its warnings in dmesg: they are ratelimited, and the
# log ring (128 KiB in the stock kernel) drops its oldest lines in a long
# run, so a count of them can stay the same across a new fault.
lost_state_count() {
	cat /sys/module/vsnix/parameters/lost_states 2>/dev/null || echo -
}

# A test that failed while that fault was logged runs once more; the host
# drops the first run's results (report.awk, @@VSNIX-TEST-RETRY).
run_counted() {
	local name=$1 limit=$2 faults rc

	faults=$(lost_state_count)
	run_one "$name" "$limit"
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 200 ] &&
	   [ "$(lost_state_count)" != "$faults" ]; then
		klog "@@VSNIX-TEST-RETRY $name"
		say "@@VSNIX-TEST-RETRY $name the VM exit saved the host's state as the guest's (emulator fault, exit code $rc): run again"
		run_one "$name" "$limit"
		rc=$?
	fi
	return "$rc"
}

run_tests() {
	local name limit rc

	[ -f /etc/vsnix/test.env ] && . /etc/vsnix/test.env
	cd /selftests 2>/dev/null || cd /
	while read -r name limit; do
		[ -n "$name" ] || continue
		# The console's copy tells the host which test a kernel line
		# belongs to (selftests/EXPECTED_CONSOLE).
		klog "@@VSNIX-TEST-BEGIN $name"
		say "@@VSNIX-TEST-BEGIN $name $limit"
		if [ -x "/selftests/$name" ]; then
			run_counted "$name" "$limit"
			rc=$?
		else
			rc=127
		fi
		klog "@@VSNIX-TEST-END $name"
		say "@@VSNIX-PAGES $name $(pages_now) $pages_base"
		say "@@VSNIX-TEST $name $rc"
	done </etc/vsnix/tests
	cd /
}

run_kunit() {
	klog "@@VSNIX-KUNIT-BEGIN"
	if insmod /lib/vsnix/vsnix_kunit.ko; then
		rmmod vsnix_kunit || klog "@@VSNIX-KUNIT-RMMOD-FAILED"
	else
		klog "@@VSNIX-KUNIT-INSMOD-FAILED"
	fi
	klog "@@VSNIX-KUNIT-END"
}

# Where the rig packed stock modules: /dev/net/tun for the tests.
[ -f "/lib/modules/$(uname -r)/modules.dep" ] && modprobe tun 2>/dev/null

klog "@@VSNIX-RIG start"
grep -qw xsave /proc/cpuinfo && xsave=yes || xsave=no
say "@@VSNIX-RIG start machine=$RIG_MACHINE kernel=$(uname -r) mode=$RIG_MODE" \
	"cpus=$(nproc) xsave=$xsave uptime=$(cut -d' ' -f1 /proc/uptime)"
kmemleak_baseline
[ "$RIG_KUNIT" = 1 ] && run_kunit

udev_up=0
if [ "$RIG_UDEV" = 1 ]; then
	if udev_start; then
		udev_up=1
	else
		check devnode fail "could not start the host's systemd-udevd over 9p"
	fi
elif [ "$RIG_MODE" = test ]; then
	check devnode skip "$RIG_UDEV_WHY"
fi

# shellcheck disable=SC2086 # RIG_KO_ARGS: name=value words
if insmod /lib/vsnix/vsnix.ko $RIG_KO_ARGS; then
	check insmod ok "insmod vsnix.ko${RIG_KO_ARGS:+ $RIG_KO_ARGS}"
	pages_base=$(cat "$PAGES" 2>/dev/null || echo -)
else
	check insmod fail "insmod vsnix.ko failed (see console above)"
fi
[ "$udev_up" = 1 ] && udev_check

if [ "$RIG_MODE" = cmd ] && [ "$RIG_QUIET" = 1 ]; then
	# run-qemu.sh --quiet: the command's output on the rig's channel, the
	# host's stdout; the kernel's messages stay on the console (a file).
	sh /etc/vsnix/cmd </dev/null >&3 2>&1
	say "@@VSNIX-CMD rc=$?"
elif [ "$RIG_MODE" = cmd ]; then
	sh /etc/vsnix/cmd </dev/null
	say "@@VSNIX-CMD rc=$?"
else
	run_tests
fi

[ "$RIG_MODE" = test ] && pages_check
if ! grep -q '^vsnix ' /proc/modules; then
	check rmmod fail "vsnix not loaded, nothing to remove"
elif rmmod vsnix; then
	check rmmod ok "rmmod vsnix"
else
	check rmmod fail "rmmod vsnix failed"
fi
[ "$RIG_MODE" = test ] && kmemleak_check
say "@@VSNIX-RIG end"
klog "@@VSNIX-RIG end"
# Bochs sends serial bytes at the baud rate of its guest clock and
# power-off drops what is left: give the port time to drain.
sleep 1
exec 3>&-
sync
poweroff -f
reboot -f
