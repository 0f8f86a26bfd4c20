#!/bin/sh
# SPDX-License-Identifier: MIT
# Writes a C file of FUNCS functions, each with loops, a switch and a local
# struct, for `gcc -O2 -c`. Usage: gen_c.sh FUNCS > file.c
funcs=${1:-300}
awk -v n="$funcs" 'BEGIN {
	print "#include <string.h>"
	print "struct s { int a[8]; double d; const char *name; };"
	print "extern int g(int);"
	for (f = 0; f < n; f++) {
		printf "int f%d(int x, struct s *p)\n{\n\tint i, acc = %d;\n\tstruct s loc;\n", f, f
		print "\tmemset(&loc, 0, sizeof loc);"
		print "\tfor (i = 0; i < x; i++) {"
		print "\t\tloc.a[i & 7] += p->a[(i + 3) & 7] * i;"
		printf "\t\tswitch ((i + %d) %% 6) {\n", f
		for (c = 0; c < 6; c++)
			printf "\t\tcase %d: acc += g(i * %d + loc.a[%d]); break;\n", c, c + f, c
		print "\t\t}"
		print "\t\tif (acc > 1000 * x) acc -= p->a[i & 7]; else acc ^= i << 3;"
		print "\t}"
		printf "\tp->d = acc * 0.5 + loc.a[%d];\n\treturn acc + (int)p->d;\n}\n", f % 8
	}
}'
