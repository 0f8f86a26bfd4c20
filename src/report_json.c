/* SPDX-License-Identifier: MIT */
/*
 * The JSON report, for programs: every process of a run with its summary,
 * its leak groups (with symbolized allocation stacks) and its leaked cycles
 * (members, edges with offsets, retained size). doc/report-schema.json is
 * the contract and carries the version written here; man/heapcycle-report.5
 * explains the fields. This file owns the serialization; string escaping,
 * the visible frames and the cycle checks are report.c's, the numbers come
 * from the analysis and the names from the symbolizer.
 * Suppressed groups and cycles stay in, marked with the suppression's
 * name; with a baseline each leak says whether it is new. The collections
 * that found garbage while the program ran follow, as recorded.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "baseline.h"
#include "report.h"

struct json_ctx {
	FILE *out;
	const struct hc_report_opts *opts;
	const struct hc_snapshot *snap;
	const struct hc_analysis *an;
	struct hc_symbolizer *sym;
	struct hc_report_frames fr;	/* reused for every stack */
};

/* Writes s as a JSON string, or null. Bytes that are not UTF-8 become
 * U+FFFD: a path is bytes to the kernel, but JSON text must be Unicode. */
static void json_str(FILE *out, const char *str)
{
	hc_report_json_str(out, str, HC_REPORT_JSON_REPORT);
}

static void json_hex(FILE *out, uint64_t v)
{
	fprintf(out, "\"0x%" PRIx64 "\"", v);
}

/* The names are the JSON contract (doc/report-schema.json), spelled here
 * rather than borrowed from hc_leak_class_name so the schema and the
 * writer change together. */
static const char *class_name(unsigned cls)
{
	static const char *const names[HC_CLASS_COUNT] = {
		[HC_CLASS_REACHABLE] = "reachable",
		[HC_CLASS_DIRECT] = "direct",
		[HC_CLASS_INDIRECT] = "indirect",
		[HC_CLASS_POSSIBLE] = "possible",
		[HC_CLASS_CYCLE] = "cycle",
	};

	return cls < HC_CLASS_COUNT ? names[cls] : "unknown";
}

static void json_frame(FILE *out, const struct hc_frame *f)
{
	fputs("{\"pc\": ", out);
	json_hex(out, f->pc);
	fputs(", \"function\": ", out);
	json_str(out, f->function);
	fputs(", \"file\": ", out);
	json_str(out, f->file);
	if (f->line)
		fprintf(out, ", \"line\": %u", f->line);
	else
		fputs(", \"line\": null", out);
	fputs(", \"module\": ", out);
	json_str(out, f->module);
	/* Without a module the address space is the only frame of reference. */
	fputs(", \"offset\": ", out);
	json_hex(out, f->module ? f->module_offset : f->pc);
	fprintf(out, ", \"inlined\": %s}", f->inlined ? "true" : "false");
}

/* The stack as the text report shows it: heapcycle's own frames dropped,
 * inlined calls expanded, at most max_frames. */
static void json_stack(struct json_ctx *c, uint32_t stack)
{
	unsigned k;

	/* Out of memory: the frames found so far, as the stream may be a pipe
	 * already half written. */
	(void)hc_report_frames_get(&c->fr, c->sym, c->snap, stack, c->opts->max_frames);
	fputc('[', c->out);
	for (k = 0; k < c->fr.n; k++) {
		fputs(k ? ", " : "", c->out);
		json_frame(c->out, &c->fr.f[k]);
	}
	fputc(']', c->out);
}

static void json_total(FILE *out, const char *name, uint64_t blocks, uint64_t bytes)
{
	fprintf(out, "\"%s\": {\"blocks\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
		name, blocks, bytes);
}

/* Sums of one or more processes, in the shape of the schema's "summary". */
struct json_sum {
	struct hc_class_total t[HC_CLASS_COUNT];
	uint64_t cycles;
	struct hc_class_total suppressed;
	bool with_suppressed;	/* suppressions were given: say how much they hid */
};

static void sum_add(struct json_sum *sum, const struct hc_analysis *an)
{
	int k;

	for (k = 0; k < HC_CLASS_COUNT; k++) {
		sum->t[k].blocks += an->totals[k].blocks;
		sum->t[k].bytes += an->totals[k].bytes;
	}
	sum->cycles += an->ncycles;
	sum->suppressed.blocks += an->suppressed.blocks;
	sum->suppressed.bytes += an->suppressed.bytes;
}

static void json_summary(FILE *out, const struct json_sum *sum)
{
	uint64_t blocks = 0, bytes = 0;
	int k;

	for (k = 0; k < HC_CLASS_COUNT; k++) {
		if (k == HC_CLASS_REACHABLE)
			continue;
		blocks += sum->t[k].blocks;
		bytes += sum->t[k].bytes;
	}
	fputc('{', out);
	json_total(out, "direct", sum->t[HC_CLASS_DIRECT].blocks, sum->t[HC_CLASS_DIRECT].bytes);
	fputs(", ", out);
	json_total(out, "indirect", sum->t[HC_CLASS_INDIRECT].blocks, sum->t[HC_CLASS_INDIRECT].bytes);
	fputs(", ", out);
	json_total(out, "possible", sum->t[HC_CLASS_POSSIBLE].blocks, sum->t[HC_CLASS_POSSIBLE].bytes);
	fputs(", ", out);
	json_total(out, "cycle", sum->t[HC_CLASS_CYCLE].blocks, sum->t[HC_CLASS_CYCLE].bytes);
	fputs(", ", out);
	json_total(out, "reachable", sum->t[HC_CLASS_REACHABLE].blocks,
		   sum->t[HC_CLASS_REACHABLE].bytes);
	fputs(", ", out);
	json_total(out, "leaked", blocks, bytes);
	if (sum->with_suppressed) {
		fputs(", ", out);
		json_total(out, "suppressed", sum->suppressed.blocks, sum->suppressed.bytes);
	}
	fprintf(out, ", \"cycles\": %" PRIu64 "}", sum->cycles);
}

static void json_group(struct json_ctx *c, const struct hc_leak_group *g, bool first)
{
	fprintf(c->out, "%s\n      {\"class\": \"%s\", \"blocks\": %" PRIu64 ", \"bytes\": %" PRIu64
		", \"stack\": ", first ? "" : ",", class_name(g->cls), g->blocks, g->bytes);
	json_stack(c, g->stack);
	if (g->suppressed_by) {
		fputs(", \"suppressed_by\": ", c->out);
		json_str(c->out, g->suppressed_by);
	}
	if (c->opts->baseline && g->cls != HC_CLASS_REACHABLE)
		fprintf(c->out, ", \"baseline\": \"%s\"",
			hc_baseline_has_group(c->opts->baseline, c->snap, c->sym, g->stack, g->cls)
			? "known" : "new");
	fputc('}', c->out);
}

static void json_leaks(struct json_ctx *c)
{
	const struct hc_snapshot *s = c->snap;
	const struct hc_analysis *an = c->an;
	struct hc_leak_group *reach = NULL;
	uint64_t i;
	uint32_t st;
	bool first = true;

	fputs("[", c->out);
	for (i = 0; an->groups && i < an->ngroups; i++) {
		if (an->groups[i].cls == HC_CLASS_REACHABLE || an->groups[i].cls >= HC_CLASS_COUNT)
			continue;
		json_group(c, &an->groups[i], first);
		first = false;
	}
	/* The analysis groups leaks only; reachable blocks are grouped here,
	 * by stack, when the user asks for them. */
	if (c->opts->show_reachable && s->nstacks && an->block_class)
		reach = hc_mem_calloc(s->nstacks, sizeof(*reach));
	if (reach) {
		for (i = 0; i < s->nblocks && i < an->nblocks; i++) {
			if (an->block_class[i] != HC_CLASS_REACHABLE)
				continue;
			st = s->blocks[i].stack < s->nstacks ? s->blocks[i].stack : 0;
			reach[st].cls = HC_CLASS_REACHABLE;
			reach[st].stack = st;
			reach[st].blocks++;
			reach[st].bytes += s->blocks[i].size;
		}
		for (i = 0; i < s->nstacks; i++) {
			if (!reach[i].blocks)
				continue;
			json_group(c, &reach[i], first);
			first = false;
		}
		hc_mem_free(reach);
	}
	fputs(first ? "]" : "\n    ]", c->out);
}

static void json_cycle(struct json_ctx *c, const struct hc_cycle *cy)
{
	const struct hc_snapshot *s = c->snap;
	struct hc_report_member_key *keys = hc_report_member_index_new(cy);
	const struct hc_block *b;
	uint32_t i;
	int64_t from, to;
	bool first = true;

	fprintf(c->out, "{\"bytes\": %" PRIu64 ", \"retained_bytes\": %" PRIu64
		", \"retained_blocks\": %" PRIu64 ", \"root\": %s,\n        \"members\": [",
		cy->bytes, cy->retained_bytes, cy->retained_blocks, cy->is_root ? "true" : "false");
	for (i = 0; i < cy->nmembers; i++) {
		b = &s->blocks[cy->members[i]];
		fprintf(c->out, "%s\n          {\"address\": ", i ? "," : "");
		json_hex(c->out, b->addr);
		fprintf(c->out, ", \"size\": %" PRIu64 ", \"type\": ", b->size);
		{
			char buf[300];
			const char *type = hc_report_block_type(s, c->sym, cy->members[i], buf,
								sizeof(buf));

			if (type)
				hc_report_json_str(c->out, type, HC_REPORT_JSON_REPORT);
			else
				fputs("null", c->out);
		}
		fprintf(c->out, ", \"class\": \"%s\", \"stack\": ",
			class_name(cy->members[i] < c->an->nblocks && c->an->block_class ?
				   c->an->block_class[cy->members[i]] : HC_CLASS_CYCLE));
		json_stack(c, b->stack);
		fputc('}', c->out);
	}
	fputs(cy->nmembers ? "\n        ],\n        \"edges\": [" : "],\n        \"edges\": [", c->out);
	for (i = 0; i < cy->nedges; i++) {
		const struct hc_edge *e = &s->edges[cy->edges[i]];

		from = hc_report_member_of(cy, keys, e->from);
		to = hc_report_member_of(cy, keys, e->to);
		if (from < 0 || to < 0)
			continue;
		fprintf(c->out, "%s\n          {\"from\": %" PRId64 ", \"to\": %" PRId64
			", \"offset\": %" PRIu64 ", \"to_offset\": %" PRIu64 "}",
			first ? "" : ",", from, to, e->from_offset, e->to_offset);
		first = false;
	}
	fputs(first ? "]" : "\n        ]", c->out);
	if (cy->suppressed_by) {
		fputs(", \"suppressed_by\": ", c->out);
		json_str(c->out, cy->suppressed_by);
	}
	if (c->opts->baseline)
		fprintf(c->out, ", \"baseline\": \"%s\"",
			hc_baseline_has_cycle(c->opts->baseline, s, c->an, c->sym, cy)
			? "known" : "new");
	fputc('}', c->out);
	hc_mem_free(keys);
}


/* One collection that found garbage, its members in the order recorded. */
static void json_event(struct json_ctx *c, const struct hc_gc_event *ev)
{
	const struct hc_snapshot *s = c->snap;
	uint32_t i;

	fprintf(c->out, "{\"time\": %" PRIu64 ", \"generation\": %u, \"unreachable\": %u"
		", \"cycles\": %u,\n        \"members\": [", ev->time_ns, ev->generation,
		ev->nmembers, hc_report_event_ncycles(ev));
	for (i = 0; i < ev->nmembers; i++) {
		const struct hc_gc_member *m = &ev->members[i];

		fprintf(c->out, "%s\n          {\"address\": ", i ? "," : "");
		json_hex(c->out, m->addr);
		fprintf(c->out, ", \"size\": %" PRIu64 ", \"type\": ", m->size);
		json_str(c->out, m->type < s->ntypes && s->types ? s->types[m->type] : NULL);
		fprintf(c->out, ", \"cycle\": %u, \"in_cycle\": %s, \"stack\": ", m->cycle,
			hc_report_gc_in_cycle(m) ? "true" : "false");
		json_stack(c, m->stack);
		fputc('}', c->out);
	}
	fputs(ev->nmembers ? "\n        ]}" : "]}", c->out);
}

/* ---- reference histories (g_object_ref/unref calls, refhistory.h) ---- */

static const char *json_origin(uint8_t origin)
{
	switch (origin) {
	case HC_REFHIST_CALL: return "call";
	case HC_REFHIST_INITIAL: return "initial";
	case HC_REFHIST_UNSEEN: return "unseen";
	}
	return "dropped";
}

/* A fate as the schema spells it, or NULL for "took no reference". */
static const char *json_fate(uint8_t fate)
{
	switch (fate) {
	case HC_REFHIST_HELD: return "held";
	case HC_REFHIST_RELEASED: return "released";
	case HC_REFHIST_RELEASED_UNSEEN: return "released_unseen";
	case HC_REFHIST_RELEASED_DROPPED: return "released_dropped";
	}
	return NULL;
}

static void json_index(FILE *out, uint32_t i)
{
	if (i == HC_REFHIST_NONE)
		fputs("null", out);
	else
		fprintf(out, "%u", i);
}

/* Where block b's cycle is in the report's "cycles" array, or -1. */
static int64_t json_cycle_index(const struct json_ctx *c, uint64_t b)
{
	uint32_t k, i, n = 0;

	if (!c->an->block_cycle || b >= c->an->nblocks || c->an->block_cycle[b] == 0)
		return -1;
	k = c->an->block_cycle[b] - 1;
	if (!c->an->cycles || k >= c->an->ncycles || !hc_report_cycle_valid(c->snap, &c->an->cycles[k]))
		return -1;
	for (i = 0; i < k; i++)
		if (hc_report_cycle_valid(c->snap, &c->an->cycles[i]))
			n++;
	return n;
}

static void json_ref_object(struct json_ctx *c, const struct hc_ref_history *h,
			    const struct hc_refhist *r)
{
	const struct hc_snapshot *s = c->snap;
	const struct hc_block *b = &s->blocks[h->block];
	int64_t cyc = json_cycle_index(c, h->block);
	const char *fate;
	char buf[300];
	const char *type = hc_report_block_type(s, c->sym, h->block, buf, sizeof(buf));
	uint32_t i;

	fputs("{\"address\": ", c->out);
	json_hex(c->out, b->addr + h->offset);
	fputs(", \"block\": ", c->out);
	json_hex(c->out, b->addr);
	fprintf(c->out, ", \"size\": %" PRIu64 ", \"type\": ", b->size);
	json_str(c->out, type);
	fprintf(c->out, ", \"class\": \"%s\", \"cycle\": ",
		class_name(h->block < c->an->nblocks ? c->an->block_class[h->block] :
			   HC_CLASS_REACHABLE));
	if (cyc < 0)
		fputs("null", c->out);
	else
		fprintf(c->out, "%" PRId64, cyc);
	fputs(", \"count\": ", c->out);
	if (h->count == HC_REF_COUNT_UNKNOWN)
		fputs("null", c->out);
	else
		fprintf(c->out, "%u", h->count);
	fate = r->has_initial ? r->initial_fate == HC_REFHIST_NA ? "taken_over" :
				json_fate(r->initial_fate) : NULL;
	fputs(",\n        \"initial\": ", c->out);
	json_str(c->out, fate);
	fputs(", \"initial_released_by\": ", c->out);
	json_index(c->out, r->has_initial && r->initial_fate == HC_REFHIST_RELEASED ?
		   r->initial_released_by : HC_REFHIST_NONE);
	fprintf(c->out, ", \"dropped\": %u, \"dropped_refs\": %u, \"dropped_unrefs\": %u"
		", \"gap\": %u, \"unseen_refs\": %" PRIu64 ", \"unseen_unrefs\": %" PRIu64
		", \"unmatched_unrefs\": %" PRIu64 ",\n        \"calls\": [",
		h->dropped, h->dropped_refs, h->dropped_unrefs, h->gap, r->unseen_refs,
		r->unseen_unrefs, r->unmatched_unrefs);
	for (i = 0; i < h->nevents; i++) {
		const struct hc_ref_event *ev = &h->events[i];
		const struct hc_refhist_step *st = &r->steps[i];

		fprintf(c->out, "%s\n          {\"seq\": %" PRIu64 ", \"call\": \"%s\", \"count\": %u"
			", \"thread\": %u, \"floating\": %s, \"fate\": ", i ? "," : "", ev->seq,
			hc_refhist_call_name(ev->kind), ev->count, ev->tid,
			ev->flags & HC_REF_FLOATING ? "true" : "false");
		json_str(c->out, json_fate(st->fate));
		fputs(", \"released_by\": ", c->out);
		json_index(c->out, st->fate == HC_REFHIST_RELEASED ? st->released_by : HC_REFHIST_NONE);
		fputs(", \"releases\": ", c->out);
		if (ev->kind != HC_REF_UNREF || st->unmatched) {
			fputs("null", c->out);
		} else {
			fprintf(c->out, "{\"origin\": \"%s\", \"call\": ",
				json_origin(st->released_origin));
			json_index(c->out, st->releases);
			fputc('}', c->out);
		}
		fputs(", \"stack\": ", c->out);
		json_stack(c, ev->stack);
		fputc('}', c->out);
	}
	fputs(h->nevents ? "\n        ],\n        \"unreleased\": [" :
	      "],\n        \"unreleased\": [", c->out);
	for (i = 0; i < r->nheld; i++) {
		const struct hc_refhist_ref *ref = &r->held[i];
		uint32_t stack = 0;

		if (ref->event < h->nevents)
			stack = h->events[ref->event].stack;
		else if (ref->origin == HC_REFHIST_INITIAL)
			stack = b->stack;	/* g_object_new's caller allocated it */
		fprintf(c->out, "%s\n          {\"origin\": \"%s\", \"references\": %" PRIu64
			", \"call\": ", i ? "," : "", json_origin(ref->origin), ref->n);
		json_index(c->out, ref->event < h->nevents ? ref->event : HC_REFHIST_NONE);
		fputs(", \"stack\": ", c->out);
		json_stack(c, stack);
		fputc('}', c->out);
	}
	fputs(r->nheld ? "\n        ]}" : "]}", c->out);
}

/* Every leaked object with recorded g_object_ref/unref calls. */
static void json_references(struct json_ctx *c)
{
	const struct hc_snapshot *s = c->snap;
	bool first = true;
	uint32_t i;

	fputs(",\n    \"references\": [", c->out);
	for (i = 0; s->refhists && i < s->nrefhists; i++) {
		const struct hc_ref_history *h = &s->refhists[i];
		struct hc_refhist r;

		if (h->block >= s->nblocks || !c->an->block_class || h->block >= c->an->nblocks ||
		    c->an->block_class[h->block] == HC_CLASS_REACHABLE)
			continue;
		/* Out of memory: the object is left out, the report stays valid. */
		if (hc_report_refhist(&c->fr, c->sym, s, h, &r) != HC_OK)
			continue;
		fputs(first ? "\n      " : ",\n      ", c->out);
		json_ref_object(c, h, &r);
		hc_refhist_fini(&r);
		first = false;
	}
	fputs(first ? "]" : "\n    ]", c->out);
}

static void json_process(struct json_ctx *c, const char *path)
{
	const struct hc_snapshot *s = c->snap;
	struct json_sum sum = { .with_suppressed = c->opts->suppressions != NULL };
	uint32_t i;
	bool first = true;

	fputs("{\"snapshot\": ", c->out);
	json_str(c->out, path);
	fprintf(c->out, ", \"pid\": %u, \"ppid\": %u, \"exe\": ", s->pid, s->ppid);
	json_str(c->out, s->exe);
	fputs(", \"cmdline\": ", c->out);
	json_str(c->out, s->cmdline);
	fprintf(c->out, ", \"reason\": \"%s\", \"time\": %" PRIu64 ", \"flags\": [",
		hc_report_reason_name(s->reason), s->time_ns);
	if (s->flags & HC_SNAP_DEGRADED) {
		fputs("\"degraded\"", c->out);
		first = false;
	}
	if (s->flags & HC_SNAP_ROOTS_INCOMPLETE) {
		fputs(first ? "\"roots_incomplete\"" : ", \"roots_incomplete\"", c->out);
		first = false;
	}
	if (s->flags & HC_SNAP_STACKS_OFF)
		fputs(first ? "\"stacks_off\"" : ", \"stacks_off\"", c->out);
	fputs("],\n    \"summary\": ", c->out);
	sum_add(&sum, c->an);
	json_summary(c->out, &sum);
	fputs(",\n    \"leaks\": ", c->out);
	json_leaks(c);
	fputs(",\n    \"cycles\": [", c->out);
	first = true;
	for (i = 0; c->an->cycles && i < c->an->ncycles; i++) {
		if (!hc_report_cycle_valid(s, &c->an->cycles[i]))
			continue;
		fputs(first ? "\n      " : ",\n      ", c->out);
		json_cycle(c, &c->an->cycles[i]);
		first = false;
	}
	fputs(first ? "],\n    \"collections\": [" : "\n    ],\n    \"collections\": [", c->out);
	for (i = 0; s->events && i < s->nevents; i++) {
		fputs(i ? ",\n      " : "\n      ", c->out);
		json_event(c, &s->events[i]);
	}
	fputs(s->events && s->nevents ? "\n    ],\n    \"bad_frees\": [" : "],\n    \"bad_frees\": [",
	      c->out);
	for (i = 0; s->badfrees && i < s->nbadfrees; i++) {
		const struct hc_bad_free *f = &s->badfrees[i];

		fprintf(c->out, "%s{\"kind\": \"%s\", \"call\": ", i ? ",\n      " : "\n      ",
			hc_report_bad_free_kind(f->kind));
		hc_report_json_str(c->out, hc_report_free_op(f->op), HC_REPORT_JSON_REPORT);
		fputs(", \"address\": ", c->out);
		json_hex(c->out, f->addr);
		fprintf(c->out, ", \"size\": %" PRIu64 ", \"count\": %u, \"allocated_with\": ",
			f->size, f->count);
		if (f->kind == HC_BAD_FREE_UNKNOWN)
			fputs("null", c->out);
		else
			hc_report_json_str(c->out, hc_report_alloc_kind(f->alloc_kind),
					   HC_REPORT_JSON_REPORT);
		fputs(", \"stack\": ", c->out);
		json_stack(c, f->free_stack);
		fputs(", \"allocation_stack\": ", c->out);
		json_stack(c, f->kind == HC_BAD_FREE_UNKNOWN ? 0 : f->alloc_stack);
		fputc('}', c->out);
	}
	fputs(s->badfrees && s->nbadfrees ? "\n    ]" : "]", c->out);
	json_references(c);
	fputc('}', c->out);
}

int hc_report_json(FILE *out, const struct hc_report_input *in, size_t n,
		   const struct hc_report_opts *opts)
{
	static const struct hc_report_opts defaults;
	struct json_ctx c = { .out = out, .opts = opts ? opts : &defaults };
	struct json_sum sum = { .with_suppressed = c.opts->suppressions != NULL };
	size_t i;
	bool first = true;

	fprintf(out, "{\"version\": %d, \"tool\": \"heapcycle\",\n  \"processes\": [",
		HC_REPORT_JSON_VERSION);
	for (i = 0; i < n; i++) {
		if (!in[i].snap || !in[i].an)
			continue;
		c.snap = in[i].snap;
		c.an = in[i].an;
		c.sym = in[i].sym;
		fputs(first ? "\n  " : ",\n  ", out);
		json_process(&c, in[i].path);
		sum_add(&sum, in[i].an);
		first = false;
	}
	fputs(first ? "],\n  \"summary\": " : "\n  ],\n  \"summary\": ", out);
	json_summary(out, &sum);
	fputs("}\n", out);
	hc_report_frames_fini(&c.fr);
	if (fflush(out) != 0 || ferror(out))
		return HC_ERR_IO;
	return HC_OK;
}
