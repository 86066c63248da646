#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the rig: runs each kvm-unit-tests case of /data/kut-cases
# (name|file|smp|args|timeout|vsnixctl flags) with vsnixctl and prints, on fd 3 (the
# rig's channel), one "@@KUT ok|not ok|skip <name>: <why>" line per case,
# its PASS/FAIL/SKIP counts from the test's own output, and the output's
# failing lines as "@@KUT # ..." lines.
say() {
	printf '@@KUT %s\n' "$*" >&3
}

# The harness's environment, as its own scripts pass it (a multiboot
# module read as KEY=VALUE lines): no QEMU pc-testdev or KVM PV IPI here.
printf 'TEST_DEVICE=0\n' >/tmp/kut.env

while IFS='|' read -r name file smp args limit flags; do
	[ -n "$name" ] || continue
	if [ ! -f "/data/$file" ]; then
		say "not ok $name: /data/$file was not built"
		continue
	fi
	t0=$(date +%s)
	# shellcheck disable=SC2086 # args are the test's own words
	timeout "${limit:-90}" vsnixctl run --kernel "/data/$file" --mem 256M \
		--cpus "${smp:-1}" --testdev $flags --cmdline "$file $args" --module /tmp/kut.env \
		</dev/null >/tmp/kut.out 2>&1
	st=$?
	secs=$(($(date +%s) - t0))
	p=$(grep -c '^PASS: ' /tmp/kut.out)
	f=$(grep -c '^FAIL: ' /tmp/kut.out)
	s=$(grep -c '^SKIP: ' /tmp/kut.out)
	say "# $name: $p PASS, $f FAIL, $s SKIP, exit $st, ${secs} s"
	# The exit port gets the test's status: 0 pass, 77 all skipped.
	case "$st" in
	0) say "ok $name: exit 0 ($p PASS, $f FAIL, $s SKIP)" ;;
	77) say "skip $name: the test skipped itself ($s SKIP)" ;;
	124) say "not ok $name: killed after ${limit:-90} s ($p PASS, $f FAIL)" ;;
	*) say "not ok $name: exit $st ($p PASS, $f FAIL, $s SKIP)" ;;
	esac
	# vmexit's measurements ("NAME CYCLES"), for the record.
	tr -d '\r' </tmp/kut.out | grep -E '^[a-z0-9_]+ [0-9]+$' | head -n 5 |
		sed 's/^/@@KUT #   cycles: /' >&3
	if [ "$st" != 0 ]; then
		# Each FAIL with the line before it (tests reuse messages).
		grep -B1 -E '^(FAIL|SUMMARY|Unhandled|vsnixctl)' /tmp/kut.out |
			grep -v '^--$' | head -n 40 |
			sed 's/^/@@KUT #   /' >&3
		tail -n 5 /tmp/kut.out | sed 's/^/@@KUT #   /' >&3
	fi
done </data/kut-cases
rm -f /tmp/kut.out /tmp/kut.env
