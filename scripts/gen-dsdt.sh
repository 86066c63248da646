#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Compiles libvsnix's DSDT (userspace/lib/acpi/dsdt.asl) with iasl into a C
# header holding the AML: static const unsigned char vx_dsdt_aml[].
#   scripts/gen-dsdt.sh <userspace/lib> <out dir> [host cc]
# Values come from vsnix/pc.h through acpi/dsdt_defs.c. No network: iasl
# is Debian's acpica-tools (scripts/setup-deps.sh installs it).
set -eo pipefail

lib=$1
out=$2
cc=${3:-cc}

if ! command -v iasl >/dev/null; then
	echo "gen-dsdt: iasl not found: run 'make deps' (acpica-tools)" >&2
	exit 1
fi
mkdir -p "$out/dsdt"
tmp=$out/dsdt
$cc -O0 -I"$lib/include" -o "$tmp/dsdt_defs" "$lib/acpi/dsdt_defs.c"
"$tmp/dsdt_defs" > "$tmp/dsdt_defs.h"
# ASL is not C: no standard macros, no system headers, no line markers.
$cc -E -P -undef -nostdinc -x c -I"$tmp" "$lib/acpi/dsdt.asl" > "$tmp/dsdt.dsl"
# -we: a warning fails the build as an error does.
iasl -vs -we -p "$tmp/dsdt" -tc "$tmp/dsdt.dsl" > "$tmp/iasl.log" 2>&1 || {
	cat "$tmp/iasl.log" >&2
	exit 1
}
sed -e 's/^unsigned char dsdt_aml_code\[\]/static const unsigned char vx_dsdt_aml[]/' \
	"$tmp/dsdt.hex" > "$tmp/dsdt_aml.h.new"
grep -q vx_dsdt_aml "$tmp/dsdt_aml.h.new"
mv "$tmp/dsdt_aml.h.new" "$out/dsdt_aml.h"
