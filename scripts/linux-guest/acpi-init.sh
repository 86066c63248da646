#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the linux_acpi test: what Linux made of vsnix's ACPI tables and
# fixed hardware, then ACPI power off (vsnix.act=poweroff, the default) or
# reset (vsnix.act=reboot). Prints "VSNIX-ACPI: boot" first, then
# "VSNIX-ACPI: PASS" or "VSNIX-ACPI: FAIL <why>", through /dev/kmsg.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

say() { echo "<2>VSNIX-ACPI: $*" >/dev/kmsg; }
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }
fail=""
say boot

want=$(arg vsnix.cpus)
[ -z "$want" ] || [ "$(nproc)" = "$want" ] || fail="$fail nproc=$(nproc),expected=$want"
# The tables the RSDP leads to.
for t in FACP APIC DSDT FACS MCFG; do
	[ -e /sys/firmware/acpi/tables/$t ] || fail="$fail no-table-$t"
done
# ACPICA's complaints about the tables or the AML, and the kernel's.
bad=$(dmesg | grep -E 'ACPI (BIOS )?(Error|Warning|Exception)|ACPI.*[Ff]irmware [Bb]ug')
if [ -n "$bad" ]; then
	echo "$bad" | while read -r line; do say "dmesg: $line"; done
	fail="$fail acpi-messages"
fi
# The SCI: IRQ 9 through the IOAPIC, level (fasteoi), owned by ACPI.
grep -Eq '^ *9:.*IO-APIC.*9-fasteoi.*acpi' /proc/interrupts || fail="$fail sci"
# Namespace objects of the DSDT and the fixed power button of the FADT.
for d in PNP0A08:00 PNP0C02:00 PNP0501:00 LNXPWRBN:00; do
	[ -d /sys/bus/acpi/devices/$d ] || fail="$fail no-$d"
done
dmesg | grep -E 'ACPI:|PCI: MMCONFIG|acpi PNP0A08' | while read -r line; do
	say "log: $line"
done
if [ -n "$fail" ]; then
	say "FAIL$fail"
	/bin/vsnix-exit 1
fi
say PASS
case "$(arg vsnix.act)" in
reboot) reboot -f ;;
*) poweroff -f ;;
esac
say "FAIL still running after $(arg vsnix.act)"
/bin/vsnix-exit 3
