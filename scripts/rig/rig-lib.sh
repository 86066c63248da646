# SPDX-License-Identifier: GPL-2.0
# Host side of the rig: sourced by run-qemu.sh and run-bochs.sh.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

RIG_DIR=${RIG_DIR:-$VSNIX_ROOT/build/rig}
SELFTESTS=${VSNIX_SELFTESTS:-$VSNIX_ROOT/selftests}
DEFAULT_TEST_TIMEOUT=60

# The stock modules that give a stock guest the 9p host root, in load order.
STOCK_9P_MODULES="9p 9pnet_virtio virtio_pci"
# Stock modules the tests may modprobe inside the guest (Bochs has no 9p
# host root to reach the host's /lib/modules): tun is loaded at boot; msr
# gives /dev/cpu/N/msr; zram is swap for mem_swap.
STOCK_EXTRA_MODULES="tun kvm_intel kvm_amd msr zram"

# Print "name timeout" for each selected selftest, sorted by name. A test
# is selftests/<name>.c built into selftests/build/<name>; its timeout is
# selftests/<name>.timeout (seconds) or the default, times $1.
# $2: names to keep (empty: all). Unknown names are an error.
rig_select_tests() {
	local factor=$1 wanted=$2 all name limit

	all=$(cd "$SELFTESTS" 2>/dev/null && ls *.c 2>/dev/null | sed 's/\.c$//' | LC_ALL=C sort)
	for name in $wanted; do
		grep -qx "$name" <<<"$all" || die "no selftest '$name' (selftests/$name.c)"
	done
	for name in $all; do
		if [ -n "$wanted" ] && ! grep -q " $name " <<<" $wanted "; then
			continue
		fi
		limit=$DEFAULT_TEST_TIMEOUT
		if [ -n "$VSNIX_TEST_TIMEOUT" ]; then
			limit=$VSNIX_TEST_TIMEOUT	# make fuzz: as long as asked
		elif [ -f "$SELFTESTS/$name.timeout" ]; then
			limit=$(tr -dc 0-9 <"$SELFTESTS/$name.timeout")
			[ -n "$limit" ] || die "selftests/$name.timeout: not a number of seconds"
		fi
		echo "$name $((limit * factor))"
	done
}

# rig_norun_reason MACHINE NAME: the reason selftests/EXPECTED_SKIPS gives
# for not running test NAME on MACHINE at all ("<machines> NAME norun why").
# VSNIX_RIG_RUN_ALL=1 runs such tests anyway (make fuzz, a hang hunt).
rig_norun_reason() {
	[ -z "$VSNIX_RIG_RUN_ALL" ] || return 1
	[ -f "$SELFTESTS/EXPECTED_SKIPS" ] || return 1
	awk -v m="$1" -v n="$2" '
		/^[ \t]*(#|$)/ { next }
		$2 == n && $3 == "norun" && ($1 == "*" || index("," $1 ",", "," m ",")) {
			$1 = $2 = $3 = ""; sub(/^ +/, ""); print; found = 1
		}
		END { exit !found }' "$SELFTESTS/EXPECTED_SKIPS"
}

# rig_select_runnable MACHINE FACTOR WANTED: rig_select_tests without the
# tests EXPECTED_SKIPS keeps off MACHINE; those go, with their reason, to
# $RIG_DIR/MACHINE.skips.
rig_select_runnable() {
	local machine=$1 name limit reason

	: >"$RIG_DIR/$machine.skips"
	rig_select_tests "$2" "$3" | while read -r name limit; do
		[ -n "$name" ] || continue
		if reason=$(rig_norun_reason "$machine" "$name"); then
			echo "$name ${reason:-listed in selftests/EXPECTED_SKIPS}" \
				>>"$RIG_DIR/$machine.skips"
		else
			echo "$name $limit"
		fi
	done
}

# A module built for another kernel fails insmod with a terse "Invalid
# module format": say which kernel it was built for instead.
rig_check_vermagic() {
	local built

	[ -n "$RIG_STOCK_KVER" ] || return 0
	built=$(modinfo -F vermagic "$1" 2>/dev/null | awk '{ print $1 }')
	[ "$built" = "$RIG_STOCK_KVER" ] ||
		die "$1 is built for '$built', the rig boots $RIG_STOCK_KVER: run 'make rig-modules'"
}

# Copy $STOCK_EXTRA_MODULES and their dependencies under the stage's
# /lib/modules/<ver>/ with a modules.dep of their own, for busybox modprobe.
rig_pack_stock_modules() {
	local stage=$1 src=/lib/modules/$RIG_STOCK_KVER mod path rel dst

	for mod in $STOCK_EXTRA_MODULES; do
		modprobe -S "$RIG_STOCK_KVER" --show-depends "$mod" 2>/dev/null
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r path; do
		rel=${path#"$src"/}
		dst=$stage/lib/modules/$RIG_STOCK_KVER/$rel
		mkdir -p "$(dirname "$dst")"
		case "$path" in
		*.xz) xz -dc "$path" >"${dst%.xz}" ;;
		*.zst) zstd -qdc "$path" >"${dst%.zst}" ;;
		*) cp "$path" "$dst" ;;
		esac
	done
	cp "$src"/modules.builtin "$src"/modules.order "$stage/lib/modules/$RIG_STOCK_KVER/" \
		2>/dev/null || true
	depmod -b "$stage" "$RIG_STOCK_KVER" 2>/dev/null || die "depmod for the initramfs failed"
}

# rig_pack_built_modules STAGE DIR: the modules a kernel build installed
# under DIR/lib/modules/<ver>/ (the debug kernel's KVM modules), with a
# modules.dep for busybox modprobe.
rig_pack_built_modules() {
	local stage=$1 dir=$2 ver

	for ver in $(ls "$dir/lib/modules" 2>/dev/null); do
		mkdir -p "$stage/lib/modules/$ver"
		cp -a "$dir/lib/modules/$ver/." "$stage/lib/modules/$ver/"
		rm -f "$stage/lib/modules/$ver/build" "$stage/lib/modules/$ver/source"
		depmod -b "$stage" "$ver" 2>/dev/null || die "depmod for $dir ($ver) failed"
	done
}

# rig_pack_insmod_list DIR "MODULES": the stock MODULES and their
# dependencies, uncompressed, as DIR/NN-name.ko in load order (the guest
# insmods them sorted: busybox modprobe needs a modules.dep).
rig_pack_insmod_list() {
	local dir=$1 mods=$2 mod path n=10

	mkdir -p "$dir"
	# --show-depends takes one module per call.
	for path in $(for mod in $mods; do
			      modprobe -S "$RIG_STOCK_KVER" --show-depends "$mod" ||
				      die "stock module $mod not found"
		      done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'); do
		mod=$(basename "$path")
		case "$path" in
		*.xz) xz -dc "$path" >"$dir/$n-${mod%.xz}" ;;
		*.zst) zstd -qdc "$path" >"$dir/$n-${mod%.zst}" ;;
		*) cp "$path" "$dir/$n-$mod" ;;
		esac
		n=$((n + 1))
	done
}

# rig_make_initramfs OUT_CPIO_GZ STAGE_DIR: pack busybox, the modules,
# vsnixctl, the selftests and the guest scripts. Reads the RIG_* variables.
rig_make_initramfs() {
	local out=$1 stage=$2 path

	rm -rf "$stage"
	mkdir -p "$stage"/{bin,sbin,etc/vsnix,lib/vsnix,proc,sys,dev,tmp,run,host,selftests}
	cp /bin/busybox "$stage/bin/busybox"
	cp "$VSNIX_ROOT/scripts/rig/guest-init.sh" "$stage/init"
	cp "$VSNIX_ROOT/scripts/rig/guest-lib.sh" "$stage/lib/vsnix/"
	cp "$VSNIX_ROOT/scripts/rig/hostrun" "$stage/bin/hostrun"
	cp "$VSNIX_ROOT/userspace/udev/60-vsnix.rules" "$stage/etc/vsnix/" 2>/dev/null ||
		die "userspace/udev/60-vsnix.rules missing"
	[ -f "$RIG_MODULE" ] || die "$RIG_MODULE missing: run 'make' (or set VSNIX_KO)"
	rig_check_vermagic "$RIG_MODULE"
	cp "$RIG_MODULE" "$stage/lib/vsnix/vsnix.ko"
	if [ "$RIG_KUNIT" = 1 ]; then
		[ -f "$RIG_KUNIT_MODULE" ] || die "$RIG_KUNIT_MODULE missing"
		cp "$RIG_KUNIT_MODULE" "$stage/lib/vsnix/vsnix_kunit.ko"
	fi
	[ -x "$VSNIX_ROOT/userspace/vsnixctl" ] && cp "$VSNIX_ROOT/userspace/vsnixctl" "$stage/bin/"
	[ -x "$VSNIX_ROOT/userspace/vsnixd/vsnixd" ] && cp "$VSNIX_ROOT/userspace/vsnixd/vsnixd" "$stage/bin/"
	# Every file under selftests/build/ goes in, the tests and their data,
	# object files excepted (not with run-qemu.sh --bare: make demo).
	if [ -d "$SELFTESTS/build" ] && [ "${RIG_BARE:-0}" != 1 ]; then
		(cd "$SELFTESTS/build" && find . ! -name '*.o' ! -type d -print0 |
		 cpio -0pdm --quiet "$stage/selftests")
	fi
	if [ -n "$RIG_STOCK_KVER" ]; then
		rig_pack_insmod_list "$stage/lib/rig-modules" "$STOCK_9P_MODULES"
		# Bochs: the host root is a disc (scripts/rig/hostroot.sh).
		if [ -n "$RIG_HOSTROOT_MODULES" ]; then
			rig_pack_insmod_list "$stage/lib/rig-modules-disk" "$RIG_HOSTROOT_MODULES"
			"$VSNIX_ROOT/scripts/rig/hostroot.sh" --tools >"$stage/etc/vsnix/hostroot.tools"
		fi
		rig_pack_stock_modules "$stage"
	fi
	[ -z "$RIG_MODULES_DIR" ] || rig_pack_built_modules "$stage" "$RIG_MODULES_DIR"
	# Extra files for --cmd (--add PATH): /data/<basename>.
	mkdir -p "$stage/data"
	for path in "${RIG_ADD[@]}"; do
		cp -L "$path" "$stage/data/" || die "--add $path: cannot copy"
	done
	printf '%s\n' "$RIG_TESTS" >"$stage/etc/vsnix/tests"
	printf '%s\n' "$RIG_CMD" >"$stage/etc/vsnix/cmd"
	# VSNIX_RIG_TEST_ENV="A=1 B=2": exported to every test (make fuzz).
	for path in $VSNIX_RIG_TEST_ENV; do
		case "$path" in
		[A-Z_]*=*) printf 'export %q\n' "$path" ;;
		*) die "VSNIX_RIG_TEST_ENV: '$path' is not NAME=VALUE" ;;
		esac
	done >"$stage/etc/vsnix/test.env"
	# VSNIX_KO_ARGS="fpu_own=1": parameters for insmod vsnix.ko.
	case "$VSNIX_KO_ARGS" in
	*[!a-z0-9_=,.\ -]*) die "VSNIX_KO_ARGS: '$VSNIX_KO_ARGS' is not name=value words" ;;
	esac
	cat >"$stage/etc/vsnix/rig.conf" <<-CONF
		RIG_MACHINE=$RIG_MACHINE
		RIG_MODE=$RIG_MODE
		RIG_QUIET=${RIG_QUIET:-0}
		RIG_KUNIT=${RIG_KUNIT:-0}
		RIG_UDEV=${RIG_UDEV:-0}
		RIG_KO_ARGS="${VSNIX_KO_ARGS:-}"
		RIG_UDEV_WHY="${RIG_UDEV_WHY:-no virtio-9p host root on this machine}"
	CONF
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
		gzip -1 >"$out"
}

# rig_report MACHINE STATUS CHECKS: print the TAP lines of one machine run
# from its console log and rig log, and write "pass fail skip next" to
# $RIG_DIR/$MACHINE.counts. Numbering continues from $VSNIX_RIG_FIRST.
rig_report() {
	local machine=$1 status=$2 checks=$3

	touch "$RIG_DIR/$machine.console.log" "$RIG_DIR/$machine.rig.log"
	awk -f "$VSNIX_ROOT/scripts/rig/report.awk" \
		-v consolelog="$RIG_DIR/$machine.console.log" \
		-v machine="$machine" -v status="$status" -v checks="$checks" \
		-v tests="$RIG_DIR/$machine.tests" -v first="${VSNIX_RIG_FIRST:-1}" \
		-v counts="$RIG_DIR/$machine.counts" -v kunit="${RIG_KUNIT:-0}" \
		-v skipfile="$RIG_DIR/$machine.skips" \
		-v expected="$SELFTESTS/EXPECTED_SKIPS" \
		-v consoleok="$SELFTESTS/EXPECTED_CONSOLE" \
		"$RIG_DIR/$machine.console.log" "$RIG_DIR/$machine.rig.log"
}

# rig_stamp_tests MACHINE: append "SECONDS BEGIN|END name" to
# $RIG_DIR/MACHINE.times for each test start and end the rig log has
# shown since the last call (complete lines only): the host's wall time
# per test, which the guest's clock cannot give on Bochs (it counts
# instructions). Called about once a second while the emulator runs.
rig_stamp_tests() {
	local times=$RIG_DIR/$1.times riglog=$RIG_DIR/$1.rig.log done_n

	[ -f "$times" ] || : >"$times"
	[ -s "$riglog" ] || return 0
	done_n=$(wc -l <"$times")
	# A last line without its newline is still being written.
	if [ -z "$(tail -c1 "$riglog")" ]; then cat "$riglog"; else sed '$d' "$riglog"; fi |
		tr -d '\r' | sed -n '/^@@VSNIX-TEST-BEGIN /{s/^@@VSNIX-TEST-BEGIN \([^ ]*\).*/BEGIN \1/p;}
		/^@@VSNIX-TEST /{s/^@@VSNIX-TEST \([^ ]*\) .*/END \1/p;}' |
		tail -n +"$((done_n + 1))" | sed "s/^/$SECONDS /" >>"$times"
}

# rig_time_report MACHINE: the slowest tests by the host's wall time, and
# the one that was running when the machine stopped, as TAP comments.
rig_time_report() {
	local times=$RIG_DIR/$1.times

	[ -s "$times" ] || return 0
	awk -v m="$1" -v now="$SECONDS" '
		$2 == "BEGIN" { start[$3] = $1; cur = $3; next }
		$2 == "END" && ($3 in start) { took[$3] = $1 - start[$3]; cur = "" }
		END {
			if (cur != "")
				printf "# %s: %s was running when the machine stopped (for %d s of wall time)\n",
					m, cur, now - start[cur]
			n = 0
			for (t in took)
				n++
			if (!n)
				exit
			line = ""
			for (i = 0; i < 10 && n > 0; i++) {
				best = ""
				for (t in took)
					if (best == "" || took[t] > took[best])
						best = t
				line = line (line == "" ? "" : ", ") best " " took[best]
				delete took[best]
				n--
			}
			printf "# %s: slowest tests (wall s): %s\n", m, line
		}' "$times"
}

# rig_summary: the final line, for a runner used on its own.
rig_summary() {
	local pass fail skip next

	read -r pass fail skip next <"$RIG_DIR/$1.counts"
	if [ "$skip" -gt 0 ]; then
		echo "$pass passed, $fail failed, $skip skipped"
	else
		echo "$pass passed, $fail failed"
	fi
	[ "$fail" -eq 0 ]
}

# rig_lock MACHINE: one run per machine and tree at a time (they share the
# files under build/rig/); a second run waits for the first.
rig_lock() {
	exec 8>"$RIG_DIR/$1.lock"
	if ! flock -n 8; then
		note "$1: another run of this machine in this tree: waiting for it"
		flock 8
	fi
}

# rig_host_tsc_khz: this host's TSC rate in kHz as its kernel found it
# (dmesg: "tsc: Detected N.NNN MHz", or a later "Refined TSC clocksource
# calibration"), where the TSC is constant-rate; nothing when unknown.
# QEMU's TCG gives its CPUs the host's own TSC, but the rig kernel, under a
# loaded host, once calibrated it 57 times too slow ("tsc: PIT calibration
# deviates from HPET: 36609 2095888", "Using PIT calibration value"), and
# vsnix tells its guests the rig kernel's rate (CPUID 0x40000010).
rig_host_tsc_khz() {
	grep -qw constant_tsc /proc/cpuinfo || return 0
	dmesg 2>/dev/null |
		sed -n 's/.*tsc: \(Detected\|Refined TSC clocksource calibration:\) \([0-9]*\)\.\([0-9][0-9][0-9]\) MHz.*/\2\3/p' |
		tail -n 1 || true
}

# rig_timeout TESTS BOOT_SECONDS CAP: the whole machine's time limit: boot
# plus every test's limit, but at most CAP seconds, so that one hung machine
# cannot hold CI for hours.
rig_timeout() {
	local sum=$2 cap=$3 limit

	for limit in $(printf '%s\n' "$1" | awk '{ print $2 }'); do
		sum=$((sum + limit))
	done
	[ "$sum" -le "$cap" ] || sum=$cap
	echo "$sum"
}

# rig_build_module MACHINE KDIR DEST: build vsnix.ko (and, where KDIR has
# KUnit, vsnix_kunit.ko) against KDIR in DEST, a copy of the module sources:
# building them in place for this kernel would overwrite the objects built
# for the stock one. The log is $RIG_DIR/MACHINE.build.log. modpost's
# *.mod.c of the in-tree build stay out: 6.1's carries a vermagic that 6.12
# (module-common.c) would add a second time.
rig_build_module() {
	local machine=$1 kdir=$2 src=$3

	mkdir -p "$src"
	(cd "$VSNIX_ROOT" && find Kbuild kmod uapi -type f ! -name '*.mod.c' \
		\( -name '*.[chS]' -o -name Kbuild -o -name Makefile -o -name '*.lds' \) -print0 |
		cpio -0pdmu --quiet "$src")
	note "$machine: building vsnix.ko against $kdir"
	make -C "$kdir" M="$src" -j"$(nproc)" modules >"$RIG_DIR/$machine.build.log" 2>&1 || {
		tail -n 30 "$RIG_DIR/$machine.build.log" >&2
		die "module build against $kdir failed, see $RIG_DIR/$machine.build.log"
	}
}
