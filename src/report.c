/* SPDX-License-Identifier: MIT */
/*
 * The list of report formats: one place maps a --format name to its writer,
 * so the tool and the option checks never list formats themselves. Also the
 * pieces every writer needs the same way: a stack's visible frames, the
 * frame a leak is blamed on, which groups and cycles are shown, and string
 * escaping for JSON and XML/HTML (paths and names come from the program and
 * may hold anything). The layouts belong to the report_*.c files.
 */
#include "config.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "blocktable.h"
#include "report.h"

static const struct {
	const char *name;
	hc_report_fn fn;
} hc_report_formats[] = {
	{ "text", hc_report_text },
	{ "json", hc_report_json },
	{ "sarif", hc_report_sarif },
	{ "junit", hc_report_junit },
	{ "valgrind-xml", hc_report_vgxml },
	{ "dot", hc_report_dot },
	{ "html", hc_report_html },
};

hc_report_fn hc_report_find(const char *format)
{
	size_t i;

	for (i = 0; i < HC_ARRAY_SIZE(hc_report_formats); i++)
		if (!strcmp(hc_report_formats[i].name, format))
			return hc_report_formats[i].fn;
	return NULL;
}

const char *hc_report_format_names(void)
{
	static char names[256];
	size_t i;

	if (!names[0])
		for (i = 0; i < HC_ARRAY_SIZE(hc_report_formats); i++) {
			if (i)
				strcat(names, ", ");
			strcat(names, hc_report_formats[i].name);
		}
	return names;
}

/* ---- helpers shared by the writers ---- */

void hc_report_frames_fini(struct hc_report_frames *fr)
{
	hc_mem_free(fr->f);
	fr->f = NULL;
	fr->n = fr->cap = fr->skipped = 0;
}

int hc_report_frames_get(struct hc_report_frames *fr, struct hc_symbolizer *sym,
			 const struct hc_snapshot *s, uint32_t stack, unsigned max)
{
	struct hc_frame tmp[HC_REPORT_INLINE_MAX];
	const struct hc_stack *st;
	struct hc_frame *grown;
	unsigned n, k, cap;
	uint32_t i;

	fr->n = fr->skipped = 0;
	if (stack == 0 || stack >= s->nstacks)
		return HC_OK;
	st = &s->stacks[stack];
	for (i = 0; i < st->nframes; i++) {
		if (hc_symbolizer_is_internal(sym, st->frames[i]))
			continue;
		n = hc_symbolize(sym, st->frames[i], true, tmp, HC_REPORT_INLINE_MAX);
		for (k = 0; k < n; k++) {
			if (max && fr->n >= max) {
				fr->skipped++;
				continue;
			}
			if (fr->n == fr->cap) {
				cap = fr->cap ? fr->cap * 2 : 32;
				grown = hc_mem_realloc(fr->f, cap * sizeof(*grown));
				if (!grown)
					return HC_ERR_NOMEM;
				fr->f = grown;
				fr->cap = cap;
			}
			fr->f[fr->n++] = tmp[k];
		}
	}
	return HC_OK;
}

/* Distribution headers live under /usr, and glibc names its own sources
 * relative to its build tree ("../sysdeps/...", "./elf/..."): not where
 * the user can fix a leak. Only glibc's relative names are taken for its
 * own: a program built out of tree (meson, or make distcheck) has
 * "../src/..." names of its own. */
static bool system_frame(const struct hc_frame *f)
{
	const char *base = f->module ? strrchr(f->module, '/') : NULL;

	base = base ? base + 1 : f->module;
	if (!strncmp(f->file, "/usr/", 5) || strstr(f->file, "/sysdeps/") != NULL)
		return true;
	return f->file[0] != '/' && base &&
	       (!strncmp(base, "libc.so", 7) || !strncmp(base, "ld-linux", 8) ||
		!strncmp(base, "libm.so", 7) || !strncmp(base, "libpthread", 10));
}

int hc_report_alloc_frame(const struct hc_report_frames *fr)
{
	unsigned i;

	for (i = 0; i < fr->n; i++)
		if (fr->f[i].file && !system_frame(&fr->f[i]))
			return (int)i;
	for (i = 0; i < fr->n; i++)
		if (fr->f[i].function)
			return (int)i;
	return fr->n ? 0 : -1;
}

/*
 * A function of fr as a non-zero hash (0: none to compare): the innermost
 * frame's, the direct caller of a ref or unref (GLib running a destroy
 * notify the program passed is not the program's function calling it), or
 * with blamed, the frame a leak is blamed on (for an allocation, whose
 * innermost frames are the allocator's and GLib's).
 */
static uint64_t refhist_key(const struct hc_report_frames *fr, bool blamed)
{
	int k = blamed ? hc_report_alloc_frame(fr) : fr->n ? 0 : -1;
	uint64_t h = 1469598103934665603ull;
	const char *p;

	if (k < 0 || !fr->f[k].function)
		return 0;
	for (p = fr->f[k].function; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h | 1;
}

int hc_report_refhist(struct hc_report_frames *fr, struct hc_symbolizer *sym,
		      const struct hc_snapshot *s, const struct hc_ref_history *h,
		      struct hc_refhist *out)
{
	uint64_t *keys = hc_mem_calloc(h->nevents ? h->nevents : 1, sizeof(*keys));
	uint64_t initial = 0;
	uint32_t i;
	int rc;

	if (!keys) {
		memset(out, 0, sizeof(*out));
		return HC_ERR_NOMEM;
	}
	/* Out of memory while symbolizing: keys from the frames found so far. */
	for (i = 0; i < h->nevents; i++) {
		(void)hc_report_frames_get(fr, sym, s, h->events[i].stack, 0);
		keys[i] = refhist_key(fr, false);
	}
	if (h->block < s->nblocks) {
		(void)hc_report_frames_get(fr, sym, s, s->blocks[h->block].stack, 0);
		initial = refhist_key(fr, true);
	}
	rc = hc_refhist_pair(h, keys, initial, out);
	hc_mem_free(keys);
	return rc;
}

bool hc_report_group_shown(const struct hc_leak_group *g)
{
	return g->cls != HC_CLASS_REACHABLE && g->cls < HC_CLASS_COUNT && !g->suppressed_by;
}

bool hc_report_cycle_valid(const struct hc_snapshot *s, const struct hc_cycle *cy)
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

bool hc_report_cycle_shown(const struct hc_snapshot *s, const struct hc_cycle *cy)
{
	return !cy->suppressed_by && hc_report_cycle_valid(s, cy);
}

static int member_key_cmp(const void *a, const void *b)
{
	const struct hc_report_member_key *x = a, *y = b;

	return x->block < y->block ? -1 : x->block > y->block;
}

struct hc_report_member_key *hc_report_member_index_new(const struct hc_cycle *cy)
{
	struct hc_report_member_key *keys;
	uint32_t i;

	keys = hc_mem_calloc(cy->nmembers ? cy->nmembers : 1, sizeof(*keys));
	if (!keys)
		return NULL;
	for (i = 0; i < cy->nmembers; i++) {
		keys[i].block = cy->members[i];
		keys[i].member = i;
	}
	qsort(keys, cy->nmembers, sizeof(*keys), member_key_cmp);
	return keys;
}

int64_t hc_report_member_of(const struct hc_cycle *cy, const struct hc_report_member_key *keys,
			    uint32_t block)
{
	struct hc_report_member_key k = { .block = block };
	const struct hc_report_member_key *hit;
	uint32_t i;

	if (keys) {
		hit = bsearch(&k, keys, cy->nmembers, sizeof(*keys), member_key_cmp);
		return hit ? (int64_t)hit->member : -1;
	}
	for (i = 0; i < cy->nmembers; i++)
		if (cy->members[i] == block)
			return i;
	return -1;
}

size_t hc_report_utf8_len_rfc(const unsigned char *s, size_t n)
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

/* U+FFFE and U+FFFF are EF BF BE and EF BF BF. */
static bool utf8_nonchar(const unsigned char *s, size_t len)
{
	return len == 3 && s[0] == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf);
}

size_t hc_report_utf8_len(const unsigned char *s, size_t n)
{
	size_t len = hc_report_utf8_len_rfc(s, n);

	/* XML 1.0 forbids U+FFFE and U+FFFF even as references. */
	return utf8_nonchar(s, len) ? 0 : len;
}

/* hc_report_put_utf8, with the sequences that are valid chosen by strict. */
static size_t put_utf8(FILE *out, const unsigned char *s, size_t n, const char *bad,
		       bool strict)
{
	size_t len = strict ? hc_report_utf8_len(s, n) : hc_report_utf8_len_rfc(s, n);

	if (len == 0) {
		fputs(bad, out);
		return 1;
	}
	fwrite(s, 1, len, out);
	return len;
}

size_t hc_report_put_utf8(FILE *out, const unsigned char *s, size_t n, const char *bad)
{
	return put_utf8(out, s, n, bad, true);
}

void hc_report_json_str(FILE *out, const char *str, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)str;
	bool report = flags & HC_REPORT_JSON_REPORT;
	size_t n, len;

	if (!str) {
		fputs("null", out);
		return;
	}
	n = strlen(str);
	fputc('"', out);
	while (n) {
		/* Runs of characters that need no escape go out in one write:
		 * function names and paths are almost all of that. */
		for (len = 0; len < n && s[len] >= 0x20 && s[len] < 0x7f && s[len] != '"' &&
			      s[len] != '\\' && s[len] != '<' && s[len] != '>' && s[len] != '&'; len++)
			;
		if (len) {
			fwrite(s, 1, len, out);
			s += len;
			n -= len;
			continue;
		}
		len = 1;
		switch (*s) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
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
		case '\b':
		case '\f':
			if (report)
				fputs(*s == '\b' ? "\\b" : "\\f", out);
			else
				fprintf(out, "\\u%04x", *s);
			break;
		case '<':
		case '>':
		case '&':
			/* Inside an HTML <script> element "</script>" or "<!--"
			 * would end or change it, whatever JSON thinks. */
			if (flags & HC_REPORT_JSON_HTML)
				fprintf(out, "\\u%04x", *s);
			else
				fputc(*s, out);
			break;
		default:
			if (*s < 0x20 || (*s == 0x7f && !report))
				fprintf(out, "\\u%04x", *s);
			else
				len = put_utf8(out, s, n, "\\ufffd", !report);
		}
		s += len;
		n -= len;
	}
	fputc('"', out);
}

void hc_report_xml_str(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n, len;

	if (!str)
		return;
	n = strlen(str);
	while (n) {
		len = 1;
		switch (*s) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		case '\t':
		case '\n':
		case '\r':
			/* Character references survive attribute-value
			 * normalization, which would turn them into spaces. */
			fprintf(out, "&#%u;", *s);
			break;
		default:
			/* XML 1.0 has no way to write the other C0 controls,
			 * not even as references. */
			if (*s < 0x20 || *s == 0x7f)
				fputs("\xef\xbf\xbd", out);
			else
				len = hc_report_put_utf8(out, s, n, "\xef\xbf\xbd");
		}
		s += len;
		n -= len;
	}
}

unsigned hc_report_seen_add(struct hc_report_seen *seen, uint64_t h)
{
	unsigned count = 0;
	uint64_t *grown;
	size_t i, cap;

	for (i = 0; i < seen->n; i++)
		if (seen->v[i] == h)
			count++;
	if (seen->n == seen->cap) {
		cap = seen->cap ? seen->cap * 2 : 16;
		grown = hc_mem_realloc(seen->v, cap * sizeof(*grown));
		if (!grown)
			return count;
		seen->v = grown;
		seen->cap = cap;
	}
	seen->v[seen->n++] = h;
	return count;
}

const char *hc_report_basename(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path ? path : "<unknown>";
}

uint64_t hc_report_stack_hash(const struct hc_report_frames *fr, unsigned cls)
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a, 64 bits */
	const unsigned char *p;
	unsigned i;

	h = (h ^ cls) * 0x100000001b3ull;
	for (i = 0; i < fr->n; i++) {
		p = (const unsigned char *)(fr->f[i].function ? fr->f[i].function : "?");
		for (; *p; p++)
			h = (h ^ *p) * 0x100000001b3ull;
		h = (h ^ '\n') * 0x100000001b3ull;
	}
	return h;
}

const char *hc_report_reason_name(uint32_t reason)
{
	switch (reason) {
	case HC_REASON_EXIT:
		return "exit";
	case HC_REASON_UNDERSCORE_EXIT:
		return "_exit";
	case HC_REASON_API:
		return "api";
	case HC_REASON_SIGNAL:
		return "signal";
	case HC_REASON_INTERVAL:
		return "interval";
	case HC_REASON_EXEC:
		return "exec";
	default:
		return "unknown";
	}
}

/* The first template argument of a demangled name, "<Person, ...>" ->
 * "Person", into buf. Returns buf, or NULL when there is none. */
static const char *hc_first_template_arg(const char *name, char *buf, size_t len)
{
	const char *lt = strchr(name, '<'), *p;
	int depth = 0;
	size_t n;

	if (!lt)
		return NULL;
	for (p = lt + 1; *p; p++) {
		if (*p == '<')
			depth++;
		else if (*p == '>' && depth-- == 0)
			break;
		else if (*p == ',' && depth == 0)
			break;
	}
	n = (size_t)(p - (lt + 1));
	if (!*p || n == 0 || n >= len)
		return NULL;
	memcpy(buf, lt + 1, n);
	buf[n] = '\0';
	return buf;
}

const char *hc_report_block_type(const struct hc_snapshot *s, struct hc_symbolizer *sym,
				 uint64_t i, char *buf, size_t len)
{
	uint64_t lo, hi;

	/* Tracked objects: the name the program gave. */
	for (lo = 0, hi = s->ntracked; lo < hi;) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (s->tracked[mid].block < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->ntracked && s->tracked[lo].block == i && s->tracked[lo].type != HC_NO_TYPE &&
	    s->tracked[lo].type < s->ntypes)
		return s->types[s->tracked[lo].type];
	if (!sym || len < 2)
		return NULL;
	/* C++: the first word of a polymorphic object is its vtable pointer,
	 * two words into the "vtable for X" symbol. */
	for (lo = 0, hi = s->ntypehints; lo < hi;) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (s->typehints[mid].block < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->ntypehints && s->typehints[lo].block == i) {
		struct hc_frame f;
		const char *name, *vt = "vtable for ";
		char arg[256];

		if (hc_symbolize(sym, s->typehints[lo].word[0], false, &f, 1) < 1 || !f.function)
			return NULL;
		name = f.function;
		if (strncmp(name, vt, strlen(vt)) != 0)
			return NULL;
		name += strlen(vt);
		/* make_shared puts the object inside its control block. */
		if (strstr(name, "_Sp_counted_ptr_inplace<") &&
		    hc_first_template_arg(name, arg, sizeof(arg))) {
			snprintf(buf, len, "%s (in a shared_ptr control block)", arg);
			return buf;
		}
		if (strstr(name, "_Sp_counted_ptr<") &&
		    hc_first_template_arg(name, arg, sizeof(arg))) {
			snprintf(buf, len, "shared_ptr control block of %s", arg);
			return buf;
		}
		snprintf(buf, len, "%s", name);
		return buf;
	}
	return NULL;
}

bool hc_report_gc_in_cycle(const struct hc_gc_member *m)
{
	return (m->flags & HC_GC_MEMBER_IN_CYCLE) != 0;
}

uint32_t hc_report_event_ncycles(const struct hc_gc_event *ev)
{
	bool *seen = hc_mem_calloc(ev->nmembers ? ev->nmembers : 1, sizeof(*seen));
	uint32_t i, j, n = 0;

	for (i = 0; i < ev->nmembers; i++) {
		const struct hc_gc_member *m = &ev->members[i];

		if (!hc_report_gc_in_cycle(m))
			continue;
		if (seen && m->cycle < ev->nmembers) {
			n += !seen[m->cycle];
			seen[m->cycle] = true;
			continue;
		}
		/* The reader refuses a component index past nmembers, but a
		 * snapshot built in memory may hold one. */
		for (j = 0; j < i; j++)
			if (hc_report_gc_in_cycle(&ev->members[j]) && ev->members[j].cycle == m->cycle)
				break;
		n += j == i;
	}
	hc_mem_free(seen);
	return n;
}

const char *hc_report_bad_free_kind(uint8_t kind)
{
	switch (kind) {
	case HC_BAD_FREE_UNKNOWN:
		return "invalid";
	case HC_BAD_FREE_DOUBLE:
		return "double";
	case HC_BAD_FREE_MISMATCH:
		return "mismatched";
	default:
		return "unknown";
	}
}

const char *hc_report_free_op(uint8_t op)
{
	static const char *const names[HC_FREE_OP_COUNT] = {
		"free()", "operator delete", "operator delete[]", "realloc()",
	};

	return op < HC_FREE_OP_COUNT ? names[op] : "?";
}

const char *hc_report_alloc_kind(uint8_t kind)
{
	static const char *const names[HC_ALLOC_KIND_COUNT] = {
		"malloc()", "operator new", "operator new[]",
	};

	return kind < HC_ALLOC_KIND_COUNT ? names[kind] : "?";
}
