#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a kernel under QEMU TCG with AMD SVM + NPT, load vsnix.ko and run the
# selftests (default) or one command (--cmd), then power off.
#
#   scripts/rig/run-qemu.sh [--tests "a b"] [--verbose]
#   scripts/rig/run-qemu.sh --cmd "vsnixctl run /data/hello.hvt" --add hello.hvt
#                           [--quiet] (only the command's output on stdout;
#                           the machine's console goes to the log: make demo)
#                           [--bare] (no selftests in the initramfs)
#   scripts/rig/run-qemu.sh --kernel BZIMAGE --module KO [--kunit-module KO]
#                           [--modules-dir DIR] --machine svm-debug
#                           (the debug kernel run; DIR/lib/modules/<ver>/ is
#                           packed for modprobe: KVM's modules)
#   scripts/rig/run-qemu.sh --series 6.12 --module KO --machine svm-6.12
#                           (the stock kernel of another series)
#
# Test mode prints TAP lines and "N passed, N failed"; exits 1 on failure.
# Command mode shows the console and exits with the command's status.
# The console log is kept in build/rig/<machine>.console.log.
set -eo pipefail
. "$(dirname "$0")/rig-lib.sh"

usage() {
	sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

RIG_MACHINE=svm
RIG_MODE=test
RIG_MODULE=${VSNIX_KO:-$VSNIX_ROOT/kmod/vsnix.ko}
RIG_KUNIT=0
RIG_KUNIT_MODULE=
RIG_CMD=
RIG_QUIET=0
RIG_BARE=0
RIG_ADD=()
RIG_MODULES_DIR=
kernel=
series=
wanted=
verbose=0
machine_timeout=
boot_allowance=${VSNIX_QEMU_BOOT_S:-120}
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift ;;
	--series) series=$2; shift ;;
	--module) RIG_MODULE=$2; shift ;;
	--kunit-module) RIG_KUNIT_MODULE=$2; RIG_KUNIT=1; shift ;;
	--modules-dir) RIG_MODULES_DIR=$2; shift ;;
	--machine) RIG_MACHINE=$2; shift ;;
	--tests) wanted=$2; shift ;;
	--cmd) RIG_CMD=$2; RIG_MODE=cmd; shift ;;
	--add) RIG_ADD+=("$2"); shift ;;
	--quiet) RIG_QUIET=1 ;;
	--bare) RIG_BARE=1 ;;
	--timeout) machine_timeout=$2; shift ;;
	--boot-allowance) boot_allowance=$2; shift ;;
	--verbose|-v) verbose=1 ;;
	-h|--help) usage ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done

# VSNIX_QEMU: another qemu-system-x86_64 than the one on PATH, e.g. one
# unpacked with dpkg -x (README.md, "Another QEMU"). Its own data folder
# comes first on the firmware path, the system's second (SeaBIOS).
qemu_bin=${VSNIX_QEMU:-qemu-system-x86_64}
qemu_data=()
if [ -n "$VSNIX_QEMU" ]; then
	[ -x "$VSNIX_QEMU" ] || die "VSNIX_QEMU=$VSNIX_QEMU is not an executable"
	own=$(cd "$(dirname "$VSNIX_QEMU")/../share/qemu" 2>/dev/null && pwd)
	[ -n "$own" ] && [ "$own" != /usr/share/qemu ] && qemu_data+=(-L "$own")
	[ -d /usr/share/qemu ] && qemu_data+=(-L /usr/share/qemu)
fi
command -v "$qemu_bin" >/dev/null || die "$qemu_bin missing: run 'make deps'"
RIG_STOCK_KVER=
if [ -z "$kernel" ]; then
	RIG_STOCK_KVER=$(stock_kernel_version "$series")
	kernel=/boot/vmlinuz-$RIG_STOCK_KVER
fi
[ -r "$kernel" ] || die "cannot read kernel $kernel"

mkdir -p "$RIG_DIR"
rig_lock "$RIG_MACHINE"
log=$RIG_DIR/$RIG_MACHINE.console.log
riglog=$RIG_DIR/$RIG_MACHINE.rig.log
rm -f "$log" "$riglog" "$RIG_DIR/$RIG_MACHINE.status"
initrd=$RIG_DIR/$RIG_MACHINE.cpio.gz
: >"$RIG_DIR/$RIG_MACHINE.skips"
if [ "$RIG_MODE" = test ]; then
	RIG_TESTS=$(rig_select_runnable "$RIG_MACHINE" 1 "$wanted")
	# The host's udevd needs a full kernel (inotify, netlink uevents): the
	# stock one; the tiny debug kernel skips the device node check.
	if [ -n "$RIG_STOCK_KVER" ]; then
		RIG_UDEV=1
	else
		RIG_UDEV=0
		RIG_UDEV_WHY="the udev check runs on the stock kernel only"
	fi
else
	RIG_TESTS=
	RIG_UDEV=0
	verbose=1
fi
printf '%s\n' "$RIG_TESTS" >"$RIG_DIR/$RIG_MACHINE.tests"
rig_make_initramfs "$initrd" "$RIG_DIR/$RIG_MACHINE.root"
if [ -z "$machine_timeout" ] && [ "$RIG_MODE" = cmd ]; then
	machine_timeout=600
elif [ -z "$machine_timeout" ]; then
	machine_timeout=$(rig_timeout "$RIG_TESTS" "$boot_allowance" "${VSNIX_QEMU_MAX_S:-2400}")
fi

note "$RIG_MACHINE: booting $(basename "$kernel") under" \
	"$("$qemu_bin" --version | sed -n '1s/ (.*//; 1s/emulator version //p') TCG (SVM+NPT)," \
	"limit ${machine_timeout}s"
# Test mode: each console line carries its syslog level ("<3>"), so that
# report.awk can tell vsnix's errors from its notices.
console_fmt=
[ "$RIG_MODE" = test ] && console_fmt=" console_msg_format=syslog"
# TCG threads (VSNIX_QEMU_TCG_THREAD, multi by default; run-kvm.sh takes
# single). QEMU 7.2's multi-threaded TCG now and then leaves a CPU on a
# stale int3 after the kernel's cross-CPU code patching (text_poke_bp, e.g.
# the static key KVM flips for each VM): "Oops: int3" and a panic, or soft
# lockups; seen with vsnix unloaded. Single-threaded TCG fixes that, but
# its frequent vCPU switches replay QEMU's stale SVM EVENTINJ interrupt
# (extint_queue in selftests/EXPECTED_SKIPS) so often that nested SMP Linux
# guests of KVM crash; vsnix delivers through V_IRQ (vsnix.virq=1, the
# default) and avoids it: virtio_blk_linux passed once under single-threaded TCG.
# Documentation/security.rst, "Known limits and open holes".
tcg_thread=${VSNIX_QEMU_TCG_THREAD:-multi}
# The rig kernel's TSC rate is the host's (rig_host_tsc_khz): no
# calibration to go wrong on a loaded host.
tsc_khz=$(rig_host_tsc_khz)
tsc_arg=${tsc_khz:+ tsc_early_khz=$tsc_khz}
# COM1 is the console, COM2 the rig's channel; --quiet swaps their ends.
serial=(-serial stdio -serial "file:$riglog")
quiet=0
if [ "$RIG_QUIET" = 1 ] && [ "$RIG_MODE" = cmd ]; then
	quiet=1
	serial=(-serial "file:$log" -serial stdio)
fi
# VSNIX_QEMU_MONITOR=PATH: QEMU's human monitor on a unix socket, to look
# at a machine that froze (info registers -a, info cpus) from the host.
monitor=(-monitor none)
[ -z "$VSNIX_QEMU_MONITOR" ] ||
	monitor=(-monitor "unix:$VSNIX_QEMU_MONITOR,server=on,wait=off")
qemu=("$qemu_bin" "${qemu_data[@]}" -M q35 -accel "tcg,thread=$tcg_thread" -cpu EPYC,+svm,+npt -m 2G -smp 2
      -display none "${monitor[@]}" -no-reboot
      "${serial[@]}"
      -kernel "$kernel" -initrd "$initrd"
      # no_timer_check: on a loaded host, TCG can miss the boot-time timer
      # IRQ check and the kernel panics "IO-APIC + timer doesn't work".
      -append "console=ttyS0 panic=-1 loglevel=7 printk.devkmsg=on no_timer_check$tsc_arg$console_fmt"
      -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap)
set +e
if [ "$quiet" = 1 ]; then
	# The command writes to the second port (guest-init.sh): that one is
	# stdout, the console goes to the log; the rig's markers stay off screen.
	# QEMU's own warnings (TCG's missing CPUID bits) go to a file too.
	timeout -k 10 "$machine_timeout" "${qemu[@]}" </dev/null 2>"$RIG_DIR/$RIG_MACHINE.qemu.log" |
		tee "$riglog" | grep --line-buffered -v '^@@'
	qemu_rc=${PIPESTATUS[0]}
elif [ "$verbose" = 1 ]; then
	timeout -k 10 "$machine_timeout" "${qemu[@]}" </dev/null 2>&1 | tee "$log"
	qemu_rc=${PIPESTATUS[0]}
else
	timeout -k 10 "$machine_timeout" "${qemu[@]}" </dev/null >"$log" 2>&1
	qemu_rc=$?
fi
set -e
case "$qemu_rc" in
0) status=ok ;;
124|137) status="timed out after ${machine_timeout} s, emulator killed" ;;
*) status="QEMU exited with status $qemu_rc" ;;
esac
echo "$status (after $SECONDS s of this script)" >"$RIG_DIR/$RIG_MACHINE.status"

if [ "$RIG_MODE" = cmd ]; then
	rc=$(tr -d '\r' <"$riglog" 2>/dev/null | sed -n 's/^@@VSNIX-CMD rc=\([0-9]*\)$/\1/p' | tail -n1)
	if [ -z "$rc" ]; then
		note "$RIG_MACHINE: the command did not finish ($status); log: $log"
		exit 1
	fi
	exit "$rc"
fi

rig_report "$RIG_MACHINE" "$status" "insmod devnode pages rmmod kmemleak"
note "$RIG_MACHINE: console log: $log, rig log: $riglog"
[ "${VSNIX_RIG_SUMMARY:-1}" = 0 ] && exit 0
rig_summary "$RIG_MACHINE"
