#!/bin/sh
# SPDX-License-Identifier: MIT
# Real programs from Debian packages, doing real work under `heapcycle run`
# with their own checks passing (issue 6): Python's unittest on a test file
# that churns dicts, lists, json and re; sqlite3 on a script of many
# statements; git init/commit/log/gc on a fresh repository; gcc -O2 -c of
# a generated C file; a perl churn. Each case runs in a fresh directory
# natively, under heapcycle and under Valgrind, and must:
# 1. under heapcycle, give the native run's standard output, exit status
#    and files (the object file, the repository's log);
# 2. report no direct leak that Valgrind memcheck (--leak-check=full,
#    children traced) does not also call "definitely lost", matched by
#    allocating function as tests/integration/run_real_programs.sh does.
# Packages: python3, sqlite3, git, gcc, perl, valgrind (all in
# debian-packages.txt); a missing one is a failure. Inputs are small so
# that the Valgrind runs stay within seconds.
[ -n "$HC_SRCDIR" ] || { echo "Bail out! HC_SRCDIR is not set (run through make check)"; exit 1; }
. "$HC_SRCDIR/tests/integration/lib.sh"

hc_require_env
for t in sqlite3 git gcc perl valgrind; do
	command -v "$t" >/dev/null 2>&1 || hc_bail "$t is required (see debian-packages.txt)"
done
# The interpreter itself, not a pyenv shim script.
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || hc_bail "/usr/bin/python3 is required"
hc_tmpdir
tmp=$HC_TMP


# The work of each case, as a shell script run in a fresh directory. Its
# standard output is what must not change under heapcycle.
cat >"$tmp/churn_test.py" <<'PYEOF'
import json, re, unittest


class Churn(unittest.TestCase):
    def test_dicts(self):
        d = {}
        for i in range(20000):
            d["k%d" % i] = [i, str(i), {"n": i}]
        for i in range(0, 20000, 2):
            del d["k%d" % i]
        self.assertEqual(len(d), 10000)
        self.assertEqual(sum(v[0] for v in d.values()), sum(range(1, 20000, 2)))

    def test_lists(self):
        xs = [[j for j in range(i % 50)] for i in range(5000)]
        xs.sort(key=len, reverse=True)
        self.assertEqual(len(xs[0]), 49)
        self.assertEqual(sum(map(len, xs)), sum(i % 50 for i in range(5000)))

    def test_json(self):
        doc = {"items": [{"id": i, "tags": ["t%d" % (i % 7)] * 3, "x": i / 3} for i in range(3000)]}
        for _ in range(3):
            doc = json.loads(json.dumps(doc, sort_keys=True))
        self.assertEqual(len(doc["items"]), 3000)
        self.assertEqual(doc["items"][2999]["tags"][0], "t3")

    def test_re(self):
        text = " ".join("user%d@host%d.example" % (i, i % 13) for i in range(4000))
        found = re.findall(r"(\w+)@(host\d+)\.example", text)
        self.assertEqual(len(found), 4000)
        self.assertEqual(re.sub(r"\d", "#", "a1b22"), "a#b##")
        for i in range(200):
            re.compile("x%d(y+)z" % i).match("x%dyyz" % i)

    def test_strings_and_sets(self):
        s = set()
        for i in range(30000):
            s.add(("%08x" % (i * 2654435761 % 2**32)).upper())
        self.assertEqual(len(s), 30000)


if __name__ == "__main__":
    unittest.main()
PYEOF

cat >"$tmp/script.sql" <<'SQLEOF'
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, val REAL);
CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER REFERENCES t(id), note TEXT);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000)
INSERT INTO t (name, grp, val) SELECT 'name' || x, x % 17, x * 1.5 FROM c;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 6000)
INSERT INTO u (t_id, note) SELECT (x * 7) % 3000 + 1, printf('note %05d', x) FROM c;
COMMIT;
CREATE INDEX t_grp ON t(grp);
CREATE INDEX u_t ON u(t_id);
SELECT grp, count(*), sum(val), min(name), max(name) FROM t GROUP BY grp ORDER BY grp;
SELECT t.grp, count(u.id) FROM t JOIN u ON u.t_id = t.id GROUP BY t.grp ORDER BY 2 DESC, 1 LIMIT 5;
UPDATE t SET val = val * 2 WHERE grp IN (1, 3, 5);
DELETE FROM u WHERE id % 3 = 0;
SELECT count(*), sum(length(note)) FROM u;
SELECT name FROM t WHERE name LIKE 'name29%' ORDER BY id;
CREATE VIEW v AS SELECT grp, avg(val) AS a FROM t GROUP BY grp;
SELECT grp, round(a, 3) FROM v WHERE a > 2000 ORDER BY grp;
SELECT group_concat(id, ',') FROM (SELECT id FROM t WHERE grp = 16 ORDER BY id LIMIT 20);
PRAGMA integrity_check;
VACUUM;
SELECT count(*) FROM t;
SQLEOF

cat >"$tmp/git.sh" <<'SHEOF'
set -e
export GIT_AUTHOR_NAME=Test GIT_AUTHOR_EMAIL=t@example.org GIT_COMMITTER_NAME=Test
export GIT_COMMITTER_EMAIL=t@example.org GIT_AUTHOR_DATE='2024-01-01T00:00:00Z'
export GIT_COMMITTER_DATE='2024-01-01T00:00:00Z' GIT_CONFIG_NOSYSTEM=1 HOME=$PWD
git init -q -b main repo
cd repo
for i in 1 2 3; do
	seq 1 $((i * 200)) >"file$i.txt"
	git add "file$i.txt"
	git commit -q -m "commit $i"
done
git log --format='%H %s'
git gc -q
git count-objects -v | grep -E '^(count|in-pack|packs):'
git fsck --no-progress && echo fsck ok
SHEOF

cat >"$tmp/gen.sh" <<'SHEOF'
set -e
i=0
{
	echo '#include <string.h>'
	while [ $i -lt 120 ]; do
		echo "struct s$i { int a[$((i % 9 + 1))]; double d; };"
		echo "int f$i(int x, struct s$i *p) { int r = 0; for (int k = 0; k < x; k++) r += p->a[k % $((i % 9 + 1))] * k + (int)p->d; if (r > $i) r -= (int)strlen(\"$i\"); return r; }"
		i=$((i + 1))
	done
} >gen.c
gcc -O2 -c gen.c -o gen.o
od -A n -t x1 gen.o | cksum
SHEOF

cat >"$tmp/churn.pl" <<'PLEOF'
my %h; my @a;
for my $i (1 .. 30000) { $h{"key$i"} = [$i, "v" x ($i % 20)]; push @a, { n => $i }; }
delete $h{"key$_"} for grep { $_ % 3 } 1 .. 30000;
my $s = join ",", map { $_->{n} } grep { $_->{n} % 1000 == 0 } @a;
my @w = sort { $b cmp $a } map { sprintf "%05d", $_ * 7 % 10007 } 1 .. 5000;
(my $t = "abc" x 10000) =~ s/b/BB/g;
printf "%d %d %s %s %d\n", scalar(keys %h), scalar(@a), substr($s, 0, 30), $w[0], length $t;
PLEOF

# suite_case NAME CMD...: runs CMD in three fresh directories, natively,
# under heapcycle and under Valgrind, and checks as the head comment says.
suite_case()
{
	name=$1
	shift
	d=$tmp/$name
	mkdir -p "$d/native" "$d/hc" "$d/vg" "$d/snap" "$d/vgx"

	(cd "$d/native" && timeout 120 "$@" >"$d/native.out" 2>"$d/native.err" </dev/null)
	native=$?
	(cd "$d/hc" && timeout 120 "$HEAPCYCLE" run -o "$d/snap/snap.%p.hcs" -- "$@" \
		>"$d/run.out" 2>"$d/run.err" </dev/null)
	run=$?
	if [ "$native" -ne 0 ]; then
		hc_ok 1 "$name: runs natively with its checks passing" "native exit status $native" \
			"$(tail -n 15 "$d/native.err")"
	else
		hc_ok 0 "$name: runs natively with its checks passing"
	fi
	if [ "$run" -eq "$native" ] && cmp -s "$d/native.out" "$d/run.out"; then
		hc_ok 0 "$name: same stdout and exit status ($native) under heapcycle"
	else
		hc_ok 1 "$name: same stdout and exit status under heapcycle" \
			"exit status: native $native, under heapcycle $run" \
			"$(diff "$d/native.out" "$d/run.out" | head -n 20)" \
			"stderr under heapcycle:" "$(tail -n 15 "$d/run.err")"
	fi

	set -- $(find "$d/snap" -type f -name 'snap.*' | sort)
	if [ $# -eq 0 ]; then
		hc_ok 1 "$name: direct leaks are definitely lost in Valgrind" \
			"heapcycle run wrote no snapshot" "$(tail -n 15 "$d/run.err")"
		return
	fi
	if ! "$HEAPCYCLE" report --format json "$@" >"$d/report.json" 2>"$d/report.err"; then
		hc_ok 1 "$name: direct leaks are definitely lost in Valgrind" \
			"heapcycle report --format json failed" "$(tail -n 15 "$d/report.err")"
		return
	fi
	eval "set -- $cmd_quoted"
	(cd "$d/vg" && timeout 300 valgrind -q --trace-children=yes --leak-check=full \
		--show-leak-kinds=definite --xml=yes --xml-file="$d/vgx/vg.%p.xml" "$@" \
		>"$d/vg.out" 2>"$d/vg.err" </dev/null)
	vrc=$?
	set -- $(find "$d/vgx" -name 'vg.*.xml' -size +0 | sort)
	if [ $# -eq 0 ] || [ "$vrc" -eq 124 ] || [ "$vrc" -ne "$native" ]; then
		hc_ok 1 "$name: direct leaks are definitely lost in Valgrind" \
			"valgrind run failed (status $vrc, native $native)" "$(tail -n 10 "$d/vg.err")"
		return
	fi
	if python3 "$HC_SRCDIR/tests/integration/vgcompare.py" "$d/report.json" "$@" >"$d/cmp" 2>&1; then
		hc_ok 0 "$name: direct leaks are definitely lost in Valgrind ($(head -n 1 "$d/cmp"))"
	else
		hc_ok 1 "$name: direct leaks are definitely lost in Valgrind" "$(cat "$d/cmp")"
	fi
}

# run_suite NAME CMD...: suite_case with CMD also quoted for eval (the
# Valgrind run reuses "$@").
run_suite()
{
	_name=$1
	shift
	cmd_quoted=
	for a in "$@"; do
		cmd_quoted="$cmd_quoted '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"
	done
	suite_case "$_name" "$@"
}

run_suite python3-unittest "$PYTHON" "$tmp/churn_test.py"
run_suite sqlite3 sqlite3 -batch -init /dev/null test.db ".read $tmp/script.sql"
run_suite git sh "$tmp/git.sh"
run_suite gcc sh "$tmp/gen.sh"
run_suite perl perl "$tmp/churn.pl"
hc_finish
