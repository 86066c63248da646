#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: vsnixd runs a pool of two VMs, a Linux VM (Debian's kernel,
# a busybox root disk on virtio-blk with a per-VM overlay) and a Solo5
# unikernel; their consoles and `vsnixctl list` are shown, then all is
# removed (scripts/demo/demo-run.sh). Directly on this host when its CPU
# has VMX or SVM and vsnix.ko is (or can be) loaded; otherwise inside the
# emulated PC of the test rig (QEMU TCG with SVM), whose own boot log goes
# to build/rig/svm.console.log.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
made=$root/selftests/build/demo		# mkdemo.sh's output (make selftests)
data=$root/build/demo			# links to every file the demo takes

for f in userspace/vsnixctl userspace/vsnixd/vsnixd selftests/build/guests/ticker.hvt \
	 kmod/vsnix.ko selftests/build/linux-guest/vmlinuz; do
	[ -e "$root/$f" ] || { echo "demo: $f missing: run 'make' first" >&2; exit 1; }
done
kver=$("$root/scripts/rig/stock-kernel.sh") || exit 1
echo "demo: the pool's files: a busybox root disk and an initramfs (scripts/demo/mkdemo.sh)"
"$root/scripts/demo/mkdemo.sh" "$made" "$kver" || exit 1
rm -rf "$data"
mkdir -p "$data"
ln -s "$made/root.ext4" "$made/initrd.cpio.gz" "$root/selftests/build/linux-guest/vmlinuz" \
	"$root/selftests/build/guests/ticker.hvt" "$data/" || exit 1

run_here() {
	echo "demo: running on this host ($1)"
	"$root/scripts/demo/demo-run.sh" "$data" "$root/userspace/vsnixctl" \
		"$root/userspace/vsnixd/vsnixd"
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
echo "demo: no usable VMX/SVM here: the demo runs in an emulated PC (QEMU, SVM under TCG)"
echo "demo: its boot log goes to build/rig/svm.console.log; booting..."
adds=()
for f in vmlinuz initrd.cpio.gz root.ext4 ticker.hvt; do
	adds+=(--add "$data/$f")
done
exec "$root/scripts/rig/run-qemu.sh" --quiet --bare --timeout 300 "${adds[@]}" \
	--add "$root/scripts/demo/demo-run.sh" \
	--cmd "sh /data/demo-run.sh /data /bin/vsnixctl /bin/vsnixd"
