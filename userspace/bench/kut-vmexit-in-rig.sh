#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the QEMU rig (see kut-vmexit-bench.sh): kvm-unit-tests'
# vmexit.flat, one test per run, under vsnix (vsnixctl run, as
# scripts/kut/guest.sh runs it) and under kvm_amd (qemu-system-x86_64
# -accel kvm -kernel), interleaved: each round runs every test once on
# each. Both are started through hostrun from the guest's /tmp, QEMU and
# its libraries copied there first (as linux-boot-in-rig.sh does). The
# test times itself with RDTSC in the guest and prints "NAME CYCLES"; one
# "bench: HV TEST CYCLES" line per run, FAILED when the line is missing,
# then "median:" and "minimum:" lines per test: "TEST vsnix=.. kvm=..
# ratio=.." (ratio: vsnix / kvm).
#   kut-vmexit-in-rig.sh RUNS [TESTS]
runs=${1:-5}
tests=${2:-"cpuid vmcall mov_from_cr8 mov_to_cr8 inl_from_pmtimer ipi ipi_halt tscdeadline tscdeadline_immed"}
q=/tmp/q
flat=/tmp/vmexit.flat

cp /data/vmexit.flat "$flat" && cp "$(command -v vsnixctl)" /tmp/ || exit 1
printf 'TEST_DEVICE=0\n' >/tmp/kut.env
hostrun modprobe kvm_amd || { echo "bench: kvm_amd not available"; exit 1; }
hostrun sh -c "mkdir -p $q/bin $q/lib $q/share/qemu $q/share/seabios &&
	cp /usr/bin/qemu-system-x86_64 $q/bin/ &&
	ldd /usr/bin/qemu-system-x86_64 | awk '/=> \\// { print \$3 }' | xargs cp -L -t $q/lib/ &&
	cp -L /usr/share/qemu/kvmvapic.bin /usr/share/qemu/linuxboot_dma.bin \
		/usr/share/qemu/multiboot_dma.bin $q/share/qemu/ &&
	cp -L /usr/share/seabios/bios-256k.bin $q/share/seabios/" ||
	{ echo "bench: cannot copy QEMU to $q"; exit 1; }

# The IPI tests need a second vCPU (unittests.cfg: smp = 2).
cpus_of() {
	case "$1" in ipi|ipi_halt) echo 2 ;; *) echo 1 ;; esac
}

# One run: "bench: HV TEST CYCLES" (the test's own "TEST CYCLES" line).
one() {
	local hv=$1 t=$2 c

	shift 2
	hostrun timeout -s KILL 120 "$@" </dev/null >/tmp/kv-out.txt 2>&1
	c=$(tr -d '\r' </tmp/kv-out.txt | sed -n "s/^$t \([0-9][0-9]*\)\$/\1/p" | head -n 1)
	if [ -z "$c" ]; then
		echo "bench: $hv $t FAILED"
		tail -n 5 /tmp/kv-out.txt | sed 's/^/bench: #   /'
		return
	fi
	echo "bench: $hv $t $c"
}

vsnix() {
	one vsnix "$1" /tmp/vsnixctl run --kernel "$flat" --mem 256M \
		--cpus "$(cpus_of "$1")" --testdev --cmdline "vmexit.flat $1" \
		--module /tmp/kut.env
}

kvm() {
	one kvm "$1" env LD_LIBRARY_PATH=$q/lib $q/bin/qemu-system-x86_64 \
		-accel kvm -cpu host -m 256 -smp "$(cpus_of "$1")" -nographic \
		-no-reboot -nodefaults -serial stdio \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-kernel "$flat" -initrd /tmp/kut.env -append "$1"
}

median() {
	sort -n | awk '{ a[NR] = $1 }
		END { if (NR) print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}

{
	echo "bench: rig load $(cat /proc/loadavg)"
	i=0
	while [ $i -lt "$runs" ]; do
		for t in $tests; do
			vsnix "$t"
			kvm "$t"
		done
		i=$((i + 1))
	done
	echo "bench: rig load $(cat /proc/loadavg)"
} | tee /tmp/kv-all.txt
# STAT of each hypervisor's values for test T: "vsnix=.. kvm=.. ratio=..".
line() {
	local v k r

	v=$(sed -n "s/^bench: vsnix $2 \([0-9]*\)\$/\1/p" /tmp/kv-all.txt | $1)
	k=$(sed -n "s/^bench: kvm $2 \([0-9]*\)\$/\1/p" /tmp/kv-all.txt | $1)
	r=$(echo "${v:-0} ${k:-0}" | awk '{ if ($1 && $2) printf "%.2f", $1 / $2; else print "?" }')
	echo "$1: $2 vsnix=${v:-?} kvm=${k:-?} ratio=$r"
}

# The smallest value: the run least disturbed by the host's other load.
minimum() {
	sort -n | head -n 1
}

for t in $tests; do
	line median "$t"
	line minimum "$t"
done
hostrun rm -rf $q
