/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: a 64-byte block whose only reference is a
 * pointer into its middle (offset 32), held in a global. It is neither
 * reachable through its start nor unreferenced: class "possible", as
 * LeakSanitizer and Valgrind call it.
 */
/* EXPECT: possible blocks=1 bytes=64 fn=make_interior fn=main */
/* EXPECT: exit=0 */
/* Makefile.am puts -O0 -fno-inline in the per-program flags, but automake
 * appends the user's CFLAGS (-O2 by default) after them. Every frame and
 * every store below matters to the EXPECT lines (no sibling calls, no clones,
 * no dead-store elimination), so the file asks for -O0 itself. */
#pragma GCC optimize("O0")

#include <stdlib.h>
#include <string.h>

/* The only reference: points 32 bytes into the block. */
char *g_middle;

static void scrub_stack(void)
{
	volatile char pad[32768];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = 0;
}

static void make_interior(void)
{
	char *p = malloc(64);

	if (!p)
		exit(1);
	memset(p, 'i', 64);
	g_middle = p + 32;
	p = NULL;
}

int main(void)
{
	make_interior();
	scrub_stack();
	return g_middle[0] == 'i' ? 0 : 1;
}
