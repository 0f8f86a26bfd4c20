/* SPDX-License-Identifier: MIT */
/*
 * The shadow graph in compressed sparse row form, built once from a
 * snapshot's edge list: successors and predecessors of each block, plus the
 * steps of the analysis (collect.c, scc.c, classify.c) that analysis.h
 * strings together. Internal to the core.
 */
#ifndef HC_SRC_GRAPH_H
#define HC_SRC_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis.h"
#include "snapshot.h"

struct hc_graph {
	uint64_t nnodes;
	uint64_t nedges;
	uint64_t *out_start;	/* nnodes + 1 offsets into out_edge */
	uint64_t *out_edge;	/* snapshot edge indices, grouped by source */
	uint64_t *in_start;	/* nnodes + 1 offsets into in_edge */
	uint64_t *in_edge;	/* snapshot edge indices, grouped by target */
	const struct hc_edge *edges;
};

/* Builds g from s. Returns HC_OK, HC_ERR_NOMEM, or HC_ERR_ARG for an edge
 * whose ends are out of range. */
int hc_graph_build(struct hc_graph *g, const struct hc_snapshot *s);
void hc_graph_fini(struct hc_graph *g);

/*
 * collect.c: CPython's update_refs / subtract_refs / move_unreachable over
 * the whole graph. Sets reach[i] to 2 for blocks reachable from the roots
 * through start pointers, 1 for blocks reachable only when interior pointers
 * are followed too, 0 for unreachable ones. Returns HC_OK or HC_ERR_NOMEM.
 */
int hc_collect_reachability(const struct hc_graph *g,
			    const struct hc_snapshot *s, uint8_t *reach);

/*
 * scc.c: iterative Tarjan over the subgraph of nodes with in_set[i] != 0.
 * Writes each such node's component id (0..ncomp-1, in reverse topological
 * order of the condensation: a component's successors have smaller ids) to
 * comp[i], UINT32_MAX for nodes outside the set; *ncomp gets the count.
 * Returns HC_OK or HC_ERR_NOMEM.
 */
int hc_scc_find(const struct hc_graph *g, const uint8_t *in_set,
		uint32_t *comp, uint32_t *ncomp);

#endif
