#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: boot the sample hello unikernel, then the stock Debian kernel
# as a 2-vCPU guest (ACPI, IOAPIC, serial console; its /init checks itself
# and powers off through ACPI S5), both with vsnixctl. Directly on this host
# when its CPU has VMX or SVM and vsnix.ko is (or can be) loaded; otherwise
# inside the emulated PC of the test rig (QEMU TCG with SVM).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
guest=selftests/build/guests/hello.hvt
greeting="Hello from make demo exit=0"
lg=selftests/build/linux-guest
linux_cmdline="console=ttyS0 quiet vsnix.cpus=2 vsnix.mem=256"

for f in userspace/vsnixctl "$guest" kmod/vsnix.ko "$lg/vmlinuz" "$lg/initrd.cpio.gz"; do
	[ -e "$root/$f" ] || { echo "demo: $f missing: run 'make' first" >&2; exit 1; }
done

run_here() {
	echo "demo: running on this host's $1"
	echo "demo: 1/2: the hello unikernel"
	"$root/userspace/vsnixctl" run --kernel "$root/$guest" --mem 32M \
		--cmdline "$greeting" || return
	echo "demo: 2/2: Debian's kernel, 2 vCPUs, 256 MiB"
	"$root/userspace/vsnixctl" run --kernel "$root/$lg/vmlinuz" \
		--initrd "$root/$lg/initrd.cpio.gz" --cpus 2 --mem 256M \
		--cmdline "$linux_cmdline"
}

vendor=$(grep -owm1 -E 'vmx|svm' /proc/cpuinfo)
if [ -n "$vendor" ]; then
	if [ -e /dev/vsnix ]; then
		run_here "$vendor"
		exit $?
	fi
	if [ "$(id -u)" = 0 ] && insmod "$root/kmod/vsnix.ko" 2>/dev/null; then
		run_here "$vendor"
		rc=$?
		rmmod vsnix
		exit $rc
	fi
	echo "demo: the CPU has $vendor but vsnix.ko is not loaded (needs root); using the rig"
fi
echo "demo: no usable VMX/SVM here: booting the QEMU rig (SVM under TCG) to run the demo"
exec "$root/scripts/rig/run-qemu.sh" --cmd \
	"echo 'demo: 1/2: the hello unikernel' &&
	 vsnixctl run --kernel /selftests/guests/hello.hvt --mem 32M --cmdline '$greeting' &&
	 echo \"demo: 2/2: Debian's kernel, 2 vCPUs, 256 MiB\" &&
	 vsnixctl run --kernel /selftests/linux-guest/vmlinuz \
		--initrd /selftests/linux-guest/initrd.cpio.gz --cpus 2 --mem 256M \
		--cmdline '$linux_cmdline'"
