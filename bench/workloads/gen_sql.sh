#!/bin/sh
# SPDX-License-Identifier: MIT
# Writes an sqlite3 script for an in-memory database: ROWS inserts in
# batched transactions, an index, then aggregate and point selects.
# Usage: gen_sql.sh ROWS > script.sql
rows=${1:-200000}
awk -v rows="$rows" 'BEGIN {
	print "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, val REAL, note TEXT);"
	for (i = 1; i <= rows; i++) {
		if (i % 5000 == 1) print "BEGIN;"
		printf "INSERT INTO t(name, grp, val, note) VALUES (%cname%d%c, %d, %d.5, %c%s%c);\n", 39, i, 39, i % 97, i % 1000, 39, substr("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz", 1, 1 + i % 50), 39
		if (i % 5000 == 0 || i == rows) print "COMMIT;"
	}
	print "CREATE INDEX t_name ON t(name);"
	print "SELECT grp, count(*), sum(val), max(note) FROM t GROUP BY grp ORDER BY 2 DESC LIMIT 5;"
	for (i = 1; i <= rows / 20; i++)
		printf "SELECT val FROM t WHERE name = %cname%d%c;\n", 39, i * 7 % rows + 1, 39
	print "UPDATE t SET note = note || note WHERE grp < 20;"
	print "DELETE FROM t WHERE grp > 50;"
	print "SELECT count(*), sum(length(note)) FROM t;"
}'
