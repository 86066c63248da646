#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the Linux console test (selftests/linux_console.c): writes
# 16 KiB through the ttyS0 tty (THRE interrupts) and 7200 B through printk
# (polled) and says how long each took, then runs a busybox shell on ttyS0 that the host
# types into (vsnixctl --stdin); the shell's end ends the run (exit 0).
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

up() { cut -d' ' -f1 /proc/uptime; }
# 16 KiB through the tty (the 8250 driver's THRE interrupts)...
irqs() { grep -E '^ *(4|LOC):' /proc/interrupts | tr -s ' ' | tr '\n' ' '; }
i0=$(irqs)
t0=$(up)
head -c 16384 /dev/zero | tr '\0' x >/dev/ttyS0
t1=$(up)
echo
echo "VSNIX-TTY: 16384 bytes from $t0 to $t1 s"
echo "VSNIX-TTY-IRQS: before $i0 after $(irqs)"
# ... and 7200 through printk (the 8250 console polls LSR.THRE): 8 lines
# of 900, below /dev/kmsg's record size and its burst of 10 lines.
line=$(head -c 900 /dev/zero | tr '\0' y)
t0=$(up)
for i in 1 2 3 4 5 6 7 8; do
	echo "<2>$line" >/dev/kmsg
done
t1=$(up)
echo "VSNIX-KMSG: 7200 bytes from $t0 to $t1 s"
dmesg | grep -E 'ttyS0 at|tsc: |calibrat|rtc_cmos|system clock|APIC timer|irq|serial|nobody' | sed 's/^/VSNIX-DMESG: /'
echo "VSNIX-DATE: $(date +%s)"
grep -E '^serial|^ *4:' /proc/interrupts | sed 's/^/VSNIX-IRQ: /'
echo "VSNIX-SHELL-READY"
sh </dev/ttyS0 >/dev/ttyS0 2>&1
grep -E '^ *4:' /proc/interrupts | sed 's/^/VSNIX-IRQ-AFTER: /'
/bin/vsnix-exit 0
