/* SPDX-License-Identifier: MIT */
/*
 * `heapcycle diff A B`: two snapshots of one process, the tool for slow
 * leaks in servers. Allocation stacks are matched across the two by the
 * module and module offset of every frame (what ASLR and a restart leave
 * unchanged), so two runs of one binary compare as well as two snapshots of
 * one process. Prints the growth of live blocks and bytes per stack, the
 * leak groups (stack and class) B has and A has not, and the cycles B has
 * and A has not (by the stacks of their members), as text or as the JSON
 * object heapcycle(1) describes. Reading, analysing and symbolizing are the
 * core's; this file owns the matching and the layout.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "hc.h"
#include "options.h"
#include "report.h"
#include "snapshot.h"
#include "suppress.h"
#include "symbolize.h"
#include "tool.h"

#define HC_DIFF_SHOWN_FRAMES 12u

struct diff_side {
	const char *path;
	struct hc_snapshot *snap;
	struct hc_analysis *an;
	struct hc_symbolizer *sym;
	char **key;		/* per stack id: its cross-snapshot key */
};

/* One allocation stack seen in A or B. */
struct diff_entry {
	const char *key;	/* owned by a side's key table */
	uint64_t a_blocks, a_bytes, b_blocks, b_bytes;
	uint32_t a_stack, b_stack;	/* 0 when absent on that side */
	unsigned leak_a;	/* bit per class: A has a leak group of it here */
};

struct diff_map {
	struct diff_entry *v;
	size_t n, cap;
	uint32_t *slot;		/* index + 1 */
	size_t nslots;
};

static uint64_t diff_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Returns the entry for key, adding it; NULL when out of memory. */
static struct diff_entry *diff_map_get(struct diff_map *m, const char *key)
{
	size_t i;

	if (2 * (m->n + 1) > m->nslots) {
		size_t ns = m->nslots ? 2 * m->nslots : 1024;
		uint32_t *slot = calloc(ns, sizeof(*slot));

		if (!slot)
			return NULL;
		for (size_t k = 0; k < m->n; k++) {
			for (i = diff_hash(m->v[k].key) & (ns - 1); slot[i]; i = (i + 1) & (ns - 1))
				;
			slot[i] = (uint32_t)(k + 1);
		}
		free(m->slot);
		m->slot = slot;
		m->nslots = ns;
	}
	for (i = diff_hash(key) & (m->nslots - 1); m->slot[i]; i = (i + 1) & (m->nslots - 1))
		if (!strcmp(m->v[m->slot[i] - 1].key, key))
			return &m->v[m->slot[i] - 1];
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 256;
		struct diff_entry *v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		m->v = v;
		m->cap = cap;
	}
	memset(&m->v[m->n], 0, sizeof(m->v[0]));
	m->v[m->n].key = key;
	m->slot[i] = (uint32_t)(m->n + 1);
	return &m->v[m->n++];
}

static struct diff_entry *diff_map_find(const struct diff_map *m, const char *key)
{
	size_t i;

	if (!m->nslots)
		return NULL;
	for (i = diff_hash(key) & (m->nslots - 1); m->slot[i]; i = (i + 1) & (m->nslots - 1))
		if (!strcmp(m->v[m->slot[i] - 1].key, key))
			return &m->v[m->slot[i] - 1];
	return NULL;
}

/*
 * The key of every stack: "module+offset" per frame outside heapcycle,
 * joined by ';'. Returns HC_OK or HC_ERR_NOMEM.
 */
static int diff_keys(struct diff_side *d)
{
	const struct hc_snapshot *s = d->snap;
	struct hc_frame fr[HC_REPORT_INLINE_MAX];

	d->key = calloc(s->nstacks ? s->nstacks : 1, sizeof(*d->key));
	if (!d->key)
		return HC_ERR_NOMEM;
	for (uint32_t k = 0; k < s->nstacks; k++) {
		const struct hc_stack *st = &s->stacks[k];
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		if (!f)
			return HC_ERR_NOMEM;
		for (uint32_t i = 0; i < st->nframes; i++) {
			if (hc_symbolizer_is_internal(d->sym, st->frames[i]))
				continue;
			if (hc_symbolize(d->sym, st->frames[i], true, fr, 1) == 0)
				continue;
			if (fr[0].module)
				fprintf(f, "%s+%" PRIx64 ";", fr[0].module, fr[0].module_offset);
			else
				fprintf(f, "?+%" PRIx64 ";", fr[0].pc);
		}
		if (fclose(f) != 0 || !buf) {
			free(buf);
			return HC_ERR_NOMEM;
		}
		d->key[k] = buf;
	}
	return HC_OK;
}

static int diff_load(struct diff_side *d, const char *path)
{
	struct hc_error err = { 0 };
	char line[512];
	int rc;

	d->path = path;
	rc = hc_snapshot_read_file(path, &d->snap, &err);
	if (rc != HC_OK) {
		if (err.status == HC_OK)
			hc_error_set(&err, (enum hc_status)rc, 0, "");
		hc_tool_error("%s", hc_error_format(&err, path, line, sizeof(line)));
		return rc;
	}
	rc = hc_analyze(d->snap, &d->an);
	if (rc == HC_OK)
		rc = hc_symbolizer_new(d->snap, &d->sym);
	if (rc == HC_OK)
		rc = diff_keys(d);
	if (rc != HC_OK)
		hc_tool_error("%s: cannot analyse: %s", path, hc_strerror(rc));
	return rc;
}

static void diff_side_fini(struct diff_side *d)
{
	if (d->key && d->snap)
		for (uint32_t k = 0; k < d->snap->nstacks; k++)
			free(d->key[k]);
	free(d->key);
	if (d->sym)
		hc_symbolizer_free(d->sym);
	if (d->an)
		hc_analysis_free(d->an);
	if (d->snap)
		hc_snapshot_free(d->snap);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A cycle's key: its members' stack keys, sorted. NULL when out of memory. */
static char *diff_cycle_key(const struct diff_side *d, const struct hc_cycle *cy)
{
	const char **v = calloc(cy->nmembers ? cy->nmembers : 1, sizeof(*v));
	char *buf = NULL;
	size_t len = 0, n = 0;
	FILE *f;

	if (!v)
		return NULL;
	for (uint32_t i = 0; i < cy->nmembers; i++)
		if (cy->members[i] < d->snap->nblocks &&
		    d->snap->blocks[cy->members[i]].stack < d->snap->nstacks)
			v[n++] = d->key[d->snap->blocks[cy->members[i]].stack];
	qsort(v, n, sizeof(*v), cmp_str);
	f = open_memstream(&buf, &len);
	if (f) {
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%s|", v[i]);
		if (fclose(f) != 0) {
			free(buf);
			buf = NULL;
		}
	}
	free(v);
	return buf;
}

struct diff_result {
	struct diff_map map;
	size_t *growth;		/* indices into map.v, largest growth first */
	size_t ngrowth;
	const struct hc_leak_group **new_leaks;
	size_t nnew_leaks;
	const struct hc_cycle **new_cycles;
	size_t nnew_cycles;
	int64_t total_blocks, total_bytes;
};

static const struct diff_map *growth_sort_map;

static int64_t growth_bytes(const struct diff_entry *e)
{
	return (int64_t)e->b_bytes - (int64_t)e->a_bytes;
}

static int growth_cmp(const void *a, const void *b)
{
	const struct diff_entry *x = &growth_sort_map->v[*(const size_t *)a];
	const struct diff_entry *y = &growth_sort_map->v[*(const size_t *)b];
	int64_t gx = growth_bytes(x), gy = growth_bytes(y);

	if (gx != gy)
		return gx > gy ? -1 : 1;
	return strcmp(x->key, y->key);
}

static int diff_compute(struct diff_side *a, struct diff_side *b, bool all,
			struct diff_result *r)
{
	struct diff_map cyc_a = { 0 };
	char **cyc_keys = NULL;
	uint32_t ncyc_keys = 0;
	int rc = HC_ERR_NOMEM;

	for (int side = 0; side < 2; side++) {
		struct diff_side *d = side ? b : a;

		for (uint64_t i = 0; i < d->snap->nblocks; i++) {
			const struct hc_block *bl = &d->snap->blocks[i];
			uint32_t st = bl->stack < d->snap->nstacks ? bl->stack : 0;
			struct diff_entry *e;

			if (bl->flags & HC_BLOCK_LOADER)
				continue;	/* the loader's, not the program's */
			e = diff_map_get(&r->map, d->key[st]);
			if (!e)
				goto out;
			if (side) {
				e->b_blocks++;
				e->b_bytes += bl->size;
				e->b_stack = st;
			} else {
				e->a_blocks++;
				e->a_bytes += bl->size;
				e->a_stack = st;
			}
		}
	}
	for (uint64_t i = 0; a->an->groups && i < a->an->ngroups; i++) {
		const struct hc_leak_group *g = &a->an->groups[i];
		struct diff_entry *e = diff_map_get(&r->map, a->key[g->stack < a->snap->nstacks ?
								     g->stack : 0]);

		if (!e)
			goto out;
		if (g->cls < HC_CLASS_COUNT)
			e->leak_a |= 1u << g->cls;
	}
	r->growth = calloc(r->map.n + 1, sizeof(*r->growth));
	r->new_leaks = calloc(b->an->ngroups + 1, sizeof(*r->new_leaks));
	r->new_cycles = calloc(b->an->ncycles + 1, sizeof(*r->new_cycles));
	if (!r->growth || !r->new_leaks || !r->new_cycles)
		goto out;
	for (size_t k = 0; k < r->map.n; k++) {
		const struct diff_entry *e = &r->map.v[k];

		r->total_blocks += (int64_t)e->b_blocks - (int64_t)e->a_blocks;
		r->total_bytes += growth_bytes(e);
		if (growth_bytes(e) > 0 || (all && growth_bytes(e) != 0))
			r->growth[r->ngrowth++] = k;
	}
	growth_sort_map = &r->map;
	qsort(r->growth, r->ngrowth, sizeof(*r->growth), growth_cmp);
	for (uint64_t i = 0; b->an->groups && i < b->an->ngroups; i++) {
		const struct hc_leak_group *g = &b->an->groups[i];
		const struct diff_entry *e = diff_map_find(&r->map, b->key[g->stack < b->snap->nstacks ?
									 g->stack : 0]);

		if (g->cls == HC_CLASS_REACHABLE || g->cls >= HC_CLASS_COUNT)
			continue;
		if (!e || !(e->leak_a & (1u << g->cls)))
			r->new_leaks[r->nnew_leaks++] = g;
	}
	cyc_keys = calloc(a->an->ncycles + 1, sizeof(*cyc_keys));
	if (!cyc_keys)
		goto out;
	for (uint32_t i = 0; i < a->an->ncycles; i++) {
		cyc_keys[i] = diff_cycle_key(a, &a->an->cycles[i]);
		if (!cyc_keys[i])
			goto out;
		ncyc_keys = i + 1;
		if (!diff_map_get(&cyc_a, cyc_keys[i]))
			goto out;
	}
	for (uint32_t i = 0; i < b->an->ncycles; i++) {
		char *k = diff_cycle_key(b, &b->an->cycles[i]);
		bool known;

		if (!k)
			goto out;
		known = diff_map_find(&cyc_a, k) != NULL;
		free(k);
		if (!known)
			r->new_cycles[r->nnew_cycles++] = &b->an->cycles[i];
	}
	rc = HC_OK;
out:
	for (uint32_t i = 0; i < ncyc_keys; i++)
		free(cyc_keys[i]);
	free(cyc_keys);
	free(cyc_a.v);
	free(cyc_a.slot);
	return rc;
}

static void diff_result_fini(struct diff_result *r)
{
	free(r->map.v);
	free(r->map.slot);
	free(r->growth);
	free(r->new_leaks);
	free(r->new_cycles);
}

/* ---- text ---- */

static void text_stack(FILE *out, struct hc_symbolizer *sym, const struct hc_snapshot *s,
		       uint32_t stack)
{
	struct hc_frame fr[HC_DIFF_SHOWN_FRAMES];
	unsigned n = hc_suppress_stack_frames(sym, s, stack, fr, HC_DIFF_SHOWN_FRAMES);

	if (n == 0)
		fputs("    (no stack recorded)\n", out);
	for (unsigned k = 0; k < n; k++) {
		fprintf(out, "    #%u 0x%" PRIx64 " in %s", k, fr[k].pc,
			fr[k].function ? fr[k].function : "??");
		if (fr[k].file)
			fprintf(out, " %s:%u", fr[k].file, fr[k].line);
		else if (fr[k].module)
			fprintf(out, " (%s+0x%" PRIx64 ")", fr[k].module, fr[k].module_offset);
		fputs(fr[k].inlined ? " (inlined)\n" : "\n", out);
	}
}

static const char *class_title(enum hc_leak_class c)
{
	switch (c) {
	case HC_CLASS_DIRECT:
		return "Direct leak";
	case HC_CLASS_INDIRECT:
		return "Indirect leak";
	case HC_CLASS_POSSIBLE:
		return "Possible leak";
	case HC_CLASS_CYCLE:
		return "Cycle member leak";
	default:
		return "Leak";
	}
}

static void diff_text(FILE *out, const struct diff_side *a, const struct diff_side *b,
		      const struct diff_result *r)
{
	fprintf(out, "heapcycle diff: %s (pid %u) -> %s (pid %u)\n", a->path, a->snap->pid,
		b->path, b->snap->pid);
	if (a->snap->pid != b->snap->pid)
		fprintf(out, "note: the snapshots are of different processes (pid %u and %u); "
			"stacks are matched by module and offset\n", a->snap->pid, b->snap->pid);
	if (a->snap->time_ns > b->snap->time_ns)
		fputs("note: A was taken after B\n", out);
	fprintf(out, "\nGrowth by allocation stack (live in B minus live in A), largest first: %zu stack(s)\n",
		r->ngrowth);
	for (size_t k = 0; k < r->ngrowth; k++) {
		const struct diff_entry *e = &r->map.v[r->growth[k]];
		bool in_b = e->b_stack != 0 || e->b_blocks;

		fprintf(out, "\n%+" PRId64 " byte(s) in %+" PRId64 " block(s) "
			"(A: %" PRIu64 " bytes in %" PRIu64 ", B: %" PRIu64 " bytes in %" PRIu64
			") allocated from:\n", growth_bytes(e),
			(int64_t)e->b_blocks - (int64_t)e->a_blocks, e->a_bytes, e->a_blocks,
			e->b_bytes, e->b_blocks);
		if (in_b)
			text_stack(out, b->sym, b->snap, e->b_stack);
		else
			text_stack(out, a->sym, a->snap, e->a_stack);
	}
	fprintf(out, "\nLeaks new in B: %zu group(s)\n", r->nnew_leaks);
	for (size_t k = 0; k < r->nnew_leaks; k++) {
		const struct hc_leak_group *g = r->new_leaks[k];

		fprintf(out, "\n%s of %" PRIu64 " byte(s) in %" PRIu64 " object(s) allocated from:\n",
			class_title(g->cls), g->bytes, g->blocks);
		text_stack(out, b->sym, b->snap, g->stack);
	}
	fprintf(out, "\nLeaked cycles new in B: %zu\n", r->nnew_cycles);
	for (size_t k = 0; k < r->nnew_cycles; k++) {
		const struct hc_cycle *cy = r->new_cycles[k];

		fprintf(out, "\nLeaked cycle of %" PRIu64 " byte(s) in %u object(s), retaining %"
			PRIu64 " byte(s):\n", cy->bytes, cy->nmembers, cy->retained_bytes);
		for (uint32_t i = 0; i < cy->nmembers; i++) {
			const struct hc_block *bl = &b->snap->blocks[cy->members[i]];

			fprintf(out, "  #%u 0x%" PRIx64 " (%" PRIu64 " bytes) allocated from:\n", i,
				bl->addr, bl->size);
			text_stack(out, b->sym, b->snap, bl->stack);
		}
	}
	fprintf(out, "\nSUMMARY: heapcycle diff: %+" PRId64 " byte(s) in %+" PRId64
		" block(s) live; %zu new leak group(s); %zu new leaked cycle(s).\n",
		r->total_bytes, r->total_blocks, r->nnew_leaks, r->nnew_cycles);
}

/* ---- json ---- */

static void json_stack(FILE *out, struct hc_symbolizer *sym, const struct hc_snapshot *s,
		       uint32_t stack)
{
	struct hc_frame *fr = calloc(HC_SUPPRESS_MAX_FRAMES, sizeof(*fr));
	unsigned n = fr ? hc_suppress_stack_frames(sym, s, stack, fr,
						   HC_SUPPRESS_MAX_FRAMES) : 0;

	fputc('[', out);
	for (unsigned k = 0; k < n; k++) {
		fputs(k ? ", {\"function\": " : "{\"function\": ", out);
		hc_report_json_str(out, fr[k].function, 0);
		fputs(", \"file\": ", out);
		hc_report_json_str(out, fr[k].file, 0);
		if (fr[k].line)
			fprintf(out, ", \"line\": %u", fr[k].line);
		else
			fputs(", \"line\": null", out);
		fputs(", \"module\": ", out);
		hc_report_json_str(out, fr[k].module, 0);
		fprintf(out, ", \"offset\": \"0x%" PRIx64 "\"}",
			fr[k].module ? fr[k].module_offset : fr[k].pc);
	}
	fputc(']', out);
	free(fr);
}

static void json_side(FILE *out, const char *name, const struct diff_side *d)
{
	fprintf(out, "  \"%s\": {\"snapshot\": ", name);
	hc_report_json_str(out, d->path, 0);
	fprintf(out, ", \"pid\": %u, \"time\": %" PRIu64 "},\n", d->snap->pid, d->snap->time_ns);
}

static void diff_json(FILE *out, const struct diff_side *a, const struct diff_side *b,
		      const struct diff_result *r)
{
	fputs("{\"version\": 1, \"tool\": \"heapcycle\", \"kind\": \"diff\",\n", out);
	json_side(out, "a", a);
	json_side(out, "b", b);
	fprintf(out, "  \"same_process\": %s,\n  \"growth\": [",
		a->snap->pid == b->snap->pid ? "true" : "false");
	for (size_t k = 0; k < r->ngrowth; k++) {
		const struct diff_entry *e = &r->map.v[r->growth[k]];
		bool in_b = e->b_stack != 0 || e->b_blocks;

		fprintf(out, "%s\n    {\"blocks\": %" PRId64 ", \"bytes\": %" PRId64
			", \"a\": {\"blocks\": %" PRIu64 ", \"bytes\": %" PRIu64 "}"
			", \"b\": {\"blocks\": %" PRIu64 ", \"bytes\": %" PRIu64 "}, \"stack\": ",
			k ? "," : "", (int64_t)e->b_blocks - (int64_t)e->a_blocks, growth_bytes(e),
			e->a_blocks, e->a_bytes, e->b_blocks, e->b_bytes);
		if (in_b)
			json_stack(out, b->sym, b->snap, e->b_stack);
		else
			json_stack(out, a->sym, a->snap, e->a_stack);
		fputc('}', out);
	}
	fputs(r->ngrowth ? "\n  ],\n  \"new_leaks\": [" : "],\n  \"new_leaks\": [", out);
	for (size_t k = 0; k < r->nnew_leaks; k++) {
		const struct hc_leak_group *g = r->new_leaks[k];

		fprintf(out, "%s\n    {\"class\": \"%s\", \"blocks\": %" PRIu64 ", \"bytes\": %"
			PRIu64 ", \"stack\": ", k ? "," : "", hc_leak_class_name(g->cls),
			g->blocks, g->bytes);
		json_stack(out, b->sym, b->snap, g->stack);
		fputc('}', out);
	}
	fputs(r->nnew_leaks ? "\n  ],\n  \"new_cycles\": [" : "],\n  \"new_cycles\": [", out);
	for (size_t k = 0; k < r->nnew_cycles; k++) {
		const struct hc_cycle *cy = r->new_cycles[k];

		fprintf(out, "%s\n    {\"bytes\": %" PRIu64 ", \"retained_bytes\": %" PRIu64
			", \"members\": [", k ? "," : "", cy->bytes, cy->retained_bytes);
		for (uint32_t i = 0; i < cy->nmembers; i++) {
			const struct hc_block *bl = &b->snap->blocks[cy->members[i]];

			fprintf(out, "%s{\"address\": \"0x%" PRIx64 "\", \"size\": %" PRIu64
				", \"stack\": ", i ? ", " : "", bl->addr, bl->size);
			json_stack(out, b->sym, b->snap, bl->stack);
			fputc('}', out);
		}
		fputs("]}", out);
	}
	fprintf(out, "%s,\n  \"summary\": {\"blocks\": %" PRId64 ", \"bytes\": %" PRId64
		", \"new_leaks\": %zu, \"new_cycles\": %zu}}\n",
		r->nnew_cycles ? "\n  ]" : "]", r->total_blocks, r->total_bytes,
		r->nnew_leaks, r->nnew_cycles);
}

int hc_cmd_diff(struct hc_options *o, int argc, char **argv)
{
	struct diff_side side[2];
	struct diff_result r;
	const char *paths[2];
	bool output_given = false, all = false, operands_only = false;
	int status = HC_EXIT_USAGE, npaths = 0;
	int i = 1;

	memset(side, 0, sizeof(side));
	memset(&r, 0, sizeof(r));
	while (i < argc) {
		const char *a = argv[i];

		if (!operands_only && a[0] == '-' && a[1]) {
			if (!strcmp(a, "--")) {
				operands_only = true;
				i++;
			} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
				hc_tool_print_help(stdout);
				status = fflush(stdout) ? 1 : 0;
				goto out;
			} else if (!strcmp(a, "--all")) {
				all = true;
				i++;
			} else if (hc_tool_parse_option(o, argc, argv, &i, false,
							&output_given) != HC_OK) {
				goto out;
			}
			continue;
		}
		if (npaths == 2) {
			status = hc_tool_usage("diff: more than two snapshots given");
			goto out;
		}
		paths[npaths++] = a;
		i++;
	}
	if (strcmp(o->format, "text") && strcmp(o->format, "json")) {
		status = hc_tool_usage("diff: format '%s' not supported (text or json)", o->format);
		goto out;
	}
	if (npaths != 2) {
		status = hc_tool_usage("diff: needs two snapshots, A and B");
		goto out;
	}
	for (int k = 0; k < 2; k++)
		if (diff_load(&side[k], paths[k]) != HC_OK)
			goto out;
	if (diff_compute(&side[0], &side[1], all, &r) != HC_OK) {
		hc_tool_error("out of memory");
		goto out;
	}
	if (!strcmp(o->format, "json"))
		diff_json(stdout, &side[0], &side[1], &r);
	else
		diff_text(stdout, &side[0], &side[1], &r);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		hc_tool_error("cannot write the diff");
		status = 1;
		goto out;
	}
	status = 0;
out:
	diff_result_fini(&r);
	diff_side_fini(&side[0]);
	diff_side_fini(&side[1]);
	return status;
}
