/* SPDX-License-Identifier: MIT */
/*
 * Names what a snapshot lost (hc_analyze): strings graph.c, collect.c and
 * scc.c together, then gives every block a class (reachable, possible,
 * direct, indirect, cycle), every leaked cycle its members in cycle order,
 * its edges and the bytes it alone keeps alive (dominators over the leaked
 * components), and groups the leaks by class and allocation stack for the
 * report writers. Symbolizing and printing are left to symbolize.c and the
 * report_*.c files.
 */
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "graph.h"
#include "hc.h"

#define CL_NONE UINT32_MAX

/* hc_analysis plus the two pools its cycles point into, freed as one. */
struct cl_analysis {
	struct hc_analysis pub;
	uint32_t *member_pool;
	uint64_t *edge_pool;
};

/* Every array, even an empty one, is a real allocation: NULL means failure. */
static void *cl_calloc(uint64_t count, size_t size)
{
	if (count > SIZE_MAX / size)
		return NULL;
	return hc_mem_calloc(count ? (size_t)count : 1, size);
}

const char *hc_leak_class_name(enum hc_leak_class c)
{
	static const char *const names[HC_CLASS_COUNT] = {
		[HC_CLASS_REACHABLE] = "reachable",
		[HC_CLASS_DIRECT] = "direct",
		[HC_CLASS_INDIRECT] = "indirect",
		[HC_CLASS_POSSIBLE] = "possible",
		[HC_CLASS_CYCLE] = "cycle",
	};

	if ((unsigned)c >= HC_CLASS_COUNT)
		return "unknown";
	return names[c];
}

void hc_analysis_free(struct hc_analysis *a)
{
	struct cl_analysis *ca = (struct cl_analysis *)a;

	if (!a)
		return;
	hc_mem_free(a->block_class);
	hc_mem_free(a->block_cycle);
	hc_mem_free(a->groups);
	hc_mem_free(a->cycles);
	hc_mem_free(ca->member_pool);
	hc_mem_free(ca->edge_pool);
	hc_mem_free(ca);
}

/*
 * The lowest common ancestor of a and b in the dominator tree built so far
 * (idom, depth; the virtual root has depth 0). Walking up is linear in the
 * depth, which is what the chains and rings seen in practice need.
 */
static uint32_t cl_lca(const uint32_t *idom, const uint32_t *depth,
		       uint32_t a, uint32_t b)
{
	while (a != b) {
		if (depth[a] >= depth[b])
			a = idom[a];
		else
			b = idom[b];
	}
	return a;
}

/*
 * Members of leaked component c in cycle order: from the member born first,
 * follow successors inside the component while one is new (a ring or a
 * two-cycle comes out as A -> B -> ...), then add whatever a complex
 * component has left in breadth-first order from those. in_set marks the
 * leaked blocks with 1; a block placed here gets 2. Returns the count
 * written to out.
 */
static uint32_t cl_cycle_order(const struct hc_graph *g,
			       const struct hc_snapshot *s,
			       const uint32_t *comp, uint8_t *in_set,
			       const uint32_t *cmember, uint64_t cbegin,
			       uint64_t cend, uint32_t c, uint32_t *out)
{
	uint32_t first = cmember[cbegin], cur, n = 0, i;
	uint64_t k;

	for (k = cbegin + 1; k < cend; k++) {
		if (s->blocks[cmember[k]].seq < s->blocks[first].seq)
			first = cmember[k];
	}
	out[n++] = first;
	in_set[first] = 2;
	cur = first;
	for (;;) {
		uint32_t next = CL_NONE;

		for (k = g->out_start[cur]; k < g->out_start[cur + 1]; k++) {
			uint32_t w = g->edges[g->out_edge[k]].to;

			if (comp[w] == c && in_set[w] == 1) {
				next = w;
				break;
			}
		}
		if (next == CL_NONE)
			break;
		out[n++] = next;
		in_set[next] = 2;
		cur = next;
	}
	for (i = 0; i < n && n < cend - cbegin; i++) {
		uint32_t v = out[i];

		for (k = g->out_start[v]; k < g->out_start[v + 1]; k++) {
			uint32_t w = g->edges[g->out_edge[k]].to;

			if (comp[w] == c && in_set[w] == 1) {
				out[n++] = w;
				in_set[w] = 2;
			}
		}
	}
	return n;
}

static int cl_cycle_cmp(const void *pa, const void *pb)
{
	const struct hc_cycle *a = pa, *b = pb;

	if (a->retained_bytes != b->retained_bytes)
		return a->retained_bytes > b->retained_bytes ? -1 : 1;
	if (a->retained_blocks != b->retained_blocks)
		return a->retained_blocks > b->retained_blocks ? -1 : 1;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	/* Distinct cycles have distinct members: a total order. */
	return a->members[0] < b->members[0] ? -1 : 1;
}

static int cl_group_cmp(const void *pa, const void *pb)
{
	const struct hc_leak_group *a = pa, *b = pb;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->blocks != b->blocks)
		return a->blocks > b->blocks ? -1 : 1;
	if (a->cls != b->cls)
		return a->cls < b->cls ? -1 : 1;
	if (a->stack != b->stack)
		return a->stack < b->stack ? -1 : 1;
	return 0;
}

/*
 * One group per (leak class, stack): slot[(cls - 1) * nstacks + stack]
 * holds a group's index, so grouping is linear in the blocks and stacks.
 */
static int cl_groups(const struct hc_snapshot *s, struct hc_analysis *a)
{
	uint64_t nslots = (uint64_t)(HC_CLASS_COUNT - 1) * s->nstacks;
	uint64_t *slot = NULL, i, ng = 0;
	int ret = HC_OK;

	slot = cl_calloc(nslots, sizeof(*slot));
	if (!slot) {
		ret = HC_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < nslots; i++)
		slot[i] = UINT64_MAX;
	for (i = 0; i < a->nblocks; i++) {
		uint8_t cls = a->block_class[i];
		uint64_t k;

		if (cls == HC_CLASS_REACHABLE)
			continue;
		k = (uint64_t)(cls - 1) * s->nstacks + s->blocks[i].stack;
		if (slot[k] == UINT64_MAX)
			slot[k] = ng++;
	}
	a->groups = cl_calloc(ng, sizeof(*a->groups));
	if (!a->groups) {
		ret = HC_ERR_NOMEM;
		goto out;
	}
	a->ngroups = ng;
	for (i = 0; i < a->nblocks; i++) {
		const struct hc_block *b = &s->blocks[i];
		uint8_t cls = a->block_class[i];
		struct hc_leak_group *gr;

		if (cls == HC_CLASS_REACHABLE)
			continue;
		gr = &a->groups[slot[(uint64_t)(cls - 1) * s->nstacks + b->stack]];
		if (gr->blocks == 0 || b->seq < s->blocks[gr->first_block].seq)
			gr->first_block = i;
		gr->cls = cls;
		gr->stack = b->stack;
		gr->blocks++;
		gr->bytes += b->size;
	}
	qsort(a->groups, ng, sizeof(*a->groups), cl_group_cmp);
out:
	hc_mem_free(slot);
	return ret;
}

/* Arrays of one run, released together at the end of hc_analyze. */
struct cl_work {
	struct hc_graph g;
	uint8_t *reach;		/* collect.c's levels */
	uint8_t *in_set;	/* 1 for leaked blocks (2 once placed in a cycle) */
	uint32_t *comp;		/* component of each leaked block */
	uint64_t *cstart;	/* ncomp + 1 offsets into cmember */
	uint32_t *cmember;	/* leaked blocks grouped by component */
	uint8_t *cflags;	/* CL_SELF, CL_PRED per component */
	uint64_t *cedges;	/* edges inside each component */
	uint32_t *idom;		/* immediate dominator; ncomp is the virtual root */
	uint32_t *depth;	/* in the dominator tree, ncomp + 1 entries */
	uint64_t *rbytes, *rblocks;
	uint32_t *cycle_of;	/* component -> index in cycles, or CL_NONE */
};

enum {
	CL_SELF = 1u << 0,	/* a member has an edge to itself */
	CL_PRED = 1u << 1,	/* a leaked block outside points into it */
};

static void cl_work_fini(struct cl_work *w)
{
	hc_graph_fini(&w->g);
	hc_mem_free(w->reach);
	hc_mem_free(w->in_set);
	hc_mem_free(w->comp);
	hc_mem_free(w->cstart);
	hc_mem_free(w->cmember);
	hc_mem_free(w->cflags);
	hc_mem_free(w->cedges);
	hc_mem_free(w->idom);
	hc_mem_free(w->depth);
	hc_mem_free(w->rbytes);
	hc_mem_free(w->rblocks);
	hc_mem_free(w->cycle_of);
}

static bool cl_is_cycle(const struct cl_work *w, uint32_t c)
{
	return w->cstart[c + 1] - w->cstart[c] >= 2 || (w->cflags[c] & CL_SELF);
}

/*
 * Dominators on the condensation of the leaked subgraph, with a virtual
 * root (id nc) above every origin. Tarjan numbered the components so that
 * successors have smaller ids, so descending ids is a topological order and
 * every predecessor's idom is known when a component is reached; on a DAG
 * the idom is then the LCA of the predecessors (Cooper, Harvey and Kennedy
 * without the fixpoint iteration). What a component retains is the sum
 * over its dominator subtree; children have smaller ids than their idom,
 * so one ascending pass adds each subtree into its parent.
 */
static void cl_dominators(const struct hc_snapshot *s, struct cl_work *w,
			  uint32_t nc)
{
	const struct hc_graph *g = &w->g;
	uint32_t c;
	uint64_t k, j;

	w->depth[nc] = 0;
	for (c = nc; c-- > 0;) {
		uint32_t d = CL_NONE;

		for (k = w->cstart[c]; k < w->cstart[c + 1]; k++) {
			uint32_t v = w->cmember[k];

			for (j = g->in_start[v]; j < g->in_start[v + 1]; j++) {
				uint32_t u = g->edges[g->in_edge[j]].from;
				uint32_t p = w->comp[u];

				if (p == CL_NONE || p == c)
					continue;
				d = d == CL_NONE ? p : cl_lca(w->idom, w->depth, d, p);
			}
		}
		w->idom[c] = d == CL_NONE ? nc : d;
		w->depth[c] = w->depth[w->idom[c]] + 1;
		w->rbytes[c] = 0;
		w->rblocks[c] = w->cstart[c + 1] - w->cstart[c];
		for (k = w->cstart[c]; k < w->cstart[c + 1]; k++)
			w->rbytes[c] += s->blocks[w->cmember[k]].size;
	}
	for (c = 0; c < nc; c++) {
		if (w->idom[c] == nc)
			continue;
		w->rbytes[w->idom[c]] += w->rbytes[c];
		w->rblocks[w->idom[c]] += w->rblocks[c];
	}
}

/* Fills a->cycles (and a->block_cycle) from the cyclic components. */
static int cl_cycles(const struct hc_snapshot *s, struct cl_work *w,
		     uint32_t nc, struct cl_analysis *ca)
{
	struct hc_analysis *a = &ca->pub;
	const struct hc_graph *g = &w->g;
	uint64_t nmem = 0, nedg = 0, mpos = 0, epos = 0, k, j;
	uint32_t c, ncyc = 0, i;
	int ret = HC_OK;

	for (c = 0; c < nc; c++) {
		w->cycle_of[c] = CL_NONE;
		if (!cl_is_cycle(w, c))
			continue;
		/* A cycle's edge list is uint32_t-counted. */
		if (w->cedges[c] > UINT32_MAX) {
			ret = HC_ERR_ARG;
			goto out;
		}
		w->cycle_of[c] = ncyc++;
		nmem += w->cstart[c + 1] - w->cstart[c];
		nedg += w->cedges[c];
	}
	a->cycles = cl_calloc(ncyc, sizeof(*a->cycles));
	ca->member_pool = cl_calloc(nmem, sizeof(*ca->member_pool));
	ca->edge_pool = cl_calloc(nedg, sizeof(*ca->edge_pool));
	if (!a->cycles || !ca->member_pool || !ca->edge_pool) {
		ret = HC_ERR_NOMEM;
		goto out;
	}
	a->ncycles = ncyc;
	for (c = 0; c < nc; c++) {
		struct hc_cycle *cy;
		uint32_t *mem = ca->member_pool + mpos;
		uint64_t *edg = ca->edge_pool + epos;
		uint32_t m;

		if (w->cycle_of[c] == CL_NONE)
			continue;
		cy = &a->cycles[w->cycle_of[c]];
		m = cl_cycle_order(g, s, w->comp, w->in_set, w->cmember,
				   w->cstart[c], w->cstart[c + 1], c, mem);
		hc_assert(m == w->cstart[c + 1] - w->cstart[c]);
		cy->nmembers = m;
		cy->members = mem;
		mpos += m;
		/* Edges follow the member order, each member's in scan order. */
		cy->nedges = 0;
		for (i = 0; i < m; i++) {
			uint32_t v = mem[i];

			cy->bytes += s->blocks[v].size;
			for (k = g->out_start[v]; k < g->out_start[v + 1]; k++) {
				j = g->out_edge[k];
				if (w->comp[g->edges[j].to] == c)
					edg[cy->nedges++] = j;
			}
		}
		cy->edges = edg;
		epos += cy->nedges;
		cy->retained_bytes = w->rbytes[c];
		cy->retained_blocks = w->rblocks[c];
		cy->is_root = !(w->cflags[c] & CL_PRED);
	}
	qsort(a->cycles, ncyc, sizeof(*a->cycles), cl_cycle_cmp);
	for (i = 0; i < ncyc; i++) {
		for (j = 0; j < a->cycles[i].nmembers; j++)
			a->block_cycle[a->cycles[i].members[j]] = i + 1;
	}
out:
	return ret;
}

int hc_analyze(const struct hc_snapshot *s, struct hc_analysis **out)
{
	struct cl_work w;
	struct cl_analysis *ca = NULL;
	struct hc_analysis *a;
	uint64_t n, i, k;
	uint32_t nc = 0, c;
	int ret;

	memset(&w, 0, sizeof(w));
	if (out)
		*out = NULL;
	if (!s || !out)
		return HC_ERR_ARG;
	n = s->nblocks;
	for (i = 0; i < n; i++) {
		if (s->blocks[i].stack >= s->nstacks) {
			ret = HC_ERR_ARG;
			goto out;
		}
	}
	ret = hc_graph_build(&w.g, s);
	if (ret != HC_OK)
		goto out;
	ca = hc_mem_calloc(1, sizeof(*ca));
	w.reach = cl_calloc(n, 1);
	w.in_set = cl_calloc(n, 1);
	w.comp = cl_calloc(n, sizeof(*w.comp));
	if (!ca || !w.reach || !w.in_set || !w.comp) {
		ret = HC_ERR_NOMEM;
		goto out;
	}
	a = &ca->pub;
	a->nblocks = n;
	a->block_class = cl_calloc(n, sizeof(*a->block_class));
	a->block_cycle = cl_calloc(n, sizeof(*a->block_cycle));
	if (!a->block_class || !a->block_cycle) {
		ret = HC_ERR_NOMEM;
		goto out;
	}

	ret = hc_collect_reachability(&w.g, s, w.reach);
	if (ret != HC_OK)
		goto out;
	for (i = 0; i < n; i++)
		w.in_set[i] = w.reach[i] == 0;
	ret = hc_scc_find(&w.g, w.in_set, w.comp, &nc);
	if (ret != HC_OK)
		goto out;

	/* Leaked blocks grouped by component (counting sort). */
	w.cstart = cl_calloc((uint64_t)nc + 1, sizeof(*w.cstart));
	w.cflags = cl_calloc(nc, sizeof(*w.cflags));
	w.cedges = cl_calloc(nc, sizeof(*w.cedges));
	w.idom = cl_calloc(nc, sizeof(*w.idom));
	w.depth = cl_calloc((uint64_t)nc + 1, sizeof(*w.depth));
	w.rbytes = cl_calloc(nc, sizeof(*w.rbytes));
	w.rblocks = cl_calloc(nc, sizeof(*w.rblocks));
	w.cycle_of = cl_calloc(nc, sizeof(*w.cycle_of));
	if (!w.cstart || !w.cflags || !w.cedges || !w.idom || !w.depth ||
	    !w.rbytes || !w.rblocks || !w.cycle_of) {
		ret = HC_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (w.comp[i] != CL_NONE)
			w.cstart[w.comp[i] + 1]++;
	}
	for (c = 0; c < nc; c++)
		w.cstart[c + 1] += w.cstart[c];
	w.cmember = cl_calloc(w.cstart[nc], sizeof(*w.cmember));
	if (!w.cmember) {
		ret = HC_ERR_NOMEM;
		goto out;
	}
	/* Fill through the start offsets, which leaves each at the next
	 * component's start; shift them back as graph.c does. */
	for (i = 0; i < n; i++) {
		if (w.comp[i] != CL_NONE)
			w.cmember[w.cstart[w.comp[i]]++] = (uint32_t)i;
	}
	for (c = nc; c > 0; c--)
		w.cstart[c] = w.cstart[c - 1];
	w.cstart[0] = 0;
	for (k = 0; k < s->nedges; k++) {
		const struct hc_edge *e = &s->edges[k];
		uint32_t cf = w.comp[e->from], ct = w.comp[e->to];

		if (cf == CL_NONE || ct == CL_NONE)
			continue;
		if (cf != ct) {
			w.cflags[ct] |= CL_PRED;
			continue;
		}
		w.cedges[ct]++;
		if (e->from == e->to)
			w.cflags[ct] |= CL_SELF;
	}

	/* Origins (nothing leaked points in) are what the program dropped:
	 * a lone block is "direct", a cycle is "cycle"; the rest was lost
	 * with them and is "indirect", cycles among it included. */
	for (i = 0; i < n; i++) {
		uint8_t cls;

		if (w.reach[i] == 2) {
			cls = HC_CLASS_REACHABLE;
		} else if (w.reach[i] == 1) {
			cls = HC_CLASS_POSSIBLE;
		} else {
			c = w.comp[i];
			if (w.cflags[c] & CL_PRED)
				cls = HC_CLASS_INDIRECT;
			else if (cl_is_cycle(&w, c))
				cls = HC_CLASS_CYCLE;
			else
				cls = HC_CLASS_DIRECT;
		}
		a->block_class[i] = cls;
		a->totals[cls].blocks++;
		a->totals[cls].bytes += s->blocks[i].size;
	}

	cl_dominators(s, &w, nc);
	ret = cl_cycles(s, &w, nc, ca);
	if (ret != HC_OK)
		goto out;
	ret = cl_groups(s, a);
	if (ret != HC_OK)
		goto out;
	*out = a;
	ca = NULL;
out:
	cl_work_fini(&w);
	if (ca)
		hc_analysis_free(&ca->pub);
	return ret;
}
