#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Self-test of report.awk on made-up logs: skips only as the TAP directive,
# unexpected skips fail, the console check's patterns and levels, the
# per-test allow-list, the page count and a test run again after an
# emulator fault. Runs on the host in a second.
#
#   scripts/rig/report-test.sh
set -eo pipefail
. "$(dirname "$0")/rig-lib.sh"

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

cat >"$t/console" <<'LOG'
<6>[    1.000000] Linux version 6.1
<4>[    2.000000] WARNING: CPU: 0 PID: 0 at arch/x86/kernel/fpu/xstate.c:606
<13>[    3.000000] @@VSNIX-RIG start
<13>[    3.100000] @@VSNIX-TEST-BEGIN busy
<3>[    3.200000] vsnix: svm is in use by another hypervisor (EFER.SVME already set)
<3>[    3.300000] vsnix: VMCS of vCPU 1 still active on CPU 0, leaked
<13>[    3.400000] @@VSNIX-TEST-END busy
<3>[    3.500000] vsnix: svm is in use by another hypervisor (EFER.SVME already set)
<4>[    3.550000] vsnix: hvt: bad argument, stopping the guest
<6>[    3.560000] vsnix: SET_REGS: RIP not canonical
<0>[    3.600000] kernel BUG at mm/slub.c:123!
<3>[    3.800000] rcu: INFO: rcu_sched self-detected stall on CPU
<3>[    3.900000] INFO: task a.out:12 blocked for more than 120 seconds.
<4>[    3.950000] invalid opcode: 0000 [#1] PREEMPT SMP
<0>[    4.000000] reboot: Power down
<13>[    4.100000] @@VSNIX-TEST-BEGIN busy
<4>[    4.200000] vsnix: svm: VM 3 vCPU 1: exit 0x7b saved the host's state in place of the guest's
<13>[    4.300000] @@VSNIX-TEST-END busy
<13>[    4.400000] @@VSNIX-TEST-BEGIN tap
<4>[    4.500000] vsnix: svm: VM 4 vCPU 0: exit 0x7b saved the host's state in place of the guest's
<13>[    4.600000] @@VSNIX-TEST-END tap
LOG
cat >"$t/rig" <<'LOG'
@@VSNIX-RIG start machine=svm
@@VSNIX-CHECK insmod ok insmod vsnix.ko
@@VSNIX-CHECK devnode skip no udev here
@@VSNIX-TEST-BEGIN busy 60
TAP version 13
1..0 # SKIP VSNIX_CAP_XSAVE is 0
@@VSNIX-PAGES busy 4 4
@@VSNIX-TEST busy 4
@@VSNIX-TEST-BEGIN tap 60
1..6
ok 1 listed skip # SKIP not here
ok 2 printed '# SKIP' in the text
# a passing result's note
ok 3 vector \# SKIP is text
ok 4 #UD delivered
not ok 5 failed # SKIP but not ok
# exit code 121 after 3.00 s
# stderr: vsnixctl: VSNIX_RUN on vCPU 1: Bad address
ok 6 other skip # skip why
@@VSNIX-PAGES tap 6 4
@@VSNIX-TEST tap 1
@@VSNIX-TEST-BEGIN quiet 60
@@VSNIX-PAGES quiet 4 4
@@VSNIX-TEST quiet 4
@@VSNIX-TEST-BEGIN nonum 60
1..1
not ok - no number
@@VSNIX-PAGES nonum 4 4
@@VSNIX-TEST nonum 1
@@VSNIX-TEST-BEGIN stuck 60
@@VSNIX-PAGES stuck 4 4
@@VSNIX-TEST stuck 200
@@VSNIX-TEST-BEGIN again 60
TAP version 13
1..2
ok 1 first run
not ok 2 first run lost
@@VSNIX-TEST-RETRY again the exit saved the host's state (emulator fault)
TAP version 13
1..1
ok 1 second run
@@VSNIX-PAGES again 4 4
@@VSNIX-TEST again 0
@@VSNIX-CHECK pages ok 4 pages
@@VSNIX-CHECK rmmod ok rmmod vsnix
@@VSNIX-CHECK kmemleak skip kernel has no kmemleak
@@VSNIX-RIG end
LOG
# 42 diagnostic lines under a failure: the report shows 40.
seq -f '# stdout: line %g' 42 | sed -i '/^not ok - no number$/r /dev/stdin' "$t/rig"
printf 'busy 60\ntap 60\nquiet 60\nnonum 60\nstuck 60\nagain 60\n' >"$t/tests"
: >"$t/skips"
cat >"$t/expected" <<'LIST'
# comment
svm,vmx rig:kmemleak no kmemleak
vmx busy the whole test, on vmx only
svm tap /^listed/ listed
svm tap /^never/ a skip that does not happen
LIST
printf '* busy ^vsnix: (svm|vmx) is in use by another hypervisor\n' >"$t/console-ok"

awk -f "$VSNIX_ROOT/scripts/rig/report.awk" -v consolelog="$t/console" \
	-v machine=svm -v status=ok -v checks="insmod devnode pages rmmod kmemleak" \
	-v tests="$t/tests" -v first=1 -v counts="$t/counts" -v kunit=0 \
	-v skipfile="$t/skips" -v expected="$t/expected" -v consoleok="$t/console-ok" \
	"$t/console" "$t/rig" >"$t/out"

fail=0
want() {
	grep -qxF -- "$1" "$t/out" || { echo "missing: $1"; fail=1; }
}
want "not ok 2 svm: rig:devnode: skipped (no udev here), but selftests/EXPECTED_SKIPS does not expect this skip on svm"
want "not ok 3 svm: busy: skipped (VSNIX_CAP_XSAVE is 0), but selftests/EXPECTED_SKIPS does not expect this skip on svm"
want "ok 4 svm: tap: listed skip # SKIP not here"
want "ok 5 svm: tap: printed '# SKIP' in the text"
want "ok 6 svm: tap: vector \\# SKIP is text"
want "ok 7 svm: tap: #UD delivered"
want "not ok 8 svm: tap: failed # SKIP but not ok"
want "not ok 9 svm: tap: other skip: skipped (why), but selftests/EXPECTED_SKIPS does not expect this skip on svm"
want "not ok 10 svm: tap: vsnix holds 6 page(s) after it, 4 after insmod: 2 page(s) leaked (kmemleak cannot see these)"
want "not ok 11 svm: quiet: skipped (exit code 4 with no reason (no \"1..0 # SKIP why\" line)), but selftests/EXPECTED_SKIPS does not expect this skip on svm"
want "ok 17 svm: rig:kmemleak # SKIP kernel has no kmemleak"
want "# svm: tap /^never/: expected skip did not happen (selftests/EXPECTED_SKIPS out of date?)"
want "# svm: boot (before /init, not counted): line 2: WARNING: CPU: 0 PID: 0 at arch/x86/kernel/fpu/xstate.c:606"
want "# svm: expected console line (selftests/EXPECTED_CONSOLE): busy: line 5: vsnix: svm is in use by another hypervisor (EFER.SVME already set)"
want "not ok 18 svm: console: line 6: (during busy) vsnix: VMCS of vCPU 1 still active on CPU 0, leaked"
want "not ok 19 svm: console: line 8: vsnix: svm is in use by another hypervisor (EFER.SVME already set)"
want "not ok 20 svm: console: line 11: kernel BUG at mm/slub.c:123!"
want "not ok 21 svm: console: line 12: rcu: INFO: rcu_sched self-detected stall on CPU"
want "not ok 22 svm: console: line 13: INFO: task a.out:12 blocked for more than 120 seconds."
want "# svm: 1 more console lines not shown"
want "ok 23 svm: machine: ran to the end and powered off"
want "not ok 12 svm: nonum: no number"
want "not ok 13 svm: stuck: still running 30 s after SIGKILL at its limit of 60 s: stuck in the kernel (the console has the blocked tasks)"
want "# svm: tap: console: line 20: vsnix: svm: VM 4 vCPU 0: exit 0x7b saved the host's state in place of the guest's"
grep -q "VM 3 vCPU 1" "$t/out" && { echo "a vsnix warning of a test that did not fail is shown"; fail=1; }
want "# svm: tap: exit code 121 after 3.00 s"
want "# svm: tap: stderr: vsnixctl: VSNIX_RUN on vCPU 1: Bad address"
grep -q "passing result's note" "$t/out" && { echo "a passing result's diagnostic is shown"; fail=1; }
want "# svm: nonum: stdout: line 40"
want "# svm: nonum: 2 more diagnostic lines in build/rig/svm.rig.log"
grep -q "nonum: stdout: line 41" "$t/out" && { echo "more than 40 diagnostic lines shown"; fail=1; }
want "ok 14 svm: again: second run"
want "# svm: again: ran a second time, its first run's results dropped: the exit saved the host's state (emulator fault)"
[ "$(cat "$t/counts")" = "8 13 2 24" ] || { echo "counts: $(cat "$t/counts"), want 8 13 2 24"; fail=1; }
if [ "$fail" != 0 ]; then
	cat "$t/out"
	die "report.awk self-test failed"
fi
echo "report.awk self-test: ok"
