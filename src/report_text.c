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
 * suppression (suppress.c writes it). man/heapcycle-report.5 describes the
 * format.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "report.h"
#include "suppress.h"

#define HC_TEXT_INLINE_MAX 16u		/* frames per pc asked of the symbolizer */
#define HC_TEXT_PATH_MAX 64u		/* cycle members drawn on the path line */

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
static void print_stack(const struct text_ctx *c, uint32_t stack)
{
	const struct hc_stack *st;
	struct hc_frame fr[HC_TEXT_INLINE_MAX];
	unsigned shown = 0, skipped = 0, max = c->opts->max_frames, n, k;
	uint32_t i;

	if (stack == 0 || stack >= c->snap->nstacks || c->snap->stacks[stack].nframes == 0) {
		fputs(c->snap->flags & HC_SNAP_STACKS_OFF ?
		      "    (stacks were not recorded)\n" : "    (no stack recorded)\n", c->out);
		return;
	}
	st = &c->snap->stacks[stack];
	for (i = 0; i < st->nframes; i++) {
		if (hc_symbolizer_is_internal(c->sym, st->frames[i]))
			continue;
		n = hc_symbolize(c->sym, st->frames[i], true, fr, HC_TEXT_INLINE_MAX);
		for (k = 0; k < n; k++) {
			if (max && shown >= max)
				skipped++;
			else
				print_frame(c, shown++, &fr[k]);
		}
	}
	if (shown == 0 && skipped == 0)
		fputs("    (only heapcycle's own frames)\n", c->out);
	if (skipped)
		fprintf(c->out, "    ... %u more frame(s)\n", skipped);
}

/* A cycle's members sorted by block index, to map an edge end to a member
 * number without a quadratic search. NULL (out of memory) falls back to a
 * linear scan in member_of. */
struct member_key {
	uint32_t block, member;
};

static int member_key_cmp(const void *a, const void *b)
{
	const struct member_key *x = a, *y = b;

	return x->block < y->block ? -1 : x->block > y->block;
}

static struct member_key *member_index_new(const struct hc_cycle *cy)
{
	struct member_key *keys = hc_mem_calloc(cy->nmembers ? cy->nmembers : 1, sizeof(*keys));
	uint32_t i;

	if (!keys)
		return NULL;
	for (i = 0; i < cy->nmembers; i++) {
		keys[i].block = cy->members[i];
		keys[i].member = i;
	}
	qsort(keys, cy->nmembers, sizeof(*keys), member_key_cmp);
	return keys;
}

/* Returns the member number of block b in cy, or -1. */
static int64_t member_of(const struct hc_cycle *cy, const struct member_key *keys, uint32_t b)
{
	struct member_key k = { .block = b }, *hit;
	uint32_t i;

	if (keys) {
		hit = bsearch(&k, keys, cy->nmembers, sizeof(*keys), member_key_cmp);
		return hit ? (int64_t)hit->member : -1;
	}
	for (i = 0; i < cy->nmembers; i++)
		if (cy->members[i] == b)
			return i;
	return -1;
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

	fprintf(c->out, " #%u 0x%llx (%llu bytes)", i, (unsigned long long)b->addr,
		(unsigned long long)b->size);
}

static bool cycle_valid(const struct text_ctx *c, const struct hc_cycle *cy)
{
	uint32_t i;

	if (cy->nmembers == 0 || !cy->members)
		return false;
	for (i = 0; i < cy->nmembers; i++)
		if (cy->members[i] >= c->snap->nblocks)
			return false;
	for (i = 0; i < cy->nedges; i++)
		if (cy->edges[i] >= c->snap->nedges)
			return false;
	return true;
}

/*
 * Draws the cycle. When the members are in cycle order (the analysis puts
 * them so where one exists), each member's edge to the next one makes the
 * path line; any further edges inside the component are listed after it.
 */
static void print_cycle_graph(const struct text_ctx *c, const struct hc_cycle *cy,
			      const struct member_key *keys)
{
	uint64_t *next = hc_mem_calloc(cy->nmembers, sizeof(*next));	/* edge index + 1 */
	bool *used = hc_mem_calloc(cy->nedges ? cy->nedges : 1, sizeof(*used));
	bool path = next && used;
	uint32_t i, shown;
	int64_t from, to;

	for (i = 0; path && i < cy->nedges; i++) {
		const struct hc_edge *e = &c->snap->edges[cy->edges[i]];

		from = member_of(cy, keys, e->from);
		to = member_of(cy, keys, e->to);
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
		from = member_of(cy, keys, e->from);
		to = member_of(cy, keys, e->to);
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

static void print_cycles(struct text_ctx *c)
{
	const struct hc_cycle *cy;
	struct member_key *keys;
	uint32_t k;

	for (k = 0; k < c->an->ncycles; k++) {
		cy = &c->an->cycles[k];
		if (!cycle_valid(c, cy) || cy->suppressed_by)
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
		keys = member_index_new(cy);
		print_cycle_graph(c, cy, keys);
		hc_mem_free(keys);
		print_cycle_stacks(c, cy);
		if (c->opts->gen_suppressions)
			print_cycle_suppressions(c, cy);
		fputc('\n', c->out);
	}
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

static void print_group(const struct text_ctx *c, const struct hc_leak_group *g)
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
	if (c->opts->gen_suppressions && g->cls != HC_CLASS_REACHABLE)
		hc_suppress_print_entry(c->out, c->sym, c->snap, g->stack, g->cls);
	fputc('\n', c->out);
}

static void print_groups(const struct text_ctx *c, const struct hc_leak_group *groups, uint64_t n)
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
static void print_reachable(const struct text_ctx *c)
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
		if (c->opts->show_reachable) {
			fputc('\n', c->out);
			print_reachable(c);
		}
		print_warnings(c);
		return;
	}
	fputc('\n', c->out);
	print_cycles(c);
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
