/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the option parser (HEAPCYCLE_OPTIONS, which any
 * user of a shared CI host can set for a program, so it is input) and for
 * the formatter that passes options from `heapcycle run` to the shim
 * through the environment. The property beyond "no crash": whatever state a
 * parse leaves behind, including the items applied before a bad one,
 * formats to a string that parses back to the same options. A lossy round
 * trip would mean the shim runs with other options than the user gave.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

/* Room for every string option at its maximum, plus names and separators. */
#define FZ_FORMAT_MAX (32 * HC_OPTION_STRING_MAX)

static int fz_options_equal(const struct hc_options *a, const struct hc_options *b)
{
#define FZ_EQ_bool(name) if (a->name != b->name) return 0;
#define FZ_EQ_int(name) if (a->name != b->name) return 0;
#define FZ_EQ_string(name) if (strcmp(a->name, b->name) != 0) return 0;
#define HC_OPTION(type, name, def, help) FZ_EQ_##type(name)
#include "options.def"
#undef HC_OPTION
	return 1;
}

/* Every string field must stay terminated within its array. */
static void fz_check_terminated(const struct hc_options *o)
{
#define FZ_TERM_bool(name)
#define FZ_TERM_int(name)
#define FZ_TERM_string(name) \
	if (!memchr(o->name, '\0', sizeof(o->name))) \
		abort();
#define HC_OPTION(type, name, def, help) FZ_TERM_##type(name)
#include "options.def"
#undef HC_OPTION
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hc_options o, back;
	static char formatted[FZ_FORMAT_MAX];
	struct hc_error err;
	char *s;
	int rc;

	/* NUL-terminated, exactly size + 1 bytes: ASan sees a read past it. */
	s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';

	hc_options_defaults(&o);
	memset(&err, 0, sizeof(err));
	rc = hc_options_parse(&o, s, &err);
	if (rc != HC_OK && (rc != HC_ERR_ARG || err.status != HC_ERR_ARG ||
			    !memchr(err.what, '\0', sizeof(err.what)) || err.what[0] == '\0'))
		abort();	/* a failure must say what failed */
	if (rc != HC_OK && err.offset > size)
		abort();
	fz_check_terminated(&o);

	/*
	 * A parsed value can never hold a separator, and the buffer holds
	 * every option at its longest, so formatting must succeed.
	 */
	if (hc_options_format(&o, formatted, sizeof(formatted)) != HC_OK)
		abort();
	hc_options_defaults(&back);
	if (hc_options_parse(&back, formatted, &err) != HC_OK)
		abort();
	if (!fz_options_equal(&o, &back))
		abort();

	/* Each item on its own through the command-line path, too. */
	if (size > 0 && size < 256) {
		char *eq = strchr(s, '=');

		hc_options_defaults(&back);
		if (eq) {
			*eq = '\0';
			hc_options_set(&back, s, eq + 1, &err);
		} else {
			hc_options_set(&back, s, NULL, &err);
		}
		hc_options_known(s, NULL);
		fz_check_terminated(&back);
	}
	free(s);
	return 0;
}
