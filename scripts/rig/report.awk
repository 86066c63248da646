# SPDX-License-Identifier: GPL-2.0
# Fold one machine's logs into TAP lines, "ok N <machine>: <what>".
# Input files: the console log (named by consolelog), then the rig log.
# Variables: machine, status ("ok" or why the emulator stopped), checks
# (rig checks that must be present), tests (file of "name timeout" that
# ran), skipfile ("name reason" not run here), first (number of the first
# line), counts (file to write "pass fail skip next" to), kunit (1: expect a
# KUnit section).

function emit(kind, desc) {
	if (kind == "pass") {
		print "ok " num " " machine ": " desc
		npass++
	} else if (kind == "skip") {
		print "ok " num " " machine ": " desc
		nskip++
	} else {
		print "not ok " num " " machine ": " desc
		nfail++
	}
	num++
}

# A TAP result line: kind (pass/fail/skip) into tap_kind, text into tap_desc.
function parse_tap(line) {
	tap_kind = (line ~ /^not ok/) ? "fail" : "pass"
	sub(/^(not )?ok [0-9]+ *(- )?/, "", line)
	if (line ~ /# *[Ss][Kk][Ii][Pp]/)
		tap_kind = "skip"
	tap_desc = line
}

function add_result(test, kind, desc) {
	nres[test]++
	res_kind[test, nres[test]] = kind
	res_desc[test, nres[test]] = desc
	if (kind == "fail")
		nbad[test]++
}

function is_timeout(rc) {
	return rc == 124 || rc == 137 || rc == 143
}

BEGIN {
	num = first + 0
	nchecks = split(checks, want_check, " ")
	ntests = 0
	while ((getline l < tests) > 0) {
		split(l, f, " ")
		if (f[1] == "")
			continue
		order[++ntests] = f[1]
		limit[f[1]] = f[2]
	}
	nskiplist = 0
	while ((getline l < skipfile) > 0) {
		name = l
		sub(/ .*/, "", name)
		if (name == "")
			continue
		reason = l
		sub(/^[^ ]* */, "", reason)
		skiplist[++nskiplist] = name
		skipwhy[name] = reason
	}
	cur = ""
	in_kunit = 0
	nissues = 0
	nkunit = 0
}

# Two inputs: the kernel console (ttyS0: printk, KUnit's KTAP, /init's
# kmsg markers) and the rig's own channel (ttyS1: markers and the tests'
# TAP, never split by kernel messages).
FILENAME == consolelog {
	sub(/\r$/, "")
	sub(/^\[ *[0-9]+\.[0-9]+\] /, "")
	line = $0
}

FILENAME == consolelog && /^@@VSNIX-RIG start/ { started = 1; next }

# Kernel trouble on the console (boot banners of the debug options and
# CPU-bug advisories are not trouble).
FILENAME == consolelog && line !~ /^@@VSNIX-/ &&
line ~ /BUG:|WARNING:|Oops|general protection|KASAN|kmemleak|lockdep/ &&
line !~ /kmemleak: (Kernel memory leak detector|Automatic memory scanning)/ &&
line !~ /RCU lockdep checking is enabled/ &&
line !~ /(RETBleed|Speculative Return Stack Overflow): WARNING:/ {
	# Before /init runs, trouble is the stock kernel's with the emulated
	# CPU (e.g. Bochs's XSAVE model), not vSnix's: noted, not failed.
	if (!started)
		boot_note[++nboot] = "line " FNR ": " line
	else if (nissues < 5)
		issue[++nissues] = "line " FNR ": " line
	else
		nissues++
	next
}

FILENAME == consolelog && /^@@VSNIX-KUNIT-BEGIN/ { in_kunit = 1; kunit_begun = 1; next }
FILENAME == consolelog && /^@@VSNIX-KUNIT-END/ { in_kunit = 0; kunit_ended = 1; next }
FILENAME == consolelog && /^@@VSNIX-KUNIT-INSMOD-FAILED/ { kunit_insmod_failed = 1; next }
FILENAME == consolelog && /^@@VSNIX-KUNIT-RMMOD-FAILED/ { kunit_rmmod_failed = 1; next }

FILENAME == consolelog && in_kunit {
	# KTAP: suites at indent 0, cases at 4.
	if (line ~ /^    # Subtest: /) {
		suite = line
		sub(/^    # Subtest: /, "", suite)
		suite_cases = 0
	} else if (line ~ /^    (not )?ok [0-9]+/) {
		sub(/^    /, "", line)
		parse_tap(line)
		kunit_kind[++nkunit] = tap_kind
		kunit_desc[nkunit] = suite ": " tap_desc
		suite_cases++
	} else if (line ~ /^(not )?ok [0-9]+/ && suite_cases == 0) {
		parse_tap(line)
		kunit_kind[++nkunit] = tap_kind
		kunit_desc[nkunit] = tap_desc " (suite result, no cases)"
	}
	next
}

FILENAME == consolelog { next }

# The rig channel.
{
	sub(/\r$/, "")
	line = $0
}

/^@@VSNIX-RIG start/ { init_started = 1; next }
/^@@VSNIX-RIG end/ { ended = 1; next }

/^@@VSNIX-CHECK / {
	what = line
	sub(/^@@VSNIX-CHECK [^ ]+ [^ ]+ ?/, "", what)
	check_kind[$2] = ($3 == "ok") ? "pass" : ($3 == "skip") ? "skip" : "fail"
	check_why[$2] = what
	next
}

/^@@VSNIX-TEST-BEGIN / { cur = $2; begun[cur] = 1; nres[cur] = 0; plan[cur] = -1; next }
/^@@VSNIX-TEST / { rc[$2] = $3; done[$2] = 1; cur = ""; next }

cur != "" && /^1\.\.[0-9]+/ { plan[cur] = substr(line, 4) + 0; next }
cur != "" && /^(not )?ok [0-9]+/ { parse_tap(line); add_result(cur, tap_kind, tap_desc); next }

END {
	if (kunit == 1) {
		for (i = 1; i <= nkunit; i++) {
			m = machine
			machine = "kunit"
			emit(kunit_kind[i], kunit_desc[i])
			machine = m
		}
		m = machine
		machine = "kunit"
		if (!kunit_begun)
			emit("fail", "vsnix_kunit.ko: never ran (machine stopped before it)")
		else if (kunit_insmod_failed)
			emit("fail", "vsnix_kunit.ko: insmod failed")
		else if (!kunit_ended)
			emit("fail", "vsnix_kunit.ko: did not finish")
		else if (nkunit == 0)
			emit("fail", "vsnix_kunit.ko: printed no KTAP results")
		if (kunit_rmmod_failed)
			emit("fail", "vsnix_kunit.ko: rmmod failed")
		machine = m
	}

	for (i = 1; i <= nchecks; i++) {
		c = want_check[i]
		if (c == "rmmod")
			break
		if (c in check_kind && check_kind[c] == "skip")
			emit("skip", "rig: " c " # SKIP " check_why[c])
		else if (c in check_kind)
			emit(check_kind[c], "rig: " c ": " check_why[c])
		else
			emit("fail", "rig: " c ": no result")
	}
	first_post_check = i

	for (i = 1; i <= nskiplist; i++)
		emit("skip", skiplist[i] " # SKIP " skipwhy[skiplist[i]])

	for (i = 1; i <= ntests; i++) {
		t = order[i]
		if (!(t in begun)) {
			emit("fail", t ": no result (the machine stopped before it ran)")
			continue
		}
		for (j = 1; j <= nres[t]; j++)
			emit(res_kind[t, j], t ": " res_desc[t, j])
		if (!(t in done)) {
			emit("fail", t ": did not finish (machine stopped or hung)")
			continue
		}
		r = rc[t] + 0
		if (is_timeout(r)) {
			emit("fail", t ": killed after its time limit of " limit[t] " s")
		} else if (r == 127 && nres[t] == 0) {
			emit("fail", t ": not in the initramfs (selftests/build/" t " not built?)")
		} else if (nres[t] == 0) {
			if (r == 4)
				emit("skip", t " # SKIP exit code 4 without TAP output")
			else if (r == 0)
				emit("fail", t ": exited 0 but printed no TAP result")
			else
				emit("fail", t ": exited " r " with no TAP result")
		} else {
			if (plan[t] > nres[t])
				emit("fail", t ": planned " plan[t] " results, printed " nres[t])
			if (r != 0 && r != 4 && !nbad[t])
				emit("fail", t ": exited " r " though every result was ok")
		}
	}

	for (i = first_post_check; i <= nchecks; i++) {
		c = want_check[i]
		if (c in check_kind && check_kind[c] == "skip")
			emit("skip", "rig: " c " # SKIP " check_why[c])
		else if (c in check_kind)
			emit(check_kind[c], "rig: " c ": " check_why[c])
		else
			emit("fail", "rig: " c ": no result")
	}

	for (i = 1; i <= nboot && i <= 3; i++)
		print "# " machine ": boot (before /init, not counted): " boot_note[i]
	if (nissues == 0) {
		emit("pass", "console: no BUG/WARNING/Oops/KASAN/kmemleak/lockdep report")
	} else {
		for (i = 1; i <= nissues && i <= 5; i++)
			emit("fail", "console: " issue[i])
		if (nissues > 5)
			print "# " machine ": " (nissues - 5) " more console lines not shown"
	}

	if (status != "ok")
		emit("fail", "machine: " status)
	else if (!init_started)
		emit("fail", "machine: the rig's /init never started")
	else if (!ended)
		emit("fail", "machine: stopped before the end of the run")
	else
		emit("pass", "machine: ran to the end and powered off")

	printf "%d %d %d %d\n", npass, nfail, nskip, num > counts
}
