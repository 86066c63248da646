#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the stock kernel under Bochs (Intel VMX + EPT, corei7_haswell_4770,
# two CPUs; $VSNIX_BOCHS_CPU overrides the bochsrc "cpu:" options) from an
# isolinux ISO, load vsnix.ko and run the selftests, then power off.
#
#   scripts/rig/run-bochs.sh [--tests "a b"] [--verbose]
#   scripts/rig/run-bochs.sh --cmd "CMD" [--add FILE]... [--timeout S]
#       (one command instead of the selftests; exits with its status)
#
# Bochs's guest clock runs by instruction count (clock: sync=none), so a
# guest second already stretches with the emulation (about 7 s of wall time
# on 2 busy cores): each test's limit, counted by timeout(1) in the guest, is
# multiplied only by $VSNIX_BOCHS_FACTOR (2). Tests that selftests/EXPECTED_SKIPS
# marks "norun" for vmx are reported as skipped. Bochs has no virtio: the
# host root that hostrun chroots into is a disc of a few host tools
# (scripts/rig/hostroot.sh: bpftrace, systemd-udevd, ...) on the second ATA
# drive, mounted on the first hostrun of a tool that is on it. The udev
# check runs with VSNIX_BOCHS_UDEV=1 only. The whole machine is killed after
# $VSNIX_BOCHS_MAX_S (2400) seconds of wall time. The vmx subset
# (selftests/EXPECTED_SKIPS, scripts/rig/README.md) took 1,717 s on a
# quiet 2-core host in wave 12 before trace_tools, linux_acpi, net_rss and
# linux_boot left it (650 s of it); one CI machine was 1.5-2 times slower.
# The console log is kept in build/rig/vmx.console.log.
set -eo pipefail
. "$(dirname "$0")/rig-lib.sh"

RIG_MACHINE=vmx
RIG_MODE=test
RIG_MODULE=${VSNIX_KO:-$VSNIX_ROOT/kmod/vsnix.ko}
RIG_KUNIT=0
# The devnode check (the host's systemd-udevd from the host root disc)
# works on Bochs but adds about 38 guest seconds to each boot (the ATA
# modules, the disc, udevd's start): it runs with VSNIX_BOCHS_UDEV=1 only.
RIG_UDEV=${VSNIX_BOCHS_UDEV:-0}
RIG_UDEV_WHY="off on Bochs: it adds about 38 guest seconds to each boot (VSNIX_BOCHS_UDEV=1 runs it)"
# The host root disc: the PIIX3 IDE controller (ata_piix), ATAPI (sr_mod).
RIG_HOSTROOT_MODULES="ata_piix sr_mod isofs"
RIG_CMD=
RIG_ADD=()
factor=${VSNIX_BOCHS_FACTOR:-2}
boot_allowance=${VSNIX_BOCHS_BOOT_S:-400}
machine_timeout=
wanted=
verbose=0
while [ $# -gt 0 ]; do
	case "$1" in
	--tests) wanted=$2; shift ;;
	--module) RIG_MODULE=$2; shift ;;
	--cmd) RIG_CMD=$2; RIG_MODE=cmd; shift ;;
	--add) RIG_ADD+=("$2"); shift ;;
	--timeout) machine_timeout=$2; shift ;;
	--verbose|-v) verbose=1 ;;
	-h|--help) sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done

for tool in bochs xorriso script; do
	command -v "$tool" >/dev/null || die "$tool missing: run 'make deps'"
done
isolinux=/usr/lib/ISOLINUX/isolinux.bin
ldlinux=/usr/lib/syslinux/modules/bios/ldlinux.c32
[ -f "$isolinux" ] && [ -f "$ldlinux" ] || die "isolinux/syslinux-common missing: run 'make deps'"

RIG_STOCK_KVER=$(stock_kernel_version)
mkdir -p "$RIG_DIR"
rig_lock vmx
hostroot=$("$VSNIX_ROOT/scripts/rig/hostroot.sh") || die "no host root image"
work=$RIG_DIR/vmx
log=$RIG_DIR/vmx.console.log
riglog=$RIG_DIR/vmx.rig.log
mkdir -p "$work"
rm -f "$log" "$riglog" "$work/bochs.log" "$RIG_DIR/vmx.status" "$RIG_DIR/vmx.times" \
	"$RIG_DIR/vmx.slowest"

RIG_TESTS=
[ "$RIG_MODE" = cmd ] || RIG_TESTS=$(rig_select_runnable vmx "$factor" "$wanted")
printf '%s\n' "$RIG_TESTS" >"$RIG_DIR/vmx.tests"

# The ISO: isolinux boots the stock kernel with the rig's initramfs.
iso_root=$work/iso
rm -rf "$iso_root"
mkdir -p "$iso_root/isolinux"
rig_make_initramfs "$iso_root/initrd.gz" "$RIG_DIR/vmx.root"
cp "/boot/vmlinuz-$RIG_STOCK_KVER" "$iso_root/vmlinuz"
cp "$isolinux" "$ldlinux" "$iso_root/isolinux/"
cat >"$iso_root/isolinux/isolinux.cfg" <<-CFG
	DEFAULT vsnix
	PROMPT 0
	TIMEOUT 0
	LABEL vsnix
	  KERNEL /vmlinuz
	  APPEND initrd=/initrd.gz console=ttyS0 panic=-1 loglevel=7 printk.devkmsg=on console_msg_format=syslog
CFG
xorriso -as mkisofs -quiet -o "$work/rig.iso" -b isolinux/isolinux.bin \
	-c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
	"$iso_root" 2>"$work/xorriso.log" || die "xorriso failed, see $work/xorriso.log"

# The CPU: Haswell has VMX with EPT and unrestricted guest, and XSAVE (x87,
# SSE, AVX) in the standard format only. With corei7_skylake_x (XSAVEC,
# XSAVES, AVX-512) the stock kernel finds Bochs's XSAVE sizes inconsistent
# (WARN at fpu/xstate.c:606) and turns XSAVE off, so vsnix's XSAVE path
# never ran. Two CPUs, so that CPU hotplug can be tested (cpu_hotplug).
bochs_cpu=${VSNIX_BOCHS_CPU:-"model=corei7_haswell_4770, count=2, ips=200000000"}
cat >"$work/bochsrc" <<-RC
	megs: 1024
	cpu: $bochs_cpu
	ata0-master: type=cdrom, path=$work/rig.iso, status=inserted
	ata0-slave: type=cdrom, path=$hostroot, status=inserted
	boot: cdrom
	com1: enabled=1, mode=file, dev=$log
	com2: enabled=1, mode=file, dev=$riglog
	display_library: term
	speaker: enabled=0
	sound: driver=dummy
	clock: sync=none, time0=local
	log: $work/bochs.log
	panic: action=fatal
RC
# Debian's bochs has the debugger built in and stops before the first
# instruction: "c" continues.
echo c >"$work/dbgcmds"

[ -n "$machine_timeout" ] ||
	machine_timeout=$(rig_timeout "$RIG_TESTS" "$boot_allowance" "${VSNIX_BOCHS_MAX_S:-2400}")
note "vmx: booting vmlinuz-$RIG_STOCK_KVER under Bochs (VMX+EPT), limit ${machine_timeout}s"
# The term display needs a tty: script(1) provides one. Bochs then runs in
# script's own session and ignores SIGTERM (its debugger), so the time
# limit is enforced here, with SIGKILL to the PID it wrote down.
pidfile=$work/bochs.pid
rm -f "$pidfile"
kill_bochs() {
	[ -s "$pidfile" ] && kill -KILL "$(cat "$pidfile")" 2>/dev/null
	[ -n "$runner" ] && kill -KILL "$runner" 2>/dev/null
	[ -n "$drain" ] && kill "$drain" 2>/dev/null
	return 0
}
trap 'kill_bochs; exit 130' INT TERM
bochs_cmd="echo \$\$ >$pidfile; exec bochs -q -f $work/bochsrc -rc $work/dbgcmds"
(cd "$work" && exec script -qfc "$bochs_cmd" /dev/null </dev/null >"$work/bochs.tty" 2>&1) &
runner=$!
deadline=$((SECONDS + machine_timeout))
timed_out=0
drain=
while kill -0 "$runner" 2>/dev/null; do
	if [ "$SECONDS" -ge "$deadline" ]; then
		timed_out=1
		kill_bochs
		break
	fi
	# The term display draws the VGA screen on a pty of its own, which
	# nobody reads: once its buffer is full (cursor blinks add up), Bochs
	# blocks in write() and the guest stops. Drain it.
	if [ -z "$drain" ]; then
		# Until script(1) has opened bochs.tty, sed fails: under
		# set -e and pipefail that failure must not end this script.
		screen=$(sed -n 's/^Bochs connected to screen "\(\/dev\/pts\/[0-9]*\)".*/\1/p' \
			 "$work/bochs.tty" 2>/dev/null | tr -d '\r' | head -n1) || screen=
		if [ -n "$screen" ]; then
			cat "$screen" >/dev/null 2>&1 &
			drain=$!
		fi
	fi
	rig_stamp_tests vmx
	sleep 1
done
wait "$runner" 2>/dev/null || true
# The drain has usually ended with Bochs (EIO on the pty).
[ -z "$drain" ] || kill "$drain" 2>/dev/null || true
trap - INT TERM
runner=
touch "$log"
[ "$verbose" = 1 ] && cat "$log"
status=ok
[ "$timed_out" = 1 ] && status="timed out after ${machine_timeout} s, emulator killed"
# Bochs's own fatal errors (panic: action=fatal) end the run early.
if grep -q '^[0-9]*[ei]*\[.*\] *>>PANIC<<' "$work/bochs.log" 2>/dev/null; then
	status="Bochs panicked: $(grep -m1 'PANIC' "$work/bochs.log")"
fi
echo "$status (after $SECONDS s of this script)" >"$RIG_DIR/vmx.status"

if [ "$RIG_MODE" = cmd ]; then
	rc=$(tr -d '\r' <"$riglog" 2>/dev/null | sed -n 's/^@@VSNIX-CMD rc=\([0-9]*\)$/\1/p' | tail -n1)
	if [ -z "$rc" ]; then
		note "vmx: the command did not finish ($status); log: $log"
		exit 1
	fi
	exit "$rc"
fi

rig_report vmx "$status" "insmod devnode pages rmmod kmemleak"
rig_stamp_tests vmx
rig_time_report vmx | tee "$RIG_DIR/vmx.slowest"
note "vmx: console log: $log, rig log: $riglog, Bochs log: $work/bochs.log"
[ "${VSNIX_RIG_SUMMARY:-1}" = 0 ] && exit 0
rig_summary vmx
