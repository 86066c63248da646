# SPDX-License-Identifier: GPL-2.0
# Fold one machine's logs into TAP lines, "ok N <machine>: <what>".
# Input files: the console log (named by consolelog), then the rig log.
# Variables: machine, status ("ok" or why the emulator stopped), checks
# (rig checks that must be present), tests (file of "name timeout" that
# ran), skipfile ("name reason" not run here), first (number of the first
# line), counts (file to write "pass fail skip next" to), kunit (1: expect a
# KUnit section), expected (selftests/EXPECTED_SKIPS: the skips allowed on
# each machine; any other skip is a failure), consoleok
# (selftests/EXPECTED_CONSOLE: console lines a test provokes on purpose).

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

# The position of the first "#" not escaped by a backslash, or 0.
function first_hash(text,   i, c) {
	for (i = 1; i <= length(text); i++) {
		c = substr(text, i, 1)
		if (c == "\\")
			i++
		else if (c == "#")
			return i
	}
	return 0
}

# A TAP result line: kind (pass/fail/skip) into tap_kind, text into tap_desc,
# a skip's reason into tap_why. Only a directive counts as a skip: "ok N
# desc # SKIP why", the first unescaped "#" after the description (TAP 13);
# "SKIP" elsewhere in the text is text. "not ok ... # SKIP" stays a failure.
function parse_tap(line,   h, dir) {
	tap_kind = (line ~ /^not ok/) ? "fail" : "pass"
	sub(/^(not )?ok( [0-9]+)? *(- )?/, "", line)
	tap_desc = line
	tap_why = ""
	h = first_hash(line)
	if (!h || tap_kind != "pass")
		return
	dir = substr(line, h + 1)
	sub(/^[ \t]+/, "", dir)
	if (dir !~ /^[Ss][Kk][Ii][Pp]([ \t:]|$)/)
		return
	tap_kind = "skip"
	tap_desc = substr(line, 1, h - 1)
	sub(/[ \t]+$/, "", tap_desc)
	tap_why = substr(dir, 5)
	sub(/^[ \t:]+/, "", tap_why)
	if (tap_why == "")
		tap_why = "no reason given"
}

# "svm", "svm,vmx" or "*" names this machine?
function on_machine(field) {
	return field == "*" || index("," field ",", "," machine ",") > 0
}

# The EXPECTED_SKIPS entry that allows skipping test's desc here, or 0.
function expected_skip(test, desc,   i) {
	for (i = 1; i <= nexp; i++) {
		if (exp_test[i] != test || exp_norun[i])
			continue
		if (exp_pat[i] != "" && desc !~ exp_pat[i])
			continue
		exp_used[i] = 1
		return i
	}
	return 0
}

# A skip: counted as one if selftests/EXPECTED_SKIPS expects it on this
# machine, else a failure (a feature that must work here went missing).
function emit_skip(test, desc, why,   label) {
	label = (desc == "") ? test : test ": " desc
	if (expected_skip(test, desc))
		emit("skip", label " # SKIP " why)
	else
		emit("fail", label ": skipped (" why "), but selftests/EXPECTED_SKIPS " \
		     "does not expect this skip on " machine)
}

# Is a console line during test one that selftests/EXPECTED_CONSOLE allows?
function console_allowed(test, text,   i) {
	for (i = 1; i <= nallow; i++)
		if (allow_test[i] == test && text ~ allow_pat[i])
			return 1
	return 0
}

# Kernel trouble on the console. Level and facility come from the syslog
# prefix (console_msg_format=syslog): an error or worse from vsnix.ko
# (pr_err, "vsnix: ..."), or anything critical from the kernel, is trouble
# too. Boot banners of the debug options and CPU-bug advisories are not.
function console_trouble(text, lvl, fac) {
	if (text ~ /^@@VSNIX-/)
		return 0
	if (text ~ /kmemleak: (Kernel memory leak detector|Automatic memory scanning)/ ||
	    text ~ /RCU lockdep checking is enabled/ ||
	    text ~ /(RETBleed|Speculative Return Stack Overflow): WARNING:/)
		return 0
	if (text ~ /BUG:|WARNING:|Oops|general protection|KASAN|kmemleak|lockdep/ ||
	    text ~ /kernel BUG at|invalid opcode:|^BUG [^ ]+ \(|UBSAN:|Kernel panic/ ||
	    text ~ /rcu: INFO: .*stall|self-detected stall|hard LOCKUP/ ||
	    text ~ /INFO: task .* blocked for more than/)
		return 1
	if (fac == 0 && lvl >= 0 && lvl <= 3 && text ~ /^vsnix: /)
		return 1
	# /init's poweroff -f is an emergency-level "reboot: Power down".
	return fac == 0 && lvl >= 0 && lvl <= 2 && text !~ /^reboot: (Power down|Restarting)/
}

function add_result(test, kind, desc, why) {
	nres[test]++
	ndiag[test, nres[test]] = 0
	res_kind[test, nres[test]] = kind
	res_desc[test, nres[test]] = desc
	res_why[test, nres[test]] = why
	if (kind == "fail")
		nbad[test]++
}

function add_diag(test, j, text,   n) {
	n = ++ndiag[test, j]
	sub(/^# ?/, "", text)
	if (n <= DIAG_MAX)
		res_diag[test, j, n] = substr(text, 1, DIAG_LEN)
}

# Under a failed result: its diagnostics, "# <machine>: <test>: <text>".
function emit_diag(t, j,   k) {
	for (k = 1; k <= ndiag[t, j] && k <= DIAG_MAX; k++)
		print "# " machine ": " t ": " res_diag[t, j, k]
	if (ndiag[t, j] > DIAG_MAX)
		print "# " machine ": " t ": " (ndiag[t, j] - DIAG_MAX) \
		      " more diagnostic lines in build/rig/" machine ".rig.log"
}

# A failed test's vsnix warnings on the console, "# <machine>: <test>:
# console: ...", under its first failure.
function emit_warnings(t,   k) {
	for (k = 1; k <= nwarn[t] && k <= WARN_MAX; k++)
		print "# " machine ": " t ": console: " warn_line[t, k]
	if (nwarn[t] > WARN_MAX)
		print "# " machine ": " t ": console: " (nwarn[t] - WARN_MAX) " more vsnix warnings"
}

function is_timeout(rc) {
	return rc == 124 || rc == 137 || rc == 143
}

BEGIN {
	DIAG_MAX = 40
	DIAG_LEN = 400
	WARN_MAX = 5
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
	# "<machines> <test> [/ERE/|norun] <reason>"; '#' starts a comment.
	nexp = 0
	while ((getline l < expected) > 0) {
		if (l ~ /^[ \t]*(#|$)/)
			continue
		split(l, f, " ")
		if (!on_machine(f[1]))
			continue
		rest = l
		sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]*/, "", rest)
		exp_test[++nexp] = f[2]
		exp_pat[nexp] = ""
		exp_norun[nexp] = 0
		if (rest ~ /^\/[^\/]*\/([ \t]|$)/) {
			exp_pat[nexp] = substr(rest, 2, index(substr(rest, 2), "/") - 1)
			rest = substr(rest, length(exp_pat[nexp]) + 3)
		} else if (rest ~ /^norun([ \t]|$)/) {
			exp_norun[nexp] = 1
			rest = substr(rest, 6)
		}
		sub(/^[ \t]+/, "", rest)
		exp_why[nexp] = rest
	}
	# "<machines> <test> <ERE>"
	nallow = 0
	while ((getline l < consoleok) > 0) {
		if (l ~ /^[ \t]*(#|$)/)
			continue
		split(l, f, " ")
		if (!on_machine(f[1]))
			continue
		rest = l
		sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]*/, "", rest)
		allow_test[++nallow] = f[2]
		allow_pat[nallow] = rest
	}
	ctest = ""
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
	lvl = fac = -1
	if (match($0, /^<[0-9]+>/)) {
		pri = substr($0, 2, RLENGTH - 2) + 0
		lvl = pri % 8
		fac = int(pri / 8)
		$0 = substr($0, RLENGTH + 1)
	}
	sub(/^\[ *[0-9]+\.[0-9]+\] /, "")
	line = $0
}

FILENAME == consolelog && /^@@VSNIX-RIG start/ { started = 1; next }
FILENAME == consolelog && /^@@VSNIX-TEST-BEGIN / { ctest = $2; next }
FILENAME == consolelog && /^@@VSNIX-TEST-END / { ctest = ""; next }

FILENAME == consolelog && console_trouble(line, lvl, fac) {
	# Before /init runs, trouble is the stock kernel's with the emulated
	# CPU (e.g. Bochs's XSAVE model), not vSnix's: noted, not failed.
	if (!started)
		boot_note[++nboot] = "line " FNR ": " line
	else if (ctest != "" && console_allowed(ctest, line))
		allowed_note[++nallowed] = ctest ": line " FNR ": " line
	else if (nissues < 5)
		issue[++nissues] = "line " FNR ": " (ctest != "" ? "(during " ctest ") " : "") line
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
		kunit_desc[nkunit] = suite ": " tap_desc (tap_kind == "skip" ? " # SKIP " tap_why : "")
		suite_cases++
	} else if (line ~ /^(not )?ok [0-9]+/ && suite_cases == 0) {
		parse_tap(line)
		kunit_kind[++nkunit] = tap_kind
		kunit_desc[nkunit] = tap_desc " (suite result, no cases)" \
				     (tap_kind == "skip" ? " # SKIP " tap_why : "")
	}
	next
}

# vsnix's warnings while a test ran (not trouble by themselves): shown
# under the test if it failed, e.g. the SVM backend's lost-state fault.
FILENAME == consolelog && ctest != "" && fac == 0 && lvl >= 0 && lvl <= 4 &&
    line ~ /^vsnix: / {
	if (++nwarn[ctest] <= WARN_MAX)
		warn_line[ctest, nwarn[ctest]] = "line " FNR ": " substr(line, 1, DIAG_LEN)
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
# guest-init.sh runs a test again after an emulator fault: the first run's
# results are dropped, the reason is shown.
/^@@VSNIX-TEST-RETRY / {
	cur = $2; nres[cur] = 0; nbad[cur] = 0; plan[cur] = -1
	delete skipall_why[cur]
	retry_why[cur] = substr(line, length("@@VSNIX-TEST-RETRY " cur " ") + 1)
	next
}
/^@@VSNIX-PAGES / { pages_after[$2] = $3; pages_base[$2] = $4; next }

cur != "" && /^1\.\.[0-9]+/ {
	plan[cur] = substr(line, 4) + 0
	# "1..0 # SKIP why": the whole test skipped.
	if (plan[cur] == 0 && match(line, /#[ \t]*[Ss][Kk][Ii][Pp]/)) {
		why = substr(line, RSTART + RLENGTH)
		sub(/^[ \t:]+/, "", why)
		skipall_why[cur] = (why == "") ? "no reason given" : why
	}
	next
}
# The test number is optional in TAP ("not ok - why").
cur != "" && /^(not )?ok( [0-9]+)?( |$)/ {
	parse_tap(line)
	add_result(cur, tap_kind, tap_desc, tap_why)
	next
}
# A failed result's diagnostics (rg_diag: exit code, vsnixctl's stderr,
# its stdout): the report shows the first DIAG_MAX lines under it, so that
# a log that keeps only the report still says why.
cur != "" && nres[cur] && res_kind[cur, nres[cur]] == "fail" && /^#/ {
	add_diag(cur, nres[cur], line)
	next
}

function emit_check(c) {
	if (c in check_kind && check_kind[c] == "skip")
		emit_skip("rig:" c, "", check_why[c])
	else if (c in check_kind)
		emit(check_kind[c], "rig: " c ": " check_why[c])
	else
		emit("fail", "rig: " c ": no result")
}

# One test's lines: its results, then what the rig found wrong with it.
function emit_test(t,   j, r, why, warned) {
	if (!(t in begun)) {
		emit("fail", t ": no result (the machine stopped before it ran)")
		return
	}
	if (t in retry_why)
		print "# " machine ": " t ": ran a second time, its first run's results dropped: " retry_why[t]
	for (j = 1; j <= nres[t]; j++) {
		if (res_kind[t, j] == "skip")
			emit_skip(t, res_desc[t, j], res_why[t, j])
		else
			emit(res_kind[t, j], t ": " res_desc[t, j])
		if (res_kind[t, j] == "fail" && !warned++)
			emit_warnings(t)
		if (res_kind[t, j] == "fail")
			emit_diag(t, j)
	}
	if (!(t in done)) {
		emit("fail", t ": did not finish (machine stopped or hung)")
		if (!warned)
			emit_warnings(t)
		return
	}
	r = rc[t] + 0
	if (r == 200) {
		emit("fail", t ": still running 30 s after SIGKILL at its limit of " limit[t] \
		     " s: stuck in the kernel (the console has the blocked tasks)")
	} else if (is_timeout(r)) {
		emit("fail", t ": killed after its time limit of " limit[t] " s")
	} else if (r == 127 && nres[t] == 0) {
		emit("fail", t ": not in the initramfs (selftests/build/" t " not built?)")
	} else if (nres[t] == 0) {
		why = "exit code " r " with no reason (no \"1..0 # SKIP why\" line)"
		if (t in skipall_why)
			why = skipall_why[t]
		if (r == 4 || (r == 0 && plan[t] == 0))
			emit_skip(t, "", why)
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
	if (!warned && r != 0 && r != 4)
		emit_warnings(t)
	if ((t in pages_after) && pages_after[t] != "-" && pages_base[t] != "-" &&
	    pages_after[t] != pages_base[t])
		emit("fail", t ": vsnix holds " pages_after[t] " page(s) after it, " \
		     pages_base[t] " after insmod: " (pages_after[t] - pages_base[t]) \
		     " page(s) leaked (kmemleak cannot see these)")
}

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

	# Checks up to the first post-test one ("pages") come before the tests.
	for (i = 1; i <= nchecks && want_check[i] != "pages" && want_check[i] != "rmmod"; i++)
		emit_check(want_check[i])
	first_post_check = i

	for (i = 1; i <= nskiplist; i++)
		emit("skip", skiplist[i] " # SKIP not run on " machine ": " skipwhy[skiplist[i]])

	for (i = 1; i <= ntests; i++)
		emit_test(order[i])

	for (i = first_post_check; i <= nchecks; i++)
		emit_check(want_check[i])

	# An expected skip that did not happen: the list is out of date.
	for (i = 1; i <= nexp; i++)
		if (!exp_used[i] && !exp_norun[i] && (exp_test[i] in done || exp_test[i] ~ /^rig:/))
			print "# " machine ": " exp_test[i] (exp_pat[i] != "" ? " /" exp_pat[i] "/" : "") \
			      ": expected skip did not happen (selftests/EXPECTED_SKIPS out of date?)"

	for (i = 1; i <= nboot && i <= 3; i++)
		print "# " machine ": boot (before /init, not counted): " boot_note[i]
	for (i = 1; i <= nallowed && i <= 10; i++)
		print "# " machine ": expected console line (selftests/EXPECTED_CONSOLE): " allowed_note[i]
	if (nissues == 0) {
		emit("pass", "console: no BUG/WARNING/Oops/KASAN/kmemleak/lockdep/stall/hung task/vsnix error")
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
