#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the rig: runs each case of /data/solo5-cases with vsnixctl and
# prints one "@@SOLO5 ok|not ok|skip <name>: <why>" line per case on fd 3
# (the rig's channel), the case's output as "@@SOLO5 # ..." lines.
# $1: seconds each case may run (tests.bats gives 60).
limit=${1:-60}
mem=64M
pings=

say() {
	printf '@@SOLO5 %s\n' "$*" >&3
}

setup() {
	rm -f /tmp/storage*.img
	rm -rf /tmp/cores
	case "$1" in
	core) mkdir /tmp/cores ;;
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

# Solo5's tests/setup-tests.sh: tap100 10.0.0.1/24, tap101 10.1.0.1/24,
# tap102 with MTU 9000, all up. The rig's busybox has no tuntap: the
# host's ip (iproute2) through hostrun, by its path: busybox's chroot runs
# its own applet for a bare name (ip, timeout, ping).
taps_ready=
net_setup() {
	[ -n "$taps_ready" ] && return 0
	hostrun /usr/sbin/modprobe tun </dev/null >/dev/null 2>&1
	for t in tap100/1500/10.0.0.1/24 tap101/1500/10.1.0.1/24 tap102/9000; do
		# shellcheck disable=SC2046 # NAME/MTU[/ADDR/LEN]: words
		set -- $(echo "$t" | tr / ' ')
		hostrun /usr/sbin/ip tuntap add "$1" mode tap </dev/null &&
		hostrun /usr/sbin/ip link set dev "$1" up mtu "$2" </dev/null || return 1
		[ -z "$3" ] || hostrun /usr/sbin/ip addr add "$3/$4" dev "$1" </dev/null || return 1
	done
	taps_ready=1
}

# ping=IP/COUNT[/PATTERN] in the setup field: tests.bats' background
# "sleep 1; timeout 60s ping -fq -c COUNT [-p PATTERN] IP" on the host
# side, with the host's iputils ping (busybox's has no -f). SIGINT
# instead of SIGTERM at the limit: ping then prints how far it got.
start_pings() {
	n=0
	for w in $1; do
		case "$w" in ping=*) ;; *) continue ;; esac
		# shellcheck disable=SC2046 # IP/COUNT/PATTERN: three words
		set -- $(echo "${w#ping=}" | tr / ' ')
		ip=$1 count=$2 pat=$3
		(sleep 1; hostrun /usr/bin/timeout -s INT "$case_limit" /usr/bin/ping -fq -c "$count" \
			${pat:+-p "$pat"} "$ip" </dev/null >/tmp/ping.$n.out 2>&1) &
		pings="$pings $!"
		n=$((n + 1))
	done
}

# Waits for the pings (each ends by its own timeout) and shows their
# summaries: how many echo requests got a reply, and in what time.
end_pings() {
	for p in $pings; do
		wait "$p"
	done
	pings=
	for f in /tmp/ping.*.out; do
		[ -f "$f" ] || continue
		grep -E 'transmitted|rtt' "$f" | sed 's/^/@@SOLO5 # ping: /' >&3
		rm -f "$f"
	done
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
	# "A&B": both must appear (net_mtu: "MTU is 9000" and SUCCESS).
	if [ -z "$why" ] && [ -n "$must" ]; then
		rest=$must
		while [ -n "$rest" ] && [ -z "$why" ]; do
			word=${rest%%&*}
			grep -qF -- "$word" "$out" || why="no '$word' in the output"
			[ "$word" = "$rest" ] && rest= || rest=${rest#*&}
		done
	fi
	if [ -z "$why" ] && [ -n "$mustnot" ] && grep -qF -- "$mustnot" "$out"; then
		why="'$mustnot' in the output"
	fi
	# tests.bats' dumpcore: the file the tender named must exist.
	if [ -z "$why" ] && [ "$setup" = core ]; then
		core=$(grep -o '/tmp/cores/core\.vsnix\.[0-9]*$' "$out")
		[ -n "$core" ] && [ -f "$core" ] || why="no core file '$core'"
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
	case "$setup" in
	*ping=*|net) net_setup || { say "not ok $name: cannot set up the taps"; continue; } ;;
	esac
	case_limit=$limit
	for w in $setup; do
		case "$w" in limit=*)
			# Only ever longer (Bochs gives every case 600 s).
			[ "${w#limit=}" -gt "$limit" ] && case_limit=${w#limit=} ;;
		esac
	done
	extra=$(setup "$setup")
	start_pings "$setup"
	# shellcheck disable=SC2086 # options are words
	timeout "$case_limit" vsnixctl run --kernel "/data/$kernel" --mem $mem $opts $extra \
		</dev/null >/tmp/solo5.out 2>&1
	st=$?
	end_pings
	if [ -n "$skipwhen" ] && [ "$st" = "${skipwhen%%:*}" ] &&
	   grep -qF -- "${skipwhen#*:}" /tmp/solo5.out; then
		say "skip $name: '${skipwhen#*:}' (flaky, ignored as tests.bats does)"
		continue
	fi
	check "$name" "$st" /tmp/solo5.out "$exp" "$must" "$mustnot"
done
rm -rf /tmp/storage*.img /tmp/solo5.out /tmp/cores
