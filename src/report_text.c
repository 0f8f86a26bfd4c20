/* SPDX-License-Identifier: MIT */
/*
 * The text report, for people: it reads like LeakSanitizer (one paragraph
 * per leak group with its allocation stack, a SUMMARY line) and Valgrind (a
 * LEAK SUMMARY block), and adds what neither has: a section per leaked
 * cycle, drawn as a path through its members with the offsets of the
 * pointers that close it. Cycle-class groups are printed only there. This
 * file owns the layout; the numbers come from the analysis (analysis.h) and
 * the names from the symbolizer (symbolize.c). Suppressed groups and cycles
 * are left out but counted in the summaries; with a baseline each leak says
 * whether it is new; with gen_suppressions each is followed by a ready
 * suppression (suppress.c writes it). The garbage that collections found
 * while the program ran (snapshot events) gets a section of its own, so a
 * cycle dropped minutes before exit shows when and where it was made.
 * man/heapcycle-report.5 describes the format.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "baseline.h"
#include "report.h"
#include "suppress.h"

#define HC_TEXT_PATH_MAX 64u		/* cycle members drawn on the path line */
#define HC_TEXT_REF_CALLS 40u		/* calls listed per object, the middle elided */
#define HC_TEXT_REF_OBJECTS 8u		/* objects with a history shown per leak group */

/* ANSI colours, as LeakSanitizer's (sanitizer_report_decorator.h). */
#define C_RED "\033[1m\033[31m"
#define C_MAGENTA "\033[1m\033[35m"
#define C_BLUE "\033[1m\033[34m"
#define C_GREEN "\033[1m\033[32m"
#define C_BOLD "\033[1m"
#define C_RESET "\033[0m"

struct text_ctx {
	FILE *out;
	const struct hc_report_opts *opts;
	const struct hc_snapshot *snap;
	const struct hc_analysis *an;
	struct hc_symbolizer *sym;
	const struct hc_cycle *cycle;	/* the one being sorted (stack_order_cmp) */
	const struct hc_gc_event *event; /* the one being sorted (event_order_cmp) */
	struct hc_report_frames fr;	/* reused for every stack */
};

static const char *col(const struct text_ctx *c, const char *code)
{
	return c->opts->color ? code : "";
}

static void print_frame(const struct text_ctx *c, unsigned no, const struct hc_frame *f)
{
	fprintf(c->out, "    #%u 0x%llx", no, (unsigned long long)f->pc);
	if (f->function)
		fprintf(c->out, " in %s%s%s", col(c, C_BLUE), f->function, col(c, C_RESET));
	else if (f->module)
		fputs(" in", c->out);
	if (f->file) {
		fprintf(c->out, " %s", f->file);
		if (f->line)
			fprintf(c->out, ":%u", f->line);
		if (f->line && f->column)
			fprintf(c->out, ":%u", f->column);
	} else if (f->module) {
		fprintf(c->out, " (%s+0x%llx)", f->module[0] ? f->module : "<anonymous>",
			(unsigned long long)f->module_offset);
	} else {
		fputs(" (<unknown module>)", c->out);
	}
	if (f->inlined)
		fputs(" (inlined)", c->out);
	if (f->stale)
		fputs(" (module changed or missing)", c->out);
	fputc('\n', c->out);
}

/* Prints a stack as LSan does: the shim's own frames are dropped and the
 * rest numbered from #0, inlined calls expanded, at most max_frames. */
static void print_stack(struct text_ctx *c, uint32_t stack)
{
	unsigned k;

	if (stack == 0 || stack >= c->snap->nstacks || c->snap->stacks[stack].nframes == 0) {
		fputs(c->snap->flags & HC_SNAP_STACKS_OFF ?
		      "    (stacks were not recorded)\n" : "    (no stack recorded)\n", c->out);
		return;
	}
	/* Out of memory: the frames found so far. */
	(void)hc_report_frames_get(&c->fr, c->sym, c->snap, stack, c->opts->max_frames);
	for (k = 0; k < c->fr.n; k++)
		print_frame(c, k, &c->fr.f[k]);
	if (c->fr.n == 0 && c->fr.skipped == 0)
		fputs("    (only heapcycle's own frames)\n", c->out);
	if (c->fr.skipped)
		fprintf(c->out, "    ... %u more frame(s)\n", c->fr.skipped);
}

static void print_arrow(const struct text_ctx *c, const struct hc_edge *e)
{
	if (e->to_offset)
		fprintf(c->out, " --[+%llu]--> +%llu of", (unsigned long long)e->from_offset,
			(unsigned long long)e->to_offset);
	else
		fprintf(c->out, " --[+%llu]-->", (unsigned long long)e->from_offset);
}

static void print_member(const struct text_ctx *c, const struct hc_cycle *cy, uint32_t i)
{
	const struct hc_block *b = &c->snap->blocks[cy->members[i]];
	char buf[300];
	const char *type = hc_report_block_type(c->snap, c->sym, cy->members[i], buf, sizeof(buf));

	fprintf(c->out, " #%u 0x%llx %s%s(%llu bytes)", i, (unsigned long long)b->addr,
		type ? type : "", type ? " " : "", (unsigned long long)b->size);
}

/*
 * Draws the cycle. When the members are in cycle order (the analysis puts
 * them so where one exists), each member's edge to the next one makes the
 * path line; any further edges inside the component are listed after it.
 */
static void print_cycle_graph(const struct text_ctx *c, const struct hc_cycle *cy,
			      const struct hc_report_member_key *keys)
{
	uint64_t *next = hc_mem_calloc(cy->nmembers, sizeof(*next));	/* edge index + 1 */
	bool *used = hc_mem_calloc(cy->nedges ? cy->nedges : 1, sizeof(*used));
	bool path = next && used;
	uint32_t i, shown;
	int64_t from, to;

	for (i = 0; path && i < cy->nedges; i++) {
		const struct hc_edge *e = &c->snap->edges[cy->edges[i]];

		from = hc_report_member_of(cy, keys, e->from);
		to = hc_report_member_of(cy, keys, e->to);
		if (from < 0 || to < 0 || (uint32_t)to != ((uint32_t)from + 1) % cy->nmembers)
			continue;
		if (!next[from]) {
			next[from] = i + 1;
			used[i] = true;
		}
	}
	for (i = 0; path && i < cy->nmembers; i++)
		if (!next[i])
			path = false;
	if (path) {
		fputs("   ", c->out);
		shown = cy->nmembers < HC_TEXT_PATH_MAX ? cy->nmembers : HC_TEXT_PATH_MAX;
		for (i = 0; i < shown; i++) {
			print_member(c, cy, i);
			print_arrow(c, &c->snap->edges[cy->edges[next[i] - 1]]);
		}
		if (shown < cy->nmembers)
			fprintf(c->out, " ... (%u more members) -->", cy->nmembers - shown);
		fputs(" #0\n", c->out);
	} else {
		fputs("    members:", c->out);
		for (i = 0; i < cy->nmembers && i < HC_TEXT_PATH_MAX; i++)
			print_member(c, cy, i);
		if (cy->nmembers > HC_TEXT_PATH_MAX)
			fprintf(c->out, " ... (%u more)", cy->nmembers - HC_TEXT_PATH_MAX);
		fputc('\n', c->out);
	}
	shown = 0;
	for (i = 0; i < cy->nedges; i++) {
		const struct hc_edge *e = &c->snap->edges[cy->edges[i]];

		if (used && used[i])
			continue;
		from = hc_report_member_of(cy, keys, e->from);
		to = hc_report_member_of(cy, keys, e->to);
		if (from < 0 || to < 0)
			continue;
		if (shown == HC_TEXT_PATH_MAX) {
			fputs("    ... more edges\n", c->out);
			break;
		}
		fprintf(c->out, "    %s #%lld", path ? "also" : "edge", (long long)from);
		print_arrow(c, e);
		fprintf(c->out, " #%lld\n", (long long)to);
		shown++;
	}
	hc_mem_free(next);
	hc_mem_free(used);
}

/* Sorts member numbers by (stack, member) so that the first member with
 * each stack is found in n log n, not n^2. */
static int stack_order_cmp(const void *a, const void *b, void *arg)
{
	const struct text_ctx *c = arg;
	const struct hc_cycle *cy = c->cycle;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	uint32_t sx = c->snap->blocks[cy->members[x]].stack;
	uint32_t sy = c->snap->blocks[cy->members[y]].stack;

	if (sx != sy)
		return sx < sy ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void print_cycle_stacks(struct text_ctx *c, const struct hc_cycle *cy)
{
	uint32_t *order = hc_mem_calloc(cy->nmembers, sizeof(*order));
	uint32_t *same = hc_mem_calloc(cy->nmembers, sizeof(*same));	/* first member + 1 */
	uint32_t i, j, stack;

	if (order && same) {
		for (i = 0; i < cy->nmembers; i++)
			order[i] = i;
		c->cycle = cy;
		qsort_r(order, cy->nmembers, sizeof(*order), stack_order_cmp, c);
		for (i = 1; i < cy->nmembers; i++) {
			uint32_t prev = c->snap->blocks[cy->members[order[i - 1]]].stack;

			stack = c->snap->blocks[cy->members[order[i]]].stack;
			if (stack == prev && stack != 0)
				same[order[i]] = (same[order[i - 1]] ? same[order[i - 1]] : order[i - 1] + 1);
		}
	}
	for (i = 0; i < cy->nmembers; i++) {
		stack = c->snap->blocks[cy->members[i]].stack;
		j = same ? same[i] : 0;
		if (j) {
			fprintf(c->out, "  #%u allocated from the same stack as #%u\n", i, j - 1);
			continue;
		}
		fprintf(c->out, "  #%u allocated from:\n", i);
		print_stack(c, stack);
	}
	hc_mem_free(order);
	hc_mem_free(same);
}

static const char *baseline_mark(bool known, const struct hc_baseline *b)
{
	if (!b)
		return "";
	return known ? " (in baseline)" : " (new since baseline)";
}

/* One entry per distinct (stack, class) of the members: what it takes for
 * hc_suppress_apply to find every member's stack suppressed. */
static void print_cycle_suppressions(const struct text_ctx *c, const struct hc_cycle *cy)
{
	for (uint32_t i = 0; i < cy->nmembers; i++) {
		uint32_t b = cy->members[i], st = c->snap->blocks[b].stack;
		unsigned cls = b < c->an->nblocks ? c->an->block_class[b] : HC_CLASS_CYCLE;
		bool seen = false;

		for (uint32_t j = 0; j < i && !seen; j++) {
			uint32_t bj = cy->members[j];

			seen = c->snap->blocks[bj].stack == st &&
			       (bj < c->an->nblocks ? c->an->block_class[bj] : HC_CLASS_CYCLE) == cls;
		}
		if (!seen)
			hc_suppress_print_entry(c->out, c->sym, c->snap, st, (enum hc_leak_class)cls);
	}
}

/* ---- reference histories (g_object_ref/unref calls, refhistory.h) ---- */

/* "in FUNCTION at FILE:LINE (via CALLEE)": the frame a call is blamed on,
 * and the direct caller when that is another function (GLib running a
 * destroy notify, say). */
static void print_call_site(struct text_ctx *c, uint32_t stack)
{
	const struct hc_frame *f;
	int k;

	/* Out of memory: the frames found so far. */
	(void)hc_report_frames_get(&c->fr, c->sym, c->snap, stack, 0);
	k = hc_report_alloc_frame(&c->fr);
	if (k < 0) {
		fputs(c->snap->flags & HC_SNAP_STACKS_OFF ? "(stacks were not recorded)" :
		      "(no stack recorded)", c->out);
		return;
	}
	f = &c->fr.f[k];
	fprintf(c->out, "in %s", f->function ? f->function : "<unknown>");
	if (f->file) {
		fprintf(c->out, " at %s", hc_report_basename(f->file));
		if (f->line)
			fprintf(c->out, ":%u", f->line);
	} else if (f->module) {
		fprintf(c->out, " (%s+0x%llx)", hc_report_basename(f->module),
			(unsigned long long)f->module_offset);
	}
	if (k > 0 && c->fr.f[0].function &&
	    (!f->function || strcmp(c->fr.f[0].function, f->function) != 0))
		fprintf(c->out, " via %s", c->fr.f[0].function);
}

static void print_fate(struct text_ctx *c, uint8_t fate, uint32_t by)
{
	switch (fate) {
	case HC_REFHIST_HELD:
		fprintf(c->out, "%snever released%s", col(c, C_RED), col(c, C_RESET));
		break;
	case HC_REFHIST_RELEASED:
		fprintf(c->out, "released by [%u]", by);
		break;
	case HC_REFHIST_RELEASED_UNSEEN:
		fputs("released where heapcycle could not see it", c->out);
		break;
	case HC_REFHIST_RELEASED_DROPPED:
		fputs("released by a call not kept", c->out);
		break;
	}
}

static void print_ref_call(struct text_ctx *c, const struct hc_ref_history *h,
			   const struct hc_refhist *r, uint32_t i)
{
	const struct hc_ref_event *ev = &h->events[i];
	const struct hc_refhist_step *st = &r->steps[i];
	char idx[16];

	snprintf(idx, sizeof(idx), "[%u]", i);
	fprintf(c->out, "    %-4s %-17s %u -> %lld  ", idx, hc_refhist_call_name(ev->kind),
		ev->count, (long long)ev->count + hc_refhist_delta(ev));
	print_call_site(c, ev->stack);
	fputs("; ", c->out);
	if (ev->flags & HC_REF_FLOATING)
		fputs(st->fate == HC_REFHIST_NA ? "the object was floating" :
		      "takes over the floating reference, ", c->out);
	if (ev->kind == HC_REF_UNREF) {
		if (st->unmatched)
			fputs("finds no reference left to release", c->out);
		else if (st->releases != HC_REFHIST_NONE)
			fprintf(c->out, "releases [%u]", st->releases);
		else if (st->released_origin == HC_REFHIST_INITIAL)
			fputs("releases the initial reference", c->out);
		else if (st->released_origin == HC_REFHIST_UNSEEN)
			fputs("releases a reference taken where heapcycle could not see it", c->out);
		else
			fputs("releases a reference taken by a call not kept", c->out);
	} else if (st->fate != HC_REFHIST_NA) {
		print_fate(c, st->fate, st->released_by);
	} else if (!(ev->flags & HC_REF_FLOATING)) {
		fputs("no change", c->out);
	}
	fputc('\n', c->out);
}

/* The references still held at the end, each with the stack of the call
 * that took it. alloc_hint says where the allocation stack is printed. */
static void print_ref_held(struct text_ctx *c, const struct hc_ref_history *h,
			   const struct hc_refhist *r, const char *alloc_hint)
{
	uint32_t i;

	fprintf(c->out, "  %sReferences never released (%llu):%s\n", col(c, C_BOLD),
		(unsigned long long)r->held_total, col(c, C_RESET));
	for (i = 0; i < r->nheld; i++) {
		const struct hc_refhist_ref *ref = &r->held[i];
		const struct hc_ref_event *ev =
			ref->event < h->nevents ? &h->events[ref->event] : NULL;

		switch (ref->origin) {
		case HC_REFHIST_CALL:
		case HC_REFHIST_INITIAL:
			if (!ev) {
				fprintf(c->out, "    the initial reference, taken by g_object_new where "
					"the object was allocated (%s)\n", alloc_hint);
				break;
			}
			fprintf(c->out, "    [%u] %s%s ", ref->event,
				ref->origin == HC_REFHIST_INITIAL ?
				"the floating reference taken over by " : "",
				hc_refhist_call_name(ev->kind));
			print_call_site(c, ev->stack);
			fprintf(c->out, ", thread %u:\n", ev->tid);
			print_stack(c, ev->stack);
			break;
		case HC_REFHIST_UNSEEN:
			fprintf(c->out, "    %llu reference(s) taken where heapcycle could not see "
				"the call (inside libgobject)\n", (unsigned long long)ref->n);
			break;
		default:
			fprintf(c->out, "    %llu reference(s) taken by calls heapcycle did not keep\n",
				(unsigned long long)ref->n);
			break;
		}
	}
}

/*
 * The recorded g_object_ref/unref calls of the object in block b, if it
 * has any: one line per call with what the pairing made of it, then the
 * references never released with their stacks, then what the calls
 * cannot tell. who names the object (" #2" in a cycle, or "").
 */
static void print_refs(struct text_ctx *c, uint64_t b, const char *who, const char *alloc_hint)
{
	const struct hc_ref_history *h = hc_refhist_find(c->snap, b);
	const struct hc_block *blk;
	struct hc_refhist r;
	char buf[300];
	const char *type;
	uint32_t i;

	if (!h || h->block >= c->snap->nblocks)
		return;
	blk = &c->snap->blocks[h->block];
	type = hc_report_block_type(c->snap, c->sym, h->block, buf, sizeof(buf));
	if (hc_report_refhist(&c->fr, c->sym, c->snap, h, &r) != HC_OK) {
		fprintf(c->out, "  References of%s 0x%llx: out of memory\n", who,
			(unsigned long long)(blk->addr + h->offset));
		return;
	}
	fprintf(c->out, "  %sReferences of%s 0x%llx%s%s: %llu g_object_ref/unref call(s) seen, ",
		col(c, C_BOLD), who, (unsigned long long)(blk->addr + h->offset),
		type ? " " : "", type ? type : "",
		(unsigned long long)h->nevents + h->dropped);
	if (h->count == HC_REF_COUNT_UNKNOWN)
		fprintf(c->out, "count unknown at the snapshot:%s\n", col(c, C_RESET));
	else
		fprintf(c->out, "count %u at the snapshot:%s\n", h->count, col(c, C_RESET));
	if (r.has_initial) {
		fputs("    [-]  g_object_new      0 -> 1  the initial reference; ", c->out);
		if (r.initial_fate == HC_REFHIST_NA)
			fputs("taken over by a call below", c->out);
		else
			print_fate(c, r.initial_fate, r.initial_released_by);
		fputc('\n', c->out);
	}
	for (i = 0; i < h->nevents; i++) {
		if (h->dropped && i == h->gap)
			fprintf(c->out, "    ... %u call(s) not kept (%u took a reference, %u released "
				"one) ...\n", h->dropped, h->dropped_refs, h->dropped_unrefs);
		if (h->nevents > HC_TEXT_REF_CALLS && i == HC_TEXT_REF_CALLS / 2) {
			uint32_t next = h->nevents - HC_TEXT_REF_CALLS / 2;

			fprintf(c->out, "    ... %u more call(s)%s ...\n", next - i,
				h->dropped && h->gap > i && h->gap < next ?
				", and the calls not kept," : "");
			i = next - 1;
			continue;
		}
		print_ref_call(c, h, &r, i);
	}
	if (h->dropped && h->gap == h->nevents)
		fprintf(c->out, "    ... %u call(s) not kept (%u took a reference, %u released one)\n",
			h->dropped, h->dropped_refs, h->dropped_unrefs);
	if (r.held_total)
		print_ref_held(c, h, &r, alloc_hint);
	if (r.dropped)
		fputs("  note: only the first and the latest calls were kept: pairings across "
		      "the others are guesses\n", c->out);
	if (r.unseen_refs || r.unseen_unrefs)
		fprintf(c->out, "  note: the recorded calls do not explain the count (%llu "
			"reference(s) taken, %llu released unseen): calls made inside libgobject, "
			"such as g_object_new's own reference or an unref GLib makes itself, bypass "
			"the PLT and are not seen, so the pairing may be wrong\n",
			(unsigned long long)r.unseen_refs, (unsigned long long)r.unseen_unrefs);
	if (r.unmatched_unrefs)
		fprintf(c->out, "  note: %llu g_object_unref call(s) found no reference left to "
			"release\n", (unsigned long long)r.unmatched_unrefs);
	hc_refhist_fini(&r);
}

/* The histories of a cycle's members, in member order. */
static void print_cycle_refs(struct text_ctx *c, const struct hc_cycle *cy)
{
	char who[32], hint[64];
	uint32_t i;

	if (!c->snap->refhists || c->snap->nrefhists == 0)
		return;
	for (i = 0; i < cy->nmembers; i++) {
		snprintf(who, sizeof(who), " #%u", i);
		snprintf(hint, sizeof(hint), "#%u's allocation stack above", i);
		print_refs(c, cy->members[i], who, hint);
	}
}

/* The histories of a leak group's objects: its blocks of that class and
 * allocation stack that have one, at most HC_TEXT_REF_OBJECTS. */
static void print_group_refs(struct text_ctx *c, const struct hc_leak_group *g)
{
	uint64_t shown = 0, more = 0;
	uint32_t i;

	for (i = 0; c->snap->refhists && i < c->snap->nrefhists; i++) {
		uint64_t b = c->snap->refhists[i].block;

		if (b >= c->snap->nblocks || b >= c->an->nblocks || c->an->block_class[b] != g->cls ||
		    c->snap->blocks[b].stack != g->stack)
			continue;
		if (shown == HC_TEXT_REF_OBJECTS) {
			more++;
			continue;
		}
		print_refs(c, b, "", "the allocation stack above");
		shown++;
	}
	if (more)
		fprintf(c->out, "  ... %llu more object(s) of this group have reference histories "
			"(the JSON report lists them all)\n", (unsigned long long)more);
}

static void print_cycles(struct text_ctx *c)
{
	const struct hc_cycle *cy;
	struct hc_report_member_key *keys;
	uint32_t k;

	for (k = 0; k < c->an->ncycles; k++) {
		cy = &c->an->cycles[k];
		if (!hc_report_cycle_shown(c->snap, cy))
			continue;
		fprintf(c->out, "%sLeaked cycle of %llu byte(s) in %u object(s), "
			"retaining %llu byte(s) in %llu object(s)%s%s:%s\n",
			col(c, C_RED), (unsigned long long)cy->bytes, cy->nmembers,
			(unsigned long long)cy->retained_bytes,
			(unsigned long long)cy->retained_blocks,
			cy->is_root ? "" : " (itself held by another leak)",
			baseline_mark(c->opts->baseline &&
				      hc_baseline_has_cycle(c->opts->baseline, c->snap, c->an,
							    c->sym, cy), c->opts->baseline),
			col(c, C_RESET));
		keys = hc_report_member_index_new(cy);
		print_cycle_graph(c, cy, keys);
		hc_mem_free(keys);
		print_cycle_stacks(c, cy);
		print_cycle_refs(c, cy);
		if (c->opts->gen_suppressions)
			print_cycle_suppressions(c, cy);
		fputc('\n', c->out);
	}
}

/* "2026-11-25 13:02:11.123 UTC": UTC, so that the reports of machines in
 * other zones (and the server's own logs, mostly UTC) line up. */
static void format_time(char *buf, size_t len, uint64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	size_t n;

	if (!gmtime_r(&sec, &tm) || (n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm)) == 0) {
		snprintf(buf, len, "%llu ns after the epoch", (unsigned long long)ns);
		return;
	}
	snprintf(buf + n, len - n, ".%03u UTC", (unsigned)(ns / 1000000u % 1000u));
}


/* Cycle members first, by component; then the rest. Within each, by
 * stack, so that members allocated from one stack are adjacent and the
 * stack is printed once. */
static int event_order_cmp(const void *a, const void *b, void *arg)
{
	const struct hc_gc_event *ev = ((const struct text_ctx *)arg)->event;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	const struct hc_gc_member *mx = &ev->members[x], *my = &ev->members[y];

	if (hc_report_gc_in_cycle(mx) != hc_report_gc_in_cycle(my))
		return hc_report_gc_in_cycle(mx) ? -1 : 1;
	if (hc_report_gc_in_cycle(mx) && mx->cycle != my->cycle)
		return mx->cycle < my->cycle ? -1 : 1;
	if (mx->stack != my->stack)
		return mx->stack < my->stack ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void print_gc_member(const struct text_ctx *c, const struct hc_gc_member *m)
{
	const char *type = m->type < c->snap->ntypes && c->snap->types ? c->snap->types[m->type] : NULL;

	fprintf(c->out, "0x%llx %s%s(%llu bytes)", (unsigned long long)m->addr,
		type ? type : "", type ? " " : "", (unsigned long long)m->size);
}

/* Member k of an event in the order printed: seq[k], or k itself when
 * the order could not be computed (out of memory). */
static uint32_t gc_at(const uint32_t *seq, uint32_t k)
{
	return seq ? seq[k] : k;
}

/*
 * One component that is a cycle: the members at seq positions
 * [start, start + n). The snapshot keeps no edges for a collection, so the
 * order of the members along the cycle is known only when there are one or
 * two; larger ones are listed, as print_cycle_graph does when no path
 * exists. Without seq (out of memory) the run may be part of a component
 * only, and no path is claimed.
 */
static void print_gc_cycle(struct text_ctx *c, const struct hc_gc_event *ev,
			   const uint32_t *seq, uint32_t start, uint32_t n)
{
	uint64_t bytes = 0;
	uint32_t i, first;

	for (i = 0; i < n; i++)
		bytes += ev->members[gc_at(seq, start + i)].size;
	fprintf(c->out, "  Cycle of %llu byte(s) in %u object(s):\n", (unsigned long long)bytes, n);
	if (seq && n <= 2) {
		fputs("   ", c->out);
		for (i = 0; i < n; i++) {
			fprintf(c->out, " #%u ", i);
			print_gc_member(c, &ev->members[seq[start + i]]);
			fputs(" -->", c->out);
		}
		fputs(" #0\n", c->out);
	} else {
		fputs("    members:", c->out);
		for (i = 0; i < n && i < HC_TEXT_PATH_MAX; i++) {
			fprintf(c->out, " #%u ", i);
			print_gc_member(c, &ev->members[gc_at(seq, start + i)]);
		}
		if (n > HC_TEXT_PATH_MAX)
			fprintf(c->out, " ... (%u more)", n - HC_TEXT_PATH_MAX);
		fputc('\n', c->out);
	}
	/* Members of one stack are adjacent (event_order_cmp): the first of
	 * the run prints it. */
	for (i = 0, first = 0; i < n; i++) {
		uint32_t stack = ev->members[gc_at(seq, start + i)].stack;

		if (i == 0 || ev->members[gc_at(seq, start + i - 1)].stack != stack)
			first = i;
		if (first < i && stack != 0) {
			fprintf(c->out, "  #%u allocated from the same stack as #%u\n", i, first);
			continue;
		}
		fprintf(c->out, "  #%u allocated from:\n", i);
		print_stack(c, stack);
	}
}

static void print_event(struct text_ctx *c, const struct hc_gc_event *ev)
{
	uint32_t *seq = hc_mem_alloc((ev->nmembers ? ev->nmembers : 1) * sizeof(*seq));
	uint32_t ncycles = hc_report_event_ncycles(ev), i, j;
	char when[64];

	format_time(when, sizeof(when), ev->time_ns);
	fprintf(c->out, "%scollection of generation %u at %s found %u unreachable object(s) "
		"in %u cycle%s:%s\n", col(c, C_MAGENTA), ev->generation, when, ev->nmembers,
		ncycles, ncycles == 1 ? "" : "s", col(c, C_RESET));
	/* Out of memory: the members as recorded, each run of one component
	 * printed as it comes. */
	if (seq) {
		for (i = 0; i < ev->nmembers; i++)
			seq[i] = i;
		c->event = ev;
		qsort_r(seq, ev->nmembers, sizeof(*seq), event_order_cmp, c);
	}
	/* The cycles come first (event_order_cmp), then what they held or
	 * other garbage on its own. */
	for (i = 0; i < ev->nmembers; i = j) {
		const struct hc_gc_member *m = &ev->members[gc_at(seq, i)];
		const struct hc_gc_member *prev = i ? &ev->members[gc_at(seq, i - 1)] : NULL;

		if (hc_report_gc_in_cycle(m)) {
			for (j = i + 1; j < ev->nmembers; j++) {
				const struct hc_gc_member *o = &ev->members[gc_at(seq, j)];

				if (!hc_report_gc_in_cycle(o) || o->cycle != m->cycle)
					break;
			}
			print_gc_cycle(c, ev, seq, i, j - i);
			continue;
		}
		j = i + 1;
		fputs("  unreachable (not in a cycle): ", c->out);
		print_gc_member(c, m);
		if (prev && !hc_report_gc_in_cycle(prev) && prev->stack == m->stack && m->stack != 0) {
			fputs(", allocated from the same stack as the one above\n", c->out);
			continue;
		}
		fputs(", allocated from:\n", c->out);
		print_stack(c, m->stack);
	}
	fputc('\n', c->out);
	hc_mem_free(seq);
}

/* Collections that found garbage while the program ran, oldest first.
 * They are shown whether or not the garbage was still there at exit: a
 * cycle the program later broke by hand was still a leak for a while. */
/* Deallocations heapcycle refused or found mismatched, each with the
 * stack of the bad call and, where known, of the block's allocation. */
static void print_bad_frees(struct text_ctx *c)
{
	uint32_t i;

	for (i = 0; c->snap->badfrees && i < c->snap->nbadfrees; i++) {
		const struct hc_bad_free *f = &c->snap->badfrees[i];

		fprintf(c->out, "%s", col(c, C_BOLD));
		if (f->kind == HC_BAD_FREE_MISMATCH)
			fprintf(c->out, "Mismatched deallocation: a block from %s released with %s",
				hc_report_alloc_kind(f->alloc_kind), hc_report_free_op(f->op));
		else if (f->kind == HC_BAD_FREE_DOUBLE)
			fprintf(c->out, "Double free: %s of a block of %llu byte(s) already freed",
				hc_report_free_op(f->op), (unsigned long long)f->size);
		else
			fprintf(c->out, "Invalid free: %s of 0x%llx, which heapcycle never returned",
				hc_report_free_op(f->op), (unsigned long long)f->addr);
		fprintf(c->out, "%s (%u time(s)), at:%s\n", f->count > 1 ? "" : "", f->count,
			col(c, C_RESET));
		print_stack(c, f->free_stack);
		if (f->kind != HC_BAD_FREE_UNKNOWN) {
			fprintf(c->out, "  the block was allocated (%llu bytes) at:\n",
				(unsigned long long)f->size);
			print_stack(c, f->alloc_stack);
		}
		fputc('\n', c->out);
	}
}

static void print_events(struct text_ctx *c)
{
	uint32_t i;

	if (!c->snap->events || c->snap->nevents == 0)
		return;
	fprintf(c->out, "%sGarbage found while the program ran:%s\n", col(c, C_BOLD),
		col(c, C_RESET));
	for (i = 0; i < c->snap->nevents; i++)
		print_event(c, &c->snap->events[i]);
}

/* Orders groups largest first; ties by class, then stack, so that the
 * report is the same from run to run. */
static int group_cmp(const void *a, const void *b)
{
	const struct hc_leak_group *x = *(const struct hc_leak_group *const *)a;
	const struct hc_leak_group *y = *(const struct hc_leak_group *const *)b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static void print_group(struct text_ctx *c, const struct hc_leak_group *g)
{
	const char *what, *colour;

	switch (g->cls) {
	case HC_CLASS_DIRECT:
		what = "Direct leak";
		colour = C_RED;
		break;
	case HC_CLASS_INDIRECT:
		what = "Indirect leak";
		colour = C_MAGENTA;
		break;
	case HC_CLASS_POSSIBLE:
		what = "Possible leak (interior pointers only)";
		colour = C_MAGENTA;
		break;
	case HC_CLASS_REACHABLE:
		what = "Still reachable";
		colour = C_GREEN;
		break;
	default:
		return;	/* cycle members: printed in their cycle's section */
	}
	if (g->suppressed_by)
		return;	/* counted in the summaries */
	fprintf(c->out, "%s%s of %llu byte(s) in %llu object(s)%s allocated from:%s\n",
		col(c, colour), what, (unsigned long long)g->bytes,
		(unsigned long long)g->blocks,
		g->cls == HC_CLASS_REACHABLE ? "" :
		baseline_mark(c->opts->baseline &&
			      hc_baseline_has_group(c->opts->baseline, c->snap, c->sym,
						    g->stack, g->cls), c->opts->baseline),
		col(c, C_RESET));
	print_stack(c, g->stack);
	if (g->cls != HC_CLASS_REACHABLE)
		print_group_refs(c, g);
	if (c->opts->gen_suppressions && g->cls != HC_CLASS_REACHABLE)
		hc_suppress_print_entry(c->out, c->sym, c->snap, g->stack, g->cls);
	fputc('\n', c->out);
}

static void print_groups(struct text_ctx *c, const struct hc_leak_group *groups, uint64_t n)
{
	const struct hc_leak_group **order = hc_mem_calloc(n ? n : 1, sizeof(*order));
	uint64_t i;

	if (!order) {
		/* The analysis already sorts them; only ties may differ. */
		for (i = 0; i < n; i++)
			print_group(c, &groups[i]);
		return;
	}
	for (i = 0; i < n; i++)
		order[i] = &groups[i];
	qsort(order, n, sizeof(*order), group_cmp);
	for (i = 0; i < n; i++)
		print_group(c, order[i]);
	hc_mem_free(order);
}

/* The analysis groups leaks only; still-reachable blocks are grouped here by
 * stack when the user asks for them. */
static void print_reachable(struct text_ctx *c)
{
	const struct hc_snapshot *s = c->snap;
	struct hc_leak_group *g;
	uint64_t i, n = 0;
	uint32_t st;

	if (s->nstacks == 0)
		return;
	g = hc_mem_calloc(s->nstacks, sizeof(*g));
	if (!g)
		return;
	for (i = 0; i < s->nblocks && i < c->an->nblocks; i++) {
		if (c->an->block_class[i] != HC_CLASS_REACHABLE)
			continue;
		st = s->blocks[i].stack < s->nstacks ? s->blocks[i].stack : 0;
		g[st].cls = HC_CLASS_REACHABLE;
		g[st].stack = st;
		g[st].blocks++;
		g[st].bytes += s->blocks[i].size;
	}
	for (i = 0; i < s->nstacks; i++)
		if (g[i].blocks)
			g[n++] = g[i];
	print_groups(c, g, n);
	hc_mem_free(g);
}

static uint64_t leaked(const struct hc_analysis *an, bool bytes)
{
	uint64_t sum = 0;
	int k;

	for (k = 0; k < HC_CLASS_COUNT; k++)
		if (k != HC_CLASS_REACHABLE)
			sum += bytes ? an->totals[k].bytes : an->totals[k].blocks;
	return sum;
}

static void print_warnings(const struct text_ctx *c)
{
	if (c->snap->flags & HC_SNAP_DEGRADED)
		fprintf(c->out, "%sWARNING:%s heapcycle ran out of memory in the process: "
			"some blocks were not recorded, the report may miss leaks\n",
			col(c, C_MAGENTA), col(c, C_RESET));
	if (c->snap->flags & HC_SNAP_ROOTS_INCOMPLETE)
		fprintf(c->out, "%sWARNING:%s roots incomplete (a thread could not be stopped "
			"or a root range was unreadable): some leaks may be false positives\n",
			col(c, C_MAGENTA), col(c, C_RESET));
	if (c->snap->flags & HC_SNAP_STACKS_OFF)
		fprintf(c->out, "%snote:%s allocation stacks were not recorded\n",
			col(c, C_BOLD), col(c, C_RESET));
	if (c->snap->ref_lost)
		fprintf(c->out, "%snote:%s %llu g_object_ref/unref call(s) were not kept (the "
			"shim keeps the histories of a bounded number of objects, dropping the "
			"least recently used, and of one object per address): some reference "
			"histories may be missing\n",
			col(c, C_BOLD), col(c, C_RESET), (unsigned long long)c->snap->ref_lost);
}

static void print_process(struct text_ctx *c, const char *path)
{
	const struct hc_analysis *an = c->an;
	const struct hc_class_total *t = an->totals;
	uint64_t blocks = leaked(an, false), bytes = leaked(an, true);

	fprintf(c->out, "%s==%u== heapcycle: %s (pid %u, ppid %u), snapshot at %s%s%s%s\n",
		col(c, C_BOLD), c->snap->pid, c->snap->exe ? c->snap->exe : "<unknown>",
		c->snap->pid, c->snap->ppid,
		c->snap->reason == HC_REASON_API ? "heapcycle_snapshot()" :
		hc_report_reason_name(c->snap->reason),
		path ? " in " : "", path ? path : "", col(c, C_RESET));
	if (blocks == 0) {
		fprintf(c->out, "heapcycle: no leaks found (%llu bytes in %llu blocks still reachable)\n",
			(unsigned long long)t[HC_CLASS_REACHABLE].bytes,
			(unsigned long long)t[HC_CLASS_REACHABLE].blocks);
		if (c->snap->badfrees && c->snap->nbadfrees) {
			fputc('\n', c->out);
			print_bad_frees(c);	/* ends in a blank line */
		}
		if (c->snap->events && c->snap->nevents) {
			fputc('\n', c->out);
			print_events(c);	/* ends in a blank line */
		} else if (c->opts->show_reachable) {
			fputc('\n', c->out);
		}
		if (c->opts->show_reachable)
			print_reachable(c);
		print_warnings(c);
		return;
	}
	fputc('\n', c->out);
	print_bad_frees(c);
	print_cycles(c);
	print_events(c);
	print_groups(c, an->groups, an->groups ? an->ngroups : 0);
	if (c->opts->show_reachable)
		print_reachable(c);
	if (c->opts->suppressions)
		fprintf(c->out, "%sSUMMARY: heapcycle: %llu byte(s) leaked in %llu allocation(s); "
			"suppressed: %llu bytes in %llu blocks.%s\n\n",
			col(c, C_BOLD), (unsigned long long)(bytes - an->suppressed.bytes),
			(unsigned long long)(blocks - an->suppressed.blocks),
			(unsigned long long)an->suppressed.bytes,
			(unsigned long long)an->suppressed.blocks, col(c, C_RESET));
	else
		fprintf(c->out, "%sSUMMARY: heapcycle: %llu byte(s) leaked in %llu allocation(s).%s\n\n",
			col(c, C_BOLD), (unsigned long long)bytes, (unsigned long long)blocks,
			col(c, C_RESET));
	fprintf(c->out, "LEAK SUMMARY (pid %u):\n", c->snap->pid);
	fprintf(c->out, "   definitely lost: %llu bytes in %llu blocks\n",
		(unsigned long long)t[HC_CLASS_DIRECT].bytes,
		(unsigned long long)t[HC_CLASS_DIRECT].blocks);
	fprintf(c->out, "   indirectly lost: %llu bytes in %llu blocks\n",
		(unsigned long long)t[HC_CLASS_INDIRECT].bytes,
		(unsigned long long)t[HC_CLASS_INDIRECT].blocks);
	fprintf(c->out, "     possibly lost: %llu bytes in %llu blocks\n",
		(unsigned long long)t[HC_CLASS_POSSIBLE].bytes,
		(unsigned long long)t[HC_CLASS_POSSIBLE].blocks);
	fprintf(c->out, "  in leaked cycles: %llu bytes in %llu blocks (%u cycle%s)\n",
		(unsigned long long)t[HC_CLASS_CYCLE].bytes,
		(unsigned long long)t[HC_CLASS_CYCLE].blocks, an->ncycles,
		an->ncycles == 1 ? "" : "s");
	fprintf(c->out, "   still reachable: %llu bytes in %llu blocks\n",
		(unsigned long long)t[HC_CLASS_REACHABLE].bytes,
		(unsigned long long)t[HC_CLASS_REACHABLE].blocks);
	/* Valgrind's line; here the lost lines above include it. */
	if (c->opts->suppressions)
		fprintf(c->out, "        suppressed: %llu bytes in %llu blocks (included above)\n",
			(unsigned long long)an->suppressed.bytes,
			(unsigned long long)an->suppressed.blocks);
	print_warnings(c);
}

int hc_report_text(FILE *out, const struct hc_report_input *in, size_t n,
		   const struct hc_report_opts *opts)
{
	static const struct hc_report_opts defaults;
	struct text_ctx c = { .out = out, .opts = opts ? opts : &defaults };
	size_t i;

	for (i = 0; i < n; i++) {
		if (!in[i].snap || !in[i].an)
			continue;
		c.snap = in[i].snap;
		c.an = in[i].an;
		c.sym = in[i].sym;
		if (i)
			fputc('\n', out);
		print_process(&c, in[i].path);
	}
	if (c.opts->suppressions) {
		fputc('\n', out);
		hc_suppress_print_used(out, c.opts->suppressions,
				       c.opts->show_unused_suppressions);
	}
	hc_report_frames_fini(&c.fr);
	if (fflush(out) != 0 || ferror(out))
		return HC_ERR_IO;
	return HC_OK;
}

void hc_report_leak_totals(const struct hc_report_input *in, size_t n,
			   uint64_t *blocks, uint64_t *bytes)
{
	uint64_t bl = 0, by = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!in[i].an)
			continue;
		bl += leaked(in[i].an, false);
		by += leaked(in[i].an, true);
	}
	if (blocks)
		*blocks = bl;
	if (bytes)
		*bytes = by;
}
