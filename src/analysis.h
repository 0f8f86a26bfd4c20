/* SPDX-License-Identifier: MIT */
/*
 * What a snapshot lost: DESIGN.md's algorithm over the shadow graph
 * (graph.c builds it, collect.c finds what is unreachable the way CPython's
 * gcmodule.c does, scc.c splits it into strongly connected components,
 * classify.c names each leak and groups them). Plain functions over explicit
 * inputs, so each step is unit-tested on hand-built snapshots.
 */
#ifndef HC_SRC_ANALYSIS_H
#define HC_SRC_ANALYSIS_H

#include <stdbool.h>
#include <stdint.h>

#include "snapshot.h"

/* The vocabulary users know from Valgrind and LeakSanitizer, plus cycles. */
enum hc_leak_class {
	HC_CLASS_REACHABLE = 0,	/* still referenced from a root: not a leak */
	HC_CLASS_DIRECT = 1,	/* unreachable, no leaked block points at it */
	HC_CLASS_INDIRECT = 2,	/* unreachable, only leaked blocks point at it */
	HC_CLASS_POSSIBLE = 3,	/* reachable only through an interior pointer */
	HC_CLASS_CYCLE = 4,	/* member of a leaked cycle nothing else leaked points at */
	HC_CLASS_COUNT
};

/* Returns "reachable", "direct", "indirect", "possible", "cycle". */
const char *hc_leak_class_name(enum hc_leak_class c);

/* Blocks of one class allocated from one stack. */
struct hc_leak_group {
	enum hc_leak_class cls;
	uint32_t stack;		/* index into snapshot stacks */
	uint64_t blocks;
	uint64_t bytes;
	uint64_t first_block;	/* index of one member (lowest seq), for examples */
	const char *suppressed_by; /* name of the suppression that matched, or NULL
				    * (set by hc_suppress_apply, suppress.h) */
};

/* A leaked strongly connected component with two or more members, or one
 * member with an edge to itself. */
struct hc_cycle {
	uint32_t nmembers;
	const uint32_t *members;	/* block indices, in cycle order where one exists */
	uint32_t nedges;
	const uint64_t *edges;		/* indices into snapshot edges, both ends members */
	uint64_t bytes;			/* sum of the members' sizes */
	uint64_t retained_bytes;	/* members plus what only the cycle keeps alive */
	uint64_t retained_blocks;
	bool is_root;			/* no leaked block outside the cycle points at it */
	const char *suppressed_by;	/* as in hc_leak_group */
};

struct hc_class_total {
	uint64_t blocks;
	uint64_t bytes;
};

struct hc_analysis {
	uint64_t nblocks;
	uint8_t *block_class;		/* enum hc_leak_class per block */
	uint32_t *block_cycle;		/* cycle index + 1 per block, 0 when in none */
	struct hc_class_total totals[HC_CLASS_COUNT];
	struct hc_class_total suppressed; /* leaked blocks whose group is suppressed
					   * (still counted in totals) */
	uint64_t ngroups;
	struct hc_leak_group *groups;	/* leaks only (no REACHABLE), bytes descending */
	uint32_t ncycles;
	struct hc_cycle *cycles;	/* retained_bytes descending */
};

/*
 * Runs the whole analysis on s. Returns HC_OK with *out set (release with
 * hc_analysis_free), HC_ERR_NOMEM, or HC_ERR_ARG if s has an edge or stack
 * index out of range (the reader already rejects those). Iterative
 * throughout: a 10-million-node chain does not overflow the stack.
 */
int hc_analyze(const struct hc_snapshot *s, struct hc_analysis **out);
void hc_analysis_free(struct hc_analysis *a);

#endif
