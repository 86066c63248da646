#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the rig: runs each case of /data/solo5-cases with vsnixctl and
# prints one "@@SOLO5 ok|not ok|skip <name>: <why>" line per case on fd 3
# (the rig's channel), the case's output as "@@SOLO5 # ..." lines.
# $1: seconds each case may run (tests.bats gives 60).
limit=${1:-60}
mem=64M

say() {
	printf '@@SOLO5 %s\n' "$*" >&3
}

setup() {
	rm -f /tmp/storage*.img
	case "$1" in
	blk) dd if=/dev/zero of=/tmp/storage.img bs=4k count=1024 2>/dev/null ;;
	misaligned) dd if=/dev/zero of=/tmp/storage.img bs=2k count=3 2>/dev/null ;;
	odd) dd if=/dev/zero of=/tmp/storage.img bs=521 count=3 2>/dev/null ;;
	small) dd if=/dev/zero of=/tmp/storage.img bs=256 count=1 2>/dev/null ;;
	maxdev)
		for n in $(seq 0 62); do
			dd if=/dev/zero of=/tmp/storage$n.img bs=4k count=1 2>/dev/null
			printf -- '--block storage%s=/tmp/storage%s.img ' "$n" "$n"
		done ;;
	esac
}

# check NAME STATUS OUTPUT_FILE WANT_EXIT MUST MUSTNOT
check() {
	name=$1 st=$2 out=$3 exp=$4 must=$5 mustnot=$6 why=
	case "$exp" in
	tender:*)
		rest=${exp#tender:}
		exp=${rest%%:*}
		must=${rest#*:} ;;
	esac
	[ "$st" = "$exp" ] || why="exit $st, want $exp"
	if [ -z "$why" ] && [ -n "$must" ] && ! grep -qF -- "$must" "$out"; then
		why="no '$must' in the output"
	fi
	if [ -z "$why" ] && [ -n "$mustnot" ] && grep -qF -- "$mustnot" "$out"; then
		why="'$mustnot' in the output"
	fi
	if [ -z "$why" ]; then
		say "ok $name: exit $st${must:+, '$must'}"
	else
		say "not ok $name: $why"
		sed 's/^/@@SOLO5 #   /' "$out" | tail -n 20 >&3
	fi
}

grep -v '^#' /data/solo5-cases | while IFS='|' read -r name kernel setup opts exp must mustnot skipwhen; do
	[ -n "$name" ] || continue
	if [ "$exp" = skip ]; then
		say "skip $name: $must"
		continue
	fi
	if [ ! -f "/data/$kernel" ]; then
		say "not ok $name: /data/$kernel was not built"
		continue
	fi
	extra=$(setup "$setup")
	# shellcheck disable=SC2086 # options are words
	timeout "$limit" vsnixctl run --kernel "/data/$kernel" --mem $mem $opts $extra \
		</dev/null >/tmp/solo5.out 2>&1
	st=$?
	if [ -n "$skipwhen" ] && [ "$st" = "${skipwhen%%:*}" ] &&
	   grep -qF -- "${skipwhen#*:}" /tmp/solo5.out; then
		say "skip $name: '${skipwhen#*:}' (flaky, ignored as tests.bats does)"
		continue
	fi
	check "$name" "$st" /tmp/solo5.out "$exp" "$must" "$mustnot"
done
rm -f /tmp/storage*.img /tmp/solo5.out
