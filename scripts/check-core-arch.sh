#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kmod/core stays arch-neutral: it reaches arch code through core/arch.h
# only (Documentation/design.rst, "The layers"). Fails when a core file
# includes a header of kmod/arch other than through core/arch.h, or calls
# the x86 layer, the LAPIC or a vendor backend directly.
#
#   scripts/check-core-arch.sh [DIR]   check DIR (default: kmod/core)
#   scripts/check-core-arch.sh --self-test   the check catches a violation
set -eu

# Calls into the x86 layer, the LAPIC, or a vendor; the vendor table.
calls='\b(vsnix_x86|vsnix_lapic|vsnix_svm|vsnix_vmx|svm|vmx)_[a-z0-9_]*[[:space:]]*\('
table='\bvsnix_ops\b|\bstruct[[:space:]]+vsnix_arch_ops\b'

check() {
	dir=$1
	bad=0
	for f in "$dir"/*.c "$dir"/*.h; do
		[ -e "$f" ] || continue
		name=${f##*/}
		if [ "$name" != arch.h ] &&
		   grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"][^>"]*arch/' "$f"; then
			echo "$f: includes an arch header; include \"arch.h\" instead" >&2
			bad=1
		fi
		# Comments out, so that prose may name what it likes.
		if perl -0777 -pe 's{/\*.*?\*/}{}gs; s{//[^\n]*}{}g' "$f" |
		   grep -nE "$calls|$table"; then
			echo "$f: uses arch code directly; add a vsnix_arch_* function to core/arch.h (implemented in kmod/arch/x86/arch.c)" >&2
			bad=1
		fi
	done
	return $bad
}

self_test() {
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	printf '#include "arch.h"\n/* vsnix_x86_foo() in a comment is fine */\nint f(void) { return 0; }\n' >"$tmp/ok.c"
	check "$tmp" >/dev/null 2>&1 || { echo "check-core-arch: self-test: clean file refused" >&2; exit 1; }
	for bad in '#include "../arch/x86/x86.h"' 'int g(void) { return vsnix_x86_foo(1); }' \
		   'int h(void) { return vsnix_lapic_bar (); }' 'int i(void) { return vsnix_ops->vendor; }' \
		   'int j(void) { return svm_hook(); }'; do
		printf '%s\n' "$bad" >"$tmp/bad.c"
		if check "$tmp" >/dev/null 2>&1; then
			echo "check-core-arch: self-test: not caught: $bad" >&2
			exit 1
		fi
	done
	echo "check-core-arch: self-test ok"
}

if [ "${1:-}" = --self-test ]; then
	self_test
	exit 0
fi
dir=${1:-kmod/core}
if ! check "$dir"; then
	echo "check-core-arch: $dir must reach arch code through $dir/arch.h only" >&2
	exit 1
fi
echo "check-core-arch: $dir ok"
