/* SPDX-License-Identifier: MIT */
/*
 * The Graphviz report: one digraph holding each leaked cycle of each
 * process as a cluster. A member is a node (number, address, size, type
 * name when one is known, allocating function and line); a pointer between
 * members is an edge labelled with its byte offset. The leaked blocks the
 * cycle keeps alive hang off it in lighter nodes, up to a limit. This file
 * owns the drawing and DOT's string escaping; frames come from report.c.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define HC_DOT_RETAINED_MAX 64u		/* retained blocks drawn per cycle */

struct dot_ctx {
	FILE *out;
	const struct hc_report_opts *opts;
	const struct hc_report_input *in;
	size_t proc;
	struct hc_report_frames fr;
	uint8_t *mark;		/* per block: 1 member, 2 retained and drawn */
	uint64_t *queue;
	int rc;
};

/* Writes s inside a DOT double-quoted string. Backslash starts DOT's own
 * escapes (\N, \l, ...), so it is doubled; control characters become
 * spaces and invalid UTF-8 U+FFFD, which Graphviz would otherwise reject. */
static void dot_str(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = str ? strlen(str) : 0, len;

	while (n) {
		len = 1;
		if (*s == '"' || *s == '\\') {
			fputc('\\', out);
			fputc(*s, out);
		} else if (*s < 0x20 || *s == 0x7f) {
			fputc(' ', out);
		} else {
			len = hc_report_put_utf8(out, s, n, "\xef\xbf\xbd");
		}
		s += len;
		n -= len;
	}
}

/* "person_new\nperson.c:39" for the block's allocating frame. */
static void alloc_label(struct dot_ctx *c, const struct hc_block *b)
{
	const struct hc_frame *f;
	int r, a;

	r = hc_report_frames_get(&c->fr, c->in->sym, c->in->snap, b->stack, 0);
	if (r != HC_OK)
		c->rc = r;
	a = hc_report_alloc_frame(&c->fr);
	if (a < 0)
		return;
	f = &c->fr.f[a];
	fputs("\\n", c->out);
	dot_str(c->out, f->function ? f->function : "??");
	if (f->file) {
		fputs("\\n", c->out);
		dot_str(c->out, hc_report_basename(f->file));
		if (f->line)
			fprintf(c->out, ":%u", f->line);
	}
}

static void edge_label(FILE *out, const struct hc_edge *e)
{
	if (e->to_offset)
		fprintf(out, "+%" PRIu64 " \xe2\x86\x92 +%" PRIu64, e->from_offset, e->to_offset);
	else
		fprintf(out, "+%" PRIu64, e->from_offset);
}

/* First edge leaving block b: edges are sorted by (from, from_offset). */
static uint64_t first_edge(const struct hc_snapshot *s, uint64_t b)
{
	uint64_t lo = 0, hi = s->nedges, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->edges[mid].from < b)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool leaked(const struct hc_analysis *an, uint64_t b)
{
	return b < an->nblocks && an->block_class && an->block_class[b] != HC_CLASS_REACHABLE;
}

/* Draws the leaked blocks reachable from the cycle (breadth first, so the
 * nearest are the ones kept when there are too many). */
static void retained(struct dot_ctx *c, const struct hc_cycle *cy)
{
	const struct hc_snapshot *s = c->in->snap;
	const struct hc_analysis *an = c->in->an;
	uint64_t head = 0, tail = 0, drawn = 0, more = 0, e, b;
	uint32_t i;

	for (i = 0; i < cy->nmembers; i++)
		c->queue[tail++] = cy->members[i];
	while (head < tail) {
		b = c->queue[head++];
		for (e = first_edge(s, b); e < s->nedges && s->edges[e].from == b; e++) {
			const struct hc_edge *ed = &s->edges[e];

			if (ed->to >= s->nblocks || c->mark[ed->to] == 1 || !leaked(an, ed->to))
				continue;
			if (!c->mark[ed->to]) {
				if (drawn == HC_DOT_RETAINED_MAX) {
					c->mark[ed->to] = 3;	/* counted, not drawn */
					more++;
					continue;
				}
				c->mark[ed->to] = 2;
				c->queue[tail++] = ed->to;
				drawn++;
				fprintf(c->out, "  p%zu_b%u [label=\"0x%" PRIx64 "\\n%" PRIu64
					" bytes", c->proc, ed->to, s->blocks[ed->to].addr,
					s->blocks[ed->to].size);
				alloc_label(c, &s->blocks[ed->to]);
				fputs("\", color=\"#999999\", fontcolor=\"#555555\", "
				      "fillcolor=\"#f4f4f4\", style=\"rounded,filled,dashed\"];\n", c->out);
			}
			if (c->mark[ed->to] != 2)
				continue;
			fprintf(c->out, "  p%zu_b%u -> p%zu_b%u [label=\"", c->proc, ed->from,
				c->proc, ed->to);
			edge_label(c->out, ed);
			fputs("\", color=\"#999999\", fontcolor=\"#777777\", style=dashed];\n", c->out);
		}
	}
	if (more)
		fprintf(c->out, "  p%zu_more_%u [shape=plaintext, label=\"... and %" PRIu64
			" more retained block(s)\", fontcolor=\"#777777\"];\n", c->proc,
			cy->members[0], more);
	/* Leave the marks clean for the next cycle. */
	for (i = 0; i < tail; i++)
		c->mark[c->queue[i]] = 0;
	if (more)
		memset(c->mark, 0, s->nblocks);
}

static void cycle(struct dot_ctx *c, uint32_t k, const struct hc_cycle *cy)
{
	const struct hc_snapshot *s = c->in->snap;
	const struct hc_block *b;
	uint32_t i;

	fprintf(c->out, "  subgraph cluster_p%zu_c%u {\n    label=\"pid %u: leaked cycle %u: %"
		PRIu64 " bytes in %u object(s), retaining %" PRIu64 " bytes in %" PRIu64
		" object(s)%s\";\n    color=\"#c0392b\"; fontcolor=\"#c0392b\"; style=rounded;\n",
		c->proc, k, s->pid, k + 1, cy->bytes, cy->nmembers, cy->retained_bytes,
		cy->retained_blocks, cy->is_root ? "" : " (held by another leak)");
	for (i = 0; i < cy->nmembers; i++) {
		b = &s->blocks[cy->members[i]];
		char tbuf[300];
		const char *type = hc_report_block_type(s, c->in->sym, cy->members[i], tbuf,
							sizeof(tbuf));

		fprintf(c->out, "    p%zu_b%u [label=\"#%u  ", c->proc, cy->members[i], i);
		if (type) {
			dot_str(c->out, type);
			fputs("\\n", c->out);
		}
		fprintf(c->out, "0x%" PRIx64 "\\n%" PRIu64 " bytes", b->addr, b->size);
		alloc_label(c, b);
		fputs("\"];\n", c->out);
	}
	fputs("  }\n", c->out);
	for (i = 0; i < cy->nedges; i++) {
		const struct hc_edge *e = &s->edges[cy->edges[i]];

		if (hc_report_member_of(cy, NULL, e->from) < 0 ||
		    hc_report_member_of(cy, NULL, e->to) < 0)
			continue;
		fprintf(c->out, "  p%zu_b%u -> p%zu_b%u [label=\"", c->proc, e->from, c->proc, e->to);
		edge_label(c->out, e);
		fputs("\"];\n", c->out);
	}
	if (c->mark && c->queue) {
		for (i = 0; i < cy->nmembers; i++)
			c->mark[cy->members[i]] = 1;
		retained(c, cy);
	}
}

int hc_report_dot(FILE *out, const struct hc_report_input *in, size_t n,
		  const struct hc_report_opts *opts)
{
	static const struct hc_report_opts defaults;
	struct dot_ctx c = { .out = out, .opts = opts ? opts : &defaults };
	const struct hc_analysis *an;
	uint64_t drawn = 0;
	uint32_t k;
	size_t i;

	fputs("digraph heapcycle {\n  graph [fontname=\"Helvetica\", rankdir=LR, "
	      "label=\"heapcycle: leaked cycles\", labelloc=t];\n"
	      "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#fdecea\", "
	      "color=\"#c0392b\", fontname=\"Helvetica\", fontsize=10];\n"
	      "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#c0392b\"];\n", out);
	for (i = 0; i < n; i++) {
		if (!in[i].snap || !in[i].an || !in[i].an->cycles)
			continue;
		c.in = &in[i];
		c.proc = i;
		an = in[i].an;
		c.mark = hc_mem_calloc(in[i].snap->nblocks ? in[i].snap->nblocks : 1, 1);
		c.queue = hc_mem_calloc(in[i].snap->nblocks ? in[i].snap->nblocks : 1,
					sizeof(*c.queue));
		if (!c.mark || !c.queue)
			c.rc = HC_ERR_NOMEM;	/* cycles drawn without what they retain */
		for (k = 0; k < an->ncycles; k++) {
			if (!hc_report_cycle_shown(in[i].snap, &an->cycles[k]))
				continue;
			cycle(&c, k, &an->cycles[k]);
			drawn++;
		}
		hc_mem_free(c.mark);
		hc_mem_free(c.queue);
		c.mark = NULL;
		c.queue = NULL;
	}
	if (!drawn)
		fputs("  none [shape=plaintext, style=\"\", label=\"no leaked cycles\"];\n", out);
	fputs("}\n", out);
	hc_report_frames_fini(&c.fr);
	if (fflush(out) != 0 || ferror(out))
		return HC_ERR_IO;
	return c.rc;
}
