#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the QEMU rig (see blk-bench.sh): the same Linux guest and
# blkbench workloads on the same RAM disk (/dev/ram0, brd) under vsnix
# (in-kernel virtio-blk) and under QEMU/KVM (virtio-blk-pci with an
# iothread, aio=native, cache=none), interleaved, with 1 and 2 queues
# (one per guest vCPU on both sides). Both are started through hostrun
# from the guest's /tmp (hostrun binds it); QEMU, its libraries and its
# firmware are copied there first so that no start loads them over 9p.
# Prints one "bench:" line per measurement, then "round:" lines (each
# round's vsnix/QEMU ratio) and "median:" lines at the end.
# With PROBE=probe, kprobes count vsnix's virtio-blk events per workload
# (k_kick: notifies served, k_work: work item runs, k_push: requests
# answered, k_notify: interrupts asked for, k_msix: MSI-X messages sent);
# they cost time, so leave them out of the figures that are compared.
#   blk-in-rig.sh REPO_IN_RIG [RUNS] [SECONDS] [DEPTH] [PROBE]
repo=$1
runs=${2:-3}
secs=${3:-5}
depth=${4:-16}
probe=${5:-}
probes="kick:blk_kick work:blk_queue_work push:vsnix_vq_push notify:vsnix_vq_notify msix:vsnix_pci_msix_signal"
tr=/sys/kernel/debug/tracing
lg=build/bench
append="console=ttyS0 quiet panic=-1 vsnix.secs=$secs vsnix.depth=$depth"
q=/tmp/q

cp "$repo/$lg/vmlinuz" "$repo/$lg/blk-initrd.cpio.gz" "$(command -v vsnixctl)" /tmp/ ||
	{ echo "bench: cannot copy the guest to /tmp"; exit 1; }
hostrun modprobe brd rd_nr=1 rd_size=262144 || { echo "bench: no brd"; exit 1; }
hostrun dd if=/dev/urandom of=/dev/ram0 bs=1M count=256 2>/dev/null
hostrun modprobe kvm_amd || { echo "bench: no kvm_amd"; exit 1; }
grep -q " /sys/kernel/debug " /proc/mounts || mount -t debugfs debugfs /sys/kernel/debug
if [ "$probe" = probe ]; then
	for p in $probes; do
		echo "p:vb_${p%%:*} vsnix:${p#*:}" >>$tr/kprobe_events &&
			echo 'hist:keys=common_pid' >$tr/events/kprobes/vb_${p%%:*}/trigger ||
			echo "bench: no kprobe on ${p#*:}"
	done
fi
hostrun sh -c "mkdir -p $q/bin $q/lib $q/share/qemu $q/share/seabios &&
	cp /usr/bin/qemu-system-x86_64 $q/bin/ &&
	ldd /usr/bin/qemu-system-x86_64 | awk '/=> \\// { print \$3 }' | xargs cp -L -t $q/lib/ &&
	cp -L /usr/share/qemu/kvmvapic.bin /usr/share/qemu/linuxboot_dma.bin $q/share/qemu/ &&
	cp -L /usr/share/seabios/bios-256k.bin $q/share/seabios/" ||
	{ echo "bench: cannot copy QEMU to $q"; exit 1; }

# Counters of the running side, one "name value" a line: vsnix's per-VM
# statistics (vsnixctl stats), or KVM's global ones (debugfs).
counters() {
	local id

	if [ "$1" = vsnix ]; then
		id=$(/tmp/vsnixctl top --once --interval 0.1 2>/dev/null |
		     sed -n 's/^VM \([0-9]*\) .*/\1/p' | head -n 1)
		[ -n "$id" ] && /tmp/vsnixctl stats "$id" 2>/dev/null | grep -v '^#'
		[ "$probe" = probe ] && for p in $probes; do
			echo "k_${p%%:*} $(sed -n 's/^ *Hits: \([0-9]*\).*/\1/p' \
				$tr/events/kprobes/vb_${p%%:*}/hist 2>/dev/null)"
		done
	else
		for f in exits halt_exits halt_successful_poll halt_wakeup io_exits \
			 mmio_exits irq_injections irq_exits; do
			[ -r /sys/kernel/debug/kvm/$f ] &&
				echo "$f $(cat /sys/kernel/debug/kvm/$f)"
		done
	fi
}

# Per workload: the counters' growth while it ran (sampled when the guest
# prints its result, so each figure also holds a few ms of the next one),
# for the counters that tell where a request's time goes.
deltas() {
	awk -v want="$1" 'NR == FNR { a[$1] = $2; next }
		{ d = $2 - a[$1]; if (d > 0 && index(" " want " ", " " $1 " ")) printf " %s=%d", $1, d }' \
		/tmp/blk-cnt.txt /tmp/blk-cnt.new
}

# One guest run: its "blkbench:" lines as "bench: LABEL q=Q run=R ...",
# each followed by "bench: LABEL q=Q run=R MODE counters: ...".
# The host's timeout(1) ends a hung guest after 300 s.
one() {
	local label=$1 nq=$2 run=$3 want

	shift 3
	want="exits exits_hlt exits_npf exits_io exits_intr_window exits_extint exits_msr halts inj_irq mmio_kernel k_kick k_work k_push k_notify k_msix"
	[ "$label" = qemu ] && want="exits halt_exits halt_successful_poll halt_wakeup io_exits mmio_exits irq_injections irq_exits"
	: >/tmp/blk-cnt.txt
	# The build host's load (blk-bench.sh samples it), the rig's own.
	echo "bench: $label q=$nq run=$run load host=$(tail -n 1 "$repo/$lg/host-load.log" 2>/dev/null |
		cut -d' ' -f2-4 | tr ' ' /) rig=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)"
	hostrun timeout -s KILL 300 "$@" 2>&1 | while IFS= read -r l; do
		printf '%s\n' "$l"
		case "$l" in *"blkbench: "*)
			counters "$label" >/tmp/blk-cnt.new
			m=$(echo "$l" | sed -n 's/.*blkbench: \([a-z0-9-]*\) bs=.*/\1/p')
			[ -n "$m" ] && echo "counters: $m$(deltas "$want")"
			mv /tmp/blk-cnt.new /tmp/blk-cnt.txt ;;
		esac
	done >/tmp/blk-out.txt
	grep -q "blkbench: end" /tmp/blk-out.txt ||
		{ echo "bench: $label q=$nq run=$run FAILED"; tail -n 20 /tmp/blk-out.txt; }
	sed -n -e "s/.*blkbench: /bench: $label q=$nq run=$run /p" \
		-e "s/^counters: /bench: $label q=$nq run=$run counters /p" /tmp/blk-out.txt
}

vsnix() {
	one vsnix "$1" "$2" /tmp/vsnixctl run --kernel /tmp/vmlinuz \
		--initrd /tmp/blk-initrd.cpio.gz --mem 256M --cpus "$1" \
		--disk /dev/ram0 --cmdline "$append vsnix.jobs=$1"
}

qemu() {
	one qemu "$1" "$2" env LD_LIBRARY_PATH=$q/lib $q/bin/qemu-system-x86_64 \
		-accel kvm -cpu host -m 256M -smp "$1" \
		-nographic -no-reboot -nodefaults -serial stdio \
		-kernel /tmp/vmlinuz -initrd /tmp/blk-initrd.cpio.gz \
		-append "$append vsnix.jobs=$1" \
		-object iothread,id=io0 \
		-drive if=none,id=d0,file=/dev/ram0,format=raw,cache=none,aio=native \
		-device virtio-blk-pci,drive=d0,iothread=io0,num-queues="$1" \
		-device isa-debug-exit,iobase=0xf4,iosize=4
}

# The median of FIELD over the lines of LABEL q=Q MODE.
median() {
	grep "^bench: $1 q=$2 run=[0-9]* $3 " /tmp/blk-all.txt |
		sed -n "s/.* $4=\([0-9.]*\).*/\1/p" | sort -n |
		awk '{ a[NR] = $1 } END { if (NR) print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; else print "?" }'
}

{
	echo "bench: runs=$runs secs=$secs disk=/dev/ram0 (brd, 256 MiB)"
	echo "bench: rig load $(cat /proc/loadavg)"
	run=0
	while [ $run -lt "$runs" ]; do
		for nq in 1 2; do
			# Alternate which side goes first in each round.
			if [ $((run % 2)) = 0 ]; then
				vsnix $nq $run; qemu $nq $run
			else
				qemu $nq $run; vsnix $nq $run
			fi
		done
		echo "bench: rig load $(cat /proc/loadavg)"
		run=$((run + 1))
	done
} | tee /tmp/blk-all.txt
modes="seqread seqwrite randread randwrite"
[ "$depth" -gt 1 ] && modes="$modes randread-qd$depth randwrite-qd$depth"
# Per round: vsnix/QEMU for each queue count and workload.
for nq in 1 2; do
	for m in $modes; do
		f=iops
		case $m in seq*) f=mbps ;; esac
		grep "^bench: [a-z]* q=$nq run=[0-9]* $m " /tmp/blk-all.txt |
			sed -n "s/^bench: \([a-z]*\) q=[0-9]* run=\([0-9]*\) .* $f=\([0-9.]*\).*/\1 \2 \3/p" |
			awk -v q=$nq -v m=$m -v f=$f '{ v[$2 " " $1] = $3; r[$2] = 1 }
				END { for (i in r) if (v[i " qemu"] > 0)
					printf "round: q=%s %-14s %s run=%s vsnix=%s qemu=%s ratio=%.2f\n",
						q, m, f, i, v[i " vsnix"], v[i " qemu"], v[i " vsnix"] / v[i " qemu"] }' |
			sort -t= -k4,4n
	done
done | tee /tmp/blk-round.txt
for nq in 1 2; do
	for m in $modes; do
		f=iops
		case $m in seq*) f=mbps ;; esac
		v=$(median vsnix $nq $m $f)
		k=$(median qemu $nq $m $f)
		# The median of the rounds' own ratios too (each round on one load).
		r=$(grep "^round: q=$nq $m " /tmp/blk-round.txt | sed -n 's/.* ratio=//p' | sort -n |
			awk '{ a[NR] = $1 } END { if (NR) print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; else print "?" }')
		echo "$v $k $r" | awk -v q=$nq -v m=$m -v f=$f \
			'{ printf "median: q=%s %-14s %s vsnix=%s qemu=%s ratio=%s round-ratio=%s\n", q, m, f, $1, $2,
			   ($2 > 0) ? sprintf("%.2f", $1 / $2) : "?", $3 }'
	done
done
rm -rf $q
