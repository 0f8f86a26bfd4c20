#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the fuzz harnesses (fuzz/build.sh) and runs each one for a bounded
# time on a copy of its seed corpus (fuzz/corpus/<harness>/), so that the
# committed corpus only changes when someone chooses to add to it. Exits
# non-zero when a harness crashes, leaks, times out or runs out of memory,
# and prints the reproducer libFuzzer saved; a harness that cannot be built
# or run is a failure too. One line per harness: "fuzz_<h>: ok (N runs in
# S s)" or "fuzz_<h>: FAILED ...", which run-tests counts.
#
# Usage: fuzz/run.sh [SECONDS [HARNESS...]]   (default 45 s each, all)
# Environment: FUZZ_BUILD (build dir, default ${TMPDIR:-/tmp}/heapcycle-fuzz),
#   FUZZ_ARTIFACTS (where reproducers go, default $FUZZ_BUILD/artifacts),
#   FUZZ_KEEP_CORPUS=1 (keep the grown corpus in $FUZZ_BUILD/corpus/<h>
#   between runs, for long local sessions).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-45}
[ $# -gt 0 ] && shift
build=${FUZZ_BUILD:-${TMPDIR:-/tmp}/heapcycle-fuzz}
artifacts=${FUZZ_ARTIFACTS:-$build/artifacts}

case "$secs" in
''|*[!0-9]*) echo "fuzz/run.sh: SECONDS must be a whole number, not '$secs'" >&2; exit 2 ;;
esac

mkdir -p "$build"
"$src/fuzz/build.sh" "$build" >"$build/build.log" 2>&1 || {
	cat "$build/build.log" >&2
	echo "fuzz: FAILED to build the harnesses" >&2
	exit 1
}
build=$(cd "$build" && pwd)
mkdir -p "$artifacts"
artifacts=$(cd "$artifacts" && pwd)
built=$(cat "$build/harnesses")
if [ $# -gt 0 ]; then
	want="$*"
else
	want=$built
fi

# The option names, from the one list, so the dictionary never drifts.
sed -n 's/^HC_OPTION([a-z]*, *\([a-z_]*\),.*/\1/p' "$src/src/options.def" |
	awk '{ print "name_" NR "=\"" $1 "=\""; print "no_" NR "=\"no_" $1 "\"" }' \
	>"$build/options.dict"
printf '%s\n' 'sep1=":"' 'true="true"' 'false="false"' 'yes="yes"' 'int_max="2147483647"' \
	'int_max_plus1="2147483648"' >>"$build/options.dict"

# max_len: snapshots up to 64 KiB (the seeds are far smaller); options up
# to a little over two string values at their maximum.
max_len_snapshot=65536
max_len_options=9000
max_len_suppress=16384
dict_snapshot=$src/fuzz/snapshot.dict
dict_options=$build/options.dict
dict_suppress=

status=0
for h in $want; do
	exe=$build/fuzz_$h
	if [ ! -x "$exe" ]; then
		echo "fuzz_$h: FAILED: $exe was not built"
		status=1
		continue
	fi
	seeds=$src/fuzz/corpus/$h
	work=$build/corpus/$h
	[ "${FUZZ_KEEP_CORPUS:-0}" = 1 ] || rm -rf "$work"
	mkdir -p "$work"
	if [ -d "$seeds" ] && [ -n "$(ls -A "$seeds" 2>/dev/null)" ]; then
		cp "$seeds"/* "$work"/
	else
		echo "fuzz_$h: FAILED: no seed corpus in $seeds"
		status=1
		continue
	fi
	eval "max_len=\$max_len_$h; dict=\$dict_$h"
	log=$build/fuzz_$h.log
	mkdir -p "$artifacts/$h"
	# detect_leaks: a leak on the error path of a parser is a bug too.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$max_len" ${dict:+-dict="$dict"} -print_final_stats=1 \
		-artifact_prefix="$artifacts/$h/" "$work" >"$log" 2>&1 && rc=0 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ] && [ -z "$repro" ] && [ -n "$runs" ]; then
		echo "fuzz_$h: ok (${runs} runs in ${secs} s)"
	else
		echo "fuzz_$h: FAILED (exit status $rc)${repro:+, reproducer: $repro}"
		grep -E -m 12 'ERROR:|runtime error:|SUMMARY:|#[0-9]+ 0x.* in ' "$log" | sed 's/^/    /'
		echo "    full log: $log"
		[ -n "$repro" ] && echo "    replay: $exe $repro"
		status=1
	fi
done
exit $status
