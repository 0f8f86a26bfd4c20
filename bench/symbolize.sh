#!/bin/sh
# SPDX-License-Identifier: MIT
# Symbolization at scale: `heapcycle report` on a snapshot whose leaks come
# from 2^17 = 131,072 distinct stacks (bench/stacks.c), in text and JSON.
# Usage: symbolize.sh BUILDDIR [BITS]. Prints the time and peak memory of
# each report; a measurement, not a test.
set -eu
build=$(cd "$1" && pwd)
bits=${2:-17}
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hc-symbolize.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
hc=$build/tools/heapcycle
export HEAPCYCLE_PRELOAD="$build/preload/.libs/libheapcycle.so"
${CC:-cc} -g -O2 "$src/stacks.c" -o "$tmp/stacks"
${CC:-cc} -O2 "$src/runner.c" -o "$tmp/runner"
"$hc" run -o "$tmp/s.%p.hcs" -- "$tmp/stacks" "$bits" >/dev/null 2>&1 || true
snap=$(ls "$tmp"/s.*.hcs | head -n1)
for fmt in text json; do
	line=$("$tmp/runner" -o /dev/null -e "$tmp/err" "$hc" report --format "$fmt" "$snap")
	set -- $line
	printf 'symbolize %s: %d distinct stacks, %s s, peak %s KiB\n' "$fmt" $((1 << bits)) "$1" "$2"
done
