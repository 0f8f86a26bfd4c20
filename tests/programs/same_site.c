/* SPDX-License-Identifier: MIT */
/*
 * same_site: two call paths that reach one malloc call site with the same
 * stack pointer (via_f and via_g have identical frames), alternating. The
 * shim caches stacks by call site and stack pointer; only the check of the
 * return addresses above tells the two paths apart, and the report must
 * attribute every block to the right one. far_f and far_g do the same
 * through a frame of over 1 MiB, beyond which the cache keeps no return
 * address (it must then not cache that stack at all).
 */
/* EXPECT: direct blocks=50 bytes=1200 fn=make_block fn=via_f fn=main */
/* EXPECT: direct blocks=50 bytes=2000 fn=make_block fn=via_g fn=main */
/* EXPECT: direct blocks=50 bytes=2800 fn=make_block fn=big_frame fn=far_f fn=main */
/* EXPECT: direct blocks=50 bytes=3600 fn=make_block fn=big_frame fn=far_g fn=main */
#pragma GCC optimize("O0")
#include <stdlib.h>
#include <string.h>

static void *sink[4];

__attribute__((noinline)) static void make_block(size_t n, int which)
{
	char *p = malloc(n);

	memset(p, which, n);
	/* Overwritten at the next call: all but nothing stays referenced. */
	sink[which] = p;
	sink[which] = NULL;
	p = NULL;
}

__attribute__((noinline)) static void via_f(void)
{
	make_block(24, 0);
}

__attribute__((noinline)) static void via_g(void)
{
	make_block(40, 1);
}

__attribute__((noinline)) static void big_frame(size_t n, int which)
{
	volatile char pad[(1 << 20) + 4096];

	pad[0] = (char)which;
	make_block(n, which);
	pad[sizeof(pad) - 1] = pad[0];
}

__attribute__((noinline)) static void far_f(void)
{
	big_frame(56, 2);
}

__attribute__((noinline)) static void far_g(void)
{
	big_frame(72, 3);
}

int main(void)
{
	int i;

	for (i = 0; i < 50; i++) {
		via_f();
		via_g();
		far_f();
		far_g();
	}
	return 0;
}
