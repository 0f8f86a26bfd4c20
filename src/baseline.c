/* SPDX-License-Identifier: MIT */
/*
 * Baselines: reads a JSON report with a small strict reader (RFC 8259:
 * no trailing commas, no comments, UTF-8 only, escapes checked, nesting
 * and string lengths bounded, recursion no deeper than the nesting limit)
 * that keeps only what the keys need, and answers whether a leak group or
 * cycle of a new analysis was already in it. The keys (class and the
 * function names of the top frames) are built the same way from the JSON
 * and from a live symbolizer, so a report of the same code matches after a
 * rebuild moves its addresses and lines.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "report.h"
#include "suppress.h"

#define KEY_FRAME_SEP '\x1f'
#define KEY_CLASS_SEP '\x1e'
#define KEY_MEMBER_SEP '\x1d'

/* A growing byte string. */
struct sbuf {
	char *s;
	size_t n, cap;
	bool nomem;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->nomem)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->n + n + 1)
			cap *= 2;
		p = hc_mem_realloc(b->s, cap);
		if (!p) {
			b->nomem = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void sb_addc(struct sbuf *b, char c)
{
	sb_add(b, &c, 1);
}

/* A set of byte strings: open addressing, FNV-1a. */
struct strset {
	char **slot;
	size_t *len;
	size_t n, cap;
};

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static bool strset_has(const struct strset *set, const char *s, size_t n)
{
	size_t i;

	if (!set->cap)
		return false;
	for (i = hash_bytes(s, n) & (set->cap - 1); set->slot[i]; i = (i + 1) & (set->cap - 1))
		if (set->len[i] == n && !memcmp(set->slot[i], s, n))
			return true;
	return false;
}

static int strset_add(struct strset *set, const char *s, size_t n)
{
	size_t i;

	if (strset_has(set, s, n))
		return HC_OK;
	if (2 * (set->n + 1) > set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 64;
		char **slot = hc_mem_calloc(cap, sizeof(*slot));
		size_t *len = hc_mem_calloc(cap, sizeof(*len));

		if (!slot || !len) {
			hc_mem_free(slot);
			hc_mem_free(len);
			return HC_ERR_NOMEM;
		}
		for (size_t k = 0; k < set->cap; k++) {
			if (!set->slot[k])
				continue;
			for (i = hash_bytes(set->slot[k], set->len[k]) & (cap - 1); slot[i];
			     i = (i + 1) & (cap - 1))
				;
			slot[i] = set->slot[k];
			len[i] = set->len[k];
		}
		hc_mem_free(set->slot);
		hc_mem_free(set->len);
		set->slot = slot;
		set->len = len;
		set->cap = cap;
	}
	for (i = hash_bytes(s, n) & (set->cap - 1); set->slot[i]; i = (i + 1) & (set->cap - 1))
		;
	set->slot[i] = hc_mem_alloc(n + 1);
	if (!set->slot[i])
		return HC_ERR_NOMEM;
	memcpy(set->slot[i], s, n);
	set->slot[i][n] = '\0';
	set->len[i] = n;
	set->n++;
	return HC_OK;
}

static void strset_fini(struct strset *set)
{
	for (size_t k = 0; k < set->cap; k++)
		hc_mem_free(set->slot[k]);
	hc_mem_free(set->slot);
	hc_mem_free(set->len);
}

struct hc_baseline {
	struct strset groups;
	struct strset cycles;
};

/* ---- keys ---- */

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* One frame of a key: the function, else "?" and the module's base name. */
static void key_frame(struct sbuf *k, unsigned idx, const char *function, const char *module)
{
	if (idx)
		sb_addc(k, KEY_FRAME_SEP);
	if (function && *function) {
		sb_add(k, function, strlen(function));
	} else {
		sb_addc(k, '?');
		if (module)
			sb_add(k, base_name(module), strlen(base_name(module)));
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted, distinct member keys joined: the cycle's key. */
static void key_cycle(struct sbuf *k, char **members, size_t n)
{
	qsort(members, n, sizeof(*members), cmp_str);
	sb_add(k, "cycle", 5);
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(members[i], members[i - 1]))
			continue;
		sb_addc(k, KEY_MEMBER_SEP);
		sb_add(k, members[i], strlen(members[i]));
	}
}

static void live_stack_key(struct sbuf *k, const struct hc_snapshot *s,
			   struct hc_symbolizer *sym, uint32_t stack)
{
	struct hc_frame fr[HC_BASELINE_FRAMES];
	unsigned n = hc_suppress_stack_frames(sym, s, stack, fr, HC_BASELINE_FRAMES);

	for (unsigned i = 0; i < n; i++)
		key_frame(k, i, fr[i].function, fr[i].module);
}

bool hc_baseline_has_group(const struct hc_baseline *b, const struct hc_snapshot *s,
			   struct hc_symbolizer *sym, uint32_t stack, enum hc_leak_class cls)
{
	struct sbuf k = { 0 };
	const char *name = hc_leak_class_name(cls);
	bool has;

	sb_add(&k, name, strlen(name));
	sb_addc(&k, KEY_CLASS_SEP);
	live_stack_key(&k, s, sym, stack);
	has = !k.nomem && strset_has(&b->groups, k.s, k.n);
	hc_mem_free(k.s);
	return has;
}

bool hc_baseline_has_cycle(const struct hc_baseline *b, const struct hc_snapshot *s,
			   const struct hc_analysis *an, struct hc_symbolizer *sym,
			   const struct hc_cycle *cy)
{
	char **members = hc_mem_calloc(cy->nmembers ? cy->nmembers : 1, sizeof(*members));
	struct sbuf k = { 0 };
	uint32_t n = 0;
	bool has = false, nomem = !members;

	(void)an;
	for (uint32_t i = 0; !nomem && i < cy->nmembers; i++) {
		struct sbuf m = { 0 };

		if (cy->members[i] >= s->nblocks)
			continue;
		live_stack_key(&m, s, sym, s->blocks[cy->members[i]].stack);
		sb_addc(&m, '\0');
		if (m.nomem)
			nomem = true;
		members[n++] = m.s;
	}
	if (!nomem) {
		key_cycle(&k, members, n);
		has = !k.nomem && strset_has(&b->cycles, k.s, k.n);
	}
	for (uint32_t i = 0; members && i < n; i++)
		hc_mem_free(members[i]);
	hc_mem_free(members);
	hc_mem_free(k.s);
	return has;
}

size_t hc_baseline_ngroups(const struct hc_baseline *b)
{
	return b ? b->groups.n : 0;
}

size_t hc_baseline_ncycles(const struct hc_baseline *b)
{
	return b ? b->cycles.n : 0;
}

void hc_baseline_free(struct hc_baseline *b)
{
	if (!b)
		return;
	strset_fini(&b->groups);
	strset_fini(&b->cycles);
	hc_mem_free(b);
}

/* ---- the JSON reader ---- */

struct jp {
	const char *s;
	size_t len, pos;
	unsigned depth;
	struct hc_error *err;
	struct hc_baseline *b;
};

static int jp_fail(struct jp *p, const char *what)
{
	return hc_error_set(p->err, HC_ERR_FORMAT, p->pos, what);
}

static void jp_ws(struct jp *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int jp_peek(struct jp *p)
{
	jp_ws(p);
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int jp_expect(struct jp *p, char c, const char *what)
{
	if (jp_peek(p) != (unsigned char)c)
		return jp_fail(p, p->pos >= p->len ? "truncated" : what);
	p->pos++;
	return HC_OK;
}

static int jp_hex4(struct jp *p, uint32_t *out)
{
	uint32_t v = 0;

	if (p->len - p->pos < 4)
		return jp_fail(p, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		int h = hc_hex_digit(p->s[p->pos + i]);

		if (h < 0)
			return jp_fail(p, "bad \\u escape");
		v = v << 4 | (uint32_t)h;
	}
	p->pos += 4;
	*out = v;
	return HC_OK;
}

static void put_utf8(struct sbuf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (b)
		sb_add(b, u, n);
}

/* A string into out (NULL: only checked). */
static int jp_string(struct jp *p, struct sbuf *out)
{
	size_t start;
	int rc;

	if ((rc = jp_expect(p, '"', "expected a string")) != HC_OK)
		return rc;
	start = p->pos;
	for (;;) {
		unsigned char c;

		if (p->pos >= p->len)
			return jp_fail(p, "truncated string");
		if (p->pos - start > HC_BASELINE_MAX_STRING)
			return jp_fail(p, "string too long");
		c = (unsigned char)p->s[p->pos];
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c < 0x20)
			return jp_fail(p, "control character in string");
		if (c == '\\') {
			uint32_t cp, lo;

			if (++p->pos >= p->len)
				return jp_fail(p, "truncated escape");
			c = (unsigned char)p->s[p->pos++];
			switch (c) {
			case '"': case '\\': case '/':
				break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				if ((rc = jp_hex4(p, &cp)) != HC_OK)
					return rc;
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return jp_fail(p, "lone low surrogate");
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (p->len - p->pos < 2 || p->s[p->pos] != '\\' ||
					    p->s[p->pos + 1] != 'u')
						return jp_fail(p, "lone high surrogate");
					p->pos += 2;
					if ((rc = jp_hex4(p, &lo)) != HC_OK)
						return rc;
					if (lo < 0xdc00 || lo > 0xdfff)
						return jp_fail(p, "bad surrogate pair");
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				if (cp == 0)
					return jp_fail(p, "NUL in string");
				put_utf8(out, cp);
				continue;
			default:
				return jp_fail(p, "bad escape");
			}
			if (out)
				sb_addc(out, (char)c);
			continue;
		}
		{
			size_t l = hc_report_utf8_len_rfc((const unsigned char *)p->s + p->pos,
							  p->len - p->pos);

			if (!l)
				return jp_fail(p, "invalid UTF-8 in string");
			if (out)
				sb_add(out, p->s + p->pos, l);
			p->pos += l;
		}
	}
	if (out && out->nomem)
		return HC_ERR_NOMEM;
	return HC_OK;
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* A number; *iv its value when it is a small non-negative integer, else -1. */
static int jp_number(struct jp *p, long long *iv)
{
	size_t start;
	bool integer = true;
	long long v = 0;

	jp_ws(p);
	start = p->pos;
	if (p->pos < p->len && p->s[p->pos] == '-') {
		p->pos++;
		integer = false;
	}
	if (p->pos >= p->len || !is_digit(p->s[p->pos]))
		return jp_fail(p, p->pos >= p->len ? "truncated" : "bad number");
	if (p->s[p->pos] == '0') {
		p->pos++;
	} else {
		while (p->pos < p->len && is_digit(p->s[p->pos])) {
			if (v < 1000000000000LL)
				v = v * 10 + (p->s[p->pos] - '0');
			else
				integer = false;
			p->pos++;
		}
	}
	if (p->pos < p->len && p->s[p->pos] == '.') {
		integer = false;
		if (++p->pos >= p->len || !is_digit(p->s[p->pos]))
			return jp_fail(p, "bad number");
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		integer = false;
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || !is_digit(p->s[p->pos]))
			return jp_fail(p, "bad number");
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	(void)start;
	if (iv)
		*iv = integer ? v : -1;
	return HC_OK;
}

static int jp_literal(struct jp *p, const char *lit)
{
	size_t n = strlen(lit);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n))
		return jp_fail(p, p->len - p->pos < n ? "truncated" : "bad literal");
	p->pos += n;
	return HC_OK;
}

/*
 * Container iteration: call after the opening bracket. Returns 1 when there
 * is another element (for an object, its key read into key and the ':'
 * consumed), 0 after the closing bracket, or an error.
 */
static int jp_next(struct jp *p, char close, bool *first, struct sbuf *key)
{
	int c = jp_peek(p), rc;

	if (c < 0)
		return jp_fail(p, "truncated");
	if (c == (unsigned char)close && *first) {
		p->pos++;
		return 0;
	}
	if (!*first) {
		if (c == (unsigned char)close) {
			p->pos++;
			return 0;
		}
		if (c != ',')
			return jp_fail(p, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
		p->pos++;
	}
	*first = false;
	if (key) {
		key->n = 0;
		if ((rc = jp_string(p, key)) != HC_OK)
			return rc;
		if ((rc = jp_expect(p, ':', "expected ':'")) != HC_OK)
			return rc;
	}
	return 1;
}

static int jp_enter(struct jp *p, char open)
{
	int rc = jp_expect(p, open, open == '{' ? "expected an object" : "expected an array");

	if (rc != HC_OK)
		return rc;
	if (++p->depth > HC_BASELINE_MAX_DEPTH)
		return jp_fail(p, "nested too deeply");
	return HC_OK;
}

static bool key_is(const struct sbuf *k, const char *lit)
{
	return k->n == strlen(lit) && !memcmp(k->s, lit, k->n);
}

/* Any value, checked and dropped. */
static int jp_skip(struct jp *p)
{
	struct sbuf key = { 0 };
	bool first = true;
	int c = jp_peek(p), rc;

	switch (c) {
	case '{':
	case '[':
		if ((rc = jp_enter(p, (char)c)) != HC_OK)
			break;
		while ((rc = jp_next(p, c == '{' ? '}' : ']', &first, c == '{' ? &key : NULL)) == 1)
			if ((rc = jp_skip(p)) != HC_OK)
				break;
		if (rc == 0) {
			rc = HC_OK;
			p->depth--;
		}
		break;
	case '"':
		rc = jp_string(p, NULL);
		break;
	case 't':
		rc = jp_literal(p, "true");
		break;
	case 'f':
		rc = jp_literal(p, "false");
		break;
	case 'n':
		rc = jp_literal(p, "null");
		break;
	case -1:
		rc = jp_fail(p, "truncated");
		break;
	default:
		if (c == '-' || is_digit(c))
			rc = jp_number(p, NULL);
		else
			rc = jp_fail(p, "expected a value");
	}
	hc_mem_free(key.s);
	return rc;
}

/* A string or null into out (left empty for null); *is_null says which. */
static int jp_string_or_null(struct jp *p, struct sbuf *out, bool *is_null)
{
	out->n = 0;
	if (out->s)
		out->s[0] = '\0';
	*is_null = jp_peek(p) == 'n';
	if (*is_null)
		return jp_literal(p, "null");
	return jp_string(p, out);
}

/* A frame object; adds its part of the key when idx < HC_BASELINE_FRAMES. */
static int jp_frame(struct jp *p, struct sbuf *k, unsigned idx)
{
	struct sbuf key = { 0 }, fn = { 0 }, mod = { 0 };
	bool first = true, fn_null = true, mod_null = true;
	int rc;

	if ((rc = jp_enter(p, '{')) != HC_OK)
		goto out;
	while ((rc = jp_next(p, '}', &first, &key)) == 1) {
		if (key_is(&key, "function"))
			rc = jp_string_or_null(p, &fn, &fn_null);
		else if (key_is(&key, "module"))
			rc = jp_string_or_null(p, &mod, &mod_null);
		else
			rc = jp_skip(p);
		if (rc != HC_OK)
			goto out;
	}
	if (rc < 0)
		goto out;
	p->depth--;
	rc = HC_OK;
	if (idx < HC_BASELINE_FRAMES)
		key_frame(k, idx, fn_null ? NULL : fn.s, mod_null ? NULL : mod.s);
	if (k->nomem)
		rc = HC_ERR_NOMEM;
out:
	hc_mem_free(key.s);
	hc_mem_free(fn.s);
	hc_mem_free(mod.s);
	return rc;
}

static int jp_stack(struct jp *p, struct sbuf *k)
{
	bool first = true;
	unsigned idx = 0;
	int rc;

	if ((rc = jp_enter(p, '[')) != HC_OK)
		return rc;
	while ((rc = jp_next(p, ']', &first, NULL)) == 1)
		if ((rc = jp_frame(p, k, idx++)) != HC_OK)
			return rc;
	if (rc == 0) {
		p->depth--;
		rc = HC_OK;
	}
	return rc;
}

static const char *const class_names[] = { "reachable", "direct", "indirect", "possible", "cycle" };

static int jp_group(struct jp *p)
{
	struct sbuf key = { 0 }, cls = { 0 }, stack = { 0 }, k = { 0 };
	bool first = true, have_cls = false, have_stack = false, known = false;
	int rc;

	if ((rc = jp_enter(p, '{')) != HC_OK)
		goto out;
	while ((rc = jp_next(p, '}', &first, &key)) == 1) {
		if (key_is(&key, "class")) {
			cls.n = 0;
			rc = jp_string(p, &cls);
			have_cls = true;
		} else if (key_is(&key, "stack")) {
			stack.n = 0;
			rc = jp_stack(p, &stack);
			have_stack = true;
		} else {
			rc = jp_skip(p);
		}
		if (rc != HC_OK)
			goto out;
	}
	if (rc < 0)
		goto out;
	p->depth--;
	if (!have_cls || !have_stack) {
		rc = jp_fail(p, "leak without class or stack");
		goto out;
	}
	for (size_t i = 0; i < HC_ARRAY_SIZE(class_names); i++)
		if (cls.s && !strcmp(cls.s, class_names[i]))
			known = true;
	if (!known) {
		rc = jp_fail(p, "unknown leak class");
		goto out;
	}
	sb_add(&k, cls.s, cls.n);
	sb_addc(&k, KEY_CLASS_SEP);
	if (stack.n)
		sb_add(&k, stack.s, stack.n);
	rc = k.nomem ? HC_ERR_NOMEM : strset_add(&p->b->groups, k.s, k.n);
out:
	hc_mem_free(key.s);
	hc_mem_free(cls.s);
	hc_mem_free(stack.s);
	hc_mem_free(k.s);
	return rc;
}

/* A cycle: the stack key of each member. */
static int jp_cycle(struct jp *p)
{
	struct sbuf key = { 0 }, mkey = { 0 }, k = { 0 };
	char **members = NULL;
	size_t n = 0, cap = 0;
	bool first = true, have_members = false;
	int rc;

	if ((rc = jp_enter(p, '{')) != HC_OK)
		goto out;
	while ((rc = jp_next(p, '}', &first, &key)) == 1) {
		bool mfirst = true;

		if (!key_is(&key, "members")) {
			if ((rc = jp_skip(p)) != HC_OK)
				goto out;
			continue;
		}
		have_members = true;
		if ((rc = jp_enter(p, '[')) != HC_OK)
			goto out;
		while ((rc = jp_next(p, ']', &mfirst, NULL)) == 1) {
			bool ofirst = true, have_stack = false;

			if ((rc = jp_enter(p, '{')) != HC_OK)
				goto out;
			mkey.n = 0;
			sb_add(&mkey, "", 0);
			while ((rc = jp_next(p, '}', &ofirst, &key)) == 1) {
				if (key_is(&key, "stack")) {
					mkey.n = 0;
					rc = jp_stack(p, &mkey);
					have_stack = true;
				} else {
					rc = jp_skip(p);
				}
				if (rc != HC_OK)
					goto out;
			}
			if (rc < 0)
				goto out;
			p->depth--;
			if (!have_stack) {
				rc = jp_fail(p, "cycle member without stack");
				goto out;
			}
			if (n == cap) {
				size_t nc = cap ? 2 * cap : 8;
				char **m = hc_mem_realloc(members, nc * sizeof(*m));

				if (!m) {
					rc = HC_ERR_NOMEM;
					goto out;
				}
				members = m;
				cap = nc;
			}
			members[n] = hc_mem_alloc(mkey.n + 1);
			if (!members[n] || mkey.nomem) {
				hc_mem_free(members[n]);
				rc = HC_ERR_NOMEM;
				goto out;
			}
			memcpy(members[n], mkey.s ? mkey.s : "", mkey.n);
			members[n][mkey.n] = '\0';
			n++;
		}
		if (rc < 0)
			goto out;
		p->depth--;
	}
	if (rc < 0)
		goto out;
	p->depth--;
	if (!have_members) {
		rc = jp_fail(p, "cycle without members");
		goto out;
	}
	key_cycle(&k, members, n);
	rc = k.nomem ? HC_ERR_NOMEM : strset_add(&p->b->cycles, k.s, k.n);
out:
	for (size_t i = 0; i < n; i++)
		hc_mem_free(members[i]);
	hc_mem_free(members);
	hc_mem_free(key.s);
	hc_mem_free(mkey.s);
	hc_mem_free(k.s);
	return rc;
}

/* An array of objects, each read by fn. */
static int jp_array_of(struct jp *p, int (*fn)(struct jp *))
{
	bool first = true;
	int rc;

	if ((rc = jp_enter(p, '[')) != HC_OK)
		return rc;
	while ((rc = jp_next(p, ']', &first, NULL)) == 1)
		if ((rc = fn(p)) != HC_OK)
			return rc;
	if (rc == 0) {
		p->depth--;
		rc = HC_OK;
	}
	return rc;
}

static int jp_process(struct jp *p)
{
	struct sbuf key = { 0 };
	bool first = true;
	int rc;

	if ((rc = jp_enter(p, '{')) != HC_OK)
		goto out;
	while ((rc = jp_next(p, '}', &first, &key)) == 1) {
		if (key_is(&key, "leaks"))
			rc = jp_array_of(p, jp_group);
		else if (key_is(&key, "cycles"))
			rc = jp_array_of(p, jp_cycle);
		else
			rc = jp_skip(p);
		if (rc != HC_OK)
			goto out;
	}
	if (rc == 0) {
		p->depth--;
		rc = HC_OK;
	}
out:
	hc_mem_free(key.s);
	return rc;
}

int hc_baseline_read_mem(const char *buf, size_t len, struct hc_baseline **out,
			 struct hc_error *err)
{
	struct jp p = { .s = buf, .len = len, .err = err };
	struct sbuf key = { 0 };
	bool first = true, have_version = false, have_processes = false;
	long long version = -1;
	int rc;

	*out = NULL;
	if (len > HC_BASELINE_MAX_INPUT) {
		rc = hc_error_set(err, HC_ERR_FORMAT, 0, "larger than 1 GiB");
		goto out;
	}
	p.b = hc_mem_calloc(1, sizeof(*p.b));
	if (!p.b) {
		rc = HC_ERR_NOMEM;
		goto out;
	}
	if ((rc = jp_enter(&p, '{')) != HC_OK)
		goto out;
	while ((rc = jp_next(&p, '}', &first, &key)) == 1) {
		if (key_is(&key, "version")) {
			if (jp_peek(&p) != '-' && !is_digit(jp_peek(&p))) {
				rc = jp_fail(&p, "version is not a number");
				goto out;
			}
			rc = jp_number(&p, &version);
			have_version = true;
		} else if (key_is(&key, "processes")) {
			rc = jp_array_of(&p, jp_process);
			have_processes = true;
		} else {
			rc = jp_skip(&p);
		}
		if (rc != HC_OK)
			goto out;
	}
	if (rc < 0)
		goto out;
	p.depth--;
	if (jp_peek(&p) != -1) {
		rc = jp_fail(&p, "text after the report");
		goto out;
	}
	if (!have_version || !have_processes) {
		rc = hc_error_set(err, HC_ERR_FORMAT, 0,
				  "not a heapcycle JSON report (no version or processes)");
		goto out;
	}
	if (version != HC_REPORT_JSON_VERSION) {
		rc = hc_error_set(err, HC_ERR_VERSION, 0, "unknown report version");
		goto out;
	}
	*out = p.b;
	p.b = NULL;
	rc = HC_OK;
out:
	if (rc == HC_ERR_NOMEM)
		hc_error_set(err, HC_ERR_NOMEM, p.pos, "out of memory");
	hc_baseline_free(p.b);
	hc_mem_free(key.s);
	return rc;
}

int hc_baseline_read_file(const char *path, struct hc_baseline **out, struct hc_error *err)
{
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	rc = hc_file_read(path, HC_BASELINE_MAX_INPUT, &buf, &len, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_baseline_read_mem(buf, len, out, err);
	hc_mem_free(buf);
	return rc;
}
