#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the Linux-guest test: the guest checks itself and powers off.
# The command line tells what to expect: vsnix.cpus=N vsnix.mem=MIB.
# Prints "VSNIX-LINUX: PASS" or "VSNIX-LINUX: FAIL <why>" on the console,
# through /dev/kmsg: the kernel's console writes poll the UART, so they
# need no UART interrupt (a tty write waits for THRE interrupts).
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

say() { echo "<2>VSNIX-LINUX: $*" >/dev/kmsg; }
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }
fail=""
cpus=$(nproc)
mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
# RAM the kernel found: the System RAM ranges of /proc/iomem.
ram=0
while IFS= read -r line; do
	case "$line" in
	[0-9a-f]*" : System RAM")
		range=${line%% :*}
		ram=$((ram + 0x${range#*-} - 0x${range%-*} + 1)) ;;
	esac
done </proc/iomem
ram_kb=$((ram / 1024))
say "nproc=$cpus MemTotal=${mem_kb}kB RAM=${ram_kb}kB uname=$(uname -r)"
say "up $(cut -d' ' -f1 /proc/uptime) s"
# The clock the kernel kept, and why it dropped the TSC if it did (pr_info
# lines, below the console's "quiet" level).
say "clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
# The hypervisor the kernel found and its APIC mode (Linux's KVM interface
# at CPUID 0x40000100: x2APIC without interrupt remapping).
say "apic: $(dmesg | grep -oE 'Hypervisor detected: [A-Za-z]+|x2apic enabled|[Rr]outing to:? [a-z0-9 ]+' | tr '\n' ';')"
dmesg | grep -E 'Marking TSC unstable|TSC synchronization|TSC ADJUST|TSC doesn.t count|calibrate_delay_direct' |
	while read -r line; do say "clock: $line"; done

want=$(arg vsnix.cpus)
[ -z "$want" ] || [ "$cpus" = "$want" ] || fail="$fail nproc=$cpus,expected=$want"
want=$(arg vsnix.mem)
if [ -n "$want" ]; then
	# The RAM found within 5% of --mem (the BIOS area and the first page
	# are not RAM). MemTotal lacks the kernel image and its reservations
	# (about 60 MiB for Debian's, under KVM too): at least half of --mem.
	lo=$((want * 1024 * 95 / 100))
	[ "$ram_kb" -ge "$lo" ] && [ "$ram_kb" -le $((want * 1024)) ] ||
		fail="$fail RAM=${ram_kb}kB,expected=${want}MiB-5%"
	[ "$mem_kb" -ge $((want * 512)) ] && [ "$mem_kb" -le $((want * 1024)) ] ||
		fail="$fail MemTotal=${mem_kb}kB,expected>=${want}MiB/2"
fi
# The emulated CPUs' XSAVE sizes make the stock kernel warn at
# fpu/xstate.c:606 (KVM's guests on the same rig show the same line):
# that WARNING, its backtrace and its "---[ end trace" are not vsnix's.
# The SRSO advice line ("Speculative Return Stack Overflow: WARNING: See
# https://...") is a pr_warn about the emulated EPYC, not a WARN().
bad=$(dmesg | grep -E 'BUG:|Oops|[Pp]anic|WARNING:|Call Trace|general protection|invalid opcode|unchecked MSR access' |
	grep -v 'WARNING: CPU: [0-9]* PID: [0-9]* at arch/x86/kernel/fpu/xstate.c:606' |
	grep -v 'panic=' |
	grep -v 'Speculative Return Stack Overflow: WARNING: See https')
if [ -n "$bad" ]; then
	# A backtrace after the xstate WARNING is that warning's own.
	if dmesg | grep -q 'fpu/xstate.c:606'; then
		bad=$(echo "$bad" | grep -v 'Call Trace')
	fi
fi
if [ -n "$bad" ]; then
	echo "$bad" | while read -r line; do say "dmesg: $line"; done
	fail="$fail dmesg"
fi
[ "$(arg vsnix.dmesg)" = 1 ] && dmesg
if [ -z "$fail" ]; then
	say PASS
	status=0
else
	say "FAIL$fail"
	status=1
fi
# ACPI S5 where the platform has it, else the exit port.
if [ "$status" = 0 ] && [ -d /sys/firmware/acpi ] && [ "$(arg vsnix.off)" != port ]; then
	poweroff -f
fi
/bin/vsnix-exit "$status"
say "FAIL no way to power off"
sleep 1000000
