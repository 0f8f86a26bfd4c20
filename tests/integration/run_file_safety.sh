#!/bin/sh
# SPDX-License-Identifier: MIT
# The shim writes files on hosts shared with other users (issue 6: "files
# and input are hostile until proven otherwise"), so: a snapshot is mode
# 0600 whatever the umask; an existing file at the output path is never
# replaced (a .1 file is written instead) unless overwrite is asked for; a
# symbolic link there is never followed, not even with overwrite; an
# unwritable directory costs one line on stderr and nothing else; a secure
# (setuid) process is left alone; a hostile HEAPCYCLE_OPTIONS costs one line
# and the program runs as usual. Real tool, real shim, real programs; TAP.
# The setuid test links a small program against the shim (ld.so ignores
# LD_PRELOAD for secure processes, so only a DT_NEEDED shim can show that
# the shim itself refuses) and runs it as an unprivileged user: it needs
# root, a C compiler and setpriv(1).
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"
hc_require_env
[ -x "$HC_PROGRAMS/leak_cycle3" ] || hc_bail "test program $HC_PROGRAMS/leak_cycle3 is missing"
unset HEAPCYCLE_OPTIONS LD_PRELOAD
hc_tmpdir
tmp=$HC_TMP
prog=$HC_PROGRAMS/leak_cycle3
uid=$(id -u)

# nlines FILE: lines in FILE, counting an unterminated last line.
nlines()
{
	_n=$(wc -l <"$1")
	[ -s "$1" ] && [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" != '\n' ] && _n=$((_n + 1))
	echo "$_n"
}

# is_snapshot FILE: the tool reads FILE as a snapshot.
is_snapshot()
{
	"$HEAPCYCLE" report "$1" >/dev/null 2>"$tmp/report.err"
}

# LD_PRELOAD is always given to the program alone, through env(1) after
# timeout(1) and setpriv(1): a preloaded timeout would write a snapshot and
# a message of its own (as root, even into the read-only directory).

# ---------------------------------------------------------------- (a) mode
d=$tmp/a
mkdir "$d"
(umask 000 && timeout "$HC_TIMEOUT" "$HEAPCYCLE" run -o "$d/run.hcs" -- "$prog" \
	>/dev/null 2>"$d/err" </dev/null)
rc=$?
mode=$(stat -c %a "$d/run.hcs" 2>/dev/null)
hc_ok "$([ "$rc" -eq 0 ] && [ "$mode" = 600 ]; echo $?)" \
	"umask 000, heapcycle run -o: snapshot has mode 0600" \
	"exit status $rc, mode '${mode:-no file}'" "$(cat "$d/err")"
(umask 000 && timeout "$HC_TIMEOUT" env LD_PRELOAD="$HEAPCYCLE_PRELOAD" \
	HEAPCYCLE_OPTIONS="output=$d/bare.%p.hcs" "$prog" >/dev/null 2>"$d/err" </dev/null)
rc=$?
f=$(find "$d" -name 'bare.*.hcs' | head -n 1)
mode=$(stat -c %a "$f" 2>/dev/null)
hc_ok "$([ "$rc" -eq 0 ] && [ "$mode" = 600 ]; echo $?)" \
	"umask 000, bare LD_PRELOAD: snapshot has mode 0600" \
	"exit status $rc, mode '${mode:-no file}'" "$(cat "$d/err")"

# ------------------------------------------------- (b) existing file kept
d=$tmp/b
mkdir "$d"
printf 'precious\n' >"$d/out.hcs"
timeout "$HC_TIMEOUT" "$HEAPCYCLE" run -o "$d/out.hcs" -- "$prog" >/dev/null 2>"$d/err" </dev/null
rc=$?
hc_ok "$([ "$rc" -eq 0 ] && [ "$(cat "$d/out.hcs")" = precious ]; echo $?)" \
	"existing file at the output path is not overwritten" \
	"exit status $rc; out.hcs now holds: $(head -c 60 "$d/out.hcs" | od -An -c | head -n 2)"
hc_ok "$(is_snapshot "$d/out.hcs.1"; echo $?)" \
	"existing file: the snapshot goes to out.hcs.1 instead" \
	"files: $(ls "$d" | tr '\n' ' ')" "$(cat "$tmp/report.err")"
timeout "$HC_TIMEOUT" "$HEAPCYCLE" run -o "$d/out.hcs" -- "$prog" >/dev/null 2>"$d/err" </dev/null
hc_ok "$([ "$(cat "$d/out.hcs")" = precious ] && is_snapshot "$d/out.hcs.2"; echo $?)" \
	"existing out.hcs and out.hcs.1: the next snapshot goes to out.hcs.2" \
	"files: $(ls "$d" | tr '\n' ' ')"
timeout "$HC_TIMEOUT" "$HEAPCYCLE" run --overwrite -o "$d/out.hcs" -- "$prog" \
	>/dev/null 2>"$d/err" </dev/null
rc=$?
mode=$(stat -c %a "$d/out.hcs")
hc_ok "$([ "$rc" -eq 0 ] && is_snapshot "$d/out.hcs" && [ ! -e "$d/out.hcs.3" ]; echo $?)" \
	"--overwrite replaces the existing file with a snapshot" \
	"exit status $rc; files: $(ls "$d" | tr '\n' ' ')" "$(cat "$d/err")"

# --------------------------------------------- (c) symbolic links ignored
d=$tmp/c
mkdir "$d"
printf 'victim\n' >"$d/victim"
chmod 644 "$d/victim"
ln -s "$d/victim" "$d/link.hcs"
for how in "" --overwrite; do
	timeout "$HC_TIMEOUT" "$HEAPCYCLE" run $how -o "$d/link.hcs" -- "$prog" \
		>/dev/null 2>"$d/err" </dev/null
	rc=$?
	hc_ok "$([ "$rc" -eq 0 ] && [ -L "$d/link.hcs" ] && [ "$(cat "$d/victim")" = victim ] &&
		[ "$(stat -c %a "$d/victim")" = 644 ]; echo $?)" \
		"symlink at the output path${how:+ with $how}: not followed, the victim is intact" \
		"exit status $rc; victim holds: $(head -c 60 "$d/victim" | od -An -c | head -n 2)" \
		"$(cat "$d/err")"
done
# A dangling link: O_CREAT alone would create its target.
ln -s "$d/created-through-link" "$d/dangling.hcs"
for how in "" --overwrite; do
	timeout "$HC_TIMEOUT" "$HEAPCYCLE" run $how -o "$d/dangling.hcs" -- "$prog" \
		>/dev/null 2>"$d/err" </dev/null
	hc_ok "$([ ! -e "$d/created-through-link" ] && [ -L "$d/dangling.hcs" ]; echo $?)" \
		"dangling symlink at the output path${how:+ with $how}: its target is not created" \
		"files: $(ls "$d" | tr '\n' ' ')"
done
# A link at the .1 name too: the fallback names are opened as carefully.
printf 'precious\n' >"$d/two.hcs"
ln -s "$d/victim" "$d/two.hcs.1"
timeout "$HC_TIMEOUT" "$HEAPCYCLE" run -o "$d/two.hcs" -- "$prog" >/dev/null 2>"$d/err" </dev/null
hc_ok "$([ "$(cat "$d/victim")" = victim ] && is_snapshot "$d/two.hcs.2"; echo $?)" \
	"symlink at the fallback name .1: skipped, the snapshot goes to .2" \
	"files: $(ls "$d" | tr '\n' ' ')"

# --------------------------------------------- (d) unwritable directory
d=$tmp/d
mkdir "$d"
# want_one_shim_line FILE DESC: FILE holds exactly one line, the shim's.
want_one_shim_line()
{
	[ "$(nlines "$1")" -eq 1 ] && grep -q '^heapcycle: .*snapshot' "$1"
}
timeout "$HC_TIMEOUT" env LD_PRELOAD="$HEAPCYCLE_PRELOAD" \
	HEAPCYCLE_OPTIONS="output=$d/missing/x.%p.hcs" sh -c 'echo out; exit 7' \
	>"$d/out" 2>"$d/err" </dev/null
rc=$?
hc_ok "$([ "$rc" -eq 7 ] && [ "$(cat "$d/out")" = out ] && want_one_shim_line "$d/err"; echo $?)" \
	"output directory missing, bare LD_PRELOAD: one line from the shim, exit status kept" \
	"exit status $rc (want 7); stderr:" "$(cat "$d/err")"
timeout "$HC_TIMEOUT" "$HEAPCYCLE" run -o "$d/missing/x.hcs" -- sh -c 'echo out; exit 7' \
	>"$d/out" 2>"$d/err" </dev/null
rc=$?
hc_ok "$([ "$rc" -eq 7 ] && [ "$(cat "$d/out")" = out ] &&
	grep -q '^heapcycle: cannot create the snapshot' "$d/err"; echo $?)" \
	"output directory missing, heapcycle run: the shim says so, exit status kept" \
	"exit status $rc (want 7); stderr:" "$(cat "$d/err")"
# Root writes anywhere; a read-only directory is only read-only to others.
mkdir "$d/ro" "$d/lib"
chmod 555 "$d/ro"
chmod 755 "$tmp" "$d" "$d/lib"
cp "$HEAPCYCLE_PRELOAD" "$d/lib/libheapcycle.so"
chmod 755 "$d/lib/libheapcycle.so"
if [ "$uid" -eq 0 ]; then
	command -v setpriv >/dev/null 2>&1 || hc_bail "setpriv(1) (util-linux) is required as root"
	set -- setpriv --reuid=65534 --regid=65534 --clear-groups
else
	set --
fi
timeout "$HC_TIMEOUT" "$@" env LD_PRELOAD="$d/lib/libheapcycle.so" \
	HEAPCYCLE_OPTIONS="output=$d/ro/x.%p.hcs" sh -c 'echo out; exit 7' \
	>"$d/out" 2>"$d/err" </dev/null
rc=$?
hc_ok "$([ "$rc" -eq 7 ] && [ "$(cat "$d/out")" = out ] && want_one_shim_line "$d/err" &&
	[ -z "$(ls "$d/ro")" ]; echo $?)" \
	"read-only output directory${1:+ (as uid 65534)}: one line from the shim, exit status kept" \
	"exit status $rc (want 7); stderr:" "$(cat "$d/err")"

# ------------------------------------------------ (e) secure processes
d=$tmp/e
mkdir "$d" "$d/lib" "$d/out"
chmod 755 "$d" "$d/lib"
chmod 1777 "$d/out"
cp "$HEAPCYCLE_PRELOAD" "$d/lib/libheapcycle.so"
chmod 755 "$d/lib/libheapcycle.so"
cat >"$d/secure.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>

int main(void)
{
	void *volatile p = malloc(48);	/* a leak the shim would report */

	p = NULL;
	printf("secure=%lu\n", getauxval(AT_SECURE));
	return 5;
}
EOF
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || hc_bail "a C compiler ($cc) is required for the setuid test"
# The shim as a dependency, not a preload: ld.so keeps a DT_NEEDED library
# with an absolute run path in a secure process, so the shim's own check
# is what is tested.
"$cc" -o "$d/secure" "$d/secure.c" -L"$d/lib" -Wl,--no-as-needed -l:libheapcycle.so \
	-Wl,-rpath,"$d/lib" 2>"$d/cc.err" ||
	hc_bail "cannot build the setuid test program: $(head -n 3 "$d/cc.err")"
chmod 755 "$d/secure"
if [ "$uid" -ne 0 ]; then
	hc_skip "setuid program: the shim records nothing" \
		"needs root to make a setuid-root program (running as uid $uid)"
else
	# Control: the same binary without the setuid bit does get a snapshot,
	# so an empty directory below means the shim refused, not that it
	# never loaded.
	HEAPCYCLE_OPTIONS="output=$d/out/plain.%p.hcs" \
		timeout "$HC_TIMEOUT" "$@" "$d/secure" >"$d/stdout" 2>"$d/err" </dev/null
	rc=$?
	f=$(find "$d/out" -name 'plain.*.hcs' | head -n 1)
	hc_ok "$([ "$rc" -eq 5 ] && [ "$(cat "$d/stdout")" = secure=0 ] && [ -n "$f" ] &&
		is_snapshot "$f"; echo $?)" \
		"control: the shim linked in, not setuid, run as uid 65534 writes a snapshot" \
		"exit status $rc (want 5); stdout: $(cat "$d/stdout"); files: $(ls "$d/out")" \
		"$(cat "$d/err")"
	chown 0:0 "$d/secure"
	chmod 4755 "$d/secure"
	HEAPCYCLE_OPTIONS="output=$d/out/setuid.%p.hcs" \
		timeout "$HC_TIMEOUT" "$@" "$d/secure" >"$d/stdout" 2>"$d/err" </dev/null
	rc=$?
	if [ "$(cat "$d/stdout")" != secure=1 ]; then
		hc_ok 1 "setuid program: runs with AT_SECURE set" \
			"stdout: $(cat "$d/stdout") (exit status $rc): is $d on a nosuid mount?" \
			"$(cat "$d/err")"
	else
		hc_ok "$([ "$rc" -eq 5 ] && [ -z "$(find "$d/out" -name 'setuid.*')" ] &&
			[ ! -s "$d/err" ]; echo $?)" \
			"setuid-root program (AT_SECURE): the shim writes nothing, says nothing, exit status kept" \
			"exit status $rc (want 5); files: $(ls "$d/out")" "stderr:" "$(cat "$d/err")"
	fi
fi

# ------------------------------------------- (f) hostile HEAPCYCLE_OPTIONS
d=$tmp/f
mkdir "$d"
long=$(head -c 5000 /dev/zero | tr '\0' a)
# Just under the kernel's 128 KiB limit on one environment string.
huge=$(head -c 120000 /dev/zero | tr '\0' ':')
n=0
for opts in "bogus_option=1" "output=$long" "stack_depth=abc" "stack_depth=99999999999999999999" \
	"error_exitcode=-1" "check=maybe" "=1" "${huge}no_such_thing"; do
	n=$((n + 1))
	mkdir "$d/$n"
	(cd "$d/$n" && timeout "$HC_TIMEOUT" env LD_PRELOAD="$HEAPCYCLE_PRELOAD" \
		HEAPCYCLE_OPTIONS="$opts" sh -c 'echo out; exit 9' >"$d/out" 2>"$d/err" </dev/null)
	rc=$?
	label=$(printf '%s' "$opts" | cut -c 1-40)
	[ "${#opts}" -gt 40 ] && label="$label... (${#opts} bytes)"
	hc_ok "$([ "$rc" -eq 9 ] && [ "$(cat "$d/out")" = out ] && [ "$(nlines "$d/err")" -eq 1 ] &&
		grep -q '^heapcycle: HEAPCYCLE_OPTIONS: ' "$d/err"; echo $?)" \
		"HEAPCYCLE_OPTIONS='$label': one line, the program runs, exit status kept" \
		"exit status $rc (want 9); stdout: $(cat "$d/out")" "stderr:" "$(head -c 400 "$d/err")"
done

hc_finish
