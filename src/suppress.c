/* SPDX-License-Identifier: MIT */
/*
 * Suppressions: parses LeakSanitizer files (leak:PATTERN, matched as
 * sanitizer_common's TemplateMatch does: a substring with '*' wildcards and
 * '^'/'$' anchors, tried on every frame's function, file and module; '?' is
 * accepted too) and Valgrind files ({ name Memcheck:Leak match-leak-kinds
 * fun:/obj:/src: lines, '...' for any number of frames }, matched from the
 * innermost frame on as m_errormgr.c does), marks the groups and cycles of
 * an analysis they cover, counts their hits, and prints the entries
 * --gen-suppressions asks for. The symbolizer gives the names; the report
 * writers decide how suppressed leaks are shown.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "suppress.h"

#define HC_SUPPRESS_FILE_MAX (64u * 1024u * 1024u)
#define HC_SUPPRESS_INLINE_MAX 16u

enum supp_line_kind {
	SL_FUN,
	SL_OBJ,
	SL_SRC,
	SL_DOTS,	/* "...": any number of frames */
};

struct supp_line {
	enum supp_line_kind kind;
	char *glob;
	unsigned line;		/* src:FILE:LINE; 0 = any */
};

struct supp_entry {
	struct hc_suppression pub;
	char *name;
	char *glob;		/* LSan: the pattern as an anchored glob */
	unsigned kinds;		/* Valgrind: bit per enum hc_leak_class */
	struct supp_line *lines;
	unsigned nlines;
};

struct hc_suppress_set {
	struct supp_entry *v;
	size_t n, cap;
	char **files;		/* copies of the names, kept for pub.file */
	size_t nfiles;
};

#define KIND_ALL ((1u << HC_CLASS_COUNT) - 1)

int hc_suppress_new(struct hc_suppress_set **out)
{
	*out = hc_mem_calloc(1, sizeof(**out));
	return *out ? HC_OK : HC_ERR_NOMEM;
}

static void entry_fini(struct supp_entry *e)
{
	for (unsigned i = 0; i < e->nlines; i++)
		hc_mem_free(e->lines[i].glob);
	hc_mem_free(e->lines);
	hc_mem_free(e->name);
	hc_mem_free(e->glob);
}

void hc_suppress_free(struct hc_suppress_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		entry_fini(&set->v[i]);
	hc_mem_free(set->v);
	for (size_t i = 0; i < set->nfiles; i++)
		hc_mem_free(set->files[i]);
	hc_mem_free(set->files);
	hc_mem_free(set);
}

size_t hc_suppress_count(const struct hc_suppress_set *set)
{
	return set ? set->n : 0;
}

const struct hc_suppression *hc_suppress_get(const struct hc_suppress_set *set, size_t i)
{
	return set && i < set->n ? &set->v[i].pub : NULL;
}

/* '*' any run of characters, '?' one character, the rest literally; the
 * whole string must match. The last-star backtracking keeps it linear in
 * practice and never recursive. */
static bool glob_match(const char *p, const char *s)
{
	const char *star = NULL, *retry = NULL;

	while (*s) {
		if (*p == '*') {
			star = p++;
			retry = s;
		} else if (*p && (*p == '?' || *p == *s)) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++retry;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static char *dup_range(const char *s, size_t n)
{
	char *d = hc_mem_alloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* TemplateMatch's substring semantics as a glob: unanchored ends get '*'. */
static char *lsan_to_glob(const char *pat, size_t n)
{
	bool start = n && pat[0] == '^';
	bool end;
	char *g, *w;

	if (start) {
		pat++;
		n--;
	}
	end = n && pat[n - 1] == '$';
	if (end)
		n--;
	g = hc_mem_alloc(n + 3);
	if (!g)
		return NULL;
	w = g;
	if (!start)
		*w++ = '*';
	memcpy(w, pat, n);
	w += n;
	if (!end)
		*w++ = '*';
	*w = '\0';
	return g;
}

static struct supp_entry *set_push(struct hc_suppress_set *set)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 16;
		struct supp_entry *v = hc_mem_realloc(set->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		set->v = v;
		set->cap = cap;
	}
	memset(&set->v[set->n], 0, sizeof(set->v[0]));
	return &set->v[set->n++];
}

/* Line-by-line reading of the buffer with positions for messages. */
struct reader {
	const char *buf;
	size_t len, pos;
	unsigned lineno;
	const char *line;	/* trimmed */
	size_t n;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Returns 1 with the next line, 0 at the end, or HC_ERR_FORMAT. */
static int next_line(struct reader *r, struct hc_error *err)
{
	const char *s, *nl;
	size_t n;

	if (r->pos >= r->len)
		return 0;
	s = r->buf + r->pos;
	nl = memchr(s, '\n', r->len - r->pos);
	n = nl ? (size_t)(nl - s) : r->len - r->pos;
	r->pos += n + (nl ? 1 : 0);
	r->lineno++;
	if (n >= HC_SUPPRESS_MAX_LINE)
		return hc_error_set(err, HC_ERR_FORMAT, r->lineno, "line too long");
	if (memchr(s, '\0', n))
		return hc_error_set(err, HC_ERR_FORMAT, r->lineno, "NUL byte in line");
	while (n && is_space(*s)) {
		s++;
		n--;
	}
	while (n && is_space(s[n - 1]))
		n--;
	r->line = s;
	r->n = n;
	return 1;
}

static bool line_is(const struct reader *r, const char *lit)
{
	return r->n == strlen(lit) && !memcmp(r->line, lit, r->n);
}

static bool line_starts(const struct reader *r, const char *lit)
{
	size_t k = strlen(lit);

	return r->n >= k && !memcmp(r->line, lit, k);
}

/* Entries skipped in one file: the first is named, the others counted, so
 * that GLib's glib.supp (45 entries for Helgrind and drd) takes two lines
 * of standard error, not 46. */
struct skipped {
	FILE *notes;
	const char *file;
	unsigned count;
};

static void note(struct skipped *sk, unsigned line, const char *what, const char *s, size_t n)
{
	if (sk->notes && sk->count++ == 0)
		fprintf(sk->notes, "heapcycle: %s:%u: note: %s '%.*s' ignored\n",
			sk->file, line, what, (int)(n > 200 ? 200 : n), s);
}

static int parse_lsan(struct hc_suppress_set *set, struct reader *r, struct skipped *sk,
		      struct hc_error *err)
{
	int rc;

	while ((rc = next_line(r, err)) == 1) {
		const char *colon;
		struct supp_entry *e;
		size_t tlen;

		if (r->n == 0 || r->line[0] == '#')
			continue;
		colon = memchr(r->line, ':', r->n);
		if (!colon || colon == r->line)
			return hc_error_set(err, HC_ERR_FORMAT, r->lineno,
					    "expected TYPE:PATTERN (leak:PATTERN)");
		tlen = (size_t)(colon - r->line);
		for (size_t k = 0; k < tlen; k++) {
			char c = r->line[k];

			if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9')))
				return hc_error_set(err, HC_ERR_FORMAT, r->lineno,
						    "expected TYPE:PATTERN (leak:PATTERN)");
		}
		if (tlen != 4 || memcmp(r->line, "leak", 4)) {
			note(sk, r->lineno, "not a leak suppression:", r->line, r->n);
			continue;
		}
		if (colon + 1 == r->line + r->n)
			return hc_error_set(err, HC_ERR_FORMAT, r->lineno, "empty pattern after 'leak:'");
		e = set_push(set);
		if (!e)
			return HC_ERR_NOMEM;
		e->name = dup_range(r->line, r->n);
		e->glob = lsan_to_glob(colon + 1, r->n - tlen - 1);
		if (!e->name || !e->glob)
			return HC_ERR_NOMEM;
		e->pub.format = HC_SUPPRESS_LSAN;
		e->pub.line = r->lineno;
		e->kinds = KIND_ALL;
	}
	return rc;
}

/* match-leak-kinds: a comma list of definite, indirect, possible,
 * reachable, or all / none. A cycle member is definite or indirect to the
 * tools these files come from. */
static int parse_kinds(const char *s, size_t n, unsigned *out)
{
	unsigned kinds = 0;

	while (n) {
		const char *comma = memchr(s, ',', n);
		size_t k = comma ? (size_t)(comma - s) : n;
		const char *w = s;
		size_t wl = k;

		while (wl && is_space(*w)) {
			w++;
			wl--;
		}
		while (wl && is_space(w[wl - 1]))
			wl--;
#define KW(lit) (wl == sizeof(lit) - 1 && !memcmp(w, lit, wl))
		if (KW("definite"))
			kinds |= 1u << HC_CLASS_DIRECT | 1u << HC_CLASS_CYCLE;
		else if (KW("indirect"))
			kinds |= 1u << HC_CLASS_INDIRECT | 1u << HC_CLASS_CYCLE;
		else if (KW("possible"))
			kinds |= 1u << HC_CLASS_POSSIBLE;
		else if (KW("reachable"))
			kinds |= 1u << HC_CLASS_REACHABLE;
		else if (KW("all"))
			kinds |= KIND_ALL;
		else if (!KW("none"))
			return HC_ERR_FORMAT;
#undef KW
		if (!comma)
			break;
		s = comma + 1;
		n -= k + 1;
		if (!n)
			return HC_ERR_FORMAT;
	}
	*out = kinds;
	return HC_OK;
}

static int parse_frame_line(const struct reader *r, struct supp_line *l)
{
	const char *v;
	size_t vn;

	memset(l, 0, sizeof(*l));
	if (line_is(r, "...")) {
		l->kind = SL_DOTS;
		return HC_OK;
	}
	if (line_starts(r, "fun:"))
		l->kind = SL_FUN;
	else if (line_starts(r, "obj:"))
		l->kind = SL_OBJ;
	else if (line_starts(r, "src:"))
		l->kind = SL_SRC;
	else
		return HC_ERR_FORMAT;
	v = r->line + 4;
	vn = r->n - 4;
	if (vn == 0)
		return HC_ERR_FORMAT;
	if (l->kind == SL_SRC) {
		/* src:FILE:LINE, the line optional (Valgrind 3.16). */
		const char *c = NULL;
		unsigned long line = 0;

		for (size_t k = vn; k > 0; k--)
			if (v[k - 1] == ':') {
				c = v + k - 1;
				break;
			}
		if (c && c + 1 < v + vn) {
			const char *d = c + 1;

			for (; d < v + vn && *d >= '0' && *d <= '9' && line < 100000000; d++)
				line = line * 10 + (unsigned long)(*d - '0');
			if (d == v + vn && line) {
				l->line = (unsigned)line;
				vn = (size_t)(c - v);
			}
		}
		if (vn == 0)
			return HC_ERR_FORMAT;
	}
	l->glob = dup_range(v, vn);
	return l->glob ? HC_OK : HC_ERR_NOMEM;
}

static int parse_valgrind(struct hc_suppress_set *set, struct reader *r, struct skipped *sk,
			  struct hc_error *err)
{
	struct supp_line lines[HC_SUPPRESS_MAX_LINES];
	unsigned nlines = 0;
	int rc;

	while ((rc = next_line(r, err)) == 1) {
		unsigned start = r->lineno, kinds = KIND_ALL;
		char *name = NULL;
		const char *colon;
		bool leak = false;

		if (r->n == 0 || r->line[0] == '#')
			continue;
		if (!line_is(r, "{"))
			return hc_error_set(err, HC_ERR_FORMAT, r->lineno,
					    "expected '{' to start a suppression");
		/* The name, then TOOL:KIND. */
		do {
			rc = next_line(r, err);
		} while (rc == 1 && (r->n == 0 || r->line[0] == '#'));
		if (rc < 0)
			return rc;
		if (rc == 0 || line_is(r, "}") || line_is(r, "{"))
			return hc_error_set(err, HC_ERR_FORMAT, rc ? r->lineno : start,
					    "suppression without a name");
		name = dup_range(r->line, r->n);
		if (!name)
			return HC_ERR_NOMEM;
		do {
			rc = next_line(r, err);
		} while (rc == 1 && (r->n == 0 || r->line[0] == '#'));
		colon = rc == 1 ? memchr(r->line, ':', r->n) : NULL;
		if (rc == 1 && (!colon || colon == r->line || colon + 1 == r->line + r->n)) {
			hc_mem_free(name);
			return hc_error_set(err, HC_ERR_FORMAT, r->lineno,
					    "expected TOOL:KIND (Memcheck:Leak)");
		}
		if (rc != 1) {
			hc_mem_free(name);
			return rc < 0 ? rc : hc_error_set(err, HC_ERR_FORMAT, start,
							  "suppression not closed with '}'");
		}
		/* "Memcheck,Addrcheck:Leak" names several tools. */
		if (r->line + r->n - colon == 5 && !memcmp(colon + 1, "Leak", 4)) {
			for (const char *t = r->line; t < colon;) {
				const char *c = memchr(t, ',', (size_t)(colon - t));
				size_t tl = c ? (size_t)(c - t) : (size_t)(colon - t);

				if (tl == 8 && !memcmp(t, "Memcheck", 8))
					leak = true;
				t += tl + 1;
			}
		}
		if (!leak)
			note(sk, r->lineno, "suppression for another tool or kind:", r->line, r->n);
		nlines = 0;
		for (;;) {
			rc = next_line(r, err);
			if (rc != 1) {
				hc_mem_free(name);
				for (unsigned k = 0; k < nlines; k++)
					hc_mem_free(lines[k].glob);
				return rc < 0 ? rc : hc_error_set(err, HC_ERR_FORMAT, start,
								  "suppression not closed with '}'");
			}
			if (r->n == 0 || r->line[0] == '#')
				continue;
			if (line_is(r, "}"))
				break;
			if (!leak)
				continue;	/* other kinds have lines of their own */
			rc = HC_OK;
			if (nlines == 0 && line_starts(r, "match-leak-kinds:")) {
				if (parse_kinds(r->line + 17, r->n - 17, &kinds) != HC_OK)
					rc = hc_error_set(err, HC_ERR_FORMAT, r->lineno,
							  "bad match-leak-kinds");
			} else if (nlines == HC_SUPPRESS_MAX_LINES) {
				rc = hc_error_set(err, HC_ERR_FORMAT, r->lineno,
						  "too many frame lines");
			} else {
				rc = parse_frame_line(r, &lines[nlines]);
				if (rc == HC_OK)
					nlines++;
				else if (rc == HC_ERR_FORMAT)
					hc_error_set(err, HC_ERR_FORMAT, r->lineno,
						     "expected fun:, obj:, src: or ...");
			}
			if (rc != HC_OK) {
				hc_mem_free(name);
				for (unsigned k = 0; k < nlines; k++)
					hc_mem_free(lines[k].glob);
				return rc;
			}
		}
		if (!leak) {
			hc_mem_free(name);
			continue;
		}
		if (nlines == 0) {
			hc_mem_free(name);
			return hc_error_set(err, HC_ERR_FORMAT, r->lineno,
					    "suppression without frame lines");
		}
		{
			struct supp_entry *e = set_push(set);

			if (e)
				e->lines = hc_mem_calloc(nlines, sizeof(*e->lines));
			if (!e || !e->lines) {
				hc_mem_free(name);
				for (unsigned k = 0; k < nlines; k++)
					hc_mem_free(lines[k].glob);
				return HC_ERR_NOMEM;
			}
			memcpy(e->lines, lines, nlines * sizeof(*lines));
			e->nlines = nlines;
			e->name = name;
			e->kinds = kinds;
			e->pub.format = HC_SUPPRESS_VALGRIND;
			e->pub.line = start;
		}
	}
	return rc;
}

int hc_suppress_parse(struct hc_suppress_set *set, const char *name,
		      const char *buf, size_t len, FILE *notes, struct hc_error *err)
{
	struct reader r = { .buf = buf, .len = len };
	struct skipped sk = { notes, name, 0 };
	size_t first = set->n;
	bool valgrind = false;
	int rc;

	/* Detect the format from the first meaningful line. */
	while ((rc = next_line(&r, err)) == 1) {
		if (r.n == 0 || r.line[0] == '#')
			continue;
		valgrind = r.line[0] == '{';
		break;
	}
	if (rc < 0)
		goto out;
	r.pos = 0;
	r.lineno = 0;
	rc = valgrind ? parse_valgrind(set, &r, &sk, err) : parse_lsan(set, &r, &sk, err);
	if (rc == 0)
		rc = HC_OK;
	if (rc == HC_OK && notes && sk.count > 1)
		fprintf(notes, "heapcycle: %s: note: %u more entries for other tools or kinds ignored\n",
			name, sk.count - 1);
	for (size_t i = first; rc == HC_OK && i < set->n; i++) {
		set->v[i].pub.name = set->v[i].name;
		set->v[i].pub.file = name;
	}
out:
	if (rc != HC_OK) {
		/* Only whole files: drop what this one added. */
		for (size_t i = first; i < set->n; i++)
			entry_fini(&set->v[i]);
		set->n = first;
	}
	return rc;
}

/*
 * What libraries keep for the whole life of the process by design and a
 * leak checker can only call possibly lost or still reachable: GLib's type
 * system (a GType is an interior pointer into its type node), built by
 * libgobject's constructor and by the first use of each class, and its
 * quark and interned string tables. Only those two classes: a block lost
 * outright through these functions is still reported.
 */
const char hc_suppress_builtin_name[] = "(built-in)";

static const char hc_suppress_builtin_text[] =
	"{\n  glib-type-registration\n  Memcheck:Leak\n  match-leak-kinds: possible,reachable\n"
	"  ...\n  fun:g_type_register_*\n}\n"
	"{\n  glib-type-interface\n  Memcheck:Leak\n  match-leak-kinds: possible,reachable\n"
	"  ...\n  fun:g_type_add_interface_*\n}\n"
	"{\n  glib-type-class\n  Memcheck:Leak\n  match-leak-kinds: possible,reachable\n"
	"  ...\n  fun:g_type_class_ref\n}\n"
	"{\n  glib-type-default-interface\n  Memcheck:Leak\n  match-leak-kinds: possible,reachable\n"
	"  ...\n  fun:g_type_default_interface_ref\n}\n"
	"{\n  glib-signal-new\n  Memcheck:Leak\n  match-leak-kinds: possible,reachable\n"
	"  ...\n  fun:g_signal_new*\n}\n"
	"{\n  glib-quarks\n  Memcheck:Leak\n  match-leak-kinds: possible,reachable\n"
	"  ...\n  fun:g_quark_from_*\n}\n"
	"{\n  glib-interned-strings\n  Memcheck:Leak\n  match-leak-kinds: possible,reachable\n"
	"  ...\n  fun:g_intern_*\n}\n"
	"{\n  gobject-init\n  Memcheck:Leak\n  match-leak-kinds: possible,reachable\n"
	"  ...\n  obj:*/libgobject-2.0.so*\n  ...\n  fun:_dl_init\n}\n";

int hc_suppress_add_builtin(struct hc_suppress_set *set, struct hc_error *err)
{
	return hc_suppress_parse(set, HC_SUPPRESS_BUILTIN, hc_suppress_builtin_text,
				 sizeof(hc_suppress_builtin_text) - 1, NULL, err);
}

int hc_suppress_load_file(struct hc_suppress_set *set, const char *path,
			  FILE *notes, struct hc_error *err)
{
	char *buf = NULL, *name = NULL, **files;
	size_t len = 0;
	int rc;

	rc = hc_file_read(path, HC_SUPPRESS_FILE_MAX, &buf, &len, err);
	if (rc != HC_OK)
		goto out;
	name = hc_mem_strdup(path);
	files = hc_mem_realloc(set->files, (set->nfiles + 1) * sizeof(*files));
	if (!name || !files) {
		if (files)
			set->files = files;
		rc = HC_ERR_NOMEM;
		goto out;
	}
	set->files = files;
	rc = hc_suppress_parse(set, name, buf, len, notes, err);
	if (rc == HC_OK) {
		set->files[set->nfiles++] = name;
		name = NULL;
	}
out:
	hc_mem_free(name);
	hc_mem_free(buf);
	return rc;
}

unsigned hc_suppress_stack_frames(struct hc_symbolizer *sym, const struct hc_snapshot *s,
				  uint32_t stack, struct hc_frame *out, unsigned max)
{
	const struct hc_stack *st;
	struct hc_frame fr[HC_SUPPRESS_INLINE_MAX];
	unsigned n = 0, got;
	uint32_t i;

	if (stack == 0 || stack >= s->nstacks || max == 0)
		return 0;
	st = &s->stacks[stack];
	for (i = 0; i < st->nframes && n < max; i++) {
		if (hc_symbolizer_is_internal(sym, st->frames[i]))
			continue;
		got = hc_symbolize(sym, st->frames[i], true, fr, HC_SUPPRESS_INLINE_MAX);
		for (unsigned k = 0; k < got && n < max; k++)
			out[n++] = fr[k];
	}
	return n;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static bool lsan_frame_match(const char *glob, const struct hc_frame *f)
{
	/* TemplateMatch never matches an empty or missing name. */
	return (f->function && *f->function && glob_match(glob, f->function)) ||
	       (f->file && *f->file && glob_match(glob, f->file)) ||
	       (f->module && *f->module && glob_match(glob, f->module));
}

static bool vg_line_match(const struct supp_line *l, const struct hc_frame *f)
{
	switch (l->kind) {
	case SL_FUN:
		/* Valgrind names an unknown function "???". */
		return glob_match(l->glob, f->function ? f->function : "???");
	case SL_OBJ:
		return glob_match(l->glob, f->module && *f->module ? f->module : "???");
	case SL_SRC:
		if (!f->file || (l->line && l->line != f->line))
			return false;
		return glob_match(l->glob, f->file) || glob_match(l->glob, base_name(f->file));
	default:
		return false;
	}
}

/* Lines against frames from frames[0]; the entry needs to cover only the
 * innermost frames (an implicit trailing "..."). "..." is the frame-level
 * star of glob_match, with the same backtracking. */
static bool vg_match_from(const struct supp_entry *e, const struct supp_line *lines,
			  unsigned nlines, const struct hc_frame *f, unsigned n)
{
	unsigned i = 0, j = 0, star_i = UINT32_MAX, star_j = 0;

	(void)e;
	for (;;) {
		if (i == nlines)
			return true;
		if (lines[i].kind == SL_DOTS) {
			star_i = i++;
			star_j = j;
			continue;
		}
		if (j < n && vg_line_match(&lines[i], &f[j])) {
			i++;
			j++;
			continue;
		}
		if (star_i != UINT32_MAX && star_j < n) {
			i = star_i + 1;
			j = ++star_j;
			continue;
		}
		return false;
	}
}

/* What Valgrind's first frame is called for each enum hc_alloc_kind
 * (blocktable.h): 0 the malloc family, 1 operator new, 2 operator new[]. */
static const char *const alloc_names_malloc[] = {
	"malloc", "calloc", "realloc", "reallocarray", "memalign", "posix_memalign",
	"aligned_alloc", "valloc", "pvalloc", NULL,
};
static const char *const alloc_names_new[] = {
	"operator new(unsigned long)", "operator new(unsigned long, std::nothrow_t const&)",
	"operator new(unsigned long, std::align_val_t)",
	"operator new(unsigned long, std::align_val_t, std::nothrow_t const&)",
	"_Znwm", "_ZnwmRKSt9nothrow_t", "_ZnwmSt11align_val_t",
	"_ZnwmSt11align_val_tRKSt9nothrow_t", NULL,
};
static const char *const alloc_names_new_array[] = {
	"operator new[](unsigned long)", "operator new[](unsigned long, std::nothrow_t const&)",
	"operator new[](unsigned long, std::align_val_t)",
	"operator new[](unsigned long, std::align_val_t, std::nothrow_t const&)",
	"_Znam", "_ZnamRKSt9nothrow_t", "_ZnamSt11align_val_t",
	"_ZnamSt11align_val_tRKSt9nothrow_t", NULL,
};

static bool alloc_line(const struct supp_line *l, int kind)
{
	const char *const *lists[] = { alloc_names_malloc, alloc_names_new, alloc_names_new_array };

	if (l->kind == SL_OBJ)
		return glob_match(l->glob, "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so");
	if (l->kind != SL_FUN)
		return false;
	for (int k = 0; k < 3; k++) {
		if (kind >= 0 && kind != k)
			continue;
		for (const char *const *n = lists[k]; *n; n++)
			if (glob_match(l->glob, *n))
				return true;
	}
	return false;
}

const struct hc_suppression *hc_suppress_match(const struct hc_suppress_set *set,
					       const struct hc_frame *frames, unsigned n,
					       int alloc_kind, enum hc_leak_class cls)
{
	if (!set)
		return NULL;
	for (size_t k = 0; k < set->n; k++) {
		const struct supp_entry *e = &set->v[k];

		if ((unsigned)cls >= HC_CLASS_COUNT || !(e->kinds & (1u << cls)))
			continue;
		if (e->pub.format == HC_SUPPRESS_LSAN) {
			for (unsigned j = 0; j < n; j++)
				if (lsan_frame_match(e->glob, &frames[j]))
					return &e->pub;
			continue;
		}
		if (vg_match_from(e, e->lines, e->nlines, frames, n) ||
		    (e->nlines > 1 && alloc_line(&e->lines[0], alloc_kind) &&
		     vg_match_from(e, e->lines + 1, e->nlines - 1, frames, n)))
			return &e->pub;
	}
	return NULL;
}

struct apply_ctx {
	struct hc_suppress_set *set;
	const struct hc_snapshot *s;
	struct hc_symbolizer *sym;
	struct hc_frame *frames;
	const struct hc_suppression **memo;	/* per stack and class */
	uint8_t *done;
};

static const struct hc_suppression *apply_lookup(struct apply_ctx *c, uint32_t stack,
						 unsigned cls, int kind)
{
	size_t k;
	unsigned n;

	if (stack >= c->s->nstacks || cls >= HC_CLASS_COUNT)
		return NULL;
	k = (size_t)stack * HC_CLASS_COUNT + cls;
	if (!c->done[k]) {
		n = hc_suppress_stack_frames(c->sym, c->s, stack, c->frames,
					     HC_SUPPRESS_MAX_FRAMES);
		c->memo[k] = hc_suppress_match(c->set, c->frames, n, kind,
					       (enum hc_leak_class)cls);
		c->done[k] = 1;
	}
	return c->memo[k];
}

int hc_suppress_apply(struct hc_suppress_set *set, const struct hc_snapshot *s,
		      struct hc_analysis *an, struct hc_symbolizer *sym)
{
	struct apply_ctx c = { .set = set, .s = s, .sym = sym };
	size_t nslots = (size_t)(s->nstacks ? s->nstacks : 1) * HC_CLASS_COUNT;
	int rc = HC_ERR_NOMEM;

	an->suppressed.blocks = 0;
	an->suppressed.bytes = 0;
	if (!set || set->n == 0) {
		rc = HC_OK;
		goto out;
	}
	c.frames = hc_mem_calloc(HC_SUPPRESS_MAX_FRAMES, sizeof(*c.frames));
	c.memo = hc_mem_calloc(nslots, sizeof(*c.memo));
	c.done = hc_mem_calloc(nslots, 1);
	if (!c.frames || !c.memo || !c.done)
		goto out;
	for (uint64_t i = 0; an->groups && i < an->ngroups; i++) {
		struct hc_leak_group *g = &an->groups[i];
		const struct hc_suppression *hit;
		struct supp_entry *e;

		if (g->cls == HC_CLASS_REACHABLE)
			continue;
		hit = apply_lookup(&c, g->stack, g->cls, g->first_block < s->nblocks ?
				   s->blocks[g->first_block].kind : -1);
		g->suppressed_by = hit ? hit->name : NULL;
		if (!hit)
			continue;
		e = (struct supp_entry *)((char *)hit - offsetof(struct supp_entry, pub));
		e->pub.hit_groups++;
		e->pub.hit_blocks += g->blocks;
		e->pub.hit_bytes += g->bytes;
		an->suppressed.blocks += g->blocks;
		an->suppressed.bytes += g->bytes;
	}
	for (uint32_t i = 0; an->cycles && i < an->ncycles; i++) {
		struct hc_cycle *cy = &an->cycles[i];
		const struct hc_suppression *first = NULL;

		cy->suppressed_by = NULL;
		for (uint32_t m = 0; m < cy->nmembers; m++) {
			uint32_t b = cy->members[m];
			const struct hc_suppression *hit;

			if (b >= s->nblocks || b >= an->nblocks) {
				first = NULL;
				break;
			}
			hit = apply_lookup(&c, s->blocks[b].stack, an->block_class[b],
					   s->blocks[b].kind);
			if (!hit) {
				first = NULL;
				break;
			}
			if (!first)
				first = hit;
		}
		cy->suppressed_by = first ? first->name : NULL;
	}
	rc = HC_OK;
out:
	hc_mem_free(c.frames);
	hc_mem_free(c.memo);
	hc_mem_free(c.done);
	return rc;
}

void hc_suppress_print_used(FILE *out, const struct hc_suppress_set *set, bool show_unused)
{
	size_t used = 0, unused = 0;

	if (!set || set->n == 0)
		return;
	for (size_t i = 0; i < set->n; i++) {
		if (set->v[i].pub.hit_groups)
			used++;
		else if (set->v[i].pub.file != HC_SUPPRESS_BUILTIN)
			unused++;
	}
	if (used) {
		fputs("-----------------------------------------------------\n"
		      "Suppressions used:\n"
		      "  count      bytes template\n", out);
		for (size_t i = 0; i < set->n; i++) {
			const struct hc_suppression *p = &set->v[i].pub;

			if (p->hit_groups)
				fprintf(out, "%7llu %10llu %s\n", (unsigned long long)p->hit_blocks,
					(unsigned long long)p->hit_bytes, p->name);
		}
		fputs("-----------------------------------------------------\n", out);
	}
	if (show_unused && unused) {
		fprintf(out, "Suppressions that matched nothing (%zu):\n", unused);
		for (size_t i = 0; i < set->n; i++) {
			const struct hc_suppression *p = &set->v[i].pub;

			if (!p->hit_groups && p->file != HC_SUPPRESS_BUILTIN)
				fprintf(out, "  %s:%u: %s\n", p->file ? p->file : "?", p->line,
					p->name);
		}
	}
}

void hc_suppress_print_entry(FILE *out, struct hc_symbolizer *sym, const struct hc_snapshot *s,
			     uint32_t stack, enum hc_leak_class cls)
{
	struct hc_frame *fr = hc_mem_calloc(HC_SUPPRESS_MAX_FRAMES, sizeof(*fr));
	const char *kinds, *first = NULL;
	unsigned n;

	if (!fr)
		return;
	n = hc_suppress_stack_frames(sym, s, stack, fr, HC_SUPPRESS_MAX_FRAMES);
	if (n == 0)
		goto out;
	switch (cls) {
	case HC_CLASS_DIRECT:
		kinds = "definite";
		break;
	case HC_CLASS_INDIRECT:
		kinds = "indirect";
		break;
	case HC_CLASS_POSSIBLE:
		kinds = "possible";
		break;
	case HC_CLASS_REACHABLE:
		kinds = "reachable";
		break;
	default:
		kinds = "definite,indirect";
		break;
	}
	for (unsigned k = 0; k < n && !first; k++)
		if (fr[k].function && *fr[k].function)
			first = fr[k].function;
	fprintf(out, "{\n   heapcycle:%s:%s\n   Memcheck:Leak\n   match-leak-kinds: %s\n",
		hc_leak_class_name(cls), first ? first : "unknown", kinds);
	for (unsigned k = 0; k < n; k++) {
		/* A line break in a name would end the line early. */
		if (fr[k].function && *fr[k].function && !strchr(fr[k].function, '\n'))
			fprintf(out, "   fun:%s\n", fr[k].function);
		else if (fr[k].module && *fr[k].module && !strchr(fr[k].module, '\n'))
			fprintf(out, "   obj:%s\n", fr[k].module);
		else
			fputs("   fun:*\n", out);
	}
	fputs("}\n", out);
	if (first && !strchr(first, '\n'))
		fprintf(out, "# LeakSanitizer form (any stack through it): leak:^%s$\n", first);
out:
	hc_mem_free(fr);
}
