#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the libFuzzer harnesses (fuzz/fuzz_*.c) into a directory outside
# the source tree, straight from the core sources each one needs, with
# clang's -fsanitize=fuzzer,address,undefined. It does not use the automake
# build: it writes the small config.h the core expects (-include config.h,
# as Makefile.am's AM_CPPFLAGS does) and the same warning flags configure
# uses. A missing clang, fuzzer runtime or library is an error, never a skip.
#
# Usage: fuzz/build.sh [BUILDDIR]   (default: ${TMPDIR:-/tmp}/heapcycle-fuzz)
# Environment: CC (default clang), FUZZ_CFLAGS (added to the flags).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-${TMPDIR:-/tmp}/heapcycle-fuzz}
cc=${CC:-clang}

die() { echo "fuzz/build.sh: $*" >&2; exit 1; }

command -v "$cc" >/dev/null 2>&1 ||
	die "$cc not found (Debian: apt-get install clang libclang-rt-14-dev)"
command -v pkg-config >/dev/null 2>&1 || die "pkg-config not found"
pkg-config --exists libdw ||
	die "libdw not found by pkg-config (Debian: apt-get install libdw-dev)"
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ "$out" != "$src/fuzz" ] && [ "$out" != "$src" ] ||
	die "build directory $out would mix with the sources"

# What configure would put in config.h for these sources: only the feature
# macros matter to them (strnlen, memmem, dl_iterate_phdr need _GNU_SOURCE).
version=$(sed -n 's/^AC_INIT(\[heapcycle\], \[\([^]]*\)\].*/\1/p' "$src/configure.ac")
cat >"$out/config.h.tmp" <<EOC
/* Written by fuzz/build.sh for the fuzz harnesses. */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif
#define PACKAGE "heapcycle"
#define PACKAGE_NAME "heapcycle"
#define PACKAGE_VERSION "${version:-0}"
#define VERSION "${version:-0}"
EOC
if cmp -s "$out/config.h.tmp" "$out/config.h" 2>/dev/null; then
	rm -f "$out/config.h.tmp"
else
	mv "$out/config.h.tmp" "$out/config.h"
fi

# configure.ac's HC_WARN_CFLAGS with -Werror: the harnesses are held to the
# same standard as the code they drive.
warn="-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter -Werror"
cflags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $warn"
cppflags="-include $out/config.h -I$out -I$src/include -I$src/src $(pkg-config --cflags libdw)"

# The core sources behind each harness (what the functions it calls need).
core_common="error.c mem.c"
srcs_snapshot="$core_common crc32.c snapshot_read.c graph.c collect.c scc.c classify.c
	symbolize.c report.c report_text.c report_json.c report_sarif.c report_junit.c
	report_vgxml.c report_dot.c report_html.c suppress.c baseline.c file.c refhistory.c"
libs_snapshot="$(pkg-config --libs libdw) -lelf -ldl -lstdc++"
srcs_options="$core_common options.c"
libs_options=""
# suppress.c reaches the symbolizer and the analysis types: the same set.
srcs_suppress=$srcs_snapshot
libs_suppress=$libs_snapshot

harnesses="snapshot options suppress"

for h in $harnesses; do
	eval "srcs=\$srcs_$h; libs=\$libs_$h"
	files="$src/fuzz/fuzz_$h.c"
	for f in $srcs; do
		files="$files $src/src/$f"
	done
	# One clang call per harness: a handful of small files, and no
	# object from another flag set can leak in.
	# shellcheck disable=SC2086
	"$cc" $cppflags $cflags ${FUZZ_CFLAGS:-} -o "$out/fuzz_$h.new" $files $libs ||
		die "building fuzz_$h failed"
	mv "$out/fuzz_$h.new" "$out/fuzz_$h"
	echo "built $out/fuzz_$h"
done
echo "$harnesses" >"$out/harnesses"
