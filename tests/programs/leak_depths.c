/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: three blocks of different sizes leaked at stack
 * depths 1, 3 and 6 below main, each from a distinct function, so that each
 * is its own direct group and its recorded stack must hold every caller.
 */
/* EXPECT: direct blocks=1 bytes=24 fn=leak_level_1 fn=main */
/* EXPECT: direct blocks=1 bytes=40 fn=leak_level_3 fn=depth3_b fn=depth3_a fn=main */
/* EXPECT: direct blocks=1 bytes=72 fn=leak_level_6 fn=depth6_e fn=depth6_d fn=depth6_c fn=depth6_b fn=depth6_a fn=main */
/* EXPECT: exit=0 */
/* Makefile.am puts -O0 -fno-inline in the per-program flags, but automake
 * appends the user's CFLAGS (-O2 by default) after them. Every frame and
 * every store below matters to the EXPECT lines (no sibling calls, no clones,
 * no dead-store elimination), so the file asks for -O0 itself. */
#pragma GCC optimize("O0")

#include <stdlib.h>
#include <string.h>

/* A global sink the compiler cannot see through: every leaked pointer goes
 * through it and is then overwritten. */
void *volatile sink;

static void leak_level_1(void) { void *p = malloc(24); memset(p, 1, 24); sink = p; sink = NULL; p = NULL; }

static void leak_level_3(void) { void *p = malloc(40); memset(p, 3, 40); sink = p; sink = NULL; p = NULL; }
static void depth3_b(void) { leak_level_3(); }
static void depth3_a(void) { depth3_b(); }

static void leak_level_6(void) { void *p = malloc(72); memset(p, 6, 72); sink = p; sink = NULL; p = NULL; }
static void depth6_e(void) { leak_level_6(); }
static void depth6_d(void) { depth6_e(); }
static void depth6_c(void) { depth6_d(); }
static void depth6_b(void) { depth6_c(); }
static void depth6_a(void) { depth6_b(); }

static void scrub_stack(void)
{
	volatile char pad[32768];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = 0;
}

int main(void)
{
	leak_level_1();
	depth3_a();
	depth6_a();
	scrub_stack();
	return 0;
}
