/* SPDX-License-Identifier: MIT */
/*
 * The malloc/free microbenchmark of issue 5: each thread recurses DEPTH
 * frames through non-inlined functions (no tail calls) and then runs N
 * malloc/free pairs of small random sizes (16 to 271 bytes) there, keeping a
 * ring of 256 live blocks so that the allocator and the block table see
 * some live population. Built with Debian's default flags: -O2, no frame
 * pointers. Usage: microbench PAIRS_PER_THREAD [THREADS [DEPTH]].
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING 256

static long pairs = 10000000;
static int depth = 18;
static volatile unsigned long sink;

__attribute__((noinline)) static unsigned long churn(uint64_t seed)
{
	void *ring[RING] = { 0 };
	uint64_t x = seed | 1;
	unsigned long sum = 0;
	long i;

	for (i = 0; i < pairs; i++) {
		unsigned slot = (unsigned)i & (RING - 1);
		size_t size;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size = 16 + (x & 255);
		free(ring[slot]);
		ring[slot] = malloc(size);
		if (!ring[slot])
			abort();
		*(volatile char *)ring[slot] = (char)i;
		sum += (uintptr_t)ring[slot] & 0xff;
	}
	for (i = 0; i < RING; i++)
		free(ring[i]);
	return sum;
}

__attribute__((noinline)) static unsigned long descend(int level, uint64_t seed)
{
	unsigned long r;

	if (level <= 0)
		return churn(seed);
	r = descend(level - 1, seed * 31 + (uint64_t)level);
	/* Work after the call keeps it from becoming a tail call. */
	__asm__ volatile("" : "+r"(r));
	return r + (unsigned long)level;
}

static void *thread_main(void *arg)
{
	sink += descend(depth, (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15u + 1);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tid[64];
	int nthreads = 1, i;

	if (argc > 1)
		pairs = atol(argv[1]);
	if (argc > 2)
		nthreads = atoi(argv[2]);
	if (argc > 3)
		depth = atoi(argv[3]);
	if (nthreads < 1 || nthreads > 64 || pairs < 0 || depth < 0) {
		fprintf(stderr, "usage: microbench PAIRS [THREADS [DEPTH]]\n");
		return 2;
	}
	if (nthreads == 1) {
		thread_main((void *)1);
		return 0;
	}
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&tid[i], NULL, thread_main,
				   (void *)(uintptr_t)(i + 1)) != 0)
			abort();
	for (i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	return 0;
}
