/* SPDX-License-Identifier: MIT */
/*
 * The shadow graph's adjacency: turns a snapshot's flat edge list into
 * compressed sparse row arrays of successors and predecessors, so that the
 * analysis steps (collect.c, scc.c, classify.c) can walk a block's edges in
 * O(degree). The arrays hold indices into the snapshot's edge list, not
 * copies of the edges, so a step can still see offsets. Building is a
 * counting sort, O(nodes + edges); what the edges mean is left to the steps.
 */
#include <string.h>

#include "graph.h"
#include "hc.h"

/*
 * Counting sort of the edge indices by one end. start gets n + 1 offsets,
 * list the edge indices grouped by that end, in edge order within a group
 * (the scan keeps edges sorted by offset, and stable groups keep that order
 * for the report).
 */
static void graph_bucket(const struct hc_edge *edges, uint64_t nedges,
			 uint64_t n, bool by_target, uint64_t *start,
			 uint64_t *list)
{
	uint64_t i, sum = 0;

	memset(start, 0, (n + 1) * sizeof(*start));
	for (i = 0; i < nedges; i++)
		start[(by_target ? edges[i].to : edges[i].from) + 1]++;
	for (i = 1; i <= n; i++) {
		sum += start[i];
		start[i] = sum;
	}
	/* start[v] is the next free slot of group v while filling; shifting
	 * the groups back afterwards would cost a second pass, so fill
	 * through start[v] and restore it by walking down once. */
	for (i = 0; i < nedges; i++) {
		uint64_t v = by_target ? edges[i].to : edges[i].from;

		list[start[v]++] = i;
	}
	for (i = n; i > 0; i--)
		start[i] = start[i - 1];
	start[0] = 0;
}

int hc_graph_build(struct hc_graph *g, const struct hc_snapshot *s)
{
	uint64_t i, n, m;
	int ret = HC_OK;

	if (!g || !s)
		return HC_ERR_ARG;
	memset(g, 0, sizeof(*g));
	n = s->nblocks;
	m = s->nedges;
	/* Node indices travel as uint32_t (edges, component ids), with
	 * UINT32_MAX kept free as "none". */
	if (n >= UINT32_MAX || (n && !s->blocks) || (m && !s->edges)) {
		ret = HC_ERR_ARG;
		goto out;
	}
	for (i = 0; i < m; i++) {
		if (s->edges[i].from >= n || s->edges[i].to >= n) {
			ret = HC_ERR_ARG;
			goto out;
		}
	}
	if (m > SIZE_MAX / sizeof(uint64_t) || n + 1 > SIZE_MAX / sizeof(uint64_t)) {
		ret = HC_ERR_NOMEM;
		goto out;
	}
	g->nnodes = n;
	g->nedges = m;
	g->edges = s->edges;
	g->out_start = hc_mem_alloc((n + 1) * sizeof(uint64_t));
	g->in_start = hc_mem_alloc((n + 1) * sizeof(uint64_t));
	/* One byte for empty lists, so NULL always means failure. */
	g->out_edge = hc_mem_alloc(m ? m * sizeof(uint64_t) : 1);
	g->in_edge = hc_mem_alloc(m ? m * sizeof(uint64_t) : 1);
	if (!g->out_start || !g->in_start || !g->out_edge || !g->in_edge) {
		ret = HC_ERR_NOMEM;
		goto out;
	}
	graph_bucket(s->edges, m, n, false, g->out_start, g->out_edge);
	graph_bucket(s->edges, m, n, true, g->in_start, g->in_edge);
out:
	if (ret != HC_OK)
		hc_graph_fini(g);
	return ret;
}

void hc_graph_fini(struct hc_graph *g)
{
	if (!g)
		return;
	hc_mem_free(g->out_start);
	hc_mem_free(g->out_edge);
	hc_mem_free(g->in_start);
	hc_mem_free(g->in_edge);
	memset(g, 0, sizeof(*g));
}
