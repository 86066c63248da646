#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Panic with root mode on: boot the QEMU/SVM machine, run one vsnix guest
# pinned to every CPU, panic the kernel (sysrq c) while they run, and check
# the console for vsnix's "root mode off on CPU n" line from every CPU (the
# panic notifier for its own CPU, its NMI handler for the others). The
# machine dies by design, so this is a rig step of its own (machine name
# svm-panic), not a selftest. Prints TAP lines; writes the counts file.
#
#   scripts/rig/panic-check.sh
set -eo pipefail
. "$(dirname "$0")/rig-lib.sh"

machine=svm-panic
first=${VSNIX_RIG_FIRST:-1}
mkdir -p "$RIG_DIR"
log=$RIG_DIR/$machine.console.log
guest=$SELFTESTS/build/guests/bench.hvt
[ -f "$guest" ] || die "$guest missing: run 'make selftests'"

# Each vCPU loops on in-kernel hypercalls (exits and re-entries) until the
# panic; the sleep lets both reach the guest first.
cmd='n=$(nproc); i=0
while [ $i -lt $n ]; do
	taskset -c $i vsnixctl run --kernel /data/bench.hvt --mem 32M \
		--cmdline iters=1000000000 >/dev/null 2>&1 &
	i=$((i + 1))
done
sleep 3
echo "@@VSNIX-PANIC cpus=$n running=$(pidof vsnixctl | wc -w)" >/dev/kmsg
echo c >/proc/sysrq-trigger'

set +e
RIG_DIR=$RIG_DIR "$VSNIX_ROOT/scripts/rig/run-qemu.sh" --machine "$machine" \
	--cmd "$cmd" --add "$guest" --timeout "${VSNIX_PANIC_TIMEOUT_S:-180}" >/dev/null 2>&1
set -e

pass=0
fail=0
num=$first
tap() {
	if [ "$1" = ok ]; then
		echo "ok $num svm: panic: $2"
		pass=$((pass + 1))
	else
		echo "not ok $num svm: panic: $2"
		fail=$((fail + 1))
	fi
	num=$((num + 1))
}

clean=$(tr -d '\r' <"$log" 2>/dev/null || true)
marker=$(echo "$clean" | grep -o '@@VSNIX-PANIC cpus=[0-9]* running=[0-9]*' | tail -n1)
cpus=$(echo "$marker" | sed -n 's/.*cpus=\([0-9]*\).*/\1/p')
running=$(echo "$marker" | sed -n 's/.*running=\([0-9]*\).*/\1/p')
if [ -z "$cpus" ] || ! echo "$clean" | grep -q 'Kernel panic - not syncing'; then
	tap fail "the machine did not reach the panic (see $log)"
else
	if [ "$running" = "$cpus" ]; then
		tap ok "the kernel panicked with a vsnix guest running on each of $cpus CPUs"
	else
		tap fail "$running vsnix guests running at the panic, want $cpus"
	fi
	missing=
	for ((c = 0; c < cpus; c++)); do
		echo "$clean" | grep -q "vsnix: panic: root mode off on CPU $c\b" ||
			missing="$missing $c"
	done
	if [ -z "$missing" ]; then
		tap ok "root mode left on every CPU (0-$((cpus - 1))) before the reboot"
	else
		tap fail "no 'root mode off' line for CPU(s)$missing (see $log)"
	fi
	if echo "$clean" | grep -q 'did not answer the NMI'; then
		tap fail "a CPU neither ran the stop callback nor answered vsnix's NMI"
	else
		tap ok "no CPU left unanswered (stop callback or vsnix's NMI)"
	fi
fi
echo "$pass $fail 0 $num" >"$RIG_DIR/$machine.counts"
[ "$fail" -eq 0 ]
