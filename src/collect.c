/* SPDX-License-Identifier: MIT */
/*
 * Reachability from the roots: the first half of CPython's cycle collector
 * (Modules/gcmodule.c: update_refs, subtract_refs, move_unreachable) run
 * over the shadow graph of a whole snapshot. It decides which blocks are
 * still referenced (and whether only through interior pointers); splitting
 * the rest into cycles and trees, and naming them, is scc.c's and
 * classify.c's job. Walks are iterative with an explicit queue, so a chain
 * of ten million blocks costs memory, not stack.
 */
#include <string.h>

#include "blocktable.h"
#include "graph.h"
#include "hc.h"

/*
 * Whether edge e points at its target's start. operator new[] of a type
 * with a destructor stores the element count in the first 8 bytes of the
 * block (the Itanium C++ ABI "array cookie") and hands the program
 * block + 8, so for HC_ALLOC_NEW_ARRAY blocks that offset is the start the
 * program knows. A new[] of a trivially destructible type has no cookie and
 * its +8 is an element, which this cannot tell apart: it errs on the side
 * of "reachable", which costs a missed "possible" at worst.
 */
static bool collect_start_edge(const struct hc_snapshot *s,
			       const struct hc_edge *e)
{
	return e->to_offset == 0 ||
	       (e->to_offset == 8 &&
		s->blocks[e->to].kind == HC_ALLOC_NEW_ARRAY);
}

/*
 * Blocks the dynamic loader allocated (a thread's dtv, dynamic TLS, link
 * maps) are held from places no scan sees whole: glibc points one word into
 * a dtv, and keeps the dtv of an exited thread with its cached stack.
 * LeakSanitizer treats them as reachable too; they count as one root.
 */
static uint64_t collect_loader_root(const struct hc_block *b)
{
	return (b->flags & HC_BLOCK_LOADER) ? 1 : 0;
}

/*
 * Root words pointing at block b's start. The scan counts a root word
 * pointing at a new[] block's cookie offset as interior, and the snapshot
 * keeps no offset for root words, so for HC_ALLOC_NEW_ARRAY blocks every
 * interior root word is taken as a start pointer (the array's only pointer
 * usually lives in a local or a global, so this matters).
 */
static uint64_t collect_start_roots(const struct hc_block *b)
{
	uint64_t n = b->root_refs + collect_loader_root(b);

	if (b->kind == HC_ALLOC_NEW_ARRAY)
		n += b->root_interior_refs;
	return n;
}

/*
 * One collection at one strictness: interior == false follows only start
 * pointers, true follows every pointer. Marks every block it proves
 * reachable with level in reach (blocks already marked by a stricter pass
 * keep their mark and seed this one). queue has room for nnodes entries.
 */
static void collect_pass(const struct hc_graph *g, const struct hc_snapshot *s,
			 bool interior, uint8_t level, uint64_t *gc_refs,
			 uint32_t *queue, uint8_t *reach, const uint64_t *unseen)
{
	uint64_t n = g->nnodes, i, head = 0, tail = 0;

	/* update_refs: gc_refs starts as the block's reference count as far
	 * as the scan can see it, root words plus heap edges into it. */
	for (i = 0; i < n; i++) {
		const struct hc_block *b = &s->blocks[i];

		gc_refs[i] = interior ?
			(uint64_t)b->root_refs + b->root_interior_refs + collect_loader_root(b) :
			collect_start_roots(b);
		if (unseen)
			gc_refs[i] += unseen[i];
	}
	for (i = 0; i < g->nedges; i++) {
		if (interior || collect_start_edge(s, &g->edges[i]))
			gc_refs[g->edges[i].to]++;
	}
	/* subtract_refs: every edge whose source is in the collected set (here
	 * every block) is accounted for inside the heap; take it away. What is
	 * left is the references from outside, the roots. Over a whole
	 * snapshot the two loops cancel to the root count, but the shape is
	 * kept so a partial (generational) collection, where edges from
	 * outside the set are not subtracted, drops in unchanged. */
	for (i = 0; i < g->nedges; i++) {
		if (interior || collect_start_edge(s, &g->edges[i]))
			gc_refs[g->edges[i].to]--;
	}
	/* move_unreachable: CPython walks its list moving gc_refs == 0 objects
	 * to "unreachable" tentatively and pulling them back when a reachable
	 * object refers to them; a breadth-first walk from every block with
	 * external references reaches the same partition in O(N + E). */
	for (i = 0; i < n; i++) {
		if (reach[i] >= level) {
			queue[tail++] = (uint32_t)i;
		} else if (gc_refs[i] > 0) {
			reach[i] = level;
			queue[tail++] = (uint32_t)i;
		}
	}
	while (head < tail) {
		uint32_t v = queue[head++];
		uint64_t k;

		for (k = g->out_start[v]; k < g->out_start[v + 1]; k++) {
			const struct hc_edge *e = &g->edges[g->out_edge[k]];

			if (reach[e->to] >= level)
				continue;
			if (!interior && !collect_start_edge(s, e))
				continue;
			reach[e->to] = level;
			queue[tail++] = e->to;
		}
	}
}

int hc_collect_reachability(const struct hc_graph *g,
			    const struct hc_snapshot *s, uint8_t *reach)
{
	uint64_t n = g->nnodes;
	uint64_t *gc_refs = NULL, *unseen = NULL;
	uint32_t *queue = NULL;
	int ret = HC_OK;

	memset(reach, 0, n);
	if (n == 0)
		goto out;
	gc_refs = hc_mem_alloc(n * sizeof(*gc_refs));
	queue = hc_mem_alloc(n * sizeof(*queue));
	if (!gc_refs || !queue) {
		ret = HC_ERR_NOMEM;
		goto out;
	}
	/* Strict pass first: a block reachable through start pointers is
	 * "reachable" even if some interior pointer also reaches it. */
	if (s->ntracked) {
		uint64_t k;

		unseen = hc_mem_calloc(n, sizeof(*unseen));
		if (!unseen) {
			ret = HC_ERR_NOMEM;
			goto out;
		}
		/*
		 * update_refs for tracked objects: gc_refs starts from the
		 * object's own count. The references the scan found in the heap
		 * are subtracted as for any block; a count above them is held
		 * from somewhere the scan cannot see (a register it missed,
		 * memory that is not a block) and keeps the object alive, as an
		 * external reference does in CPython.
		 */
		for (k = 0; k < s->ntracked; k++) {
			const struct hc_tracked *t = &s->tracked[k];
			uint64_t seen;

			if (t->block >= n)
				continue;
			seen = g->in_start[t->block + 1] - g->in_start[t->block];
			if (t->refcount > seen)
				unseen[t->block] = t->refcount - seen;
		}
	}
	collect_pass(g, s, false, 2, gc_refs, queue, reach, unseen);
	collect_pass(g, s, true, 1, gc_refs, queue, reach, unseen);
out:
	hc_mem_free(gc_refs);
	hc_mem_free(queue);
	hc_mem_free(unseen);
	return ret;
}
