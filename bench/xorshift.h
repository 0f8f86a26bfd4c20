/* SPDX-License-Identifier: MIT */
/*
 * The benchmarks' pseudo-random numbers: xorshift64, seeded the same in
 * every run, so that a program builds the same heap each time.
 */
#ifndef HC_BENCH_XORSHIFT_H
#define HC_BENCH_XORSHIFT_H

#include <stdint.h>

static uint64_t rng = 88172645463325252u;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#endif
