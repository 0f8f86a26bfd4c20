/* SPDX-License-Identifier: MIT */
/*
 * The conservative scan: which words of the roots and of the live blocks
 * hold values that point into a live block (at its start or inside it).
 * Runs in the shim with the world stopped, so it allocates only from the
 * arena it is given and calls nothing that may lock. Reads each block only
 * up to its requested size and never reads freed memory.
 */
#ifndef HC_SRC_SCAN_H
#define HC_SRC_SCAN_H

#include <stdint.h>

#include "arena.h"
#include "snapshot.h"

/* Sorts blocks by address (LSD radix sort: no recursion, no malloc).
 * Returns 0, or -1 when the arena is exhausted. AS-Safe. */
int hc_scan_sort_blocks(struct hc_block *blocks, uint64_t n, struct hc_arena *arena);

/*
 * Returns the index of the block containing the address v (a zero-size
 * block contains only its own address), or -1; *offset gets v - addr.
 * blocks must be sorted and non-overlapping. AS-Safe.
 */
int64_t hc_scan_find(const struct hc_block *blocks, uint64_t n, uintptr_t v,
		     uint64_t *offset);

/*
 * Scans the aligned words of [lo, hi) as a root of the given kind and adds
 * one to root_refs (a start pointer) or root_interior_refs of each block a
 * word points into; root_kind is set on the block's first root reference.
 * The caller guarantees the range is readable. AS-Safe.
 */
void hc_scan_root_range(struct hc_block *blocks, uint64_t n, uintptr_t lo,
			uintptr_t hi, enum hc_root_kind kind);

/* Same for an array of words held elsewhere (saved registers). */
void hc_scan_root_words(struct hc_block *blocks, uint64_t n,
			const uintptr_t *words, unsigned nwords,
			enum hc_root_kind kind);

/*
 * Scans every block's aligned words (up to its requested size) and returns
 * the edges found, sorted by (from, from_offset), in *edges (arena memory).
 * Returns 0, or -1 when the arena is exhausted. AS-Safe.
 */
int hc_scan_edges(const struct hc_block *blocks, uint64_t n, struct hc_arena *arena,
		  struct hc_edge **edges, uint64_t *nedges);

#endif
