/* SPDX-License-Identifier: MIT */
/*
 * The JSON report, for programs: every process of a run with its summary,
 * its leak groups (with symbolized allocation stacks) and its leaked cycles
 * (members, edges with offsets, retained size). doc/report-schema.json is
 * the contract and carries the version written here; man/heapcycle-report.5
 * explains the fields. This file owns the serialization, string escaping
 * included (paths and names come from the program and may hold anything);
 * the numbers come from the analysis and the names from the symbolizer.
 * Suppressed groups and cycles stay in, marked with the suppression's
 * name; with a baseline each leak says whether it is new.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "report.h"

#define HC_JSON_INLINE_MAX 16u

struct json_ctx {
	FILE *out;
	const struct hc_report_opts *opts;
	const struct hc_snapshot *snap;
	const struct hc_analysis *an;
	struct hc_symbolizer *sym;
};

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when it is
 * not one: overlong forms, surrogates and code points past U+10FFFF are
 * invalid (RFC 3629), and JSON parsers reject them. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Writes s as a JSON string, or null. Bytes that are not UTF-8 become
 * U+FFFD: a path is bytes to the kernel, but JSON text must be Unicode. */
static void json_str(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n, len;

	if (!str) {
		fputs("null", out);
		return;
	}
	n = strlen(str);
	fputc('"', out);
	while (n) {
		switch (*s) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*s < 0x20) {
				fprintf(out, "\\u%04x", *s);
				break;
			}
			len = utf8_len(s, n);
			if (len == 0) {
				fputs("\\ufffd", out);
				break;
			}
			fwrite(s, 1, len, out);
			s += len;
			n -= len;
			continue;
		}
		s++;
		n--;
	}
	fputc('"', out);
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
static void json_stack(const struct json_ctx *c, uint32_t stack)
{
	const struct hc_stack *st;
	struct hc_frame fr[HC_JSON_INLINE_MAX];
	unsigned shown = 0, max = c->opts->max_frames, n, k;
	uint32_t i;

	fputc('[', c->out);
	if (stack == 0 || stack >= c->snap->nstacks)
		goto out;
	st = &c->snap->stacks[stack];
	for (i = 0; i < st->nframes; i++) {
		if (hc_symbolizer_is_internal(c->sym, st->frames[i]))
			continue;
		n = hc_symbolize(c->sym, st->frames[i], true, fr, HC_JSON_INLINE_MAX);
		for (k = 0; k < n; k++) {
			if (max && shown >= max)
				goto out;
			fputs(shown ? ", " : "", c->out);
			json_frame(c->out, &fr[k]);
			shown++;
		}
	}
out:
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

static void json_group(const struct json_ctx *c, const struct hc_leak_group *g, bool first)
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

static void json_leaks(const struct json_ctx *c)
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

struct member_key {
	uint32_t block, member;
};

static int member_key_cmp(const void *a, const void *b)
{
	const struct member_key *x = a, *y = b;

	return x->block < y->block ? -1 : x->block > y->block;
}

/* Returns the member number of block b in cy, or -1; keys (sorted by
 * block) makes it a binary search, NULL (out of memory) a linear one. */
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

static void json_cycle(const struct json_ctx *c, const struct hc_cycle *cy)
{
	const struct hc_snapshot *s = c->snap;
	struct member_key *keys = hc_mem_calloc(cy->nmembers ? cy->nmembers : 1, sizeof(*keys));
	const struct hc_block *b;
	uint32_t i;
	int64_t from, to;
	bool first = true;

	if (keys) {
		for (i = 0; i < cy->nmembers; i++) {
			keys[i].block = cy->members[i];
			keys[i].member = i;
		}
		qsort(keys, cy->nmembers, sizeof(*keys), member_key_cmp);
	}
	fprintf(c->out, "{\"bytes\": %" PRIu64 ", \"retained_bytes\": %" PRIu64
		", \"retained_blocks\": %" PRIu64 ", \"root\": %s,\n        \"members\": [",
		cy->bytes, cy->retained_bytes, cy->retained_blocks, cy->is_root ? "true" : "false");
	for (i = 0; i < cy->nmembers; i++) {
		b = &s->blocks[cy->members[i]];
		fprintf(c->out, "%s\n          {\"address\": ", i ? "," : "");
		json_hex(c->out, b->addr);
		fprintf(c->out, ", \"size\": %" PRIu64 ", \"type\": null, \"class\": \"%s\", \"stack\": ",
			b->size, class_name(cy->members[i] < c->an->nblocks && c->an->block_class ?
					    c->an->block_class[cy->members[i]] : HC_CLASS_CYCLE));
		json_stack(c, b->stack);
		fputc('}', c->out);
	}
	fputs(cy->nmembers ? "\n        ],\n        \"edges\": [" : "],\n        \"edges\": [", c->out);
	for (i = 0; i < cy->nedges; i++) {
		const struct hc_edge *e = &s->edges[cy->edges[i]];

		from = member_of(cy, keys, e->from);
		to = member_of(cy, keys, e->to);
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

static bool cycle_valid(const struct hc_snapshot *s, const struct hc_cycle *cy)
{
	uint32_t i;

	if (cy->nmembers == 0 || !cy->members || (cy->nedges && !cy->edges))
		return false;
	for (i = 0; i < cy->nmembers; i++)
		if (cy->members[i] >= s->nblocks)
			return false;
	for (i = 0; i < cy->nedges; i++)
		if (cy->edges[i] >= s->nedges)
			return false;
	return true;
}

static void json_process(const struct json_ctx *c, const char *path)
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
		if (!cycle_valid(s, &c->an->cycles[i]))
			continue;
		fputs(first ? "\n      " : ",\n      ", c->out);
		json_cycle(c, &c->an->cycles[i]);
		first = false;
	}
	fputs(first ? "]}" : "\n    ]}", c->out);
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
	if (fflush(out) != 0 || ferror(out))
		return HC_ERR_IO;
	return HC_OK;
}
