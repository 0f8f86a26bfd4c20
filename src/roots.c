/* SPDX-License-Identifier: MIT */
/*
 * Parses /proc/self/maps text into sorted mappings and answers the two
 * questions the snapshot asks of them: which mapping holds an address (a
 * thread's stack pointer, its thread pointer), and which parts of a root
 * range may be read. Deciding what is a root is the shim's business.
 */
#include <string.h>

#include "hc.h"
#include "roots.h"

/* Parses hex at *p up to a character that is not a hex digit. */
static bool parse_hex(const char **p, const char *end, uintptr_t *out)
{
	uintptr_t v = 0;
	int d, digits = 0;

	while (*p < end && (d = hc_hex_digit(**p)) >= 0) {
		if (digits++ >= 16)
			return false;
		v = v << 4 | (uintptr_t)d;
		(*p)++;
	}
	*out = v;
	return digits > 0;
}

static const char *skip_field(const char *p, const char *end)
{
	while (p < end && *p != ' ')
		p++;
	while (p < end && *p == ' ')
		p++;
	return p;
}

/* One line: "lo-hi perms offset dev inode   path". */
static bool parse_line(const char *p, const char *end, struct hc_mapping *m)
{
	const char *path;
	size_t plen;

	if (!parse_hex(&p, end, &m->lo) || p >= end || *p++ != '-')
		return false;
	if (!parse_hex(&p, end, &m->hi) || p >= end || *p++ != ' ')
		return false;
	if (m->hi <= m->lo || end - p < 4)
		return false;
	m->flags = 0;
	if (p[0] == 'r')
		m->flags |= HC_MAP_READ;
	if (p[1] == 'w')
		m->flags |= HC_MAP_WRITE;
	if (p[2] == 'x')
		m->flags |= HC_MAP_EXEC;
	if (p[3] == 's')
		m->flags |= HC_MAP_SHARED;
	p = skip_field(p, end);	/* perms */
	p = skip_field(p, end);	/* offset */
	p = skip_field(p, end);	/* dev */
	p = skip_field(p, end);	/* inode */
	path = p;
	plen = (size_t)(end - path);
	if (plen == 0 || path[0] == '[') {
		m->flags |= HC_MAP_ANON;
		if (plen >= 7 && memcmp(path, "[stack]", 7) == 0)
			m->flags |= HC_MAP_STACK;
		else if (plen > 0 && (memcmp(path, "[vvar]", plen < 6 ? plen : 6) == 0 ||
				      memcmp(path, "[vdso]", plen < 6 ? plen : 6) == 0 ||
				      memcmp(path, "[vsyscall]", plen < 10 ? plen : 10) == 0))
			m->flags |= HC_MAP_SPECIAL;
	}
	return true;
}

int hc_maps_parse(struct hc_maps *maps, const char *text, size_t len,
		  struct hc_arena *arena)
{
	const char *p = text, *end = text + len;
	size_t lines = 0, i;

	for (i = 0; i < len; i++)
		lines += text[i] == '\n';
	lines++;
	maps->n = 0;
	maps->m = hc_arena_alloc(arena, lines * sizeof(*maps->m));
	if (!maps->m)
		return -1;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		struct hc_mapping m;

		if (!eol)
			eol = end;
		/* The kernel lists mappings in address order; keep only lines that
		 * keep it so, so lookups can bisect. */
		if (parse_line(p, eol, &m) &&
		    (maps->n == 0 || m.lo >= maps->m[maps->n - 1].hi))
			maps->m[maps->n++] = m;
		p = eol + 1;
	}
	return 0;
}

const struct hc_mapping *hc_maps_find(const struct hc_maps *maps, uintptr_t addr)
{
	size_t lo = 0, hi = maps->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < maps->m[mid].lo)
			hi = mid;
		else if (addr >= maps->m[mid].hi)
			lo = mid + 1;
		else
			return &maps->m[mid];
	}
	return NULL;
}

uint64_t hc_maps_for_readable(const struct hc_maps *maps, uintptr_t lo, uintptr_t hi,
			      void (*fn)(uintptr_t lo, uintptr_t hi, void *arg),
			      void *arg)
{
	uint64_t skipped = 0;
	uintptr_t at = lo;
	size_t i = 0;

	if (hi <= lo)
		return 0;
	/* First mapping that ends above lo. */
	{
		size_t a = 0, b = maps->n;

		while (a < b) {
			size_t mid = a + (b - a) / 2;

			if (maps->m[mid].hi <= lo)
				a = mid + 1;
			else
				b = mid;
		}
		i = a;
	}
	for (; i < maps->n && at < hi; i++) {
		const struct hc_mapping *m = &maps->m[i];
		uintptr_t s = m->lo > at ? m->lo : at;
		uintptr_t e = m->hi < hi ? m->hi : hi;

		if (s >= hi)
			break;
		skipped += s - at;
		if ((m->flags & HC_MAP_READ) && !(m->flags & HC_MAP_SPECIAL))
			fn(s, e, arg);
		else
			skipped += e - s;
		at = e;
	}
	if (at < hi)
		skipped += hi - at;
	return skipped;
}
