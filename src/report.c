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

#include <string.h>

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

/* glibc's own sources are named relative to its build tree
 * ("../sysdeps/...", "../csu/..."), distribution headers live under /usr:
 * neither is where the user can fix a leak. */
static bool system_file(const char *file)
{
	return !strncmp(file, "/usr/", 5) || !strncmp(file, "../", 3) ||
	       strstr(file, "/sysdeps/") != NULL;
}

int hc_report_alloc_frame(const struct hc_report_frames *fr)
{
	unsigned i;

	for (i = 0; i < fr->n; i++)
		if (fr->f[i].file && !system_file(fr->f[i].file))
			return (int)i;
	for (i = 0; i < fr->n; i++)
		if (fr->f[i].function)
			return (int)i;
	return fr->n ? 0 : -1;
}

bool hc_report_group_shown(const struct hc_leak_group *g)
{
	return g->cls != HC_CLASS_REACHABLE && g->cls < HC_CLASS_COUNT && !g->suppressed_by;
}

bool hc_report_cycle_shown(const struct hc_snapshot *s, const struct hc_cycle *cy)
{
	uint32_t i;

	if (cy->suppressed_by || cy->nmembers == 0 || !cy->members || (cy->nedges && !cy->edges))
		return false;
	for (i = 0; i < cy->nmembers; i++)
		if (cy->members[i] >= s->nblocks)
			return false;
	for (i = 0; i < cy->nedges; i++)
		if (cy->edges[i] >= s->nedges)
			return false;
	return true;
}

int64_t hc_report_member_of(const struct hc_cycle *cy, uint32_t block)
{
	uint32_t i;

	/* Cycles are small next to everything else written per member: a
	 * linear search keeps the writers free of an index to allocate. */
	for (i = 0; i < cy->nmembers; i++)
		if (cy->members[i] == block)
			return i;
	return -1;
}

size_t hc_report_utf8_len(const unsigned char *s, size_t n)
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
	/* XML 1.0 forbids U+FFFE and U+FFFF even as references. */
	if (cp == 0xfffe || cp == 0xffff)
		return 0;
	return len;
}

void hc_report_json_str(FILE *out, const char *str, bool html_safe)
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
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '<':
		case '>':
		case '&':
			/* Inside an HTML <script> element "</script>" or "<!--"
			 * would end or change it, whatever JSON thinks. */
			if (html_safe)
				fprintf(out, "\\u%04x", *s);
			else
				fputc(*s, out);
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				fprintf(out, "\\u%04x", *s);
				break;
			}
			len = hc_report_utf8_len(s, n);
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

void hc_report_xml_str(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n, len;

	if (!str)
		return;
	n = strlen(str);
	while (n) {
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
			if (*s < 0x20 || *s == 0x7f) {
				fputs("\xef\xbf\xbd", out);
				break;
			}
			len = hc_report_utf8_len(s, n);
			if (len == 0) {
				fputs("\xef\xbf\xbd", out);
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
