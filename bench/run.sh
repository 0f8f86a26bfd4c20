#!/bin/sh
# SPDX-License-Identifier: MIT
# The heapcycle benchmark suite (issue 5). `make bench` runs it as
#   run.sh ABS_TOP_BUILDDIR
# It builds the bench programs into BUILDDIR/bench, runs every workload under
# every variant (interleaved, BENCH_REPEAT times, the variant order rotated
# each repetition), then the scale benchmark, and prints the tables (also
# written as CSV). Measurements, never a pass/fail test: see bench/README.
#
# Environment: BENCH_SCALE (work multiplier, default 1), BENCH_REPEAT
# (default 5), BENCH_QUICK=1 (smoke run: scale 0.05, 1 repetition, small
# scale benchmark), BENCH_VG_DIV (memcheck's input divisor, default 10),
# BENCH_WORKLOADS / BENCH_VARIANTS (space-separated subsets),
# BENCH_SCALE_N (block counts of the scale benchmark, default
# "1000000 10000000"), PYTHON (runs the table printer, default python3),
# BENCH_GEN0=0 (skip the generation-0 benchmark), BENCH_GEN0_SIZES /
# BENCH_GEN0_REPEAT (its configurations and repetitions), BENCH_ONLY=gen0
# (run the generation-0 benchmark alone).
set -u

B=$(cd "${1:-.}" && pwd) || exit 1
SRC=$(cd "$(dirname "$0")" && pwd) || exit 1
HC=$B/tools/heapcycle
SHIM=$B/preload/.libs/libheapcycle.so
PY=${PYTHON:-python3}

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	SCALE=${BENCH_SCALE:-0.05}
	REPEAT=${BENCH_REPEAT:-1}
	SCALE_N=${BENCH_SCALE_N:-100000 1000000}
	SCALE_REPEAT=1
else
	SCALE=${BENCH_SCALE:-1}
	REPEAT=${BENCH_REPEAT:-5}
	SCALE_N=${BENCH_SCALE_N:-1000000 10000000}
	SCALE_REPEAT=${BENCH_SCALE_REPEAT:-3}
fi
# Generation-0 benchmark configurations, OLD:YOUNG[:PLAIN]: young swept
# at 1M old, old swept at 10k young, then 1M untracked blocks added.
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	GEN0_SIZES=${BENCH_GEN0_SIZES:-100000:1000 100000:10000}
	GEN0_REPEAT=${BENCH_GEN0_REPEAT:-3}
else
	GEN0_SIZES=${BENCH_GEN0_SIZES:-1000000:1000 1000000:10000 1000000:100000 100000:10000 2000000:10000 1000000:10000:1000000}
	GEN0_REPEAT=${BENCH_GEN0_REPEAT:-7}
fi
VG_DIV=${BENCH_VG_DIV:-10}
WORKLOADS=${BENCH_WORKLOADS:-micro-1t micro-2t python sqlite gcc perl}
VARIANTS=${BENCH_VARIANTS:-native jemalloc heapcycle heapcycle-nosnap heapcycle-nostacks heapcycle-noscrub heaptrack memcheck lsan}

# Only a full default run replaces the results kept next to the sources
# (bench/results, which the README's table is pasted from): a quick or
# partial run must not pass for one.
KEEP_RESULTS=0
[ "${BENCH_QUICK:-0}" != 1 ] && [ -z "${BENCH_WORKLOADS:-}" ] && [ -z "${BENCH_VARIANTS:-}" ] &&
	[ -z "${BENCH_SCALE:-}" ] && [ -z "${BENCH_REPEAT:-}" ] && KEEP_RESULTS=1

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

[ -x "$HC" ] || die "$HC not found: run make first (or give the build dir)"
[ -f "$SHIM" ] || die "$SHIM not found"
HEAPCYCLE_PRELOAD=$SHIM
export HEAPCYCLE_PRELOAD

OUT=$B/bench
WORK=$OUT/work
RES=$OUT/results
mkdir -p "$WORK" "$RES" || exit 1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hcbench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

# n BASE: BASE * SCALE, rounded, at least 1.
n() { awk -v b="$1" -v s="$SCALE" 'BEGIN { v = int(b * s + 0.5); print (v < 1 ? 1 : v) }'; }
# red N: N / VG_DIV, rounded, at least 1 (memcheck's reduced input).
red() { awk -v b="$1" -v d="$VG_DIV" 'BEGIN { v = int(b / d + 0.5); print (v < 1 ? 1 : v) }'; }

# --- build ------------------------------------------------------------------
# Debian's default flags (dpkg-buildflags): -O2, no frame pointers.
CC=${CC:-gcc}
if command -v dpkg-buildflags >/dev/null 2>&1; then
	DEB_CFLAGS=$(dpkg-buildflags --get CFLAGS)
	DEB_CPPFLAGS=$(dpkg-buildflags --get CPPFLAGS)
	DEB_LDFLAGS=$(dpkg-buildflags --get LDFLAGS)
else
	DEB_CFLAGS="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security"
	DEB_CPPFLAGS="-Wdate-time -D_FORTIFY_SOURCE=2"
	DEB_LDFLAGS="-Wl,-z,relro"
fi
build() { # OUTPUT SOURCE [EXTRA...]
	o=$1 s=$2
	shift 2
	# shellcheck disable=SC2086
	$CC $DEB_CPPFLAGS $DEB_CFLAGS $DEB_LDFLAGS "$@" -o "$o" "$s" ||
		die "cannot build $o"
}

# --- generation-0 collections in a big heap ----------------------------------
# bench/gen0.c under a bare LD_PRELOAD (no exit snapshot: not what is
# measured): one process per configuration, so each starts from a fresh
# heap. It times its own collections and exits non-zero when one did not
# find what it built.
gen0_bench() {
	build "$OUT/gen0" "$SRC/gen0.c" -I"$SRC/../include"
	note "generation-0 benchmark: $GEN0_SIZES (OLD:YOUNG[:PLAIN]), $GEN0_REPEAT repetition(s)"
	gcsv=$RES/gen0.csv
	: >"$gcsv"
	ghead=0
	for cfg in $GEN0_SIZES; do
		# shellcheck disable=SC2046
		set -- $(echo "$cfg" | tr ':' ' ')
		if ! env LD_PRELOAD="$SHIM" HEAPCYCLE_OPTIONS="snapshot_at_exit=0:quiet=1" \
			"$OUT/gen0" -H -r "$GEN0_REPEAT" -p "${3:-0}" "$1" "$2" \
			>"$TMP/gen0.out" 2>"$TMP/gen0.err"; then
			cp "$TMP/gen0.err" "$RES/fail.gen0.$cfg.log"
			note "gen0 $cfg failed; its stderr is in $RES/fail.gen0.$cfg.log"
			continue
		fi
		sed 's/^/  /' "$TMP/gen0.err" >&2
		# Every run prints the header: keep the first.
		if [ "$ghead" = 1 ]; then tail -n +2 "$TMP/gen0.out"; else cat "$TMP/gen0.out"; fi >>"$gcsv"
		ghead=1
	done
	awk -F, -v rep="$GEN0_REPEAT" -v cores="$(nproc 2>/dev/null || echo '?')" '
	NR == 1 { next }
	!title++ {
		printf "heapcycle_collect(0) vs heapcycle_collect(2): median of %d, ms (%s cores)\n\n", rep, cores
		print "| old tracked | young | plain | garbage | gen0 ms | full ms | gen0/full | gen0 ns/young | found gen0/full |"
		print "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	}
	{ printf "| %d | %d | %d | %d | %.3f | %.3f | %.4f | %.1f | %d/%d |\n", $1, $2, $3, $4, $6, $7, $8, $9, $10, $11 }
	' "$gcsv" | tee "$RES/gen0.txt"
	if [ "$KEEP_RESULTS" = 1 ] && [ -z "${BENCH_GEN0_SIZES:-}" ] && [ -z "${BENCH_GEN0_REPEAT:-}" ] &&
		{ [ -w "$SRC/results" ] || mkdir -p "$SRC/results" 2>/dev/null; }; then
		cp "$gcsv" "$RES/gen0.txt" "$SRC/results/" 2>/dev/null
	fi
}
if [ "${BENCH_ONLY:-}" = gen0 ]; then
	gen0_bench
	exit 0
fi

build "$OUT/runner" "$SRC/runner.c"
build "$OUT/microbench" "$SRC/microbench.c" -pthread
build "$OUT/scale" "$SRC/scale.c"
LSAN_BIN=
if command -v clang >/dev/null 2>&1 &&
   clang -O2 -g -fsanitize=leak -pthread -o "$OUT/microbench-lsan" "$SRC/microbench.c" 2>"$TMP/clang.err"; then
	LSAN_BIN=$OUT/microbench-lsan
else
	note "no LeakSanitizer build (install clang and libclang-rt-14-dev): $(head -1 "$TMP/clang.err" 2>/dev/null)"
fi
RUNNER=$OUT/runner

JEMALLOC=
for f in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/*/libjemalloc.so.2 /usr/lib/libjemalloc.so.2; do
	[ -f "$f" ] && { JEMALLOC=$f; break; }
done
have() { command -v "$1" >/dev/null 2>&1; }

# --- workloads --------------------------------------------------------------
# Sizes at BENCH_SCALE=1 give 1-1.5 s natively on a 2-core Debian 12 VM.
MICRO_N=$(n 10000000)
PY_N=$(n 28)
SQL_N=$(n 300000)
GCC_N=$(n 110)
PL_N=$(n 12)
sh "$SRC/workloads/gen_sql.sh" "$SQL_N" >"$WORK/full.sql"
sh "$SRC/workloads/gen_sql.sh" "$(red "$SQL_N")" >"$WORK/red.sql"
sh "$SRC/workloads/gen_c.sh" "$GCC_N" >"$WORK/full.c"
sh "$SRC/workloads/gen_c.sh" "$(red "$GCC_N")" >"$WORK/red.c"
PYTHON3=/usr/bin/python3
PERL=/usr/bin/perl
SQLITE3=$(command -v sqlite3 || echo /usr/bin/sqlite3)
GCC=$(command -v gcc || echo /usr/bin/gcc)

# wl_size WORKLOAD: the workload's full size (work units at BENCH_SCALE).
wl_size() {
	case $1 in
	micro-*) echo "$MICRO_N" ;;
	python) echo "$PY_N" ;;
	sqlite) echo "$SQL_N" ;;
	gcc) echo "$GCC_N" ;;
	perl) echo "$PL_N" ;;
	*) die "unknown workload $1" ;;
	esac
}

# wl_cmd WORKLOAD full|red: sets WL_CMD (the command line; no argument holds
# a space) and WL_IN (its standard input), or WL_CMD= when the workload
# cannot run here.
wl_cmd() {
	WL_SIZE=$(wl_size "$1")
	[ "$2" = red ] && WL_SIZE=$(red "$WL_SIZE")
	WL_IN=/dev/null
	WL_CMD=
	case $1 in
	micro-1t) WL_CMD="$OUT/microbench $WL_SIZE 1" ;;
	micro-2t) WL_CMD="$OUT/microbench $WL_SIZE 2" ;;
	python) [ -x "$PYTHON3" ] && WL_CMD="$PYTHON3 $SRC/workloads/churn.py $WL_SIZE" ;;
	sqlite) [ -x "$SQLITE3" ] && WL_CMD="$SQLITE3 :memory:" && WL_IN=$WORK/$2.sql ;;
	gcc) WL_CMD="$GCC -O2 -c $WORK/$2.c -o $TMP/out.o" ;;
	perl) [ -x "$PERL" ] && WL_CMD="$PERL $SRC/workloads/churn.pl $WL_SIZE" ;;
	esac
	return 0
}

# variant_ok VARIANT WORKLOAD: whether the pair is measured.
variant_ok() {
	case $1 in
	native|heapcycle|heapcycle-nosnap|heapcycle-nostacks|heapcycle-noscrub) return 0 ;;
	jemalloc) [ -n "$JEMALLOC" ] ;;
	heaptrack) have heaptrack ;;
	memcheck) have valgrind ;;
	lsan) [ -n "$LSAN_BIN" ] && case $2 in micro-*) true ;; *) false ;; esac ;;
	*) die "unknown variant $1" ;;
	esac
}

RAW=$RES/raw.txt
: >"$RAW"
echo "# workload variant rep wall_s maxrss_kb status size scale_factor" >>"$RAW"

# run_one WORKLOAD VARIANT REP
run_one() {
	wl=$1 v=$2 rep=$3 size=full factor=1
	case $v in memcheck|native-reduced) size=red ;; esac
	wl_cmd "$wl" "$size"
	[ -n "$WL_CMD" ] || return 0
	[ "$size" = red ] &&
		factor=$(awk -v a="$(wl_size "$wl")" -v b="$WL_SIZE" 'BEGIN { print a / b }')
	# shellcheck disable=SC2086
	set -- $WL_CMD
	if [ "$v" = lsan ]; then
		shift
		set -- "$LSAN_BIN" "$@"
	fi
	case $v in
	native|native-reduced|lsan) ;;
	jemalloc) set -- env LD_PRELOAD="$JEMALLOC" "$@" ;;
	heapcycle) set -- "$HC" run -- "$@" ;;
	heapcycle-nosnap) set -- "$HC" run --no-snapshot-at-exit -- "$@" ;;
	heapcycle-nostacks) set -- "$HC" run --no-stacks -- "$@" ;;
	heapcycle-noscrub) set -- "$HC" run --no-stacks --no-scrub-freed -- "$@" ;;
	heaptrack) set -- heaptrack -o "$TMP/ht.$wl" "$@" ;;
	memcheck) set -- valgrind --tool=memcheck --leak-check=full \
		--trace-children=yes --log-file="$TMP/vg.%p" "$@" ;;
	esac
	line=$(cd "$TMP" && "$RUNNER" -i "$WL_IN" -e "$TMP/err.$wl.$v" "$@")
	# shellcheck disable=SC2086
	set -- $line
	if [ "$3" != 0 ]; then
		cp "$TMP/err.$wl.$v" "$RES/fail.$wl.$v.log"
		note "$wl/$v exited with $3; its stderr is in $RES/fail.$wl.$v.log"
	fi
	echo "$wl $v $rep $1 $2 $3 $size $factor" >>"$RAW"
	printf '  %-9s %-19s rep %d: %8.3f s %8d KiB%s\n' "$wl" "$v" "$rep" "$1" "$2" \
		"$([ "$size" = red ] && echo " (1/$factor input)")" >&2
	rm -rf "$TMP"/ht.* "$TMP"/vg.* "$TMP"/*.hcs "$TMP"/heapcycle.* 2>/dev/null
}

note "scale $SCALE, $REPEAT repetition(s), memcheck on 1/$VG_DIV of the input"
note "workloads: $WORKLOADS"
note "variants: $VARIANTS"
nv=$(echo $VARIANTS | wc -w)
rep=1
while [ "$rep" -le "$REPEAT" ]; do
	note "repetition $rep of $REPEAT"
	for wl in $WORKLOADS; do
		# Rotate the variant order each repetition (A/B interleaving).
		k=$(( (rep - 1) % nv ))
		order=$(echo $VARIANTS | awk -v k="$k" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + k) % NF + 1) }')
		for v in $order; do
			variant_ok "$v" "$wl" && run_one "$wl" "$v" "$rep"
		done
		# memcheck's same-input reference: native on the reduced input.
		case " $VARIANTS " in *" memcheck "*)
			variant_ok memcheck "$wl" && run_one "$wl" native-reduced "$rep" ;;
		esac
	done
	rep=$((rep + 1))
done

# --- scale benchmark --------------------------------------------------------
SRAW=$RES/scale-raw.txt
echo "# n variant rep wall_s maxrss_kb status exit_s metadata_bytes snapshot_bytes" >"$SRAW"
for N in $SCALE_N; do
	r=1
	while [ "$r" -le "$SCALE_REPEAT" ]; do
		for v in native nosnap snap report; do
			snap=$TMP/scale.hcs
			case $v in
			native) set -- "$OUT/scale" "$N" ;;
			nosnap) set -- env LD_PRELOAD="$SHIM" HEAPCYCLE_OPTIONS="snapshot_at_exit=0:quiet=1" "$OUT/scale" "$N" ;;
			snap) rm -f "$snap"
			      set -- env LD_PRELOAD="$SHIM" HEAPCYCLE_OPTIONS="output=$snap:overwrite=1:quiet=1" "$OUT/scale" "$N" ;;
			report) set -- "$HC" report "$snap" ;;
			esac
			line=$("$RUNNER" -e "$TMP/scale.err" "$@")
			exit_s=- meta=- sbytes=-
			if [ "$v" != report ]; then
				t0=$(sed -n 's/^exit_ns=//p' "$TMP/scale.err" | tail -1)
				exit_s=$(echo "$line" | awk -v t0="${t0:-0}" '{ print (t0 > 0 ? ($4 - t0) / 1e9 : "-") }')
			fi
			if [ "$v" = snap ] && [ -f "$snap" ]; then
				meta=$(od -An -t u8 -j 40 -N 8 "$snap" | tr -d ' ')
				sbytes=$(wc -c <"$snap" | tr -d ' ')
			fi
			set -- $line
			echo "$N $v $r $1 $2 $3 $exit_s $meta $sbytes" >>"$SRAW"
			printf '  scale %-9s %-7s rep %d: %8.3f s %8d KiB exit %s s\n' "$N" "$v" "$r" "$1" "$2" "$exit_s" >&2
		done
		rm -f "$TMP/scale.hcs"
		r=$((r + 1))
	done
done

# --- symbolization of many distinct stacks -----------------------------------
# `heapcycle report` on 131,072 distinct stacks (seconds, not minutes).
sh "$SRC/symbolize.sh" "$B" 17 | tee "$RES/symbolize.txt" >&2

[ "${BENCH_GEN0:-1}" = 0 ] || gen0_bench

# --- tables -----------------------------------------------------------------
"$PY" "$SRC/table.py" --raw "$RAW" --scale-raw "$SRAW" --csv "$RES/latest.csv" \
	--scale-csv "$RES/scale.csv" --vg-div "$VG_DIV" --scale "$SCALE" | tee "$RES/latest.txt"
# Keep the latest results next to the sources when they are writable (the
# README's table is pasted from bench/results/latest.txt).
if [ "$KEEP_RESULTS" = 1 ] && [ -z "${BENCH_SCALE_N:-}" ] && [ -z "${BENCH_SCALE_REPEAT:-}" ] &&
	{ [ -w "$SRC/results" ] || mkdir -p "$SRC/results" 2>/dev/null; }; then
	cp "$RES/latest.csv" "$RES/scale.csv" "$RES/latest.txt" "$SRC/results/" 2>/dev/null
fi
note "raw data in $RES"
