#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The steps of `make demo` (userspace/demo.sh runs this on the host, or in
# the emulated PC of the test rig): a pool made by `vsnixctl pool create`
# with a Linux VM (busybox root disk on virtio-blk, writes to a per-VM
# overlay) and a Solo5 unikernel; vsnixd loads it and runs both; their
# consoles and `vsnixctl list` are shown; the pool's disk is checked
# unchanged; everything is removed.
#   demo-run.sh DATA VSNIXCTL VSNIXD
# DATA holds vmlinuz, initrd.cpio.gz, root.ext4 (scripts/demo/mkdemo.sh)
# and ticker.hvt. Exit 0 when both VMs ran and exited 0.
set -u
data=$1
ctl=$2
vsnixd=$3
w=/tmp/vsnix-demo.$$
export VSNIXD_SOCKET=$w/vsnixd.sock
limit_s=150
daemon=
fail=0

step() { printf '\n== %s\n' "$*"; }
say() { printf '  %s\n' "$*"; }
show() {	# show CMD...: the command, then its output indented; its status
	printf '  $ %s\n' "$*" | sed -e "s|$w|/tmp/vsnix-demo|g" -e "s|$ctl|vsnixctl|"
	"$@" >"$w/out" 2>&1
	set -- $?
	sed -e 's/^/    /' -e "s|$w|/tmp/vsnix-demo|g" -e 's/\r$//' "$w/out"
	return "$1"
}
cleanup() {
	"$ctl" stop lin >/dev/null 2>&1
	"$ctl" stop uni >/dev/null 2>&1
	"$ctl" pool --daemon unload demo >/dev/null 2>&1
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	rm -rf "$w"
}
trap cleanup EXIT
die() {
	printf '\ndemo: %s\n' "$*" >&2
	[ -f "$w/vsnixd.log" ] && sed 's/^/  vsnixd: /' "$w/vsnixd.log" >&2
	exit 1
}
state() { "$ctl" show "$1" 2>/dev/null | tr -d ' \n' | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'; }

mkdir -p "$w/src" "$w/pools" || die "cannot make $w"
cp "$data/vmlinuz" "$data/initrd.cpio.gz" "$data/root.ext4" "$data/ticker.hvt" \
	"$ctl" "$w/src/" || die "demo files missing in $data"
cat >"$w/src/demo.json" <<JSON
{ "name": "demo", "vms": [
  { "name": "lin", "kind": "linux", "kernel": "vmlinuz", "initrd": "initrd.cpio.gz",
    "cmdline": "console=ttyS0 quiet panic=-1", "memory_mib": 256, "vcpus": 1,
    "disks": [ { "name": "root", "source": "root.ext4", "writes": "overlay" } ] },
  { "name": "uni", "kind": "unikernel", "kernel": "ticker.hvt",
    "cmdline": "ticks=6 ms=1000", "memory_mib": 32 } ] }
JSON

step "1. A pool: a Linux VM with a busybox root disk, and a Solo5 unikernel"
# mkfs.ext4 -d makes the image: the rig's initramfs has none, its host does.
mk=
command -v mkfs.ext4 >/dev/null 2>&1 || mk=hostrun
show $mk "$w/src/vsnixctl" pool --dir "$w/pools" create "$w/src/demo.json" ||
	die "pool create failed"
show ls "$w/pools"

step "2. vsnixd loads the pool (a loop device, read-only ext4)"
if [ -n "$mk" ]; then	# the rig: ext4 and loop are modules there
	for m in loop crc32c_generic ext4; do
		modprobe $m 2>/dev/null || hostrun modprobe $m
	done >/dev/null 2>&1
fi
"$vsnixd" --socket "$VSNIXD_SOCKET" --db "$w/state.db" --pools "$w/pools" \
	--mount-dir "$w/mnt" --state-dir "$w/overlays" --vmm "$ctl" 2>"$w/vsnixd.log" &
daemon=$!
i=0
while [ ! -S "$VSNIXD_SOCKET" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -S "$VSNIXD_SOCKET" ] || die "vsnixd did not start"
say "vsnixd (pid $daemon) listens on /tmp/vsnix-demo/vsnixd.sock"
show "$ctl" pool --daemon load demo || die "pool load failed"

step "3. Create both VMs from the pool and start them"
for vm in lin uni; do
	show "$ctl" create demo $vm || die "create $vm failed"
	show "$ctl" start $vm || die "start $vm failed"
done
sleep 3
show "$ctl" list

step "4. Both end on their own (the Linux VM powers off); vsnixd kept their consoles"
start=$(date +%s)
while [ "$(state lin)$(state uni)" != stoppedstopped ]; do
	[ $(($(date +%s) - start)) -lt $limit_s ] || die "the VMs still run after ${limit_s} s"
	sleep 1
done
show "$ctl" list
for vm in uni lin; do
	printf '\n'
	show "$ctl" console $vm
	"$ctl" list | grep -q "^$vm .* exited with 0" || fail=1
done

step "5. lin's writes went to its overlay; the pool's disk is unchanged"
hash=$(printf %s lin | sha256sum | cut -c1-16)
a=$(sha256sum <"$w/src/root.ext4" | cut -c1-16)
b=$(sha256sum <"$w/mnt/demo/blocks/$hash.root.img" | cut -c1-16)
c=$(sha256sum <"$w/overlays/lin.root.img" | cut -c1-16)
printf '  %-50s sha256 %s...\n' "root.ext4, given to pool create" "$a" \
	"the pool's copy (blocks/$hash.root.img)" "$b" \
	"lin's overlay (overlays/lin.root.img)" "$c"
say "the overlay is sparse: $(du -k "$w/overlays/lin.root.img" | cut -f1) KiB allocated for a 16 MiB disk"
if [ "$a" = "$b" ] && [ "$b" != "$c" ]; then
	say "=> unchanged in the pool; the VM's changes are in its overlay"
else
	say "=> UNEXPECTED: the pool's disk changed or the overlay did not"
	fail=1
fi

step "6. Clean up: vsnixd unloads the pool and stops"
show "$ctl" delete lin
show "$ctl" delete uni
show "$ctl" pool --daemon unload demo
kill "$daemon" && wait "$daemon"
daemon=
say "vsnixd stopped; /tmp/vsnix-demo removed"
if [ $fail = 0 ]; then
	step "Demo done: both VMs ran under vsnixd and exited 0."
else
	step "Demo FAILED: see above."
fi
exit $fail
