/* SPDX-License-Identifier: MIT */
/*
 * The HTML report: one self-contained page (no network, no external
 * scripts, styles or fonts; a Content-Security-Policy forbids them) with,
 * per process, the summary, each leaked cycle drawn as a graph (inline SVG,
 * members on a circle, laid out here), the leak groups with their stacks,
 * the references of leaked GObjects never released (refhistory.h), and an
 * icicle view of leaked bytes by allocation stack. The icicle is
 * drawn by a small inline script from data embedded in the page as JSON;
 * everything else is plain HTML, readable with scripts off. The script
 * writes its status into #hc-status, which the tests read. This file owns
 * the page; escaping and frames come from report.c.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define HC_HTML_SVG_MAX 24u	/* cycle members drawn; the table lists all */
#define HC_HTML_NAME_MAX 26u	/* characters of a function name in a node */

struct html_ctx {
	FILE *out;
	const struct hc_report_opts *opts;
	struct hc_report_frames fr;
	int rc;
};

static const char *const class_label[HC_CLASS_COUNT] = {
	[HC_CLASS_REACHABLE] = "reachable",
	[HC_CLASS_DIRECT] = "direct",
	[HC_CLASS_INDIRECT] = "indirect",
	[HC_CLASS_POSSIBLE] = "possible",
	[HC_CLASS_CYCLE] = "cycle",
};

static void esc(FILE *out, const char *s)
{
	hc_report_xml_str(out, s);
}

static void frames(struct html_ctx *c, const struct hc_report_input *in, uint32_t stack)
{
	int r = hc_report_frames_get(&c->fr, in->sym, in->snap, stack, c->opts->max_frames);

	if (r != HC_OK)
		c->rc = r;
}

static void frame_where(FILE *out, const struct hc_frame *f, bool shortname)
{
	fputs("<code>", out);
	esc(out, f->function ? f->function : "??");
	fputs("</code>", out);
	if (f->file) {
		fputs(" <span class=\"loc\">", out);
		esc(out, shortname ? hc_report_basename(f->file) : f->file);
		if (f->line)
			fprintf(out, ":%u", f->line);
		fputs("</span>", out);
	} else if (f->module) {
		fputs(" <span class=\"loc\">(", out);
		esc(out, f->module[0] ? f->module : "<anonymous>");
		fprintf(out, "+0x%" PRIx64 ")</span>", f->module_offset);
	}
	if (f->inlined)
		fputs(" <span class=\"note\">(inlined)</span>", out);
	if (f->stale)
		fputs(" <span class=\"note\">(module changed or missing)</span>", out);
}

static void stack_list(struct html_ctx *c)
{
	unsigned i;

	fputs("<ol class=\"stack\" start=\"0\">", c->out);
	for (i = 0; i < c->fr.n; i++) {
		fputs("<li>", c->out);
		frame_where(c->out, &c->fr.f[i], false);
		fputs("</li>", c->out);
	}
	if (c->fr.skipped)
		fprintf(c->out, "<li class=\"note\">&hellip; %u more frame(s)</li>", c->fr.skipped);
	if (c->fr.n == 0)
		fputs("<li class=\"note\">(no stack recorded)</li>", c->out);
	fputs("</ol>", c->out);
}

/* Writes the allocating frame of the current frames as a one-liner. */
static void alloc_where(struct html_ctx *c, bool shortname)
{
	int a = hc_report_alloc_frame(&c->fr);

	if (a < 0)
		fputs("<span class=\"note\">(no stack recorded)</span>", c->out);
	else
		frame_where(c->out, &c->fr.f[a], shortname);
}

/* The layout needs a few trigonometric values to drawing precision; these
 * keep the core library off libm, which the shim's link does not have. */
static double hc_fabs(double x)
{
	return x < 0 ? -x : x;
}

static double hc_sqrt(double x)
{
	double r = x > 1 ? x : 1;
	int i;

	if (x <= 0)
		return 0;
	for (i = 0; i < 60; i++)
		r = 0.5 * (r + x / r);
	return r;
}

/* sin x for x in [-pi, pi] (Taylor series, error below 1e-9). */
static double hc_sin(double x)
{
	double term = x, sum = x;
	int k;

	for (k = 1; k < 14; k++) {
		term *= -x * x / ((2 * k) * (2 * k + 1));
		sum += term;
	}
	return sum;
}

struct pt {
	double x, y;
};

/* Where the ray from the centre of a box (half sizes hw, hh) towards d
 * leaves it. */
static struct pt box_exit(struct pt ctr, double dx, double dy, double hw, double hh)
{
	double t, tx = hc_fabs(dx) > 1e-9 ? hw / hc_fabs(dx) : 1e18;
	double ty = hc_fabs(dy) > 1e-9 ? hh / hc_fabs(dy) : 1e18;

	t = tx < ty ? tx : ty;
	return (struct pt){ ctr.x + dx * t, ctr.y + dy * t };
}

/* The cycle as an SVG graph: members on a circle (the analysis gives them
 * in cycle order, so the cycle runs round it), each edge a curve bent to
 * its right so that the two directions of a pair stay apart. */
static void cycle_svg(struct html_ctx *c, const struct hc_report_input *in,
		      const struct hc_cycle *cy, size_t proc, uint32_t k)
{
	const double bw = 168, bh = 52, pi = 3.14159265358979323846;
	const struct hc_snapshot *s = in->snap;
	FILE *out = c->out;
	uint32_t n = cy->nmembers < HC_HTML_SVG_MAX ? cy->nmembers : HC_HTML_SVG_MAX;
	double r, w, h, th, minx, maxx, miny, maxy;
	struct pt *pos = hc_mem_calloc(n, sizeof(*pos));
	uint32_t i;
	int a;

	if (!pos) {
		c->rc = HC_ERR_NOMEM;
		return;
	}
	r = n <= 1 ? 0 : n * (bw + 40) / (2 * pi);
	if (n == 2 || (n > 2 && r < 130))
		r = n == 2 ? 150 : 130;
	minx = miny = 1e18;
	maxx = maxy = -1e18;
	for (i = 0; i < n; i++) {
		/* Start on the left and go round clockwise (y points down);
		 * th stays in [-pi, pi) for the series. */
		th = 2 * pi * i / n - pi;
		pos[i].x = r * hc_sin(th + pi / 2 > pi ? th - 1.5 * pi : th + pi / 2);
		pos[i].y = n == 2 ? 0 : r * hc_sin(th);
		minx = pos[i].x < minx ? pos[i].x : minx;
		maxx = pos[i].x > maxx ? pos[i].x : maxx;
		miny = pos[i].y < miny ? pos[i].y : miny;
		maxy = pos[i].y > maxy ? pos[i].y : maxy;
	}
	/* Fit the picture to the nodes, with room for curves and a self
	 * loop's label above. */
	for (i = 0; i < n; i++) {
		pos[i].x += bw / 2 + 50 - minx;
		pos[i].y += bh / 2 + 80 - miny;
	}
	w = maxx - minx + bw + 100;
	h = maxy - miny + bh + 130;
	fprintf(out, "<svg class=\"graph\" "
		"viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
		"aria-label=\"leaked cycle %u\">\n<defs><marker id=\"hc-arrow-%zu-%u\" "
		"viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
		"orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#b03a2e\"/>"
		"</marker></defs>\n", w, h, w, h, k + 1, proc, k);
	for (i = 0; i < cy->nedges; i++) {
		const struct hc_edge *e = &s->edges[cy->edges[i]];
		int64_t f = hc_report_member_of(cy, NULL, e->from);
		int64_t t = hc_report_member_of(cy, NULL, e->to);
		struct pt p0, p2, ctl, mid;
		double dx, dy, len;

		if (f < 0 || t < 0 || f >= n || t >= n)
			continue;
		if (f == t) {
			/* A block that points at itself: a loop over its box. */
			p0 = (struct pt){ pos[f].x - 30, pos[f].y - bh / 2 };
			p2 = (struct pt){ pos[f].x + 30, pos[f].y - bh / 2 };
			fprintf(out, "<path class=\"edge\" d=\"M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f\" "
				"marker-end=\"url(#hc-arrow-%zu-%u)\"/>\n", p0.x, p0.y, p0.x - 20,
				p0.y - 70, p2.x + 20, p2.y - 70, p2.x, p2.y, proc, k);
			mid = (struct pt){ pos[f].x, pos[f].y - bh / 2 - 58 };
		} else {
			dx = pos[t].x - pos[f].x;
			dy = pos[t].y - pos[f].y;
			len = hc_sqrt(dx * dx + dy * dy);
			/* Bend to the right of the direction of travel. */
			ctl = (struct pt){ (pos[f].x + pos[t].x) / 2 - dy / len * 40,
					   (pos[f].y + pos[t].y) / 2 + dx / len * 40 };
			p0 = box_exit(pos[f], ctl.x - pos[f].x, ctl.y - pos[f].y, bw / 2 + 2, bh / 2 + 2);
			p2 = box_exit(pos[t], ctl.x - pos[t].x, ctl.y - pos[t].y, bw / 2 + 4, bh / 2 + 4);
			fprintf(out, "<path class=\"edge\" d=\"M%.1f,%.1f Q%.1f,%.1f %.1f,%.1f\" "
				"marker-end=\"url(#hc-arrow-%zu-%u)\"/>\n", p0.x, p0.y, ctl.x, ctl.y,
				p2.x, p2.y, proc, k);
			mid = (struct pt){ (p0.x + 2 * ctl.x + p2.x) / 4, (p0.y + 2 * ctl.y + p2.y) / 4 };
		}
		fprintf(out, "<text class=\"off\" x=\"%.1f\" y=\"%.1f\">+%" PRIu64, mid.x, mid.y + 4,
			e->from_offset);
		if (e->to_offset)
			fprintf(out, " \xe2\x86\x92 +%" PRIu64, e->to_offset);
		fputs("</text>\n", out);
	}
	for (i = 0; i < n; i++) {
		const struct hc_block *b = &s->blocks[cy->members[i]];
		char name[HC_HTML_NAME_MAX + 8];
		const char *fn = "??";

		frames(c, in, b->stack);
		a = hc_report_alloc_frame(&c->fr);
		if (a >= 0 && c->fr.f[a].function)
			fn = c->fr.f[a].function;
		if (strlen(fn) > HC_HTML_NAME_MAX)
			snprintf(name, sizeof(name), "%.*s\xe2\x80\xa6", (int)HC_HTML_NAME_MAX - 1, fn);
		else
			snprintf(name, sizeof(name), "%s", fn);
		fprintf(out, "<g class=\"node\"><title>#%u 0x%" PRIx64 ", %" PRIu64
			" bytes, allocated in ", i, b->addr, b->size);
		esc(out, fn);
		fprintf(out, "</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" "
			"rx=\"8\"/><text x=\"%.1f\" y=\"%.1f\"><tspan class=\"id\">#%u</tspan> "
			"0x%" PRIx64 "</text><text x=\"%.1f\" y=\"%.1f\">%" PRIu64 " bytes</text>"
			"<text class=\"fn\" x=\"%.1f\" y=\"%.1f\">", pos[i].x - bw / 2,
			pos[i].y - bh / 2, bw, bh, pos[i].x, pos[i].y - 9, i, b->addr,
			pos[i].x, pos[i].y + 5, b->size, pos[i].x, pos[i].y + 19);
		esc(out, name);
		fputs("</text></g>\n", out);
	}
	fputs("</svg>\n", out);
	hc_mem_free(pos);
}

static void cycle_section(struct html_ctx *c, const struct hc_report_input *in,
			  const struct hc_cycle *cy, size_t proc, uint32_t k)
{
	const struct hc_snapshot *s = in->snap;
	FILE *out = c->out;
	uint32_t i;

	fprintf(out, "<figure class=\"cycle\" id=\"cycle-%zu-%u\"><figcaption><b>Leaked cycle %u</b>: %"
		PRIu64 " bytes in %u object(s), retaining %" PRIu64 " bytes in %" PRIu64
		" object(s)%s</figcaption>\n", proc, k + 1, k + 1, cy->bytes, cy->nmembers,
		cy->retained_bytes, cy->retained_blocks,
		cy->is_root ? "" : " <span class=\"note\">(itself held by another leak)</span>");
	cycle_svg(c, in, cy, proc, k);
	if (cy->nmembers > HC_HTML_SVG_MAX)
		fprintf(out, "<p class=\"note\">The graph shows the first %u of %u members.</p>\n",
			HC_HTML_SVG_MAX, cy->nmembers);
	fputs("<table class=\"members\"><thead><tr><th>#</th><th>address</th><th>size</th>"
	      "<th>type</th><th>allocated from</th></tr></thead><tbody>\n", out);
	for (i = 0; i < cy->nmembers; i++) {
		const struct hc_block *b = &s->blocks[cy->members[i]];

		char tbuf[300];
		const char *type = hc_report_block_type(s, in->sym, cy->members[i], tbuf,
							sizeof(tbuf));

		frames(c, in, b->stack);
		fprintf(out, "<tr><td>#%u</td><td><code>0x%" PRIx64 "</code></td><td class=\"num\">%"
			PRIu64 "</td><td%s>", i, b->addr, b->size, type ? "" : " class=\"note\"");
		esc(out, type ? type : "unknown");
		fputs("</td><td><details><summary>", out);
		alloc_where(c, true);
		fputs("</summary>", out);
		stack_list(c);
		fputs("</details></td></tr>\n", out);
	}
	fputs("</tbody></table></figure>\n", out);
}

/* One reference never released, in a table cell: what took it, and the
 * stack of that call (the allocation's for the initial reference). */
static void held_ref(struct html_ctx *c, const struct hc_report_input *in,
		     const struct hc_ref_history *h, const struct hc_refhist_ref *ref)
{
	const struct hc_ref_event *ev = ref->event < h->nevents ? &h->events[ref->event] : NULL;
	FILE *out = c->out;

	if (ref->origin == HC_REFHIST_UNSEEN || ref->origin == HC_REFHIST_DROPPED) {
		fprintf(out, "<div class=\"note\">%" PRIu64 " reference(s) taken %s</div>", ref->n,
			ref->origin == HC_REFHIST_UNSEEN ?
			"where heapcycle could not see the call (inside libgobject)" :
			"by calls heapcycle did not keep");
		return;
	}
	frames(c, in, ev ? ev->stack : in->snap->blocks[h->block].stack);
	fputs("<details><summary>", out);
	if (!ev)
		fputs("the initial reference (g_object_new), allocated at ", out);
	else
		fprintf(out, "[%u] %s%s in ", ref->event,
			ref->origin == HC_REFHIST_INITIAL ? "the floating reference taken over by " : "",
			hc_refhist_call_name(ev->kind));
	alloc_where(c, true);
	fputs("</summary>", out);
	stack_list(c);
	fputs("</details>", out);
}

/* Leaked objects with recorded g_object_ref/unref calls: the references
 * never released, as the text report pairs them (refhistory.h). */
static void refs_section(struct html_ctx *c, const struct hc_report_input *in)
{
	const struct hc_snapshot *s = in->snap;
	const struct hc_analysis *an = in->an;
	FILE *out = c->out;
	uint32_t i, j, shown = 0;

	for (i = 0; s->refhists && i < s->nrefhists; i++) {
		const struct hc_ref_history *h = &s->refhists[i];
		struct hc_refhist r;
		char tbuf[300];
		const char *type;
		uint8_t cls;

		if (h->block >= s->nblocks || !an->block_class || h->block >= an->nblocks ||
		    an->block_class[h->block] == HC_CLASS_REACHABLE ||
		    an->block_class[h->block] >= HC_CLASS_COUNT)
			continue;
		if (hc_report_refhist(&c->fr, in->sym, s, h, &r) != HC_OK) {
			c->rc = HC_ERR_NOMEM;
			continue;
		}
		if (!shown++)
			fputs("<h3>References never released</h3>\n<table class=\"members\"><thead><tr>"
			      "<th>object</th><th>type</th><th>class</th><th>count</th><th>calls</th>"
			      "<th>never released (click for the stack)</th></tr></thead><tbody>\n",
			      out);
		cls = an->block_class[h->block];
		type = hc_report_block_type(s, in->sym, h->block, tbuf, sizeof(tbuf));
		fprintf(out, "<tr><td><code>0x%" PRIx64 "</code></td><td%s>",
			s->blocks[h->block].addr + h->offset, type ? "" : " class=\"note\"");
		esc(out, type ? type : "unknown");
		fprintf(out, "</td><td><span class=\"badge %s\">%s</span></td><td class=\"num\">",
			class_label[cls], class_label[cls]);
		if (h->count == HC_REF_COUNT_UNKNOWN)
			fputs("?", out);
		else
			fprintf(out, "%u", h->count);
		fprintf(out, "</td><td class=\"num\">%" PRIu64 "</td><td>",
			(uint64_t)h->nevents + h->dropped);
		for (j = 0; j < r.nheld; j++)
			held_ref(c, in, h, &r.held[j]);
		if (r.nheld == 0)
			fputs("<span class=\"note\">none</span>", out);
		if (r.dropped)
			fputs("<div class=\"note\">Only the first and the latest calls were kept: "
			      "pairings across the others are guesses.</div>", out);
		if (r.unseen_refs || r.unseen_unrefs)
			fputs("<div class=\"note\">The recorded calls do not explain the count: "
			      "calls made inside libgobject are not seen.</div>", out);
		fputs("</td></tr>\n", out);
		hc_refhist_fini(&r);
	}
	if (shown)
		fputs("</tbody></table>\n<p class=\"note\">Each g_object_unref releases a "
		      "reference taken in the same function if there is one, else the most recent: "
		      "which reference was never released is a heuristic, the counts are not. "
		      "The text and JSON reports list every call.</p>\n", out);
}

static void summary_row(FILE *out, const char *cls, const char *what,
			const struct hc_class_total *t)
{
	fprintf(out, "<tr><td><span class=\"badge %s\">%s</span></td><td class=\"num\">%" PRIu64
		"</td><td class=\"num\">%" PRIu64 "</td></tr>\n", cls, what, t->bytes, t->blocks);
}

static void process(struct html_ctx *c, const struct hc_report_input *in, size_t proc)
{
	const struct hc_snapshot *s = in->snap;
	const struct hc_analysis *an = in->an;
	FILE *out = c->out;
	struct hc_class_total leaked = { 0 };
	uint64_t i, shown = 0;
	uint32_t k;
	int cls;

	for (cls = HC_CLASS_DIRECT; cls < HC_CLASS_COUNT; cls++) {
		leaked.blocks += an->totals[cls].blocks;
		leaked.bytes += an->totals[cls].bytes;
	}
	fprintf(out, "<section class=\"process\" id=\"process-%zu\">\n<h2>pid %u: ", proc, s->pid);
	esc(out, s->exe ? hc_report_basename(s->exe) : "<unknown>");
	fputs("</h2>\n<dl class=\"meta\"><dt>program</dt><dd><code>", out);
	esc(out, s->exe);
	fputs("</code></dd><dt>command line</dt><dd><code>", out);
	esc(out, s->cmdline);
	fprintf(out, "</code></dd><dt>pid / ppid</dt><dd>%u / %u</dd><dt>snapshot</dt><dd><code>",
		s->pid, s->ppid);
	esc(out, in->path ? in->path : "");
	fputs("</code></dd></dl>\n", out);
	if (s->flags & HC_SNAP_DEGRADED)
		fputs("<p class=\"warn\">heapcycle ran out of memory in the process: some blocks "
		      "were not recorded, the report may miss leaks.</p>\n", out);
	if (s->flags & HC_SNAP_ROOTS_INCOMPLETE)
		fputs("<p class=\"warn\">Roots incomplete (a thread could not be stopped or a root "
		      "range was unreadable): some leaks may be false positives.</p>\n", out);
	fputs("<table class=\"summary\"><thead><tr><th>class</th><th>bytes</th><th>blocks</th>"
	      "</tr></thead><tbody>\n", out);
	summary_row(out, "direct", "definitely lost (direct)", &an->totals[HC_CLASS_DIRECT]);
	summary_row(out, "indirect", "indirectly lost", &an->totals[HC_CLASS_INDIRECT]);
	summary_row(out, "possible", "possibly lost", &an->totals[HC_CLASS_POSSIBLE]);
	summary_row(out, "cycle", "in leaked cycles", &an->totals[HC_CLASS_CYCLE]);
	summary_row(out, "reachable", "still reachable", &an->totals[HC_CLASS_REACHABLE]);
	fprintf(out, "<tr class=\"total\"><td>leaked</td><td class=\"num\">%" PRIu64
		"</td><td class=\"num\">%" PRIu64 "</td></tr>\n</tbody></table>\n",
		leaked.bytes, leaked.blocks);
	if (an->suppressed.blocks)
		fprintf(out, "<p class=\"note\">%" PRIu64 " bytes in %" PRIu64 " blocks matched a "
			"suppression and are not listed below.</p>\n", an->suppressed.bytes,
			an->suppressed.blocks);

	fputs("<h3>Leaked cycles</h3>\n", out);
	for (k = 0; an->cycles && k < an->ncycles; k++) {
		if (!hc_report_cycle_shown(s, &an->cycles[k]))
			continue;
		cycle_section(c, in, &an->cycles[k], proc, k);
		shown++;
	}
	if (!shown)
		fputs("<p class=\"none\">No leaked cycles.</p>\n", out);

	fputs("<h3>Leak groups</h3>\n", out);
	shown = 0;
	for (i = 0; an->groups && i < an->ngroups; i++) {
		const struct hc_leak_group *g = &an->groups[i];

		if (!hc_report_group_shown(g))
			continue;
		if (!shown++)
			fputs("<table class=\"groups\"><thead><tr><th>class</th><th>bytes</th>"
			      "<th>blocks</th><th>allocated from (click for the stack)</th></tr>"
			      "</thead><tbody>\n", out);
		frames(c, in, g->stack);
		fprintf(out, "<tr><td><span class=\"badge %s\">%s</span></td><td class=\"num\">%"
			PRIu64 "</td><td class=\"num\">%" PRIu64 "</td><td><details><summary>",
			class_label[g->cls], class_label[g->cls], g->bytes, g->blocks);
		alloc_where(c, false);
		fputs("</summary>", out);
		stack_list(c);
		fputs("</details></td></tr>\n", out);
	}
	fputs(shown ? "</tbody></table>\n" : "<p class=\"none\">No leaks.</p>\n", out);
	refs_section(c, in);
	if (shown)
		fprintf(out, "<h3>Leaked bytes by allocation stack</h3>\n<p class=\"note\">Outermost "
			"call on top; width is leaked bytes. Hover for details.</p>\n"
			"<div class=\"icicle\" data-process=\"%zu\"></div>\n", proc);
	fputs("</section>\n", out);
}

/* The icicle's data: per process, each group's bytes, class, and frames
 * (innermost first, as everywhere else) as names and "file:line". */
static void data_json(struct html_ctx *c, const struct hc_report_input *in, size_t n)
{
	FILE *out = c->out;
	bool firstp = true, firstg;
	char buf[1024];
	uint64_t k;
	unsigned f;
	size_t i;

	fputs("<script type=\"application/json\" id=\"hc-data\">{\"processes\": [", out);
	for (i = 0; i < n; i++) {
		if (!in[i].snap || !in[i].an)
			continue;
		fprintf(out, "%s\n{\"index\": %zu, \"pid\": %u, \"groups\": [", firstp ? "" : ",",
			i, in[i].snap->pid);
		firstp = false;
		firstg = true;
		for (k = 0; in[i].an->groups && k < in[i].an->ngroups; k++) {
			const struct hc_leak_group *g = &in[i].an->groups[k];

			if (!hc_report_group_shown(g))
				continue;
			frames(c, &in[i], g->stack);
			fprintf(out, "%s\n {\"class\": \"%s\", \"bytes\": %" PRIu64 ", \"blocks\": %"
				PRIu64 ", \"frames\": [", firstg ? "" : ",", class_label[g->cls],
				g->bytes, g->blocks);
			firstg = false;
			for (f = 0; f < c->fr.n; f++) {
				const struct hc_frame *fr = &c->fr.f[f];

				if (fr->function)
					snprintf(buf, sizeof(buf), "%s", fr->function);
				else if (fr->module && fr->module[0])
					snprintf(buf, sizeof(buf), "%s+0x%" PRIx64,
						 hc_report_basename(fr->module), fr->module_offset);
				else
					snprintf(buf, sizeof(buf), "0x%" PRIx64, fr->pc);
				fputs(f ? ", " : "", out);
				hc_report_json_str(out, buf, HC_REPORT_JSON_HTML);
			}
			fputs("], \"where\": [", out);
			for (f = 0; f < c->fr.n; f++) {
				const struct hc_frame *fr = &c->fr.f[f];

				fputs(f ? ", " : "", out);
				if (fr->file && fr->line)
					snprintf(buf, sizeof(buf), "%s:%u", fr->file, fr->line);
				else
					snprintf(buf, sizeof(buf), "%s", fr->file ? fr->file : "");
				hc_report_json_str(out, fr->file ? buf : NULL, HC_REPORT_JSON_HTML);
			}
			fputs("]}", out);
		}
		fputs("]}", out);
	}
	fputs("]}</script>\n", out);
}

static const char style[] =
	"<style>\n"
	":root{--fg:#1d2329;--muted:#5f6b76;--line:#d9dee3;--bg:#fff;--panel:#f6f8fa;"
	"--direct:#c0392b;--indirect:#d35400;--possible:#b7950b;--cycle:#8e44ad;--reachable:#27ae60}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;padding:24px 32px;font:14px/1.45 system-ui,-apple-system,\"Segoe UI\","
	"\"DejaVu Sans\",sans-serif;color:var(--fg);background:var(--bg)}\n"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0 0 8px}"
	"h3{font-size:15px;margin:22px 0 8px;color:var(--muted);text-transform:uppercase;"
	"letter-spacing:.04em}\n"
	"header{border-bottom:1px solid var(--line);padding-bottom:12px;margin-bottom:16px}\n"
	".lead{font-size:16px;margin:0}.lead b{color:var(--direct)}\n"
	"section.process{border:1px solid var(--line);border-radius:8px;padding:16px 20px;"
	"margin:0 0 24px}\n"
	"dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0 0 12px;"
	"color:var(--muted)}dl.meta dd{margin:0;word-break:break-all}\n"
	"code{font:12.5px/1.4 ui-monospace,\"DejaVu Sans Mono\",monospace}\n"
	"table{border-collapse:collapse;margin:4px 0 8px}th,td{text-align:left;padding:5px 10px;"
	"border-bottom:1px solid var(--line);vertical-align:top}th{font-weight:600;"
	"background:var(--panel)}td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	"tr.total td{font-weight:600;border-top:2px solid var(--fg)}\n"
	"table.groups,table.members{width:100%}\n"
	".badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;"
	"font-size:12px;font-weight:600}\n"
	".badge.direct{background:var(--direct)}.badge.indirect{background:var(--indirect)}"
	".badge.possible{background:var(--possible)}.badge.cycle{background:var(--cycle)}"
	".badge.reachable{background:var(--reachable)}\n"
	"details summary{cursor:pointer}ol.stack{margin:6px 0 4px;padding-left:34px}"
	"ol.stack li{margin:1px 0}\n"
	".loc{color:var(--muted)}.note{color:var(--muted)}.none{color:var(--reachable)}"
	".warn{background:#fff4e5;border-left:4px solid var(--indirect);padding:6px 10px}\n"
	"figure.cycle{margin:8px 0 18px;padding:12px;background:var(--panel);"
	"border-radius:8px}figure.cycle figcaption{margin-bottom:6px}\n"
	"svg.graph{display:block;max-width:100%;height:auto;background:#fff;border-radius:6px;"
	"border:1px solid var(--line);margin-bottom:8px}\n"
	"svg .node rect{fill:#fbeeee;stroke:var(--direct);stroke-width:1.5}"
	"svg text{font:12px ui-monospace,\"DejaVu Sans Mono\",monospace;text-anchor:middle;"
	"fill:var(--fg)}svg text.fn{font-weight:700}svg .id{fill:var(--cycle);font-weight:700}\n"
	"svg .edge{fill:none;stroke:#b03a2e;stroke-width:1.6}svg text.off{fill:#b03a2e;"
	"font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px}\n"
	".icicle{position:relative;border:1px solid var(--line);border-radius:6px;"
	"overflow:hidden;background:#fff}\n"
	".icicle div{position:absolute;height:22px;padding:2px 5px;overflow:hidden;"
	"white-space:nowrap;text-overflow:ellipsis;font:12px/18px ui-monospace,"
	"\"DejaVu Sans Mono\",monospace;border:1px solid #fff;border-radius:3px;color:#1d2329}\n"
	"#hc-status{color:var(--muted);font-size:12px;margin-top:24px}\n"
	"</style>\n";

/* Builds the icicle from #hc-data: a tree of call paths, outermost frame
 * at the top, each box as wide as the bytes leaked below it. Text goes in
 * through textContent only, never as markup. */
static const char script[] =
	"<script>\n"
	"(function(){\n"
	"'use strict';\n"
	"var status=document.getElementById('hc-status');\n"
	"window.addEventListener('error',function(e){status.textContent='heapcycle-report: error: '+"
	"e.message;status.setAttribute('data-status','error');});\n"
	"var colors={direct:'#f3b6ae',indirect:'#f7c99a',possible:'#f3e19a',cycle:'#d7bde2'};\n"
	"function fmt(n){return n.toString().replace(/\\B(?=(\\d{3})+(?!\\d))/g,',');}\n"
	"function build(groups){\n"
	" var root={name:'all leaks',where:null,bytes:0,kids:[],byName:{},cls:null};\n"
	" groups.forEach(function(g){\n"
	"  var node=root;root.bytes+=g.bytes;\n"
	"  for(var i=g.frames.length-1;i>=0;i--){\n"
	"   var key=g.frames[i]+'\\u0000'+(g.where[i]||'');\n"
	"   var k=Object.prototype.hasOwnProperty.call(node.byName,key)?node.byName[key]:null;\n"
	"   if(!k){k={name:g.frames[i],where:g.where[i],bytes:0,kids:[],byName:{},cls:null};"
	"node.byName[key]=k;node.kids.push(k);}\n"
	"   k.bytes+=g.bytes;if(i===0)k.cls=g['class'];node=k;}\n"
	" });\n"
	" return root;}\n"
	"function depth(n){var d=0;n.kids.forEach(function(k){d=Math.max(d,depth(k));});return d+1;}\n"
	"function draw(box,node,x,w,level,total){\n"
	" var d=document.createElement('div');\n"
	" d.style.left=(x*100)+'%';d.style.width='calc('+(w*100)+'% - 1px)';"
	"d.style.top=(level*22)+'px';\n"
	" d.style.background=level===0?'#e5e8eb':(node.cls?colors[node.cls]:'#fde3c8');\n"
	" d.textContent=node.name;\n"
	" d.title=node.name+(node.where?'  '+node.where:'')+'\\n'+fmt(node.bytes)+' bytes ('+"
	"(100*node.bytes/total).toFixed(1)+'%)'+(node.cls?'\\n'+node.cls+' leak allocated here':'');\n"
	" box.appendChild(d);\n"
	" node.kids.sort(function(a,b){return b.bytes-a.bytes;});\n"
	" var cx=x;node.kids.forEach(function(k){var kw=w*k.bytes/node.bytes;"
	"draw(box,k,cx,kw,level+1,total);cx+=kw;});}\n"
	"try{\n"
	" var data=JSON.parse(document.getElementById('hc-data').textContent);\n"
	" var boxes=document.querySelectorAll('.icicle');var drawn=0;\n"
	" for(var b=0;b<boxes.length;b++){\n"
	"  var idx=Number(boxes[b].getAttribute('data-process'));\n"
	"  var p=data.processes.filter(function(q){return q.index===idx;})[0];\n"
	"  if(!p||!p.groups.length)continue;\n"
	"  var root=build(p.groups);\n"
	"  root.name='all leaks: '+fmt(root.bytes)+' bytes';\n"
	"  boxes[b].style.height=(depth(root)*22+2)+'px';\n"
	"  draw(boxes[b],root,0,1,0,root.bytes);drawn++;}\n"
	" status.textContent='heapcycle-report: rendered '+drawn+' icicle view(s)';\n"
	" status.setAttribute('data-status','ok');\n"
	"}catch(e){status.textContent='heapcycle-report: error: '+e;"
	"status.setAttribute('data-status','error');}\n"
	"})();\n"
	"</script>\n";

int hc_report_html(FILE *out, const struct hc_report_input *in, size_t n,
		   const struct hc_report_opts *opts)
{
	static const struct hc_report_opts defaults;
	struct html_ctx c = { .out = out, .opts = opts ? opts : &defaults };
	uint64_t blocks = 0, bytes = 0, cycles = 0;
	size_t i, nproc = 0;
	uint32_t k;

	for (i = 0; i < n; i++) {
		if (!in[i].snap || !in[i].an)
			continue;
		nproc++;
		for (k = 0; in[i].an->cycles && k < in[i].an->ncycles; k++)
			if (hc_report_cycle_shown(in[i].snap, &in[i].an->cycles[k]))
				cycles++;
	}
	hc_report_leak_totals(in, n, &blocks, &bytes);
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"heapcycle " PACKAGE_VERSION "\">\n"
	      "<title>heapcycle report</title>\n", out);
	fputs(style, out);
	fputs("</head>\n<body>\n<header><h1>heapcycle report</h1>\n<p class=\"lead\">", out);
	if (bytes)
		fprintf(out, "<b>%" PRIu64 " bytes leaked in %" PRIu64 " allocation(s)</b>, %"
			PRIu64 " leaked cycle(s), in %zu process(es).", bytes, blocks, cycles, nproc);
	else
		fprintf(out, "No leaks in %zu process(es).", nproc);
	fputs("</p></header>\n", out);
	for (i = 0; i < n; i++)
		if (in[i].snap && in[i].an)
			process(&c, &in[i], i);
	data_json(&c, in, n);
	fputs("<p id=\"hc-status\" data-status=\"no-script\">heapcycle-report: the script did "
	      "not run (the tables above are complete without it)</p>\n", out);
	fputs(script, out);
	fputs("</body>\n</html>\n", out);
	hc_report_frames_fini(&c.fr);
	if (fflush(out) != 0 || ferror(out))
		return HC_ERR_IO;
	return c.rc;
}
