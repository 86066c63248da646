#!/usr/bin/awk -f
# SPDX-License-Identifier: GPL-2.0
# Summarises trace-in-rig.sh's "bench: run KIND ROUND REP MIN_PS MED_PS"
# lines (see trace-bench.sh), the fastest batch (-v col=med: the median
# batch) of each run: per kind the median and interquartile range
# of the runs; the ratios off/notrace and on/notrace of the
# runs of one round and rep (a few runs apart), and the noise floor: the
# ratio of a kind's second run in a round to its first (A against A,
# three runs apart); and the same ratios for each kind's lowest run.
function sortv(v, n,   i, j, x) {
	for (i = 2; i <= n; i++) {
		x = v[i]
		for (j = i; j > 1 && v[j - 1] > x; j--)
			v[j] = v[j - 1]
		v[j] = x
	}
}
# The p-quantile of sorted v[1..n], linearly interpolated.
function q(v, n, p,   h, l) {
	h = 1 + p * (n - 1)
	l = int(h)
	return l >= n ? v[n] : v[l] + (h - l) * (v[l + 1] - v[l])
}
# "median [q1 .. q3] (n=N, median's 95% CI lo .. hi)" of the values in
# the string s. The confidence interval is distribution-free: the order
# statistics n/2 -+ 0.98 sqrt(n) (the binomial's normal approximation).
function summary(s, fmt,   v, n, lo, hi, ci) {
	n = split(s, v, " ")
	if (!n)
		return "none"
	sortv(v, n)
	lo = int(n / 2 - 0.98 * sqrt(n))
	hi = int(n / 2 + 0.98 * sqrt(n) + 1) + 1
	ci = ""
	if (lo >= 1 && hi <= n)
		ci = sprintf(", median's 95%% CI " fmt " .. " fmt, v[lo], v[hi])
	return sprintf(fmt " [" fmt " .. " fmt "] (n=%d%s)",
		       q(v, n, .5), q(v, n, .25), q(v, n, .75), n, ci)
}
BEGIN {
	if (col == "med") {
		c = 7
		what = "median batch"
	} else {
		c = 6
		what = "fastest batch"
	}
}
$1 == "bench:" && $2 == "run" && $c ~ /^[0-9]+$/ {
	t[$3, $4, $5] = $c
	if (!(($3, $5) in lo) || $c < lo[$3, $5])
		lo[$3, $5] = $c
	all[$3] = all[$3] " " $c / 1000
	rounds[$4] = 1
}
END {
	for (k in all)
		printf "bench: %-7s ns per hypercall, %s: median %s\n",
		       k, what, summary(all[k], "%.1f")
	for (key in t) {
		split(key, f, SUBSEP)
		if (f[1] != "notrace")
			continue
		r = f[2]
		i = f[3]
		if (("off", r, i) in t)
			off = off " " t["off", r, i] / t[key]
		if (("on", r, i) in t)
			on = on " " t["on", r, i] / t[key]
		if (i == 0 && ("notrace", r, 1) in t)
			aa = aa " " t["notrace", r, 1] / t[key]
		if (i == 0 && ("off", r, 0) in t && ("off", r, 1) in t)
			aa = aa " " t["off", r, 1] / t["off", r, 0]
	}
	printf "bench: ratio off/notrace (same rep): median %s\n", summary(off, "%.4f")
	printf "bench: ratio on/notrace (same rep):  median %s\n", summary(on, "%.4f")
	printf "bench: noise floor A/A (rep 1 / rep 0, notrace and off): median %s\n",
	       summary(aa, "%.4f")
	# The lowest run of each kind: the host only ever adds time.
	for (k in all)
		low[k] = lo[k, 0] < lo[k, 1] ? lo[k, 0] : lo[k, 1]
	if (low["notrace"] && lo["notrace", 0] && lo["off", 0])
		printf "bench: lowest run: off/notrace %.4f, on/notrace %.4f; A/A (lowest of rep 1 / of rep 0): notrace %.4f, off %.4f\n",
		       low["off"] / low["notrace"], low["on"] / low["notrace"],
		       lo["notrace", 1] / lo["notrace", 0], lo["off", 1] / lo["off", 0]
}
