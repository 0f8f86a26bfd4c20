/* SPDX-License-Identifier: MIT */
/*
 * Options: defaults, parsing of HEAPCYCLE_OPTIONS and single --name=value
 * settings, formatting back into a HEAPCYCLE_OPTIONS string, and --help,
 * all generated from the one list in options.def. The shim parses before it
 * has a heap, so nothing here allocates or uses stdio (except
 * hc_options_print_help, which only the tool calls): names and values are
 * compared in place as (pointer, length) pairs.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "options.h"

enum hc_opt_type { HC_OPT_bool, HC_OPT_int, HC_OPT_string };

struct hc_opt_desc {
	const char *name;
	enum hc_opt_type type;
	size_t offset;
	int min, max;		/* for int options */
	const char *def_text;	/* the default as spelled in options.def */
	const char *help;
};

/*
 * Ranges the list cannot express: stack_depth is bounded by the snapshot
 * format (HC_SNAPSHOT_MAX_FRAMES), an exit status by the kernel.
 */
#define HC_OPT_MIN_stack_depth 1
#define HC_OPT_MAX_stack_depth 256
#define HC_OPT_MIN_error_exitcode 0
#define HC_OPT_MAX_error_exitcode 255

static const struct hc_opt_desc hc_opts[] = {
#define HC_OPTION(type, name, def, help) \
	{ #name, HC_OPT_##type, offsetof(struct hc_options, name), 0, INT_MAX, #def, help },
#include "options.def"
#undef HC_OPTION
};

static void hc_opt_range(const struct hc_opt_desc *d, int *min, int *max)
{
	*min = d->min;
	*max = d->max;
	if (strcmp(d->name, "stack_depth") == 0) {
		*min = HC_OPT_MIN_stack_depth;
		*max = HC_OPT_MAX_stack_depth;
	} else if (strcmp(d->name, "error_exitcode") == 0) {
		*min = HC_OPT_MIN_error_exitcode;
		*max = HC_OPT_MAX_error_exitcode;
	}
}

void hc_options_defaults(struct hc_options *o)
{
#define HC_OPTION_DEF_bool(name, def) o->name = (def);
#define HC_OPTION_DEF_int(name, def) o->name = (def);
#define HC_OPTION_DEF_string(name, def) do { \
		size_t n_ = strlen(def); \
		memcpy(o->name, (def), n_ + 1); \
	} while (0);
#define HC_OPTION(type, name, def, help) HC_OPTION_DEF_##type(name, def)
#include "options.def"
#undef HC_OPTION
}

/* AS-Safe string building for err->what. */
struct hc_msg {
	char buf[64];
	size_t n;
};

static void hc_msg_add(struct hc_msg *m, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && s[i] && m->n < sizeof(m->buf) - 1; i++)
		m->buf[m->n++] = s[i];
	m->buf[m->n] = '\0';
}

static int hc_opt_fail(struct hc_error *err, uint64_t offset, const char *a,
		       size_t alen, const char *b)
{
	struct hc_msg m = { .n = 0 };

	m.buf[0] = '\0';
	hc_msg_add(&m, a, alen);
	hc_msg_add(&m, b, strlen(b));
	return hc_error_set(err, HC_ERR_ARG, offset, m.buf);
}

/* Compares an option name with a user's spelling, where '-' means '_'. */
static bool hc_opt_name_eq(const char *name, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i] == '-' ? '_' : s[i];

		if (name[i] == '\0' || name[i] != c)
			return false;
	}
	return name[n] == '\0';
}

static const struct hc_opt_desc *hc_opt_find(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < HC_ARRAY_SIZE(hc_opts); i++)
		if (hc_opt_name_eq(hc_opts[i].name, s, n))
			return &hc_opts[i];
	return NULL;
}

static bool hc_word_eq(const char *s, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (word[i] == '\0' || word[i] != c)
			return false;
	}
	return word[n] == '\0';
}

/*
 * Sets the option named name[0..nlen) from value[0..vlen) (value NULL: a
 * bare name, allowed for bools only). offset is where the item starts, for
 * err. A bool option may also be negated as no_NAME / no-NAME.
 */
static int hc_opt_set_n(struct hc_options *o, const char *name, size_t nlen,
			const char *value, size_t vlen, uint64_t offset,
			struct hc_error *err)
{
	const struct hc_opt_desc *d = hc_opt_find(name, nlen);
	bool negate = false;
	char *field;

	if (!d && nlen > 3 && name[0] == 'n' && name[1] == 'o' &&
	    (name[2] == '-' || name[2] == '_')) {
		d = hc_opt_find(name + 3, nlen - 3);
		if (d && d->type != HC_OPT_bool)
			d = NULL;
		if (d && value)
			return hc_opt_fail(err, offset, name, nlen, ": takes no value");
		negate = true;
	}
	if (!d) {
		struct hc_msg m = { .n = 0 };

		m.buf[0] = '\0';
		hc_msg_add(&m, "unknown option '", 16);
		/* Leave room for the closing quote. */
		hc_msg_add(&m, name, nlen < 40 ? nlen : 40);
		hc_msg_add(&m, "'", 1);
		return hc_error_set(err, HC_ERR_ARG, offset, m.buf);
	}
	field = (char *)o + d->offset;
	switch (d->type) {
	case HC_OPT_bool: {
		bool v;

		if (!value || hc_word_eq(value, vlen, "1") || hc_word_eq(value, vlen, "true") ||
		    hc_word_eq(value, vlen, "yes"))
			v = true;
		else if (hc_word_eq(value, vlen, "0") || hc_word_eq(value, vlen, "false") ||
			 hc_word_eq(value, vlen, "no"))
			v = false;
		else
			return hc_opt_fail(err, offset, d->name, strlen(d->name),
					   ": not a boolean (1/0, true/false, yes/no)");
		*(bool *)field = negate ? !v : v;
		break;
	}
	case HC_OPT_int: {
		long long v = 0;
		int min, max;
		size_t i;

		if (!value || vlen == 0)
			return hc_opt_fail(err, offset, d->name, strlen(d->name),
					   ": not a number");
		for (i = 0; i < vlen; i++) {
			if (value[i] < '0' || value[i] > '9')
				return hc_opt_fail(err, offset, d->name, strlen(d->name),
						   ": not a number");
			v = v * 10 + (value[i] - '0');
			if (v > INT_MAX)
				return hc_opt_fail(err, offset, d->name, strlen(d->name),
						   ": number too large");
		}
		hc_opt_range(d, &min, &max);
		if (v < min || v > max)
			return hc_opt_fail(err, offset, d->name, strlen(d->name),
					   ": out of range");
		*(int *)field = (int)v;
		break;
	}
	case HC_OPT_string:
		if (!value)
			return hc_opt_fail(err, offset, d->name, strlen(d->name),
					   ": needs a value");
		if (vlen > HC_OPTION_STRING_MAX - 1)
			return hc_opt_fail(err, offset, d->name, strlen(d->name),
					   ": value too long");
		memcpy(field, value, vlen);
		field[vlen] = '\0';
		break;
	}
	return HC_OK;
}

static bool hc_opt_is_sep(char c)
{
	return c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	       c == '\v' || c == '\f';
}

int hc_options_parse(struct hc_options *o, const char *s, struct hc_error *err)
{
	size_t i = 0;
	int rc = HC_OK;

	if (!s)
		goto out;
	while (s[i] != '\0') {
		size_t start, eq = SIZE_MAX, end;

		if (hc_opt_is_sep(s[i])) {
			i++;
			continue;
		}
		start = i;
		while (s[i] != '\0' && !hc_opt_is_sep(s[i])) {
			if (s[i] == '=' && eq == SIZE_MAX)
				eq = i;
			i++;
		}
		end = i;
		if (eq == start) {
			rc = hc_opt_fail(err, start, s + start, end - start,
					 ": no option name");
			goto out;
		}
		if (eq == SIZE_MAX) {
			/* A bare name: allowed for a bool ("check"). */
			rc = hc_opt_set_n(o, s + start, end - start, NULL, 0, start, err);
		} else {
			rc = hc_opt_set_n(o, s + start, eq - start, s + eq + 1,
					  end - eq - 1, start, err);
		}
		if (rc != HC_OK)
			goto out;
	}
out:
	return rc;
}

int hc_options_set(struct hc_options *o, const char *name, const char *value,
		   struct hc_error *err)
{
	if (!name)
		return hc_error_set(err, HC_ERR_ARG, 0, "no option name");
	return hc_opt_set_n(o, name, strlen(name), value, value ? strlen(value) : 0,
			    0, err);
}

bool hc_options_known(const char *name, bool *is_bool)
{
	size_t n = strlen(name);
	const struct hc_opt_desc *d = hc_opt_find(name, n);

	if (!d && n > 3 && name[0] == 'n' && name[1] == 'o' &&
	    (name[2] == '-' || name[2] == '_')) {
		d = hc_opt_find(name + 3, n - 3);
		if (d && d->type != HC_OPT_bool)
			d = NULL;
	}
	if (is_bool)
		*is_bool = d && d->type == HC_OPT_bool;
	return d != NULL;
}

/* Appends s to buf; false when it does not fit (with the terminator). */
static bool hc_buf_add(char *buf, size_t len, size_t *at, const char *s, size_t n)
{
	if (n >= len - *at)
		return false;
	memcpy(buf + *at, s, n);
	*at += n;
	buf[*at] = '\0';
	return true;
}

static bool hc_buf_item(char *buf, size_t len, size_t *at, const char *name,
			const char *value, size_t vlen)
{
	if (*at > 0 && !hc_buf_add(buf, len, at, ":", 1))
		return false;
	return hc_buf_add(buf, len, at, name, strlen(name)) &&
	       hc_buf_add(buf, len, at, "=", 1) &&
	       hc_buf_add(buf, len, at, value, vlen);
}

int hc_options_format(const struct hc_options *o, char *buf, size_t len)
{
	struct hc_options def;
	size_t at = 0;
	int rc = HC_OK;

	if (!buf || len == 0)
		return HC_ERR_ARG;
	buf[0] = '\0';
	hc_options_defaults(&def);
#define HC_OPTION_FMT_bool(name) \
	if (o->name != def.name && \
	    !hc_buf_item(buf, len, &at, #name, o->name ? "true" : "false", \
			 o->name ? 4 : 5)) { \
		rc = HC_ERR_ARG; \
		goto out; \
	}
#define HC_OPTION_FMT_int(name) \
	if (o->name != def.name) { \
		char num_[16]; \
		int i_ = (int)sizeof(num_); \
		unsigned int v_ = o->name < 0 ? 0u : (unsigned int)o->name; \
		do { \
			num_[--i_] = (char)('0' + v_ % 10); \
			v_ /= 10; \
		} while (v_); \
		if (!hc_buf_item(buf, len, &at, #name, num_ + i_, \
				 sizeof(num_) - (size_t)i_)) { \
			rc = HC_ERR_ARG; \
			goto out; \
		} \
	}
#define HC_OPTION_FMT_string(name) \
	if (strcmp(o->name, def.name) != 0) { \
		size_t n_ = strnlen(o->name, HC_OPTION_STRING_MAX); \
		size_t k_; \
		/* A separator in a value cannot be written back. */ \
		for (k_ = 0; k_ < n_; k_++) \
			if (hc_opt_is_sep(o->name[k_])) { \
				rc = HC_ERR_ARG; \
				goto out; \
			} \
		if (n_ == HC_OPTION_STRING_MAX || \
		    !hc_buf_item(buf, len, &at, #name, o->name, n_)) { \
			rc = HC_ERR_ARG; \
			goto out; \
		} \
	}
#define HC_OPTION(type, name, def, help) HC_OPTION_FMT_##type(name)
#include "options.def"
#undef HC_OPTION
out:
	if (rc != HC_OK)
		buf[0] = '\0';
	return rc;
}

void hc_options_print_help(FILE *out)
{
	size_t i;

	for (i = 0; i < HC_ARRAY_SIZE(hc_opts); i++) {
		const struct hc_opt_desc *d = &hc_opts[i];
		char flag[64];
		size_t k, n = 0;

		flag[n++] = '-';
		flag[n++] = '-';
		for (k = 0; d->name[k] && n < 40; k++)
			flag[n++] = d->name[k] == '_' ? '-' : d->name[k];
		flag[n] = '\0';
		if (d->type == HC_OPT_int)
			strcat(flag, "=N");
		else if (d->type == HC_OPT_string)
			strcat(flag, "=STRING");
		/* A string's default is spelled as a C literal: drop the quotes. */
		n = strlen(d->def_text);
		if (d->type == HC_OPT_string && n >= 2 && d->def_text[0] == '"')
			fprintf(out, "  %-26s %s (default: %.*s)\n", flag, d->help,
				(int)(n - 2), d->def_text + 1);
		else
			fprintf(out, "  %-26s %s (default: %s)\n", flag, d->help,
				d->def_text);
	}
}
