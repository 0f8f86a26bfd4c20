/* SPDX-License-Identifier: MIT */
/*
 * stacks N_BITS: one leaked block from each of 2^N_BITS distinct call
 * stacks (a binary tree of calls, N_BITS deep), for timing the
 * symbolization of many distinct stacks by `heapcycle report`. Every
 * stack shares the same few functions, as real programs' stacks do; what
 * differs is the return addresses.
 */
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;

__attribute__((noinline)) static void leaf(void)
{
	sink = malloc(16);
	sink = NULL;
}

__attribute__((noinline)) static void walk(int depth, unsigned long path);

__attribute__((noinline)) static void left(int depth, unsigned long path)
{
	walk(depth - 1, path >> 1);
	__asm__ volatile("" ::: "memory");	/* keep the call from being a tail call */
}

__attribute__((noinline)) static void right(int depth, unsigned long path)
{
	walk(depth - 1, path >> 1);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void walk(int depth, unsigned long path)
{
	if (depth == 0)
		leaf();
	else if (path & 1)
		right(depth, path);
	else
		left(depth, path);
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	int bits = argc > 1 ? atoi(argv[1]) : 17;
	unsigned long p, n;

	if (bits < 1 || bits > 24)
		return 2;
	n = 1ul << bits;
	for (p = 0; p < n; p++)
		walk(bits, p);
	printf("%lu distinct stacks\n", n);
	return 0;
}
