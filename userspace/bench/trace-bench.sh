#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark (not a test): the hvt hypercall round trip with vsnix's
# tracepoints compiled in but off, against a vsnix.ko built without them
# (make VSNIX_TRACE=0) and, for reference, with every vsnix event enabled.
# One emulated PC; inside it the modules are loaded in turn, ROUNDS rounds
# of six runs (trace-in-rig.sh), each run ITERATIONS hypercalls timed by
# the guest's TSC in batches of BATCH. Prints every run, then the medians,
# interquartile ranges, ratios and the noise floor (trace-stats.awk).
#   userspace/bench/trace-bench.sh [ROUNDS] [ITERATIONS] [BATCH]
#   make bench-trace [ROUNDS=..] [ITERS=..] [BATCH=..]
# VSNIX_BENCH_VMX=1 runs it on the Bochs/VMX machine instead (slow: use a
# few rounds and iterations; on a shared host one run took over a minute).
# VSNIX_BENCH_LIMIT: the machine's limit in seconds (1200 QEMU, 3600 Bochs).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-12}
iters=${2:-4000}
batch=${3:-20}
out=$root/build/bench
kdir=/lib/modules/$("$root/scripts/rig/stock-kernel.sh")/build

make -C "$root" rig-modules userspace selftests >/dev/null
mkdir -p "$out"
cp "$root/kmod/vsnix.ko" "$out/vsnix-trace.ko"
# The baseline: a copy of the module's sources built apart, so that the
# tree's own objects stay those of the default build. The copy keeps the
# sources' times: a second run rebuilds only what changed.
mkdir -p "$out/notrace"
(cd "$root" && find kmod uapi Kbuild -type f \( -name '*.[chS]' -o -name Kbuild \) \
	! -name '*.mod.c' -print0) | (cd "$root" && xargs -0 cp -p --parents -t "$out/notrace")
make -C "$kdir" M="$out/notrace" VSNIX_TRACE=0 modules >/dev/null
cp "$out/notrace/kmod/vsnix.ko" "$out/vsnix-notrace.ko"
# Check that the switch did what it says: no vsnix tracepoint in the
# baseline, all of them in the default build.
if nm "$out/vsnix-notrace.ko" | grep -q __tracepoint_vsnix_; then
	echo "bench: vsnix-notrace.ko has tracepoints" >&2
	exit 1
fi
nm "$out/vsnix-trace.ko" | grep -q __tracepoint_vsnix_ ||
	{ echo "bench: vsnix-trace.ko has no tracepoints" >&2; exit 1; }

rig=(--cmd "sh /data/trace-in-rig.sh /data $rounds $iters $batch"
     --add "$out/vsnix-trace.ko" --add "$out/vsnix-notrace.ko"
     --add "$root/userspace/bench/trace-in-rig.sh")
echo "bench: host load before: $(cat /proc/loadavg)"
if [ "${VSNIX_BENCH_VMX:-0}" = 1 ]; then
	"$root/scripts/rig/run-bochs.sh" --verbose \
		--timeout "${VSNIX_BENCH_LIMIT:-3600}" "${rig[@]}"
else
	# Single-threaded TCG: every run patches kernel text (module load and
	# unload, tracepoint enable), and QEMU 7.2's multi-threaded TCG then
	# now and then leaves the other CPU on a stale int3 (run-qemu.sh); one
	# run of this benchmark stalled that way after 64 runs.
	VSNIX_QEMU_TCG_THREAD=single \
		"$root/scripts/rig/run-qemu.sh" \
		--timeout "${VSNIX_BENCH_LIMIT:-1200}" "${rig[@]}"
fi | tr -d '\r' | grep -E '^bench:' | tee "$out/trace-bench.log"
rc=${PIPESTATUS[0]}
echo "bench: host load after: $(cat /proc/loadavg)"
# A machine that stopped early still leaves its runs to summarise.
awk -f "$root/userspace/bench/trace-stats.awk" "$out/trace-bench.log"
awk -v col=med -f "$root/userspace/bench/trace-stats.awk" "$out/trace-bench.log"
[ "$rc" = 0 ] || echo "bench: the rig machine failed (status $rc): see build/rig/" >&2
exit "$rc"
