/* SPDX-License-Identifier: MIT */
/*
 * Strongly connected components of a subset of the shadow graph (in practice
 * the unreachable blocks collect.c found), by Tarjan's algorithm with an
 * explicit call stack: a leaked ring or chain of ten million blocks must not
 * overflow the thread's stack. Which components are cycles, and what they
 * retain, is classify.c's business.
 */
#include <string.h>

#include "graph.h"
#include "hc.h"

#define SCC_NONE UINT32_MAX

int hc_scc_find(const struct hc_graph *g, const uint8_t *in_set,
		uint32_t *comp, uint32_t *ncomp)
{
	uint64_t n = g->nnodes, r;
	uint32_t *idx = NULL, *low = NULL, *stack = NULL, *cs_node = NULL;
	uint64_t *cs_pos = NULL;
	uint32_t counter = 0, nc = 0;
	uint64_t sp = 0, csp;
	int ret = HC_OK;

	*ncomp = 0;
	for (r = 0; r < n; r++)
		comp[r] = SCC_NONE;
	if (n == 0)
		goto out;
	/* idx[v] == 0: not visited yet (Tarjan's indices start at 1 here). */
	idx = hc_mem_calloc(n, sizeof(*idx));
	low = hc_mem_alloc(n * sizeof(*low));
	stack = hc_mem_alloc(n * sizeof(*stack));
	/* The recursion of the textbook version, one frame per node on the
	 * current DFS path: the node and where it is in its successor list. */
	cs_node = hc_mem_alloc(n * sizeof(*cs_node));
	cs_pos = hc_mem_alloc(n * sizeof(*cs_pos));
	if (!idx || !low || !stack || !cs_node || !cs_pos) {
		ret = HC_ERR_NOMEM;
		goto out;
	}
	for (r = 0; r < n; r++) {
		if (!in_set[r] || idx[r])
			continue;
		idx[r] = low[r] = ++counter;
		stack[sp++] = (uint32_t)r;
		cs_node[0] = (uint32_t)r;
		cs_pos[0] = g->out_start[r];
		csp = 1;
		while (csp > 0) {
			uint32_t v = cs_node[csp - 1];

			if (cs_pos[csp - 1] < g->out_start[v + 1]) {
				uint64_t e = g->out_edge[cs_pos[csp - 1]++];
				uint32_t w = g->edges[e].to;

				if (!in_set[w])
					continue;
				if (!idx[w]) {
					idx[w] = low[w] = ++counter;
					stack[sp++] = w;
					cs_node[csp] = w;
					cs_pos[csp] = g->out_start[w];
					csp++;
				} else if (comp[w] == SCC_NONE && idx[w] < low[v]) {
					/* A visited node without a component is
					 * still on Tarjan's stack: nodes get
					 * their component as they leave it. */
					low[v] = idx[w];
				}
				continue;
			}
			/* All successors done: return from v's frame. */
			csp--;
			if (low[v] == idx[v]) {
				uint32_t w;

				do {
					w = stack[--sp];
					comp[w] = nc;
				} while (w != v);
				nc++;
			}
			if (csp > 0) {
				uint32_t u = cs_node[csp - 1];

				if (low[v] < low[u])
					low[u] = low[v];
			}
		}
	}
	*ncomp = nc;
out:
	hc_mem_free(idx);
	hc_mem_free(low);
	hc_mem_free(stack);
	hc_mem_free(cs_node);
	hc_mem_free(cs_pos);
	return ret;
}
