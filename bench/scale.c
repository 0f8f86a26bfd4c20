/* SPDX-License-Identifier: MIT */
/*
 * The scale benchmark of issue 5: builds N live blocks (32 to 95 bytes) and
 * exits with them all still allocated. Nine tenths stay reachable, chained
 * in lists hung from a global array of 1024 heads; one tenth is leaked:
 * 40% of the leaked blocks in 2-cycles, 30% in 3-cycles, 30% as lone
 * blocks. Each block is allocated at one of a few hundred distinct call
 * sites (a switch over small non-inlined functions) so that the stack depot
 * holds more than one stack. Just before exit it prints CLOCK_MONOTONIC in
 * ns on standard error ("exit_ns=..."): the runner's end time minus that is
 * the cost of the exit, snapshot included. Usage: scale N.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "xorshift.h"

struct node {
	struct node *next;
	uint64_t payload[3];
};

#define NHEADS 1024
struct node *heads[NHEADS];


#define SITE(n) \
	__attribute__((noinline)) static struct node *site##n(size_t s) \
	{ \
		struct node *p = malloc(s); \
		__asm__ volatile("" : : "r"(p) : "memory"); \
		return p; \
	}
SITE(0) SITE(1) SITE(2) SITE(3) SITE(4) SITE(5) SITE(6) SITE(7)

__attribute__((noinline)) static struct node *alloc_via(unsigned how, unsigned level)
{
	struct node *p;
	size_t s = 32 + (next_rand() & 63);

	if (level > 0) {
		p = alloc_via(how / 8, level - 1);
		__asm__ volatile("" : "+r"(p));
		return p;
	}
	switch (how & 7) {
	case 0: p = site0(s); break;
	case 1: p = site1(s); break;
	case 2: p = site2(s); break;
	case 3: p = site3(s); break;
	case 4: p = site4(s); break;
	case 5: p = site5(s); break;
	case 6: p = site6(s); break;
	default: p = site7(s); break;
	}
	if (!p)
		abort();
	p->next = NULL;
	p->payload[0] = 0;
	return p;
}

static struct node *new_node(void)
{
	uint64_t r = next_rand();

	return alloc_via((unsigned)(r >> 8) & 511, (unsigned)r & 3);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	long leaked = n / 10, i;
	struct timespec ts;

	for (i = 0; i < n - leaked; i++) {
		struct node *p = new_node();
		unsigned h = (unsigned)i & (NHEADS - 1);

		p->next = heads[h];
		heads[h] = p;
	}
	for (i = 0; i < leaked;) {
		long left = leaked - i;
		unsigned kind = (unsigned)(next_rand() % 10);

		if (kind < 4 && left >= 2) {		/* 2-cycle */
			struct node *a = new_node(), *b = new_node();

			a->next = b;
			b->next = a;
			i += 2;
		} else if (kind < 7 && left >= 3) {	/* 3-cycle */
			struct node *a = new_node(), *b = new_node(),
				    *c = new_node();

			a->next = b;
			b->next = c;
			c->next = a;
			i += 3;
		} else {				/* lone block */
			struct node *a = new_node();

			a->payload[1] = 1;
			i += 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(stderr, "exit_ns=%lld\n",
		(long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	return 0;
}
