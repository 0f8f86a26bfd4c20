/* SPDX-License-Identifier: MIT */
/*
 * Options (options.c): defaults from options.def, parsing of
 * HEAPCYCLE_OPTIONS strings, single settings, errors that name the bad
 * item, and formatting back into a string the parser accepts.
 */
#define _GNU_SOURCE 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "suites.h"

START_TEST(test_options_defaults)
{
	struct hc_options o;

	memset(&o, 0x5a, sizeof(o));
	hc_options_defaults(&o);
	ck_assert_str_eq(o.output, "heapcycle.%p.hcs");
	ck_assert(o.stacks);
	ck_assert_int_eq(o.stack_depth, 64);
	ck_assert(o.snapshot_at_exit);
	ck_assert(!o.overwrite);
	ck_assert_int_eq(o.stop_timeout_ms, 1000);
	ck_assert(!o.quiet);
	ck_assert(!o.check);
	ck_assert_int_eq(o.error_exitcode, 23);
	ck_assert_str_eq(o.format, "text");
	ck_assert(!o.show_reachable);
}
END_TEST

START_TEST(test_options_parse_mixed_separators)
{
	struct hc_options o;
	struct hc_error err;

	hc_options_defaults(&o);
	ck_assert_int_eq(hc_options_parse(&o, "stacks=0:stack_depth=12 output=/tmp/x.%p",
					  &err), HC_OK);
	ck_assert(!o.stacks);
	ck_assert_int_eq(o.stack_depth, 12);
	ck_assert_str_eq(o.output, "/tmp/x.%p");
	/* Untouched ones keep their value. */
	ck_assert_int_eq(o.error_exitcode, 23);
	ck_assert_int_eq(hc_options_parse(&o, "  \tcheck\n::error-exitcode=7 :", &err),
			 HC_OK);
	ck_assert(o.check);
	ck_assert_int_eq(o.error_exitcode, 7);
	ck_assert_int_eq(hc_options_parse(&o, "", &err), HC_OK);
	ck_assert_int_eq(hc_options_parse(&o, NULL, &err), HC_OK);
}
END_TEST

START_TEST(test_options_bad_number)
{
	struct hc_options o;
	struct hc_error err;

	hc_options_defaults(&o);
	ck_assert_int_eq(hc_options_parse(&o, "quiet=1:stack_depth=12x", &err), HC_ERR_ARG);
	ck_assert_int_eq(err.status, HC_ERR_ARG);
	ck_assert_str_eq(err.what, "stack_depth: not a number");
	ck_assert_uint_eq(err.offset, 8);
	ck_assert(o.quiet);	/* items before the bad one are applied */
	ck_assert_int_eq(o.stack_depth, 64);
	ck_assert_int_eq(hc_options_parse(&o, "stack_depth=", &err), HC_ERR_ARG);
	ck_assert_int_eq(hc_options_parse(&o, "stack_depth=-1", &err), HC_ERR_ARG);
	ck_assert_int_eq(hc_options_parse(&o, "stop_timeout_ms=99999999999", &err),
			 HC_ERR_ARG);
	ck_assert_str_eq(err.what, "stop_timeout_ms: number too large");
	ck_assert_int_eq(hc_options_parse(&o, "stop_timeout_ms=2147483647", &err), HC_OK);
	ck_assert_int_eq(o.stop_timeout_ms, 2147483647);
	ck_assert_int_eq(hc_options_parse(&o, "stack_depth=257", &err), HC_ERR_ARG);
	ck_assert_str_eq(err.what, "stack_depth: out of range");
	ck_assert_int_eq(hc_options_parse(&o, "stack_depth=0", &err), HC_ERR_ARG);
	ck_assert_int_eq(hc_options_parse(&o, "stack_depth=256", &err), HC_OK);
	ck_assert_int_eq(o.stack_depth, 256);
	ck_assert_int_eq(hc_options_parse(&o, "stack_depth", &err), HC_ERR_ARG);
}
END_TEST

START_TEST(test_options_unknown_option)
{
	struct hc_options o;
	struct hc_error err;
	bool is_bool = false;

	hc_options_defaults(&o);
	ck_assert_int_eq(hc_options_parse(&o, "check=1 frobnicate=3", &err), HC_ERR_ARG);
	ck_assert_str_eq(err.what, "unknown option 'frobnicate'");
	ck_assert_uint_eq(err.offset, 8);
	ck_assert(o.check);
	ck_assert_int_eq(hc_options_parse(&o, "=3", &err), HC_ERR_ARG);
	ck_assert_int_eq(hc_options_parse(&o, "no-stack-depth", &err), HC_ERR_ARG);
	ck_assert(hc_options_known("stack-depth", &is_bool));
	ck_assert(!is_bool);
	ck_assert(hc_options_known("no-check", &is_bool));
	ck_assert(is_bool);
	ck_assert(!hc_options_known("no-output", &is_bool));
	ck_assert(!hc_options_known("stack", &is_bool));
	ck_assert(!hc_options_known("stack_depthx", &is_bool));
	ck_assert_int_eq(hc_options_set(&o, "nothing", "1", &err), HC_ERR_ARG);
	ck_assert_str_eq(err.what, "unknown option 'nothing'");
}
END_TEST

START_TEST(test_options_bool_spellings)
{
	static const struct { const char *v; bool want; } cases[] = {
		{ "1", true }, { "0", false }, { "true", true }, { "false", false },
		{ "yes", true }, { "no", false }, { "TRUE", true }, { "No", false },
	};
	struct hc_options o;
	struct hc_error err;
	char item[64];
	size_t i;

	hc_options_defaults(&o);
	for (i = 0; i < HC_ARRAY_SIZE(cases); i++) {
		o.overwrite = !cases[i].want;
		snprintf(item, sizeof(item), "overwrite=%s", cases[i].v);
		ck_assert_int_eq(hc_options_parse(&o, item, &err), HC_OK);
		ck_assert_msg(o.overwrite == cases[i].want, "%s", item);
		o.overwrite = !cases[i].want;
		ck_assert_int_eq(hc_options_set(&o, "overwrite", cases[i].v, &err), HC_OK);
		ck_assert(o.overwrite == cases[i].want);
	}
	ck_assert_int_eq(hc_options_parse(&o, "overwrite=2", &err), HC_ERR_ARG);
	ck_assert_int_eq(hc_options_parse(&o, "overwrite=", &err), HC_ERR_ARG);
	ck_assert_int_eq(hc_options_parse(&o, "overwrite=yess", &err), HC_ERR_ARG);
	/* The command line's spellings: bare, negated, dashes. */
	ck_assert_int_eq(hc_options_set(&o, "show-reachable", NULL, &err), HC_OK);
	ck_assert(o.show_reachable);
	ck_assert_int_eq(hc_options_set(&o, "no-show-reachable", NULL, &err), HC_OK);
	ck_assert(!o.show_reachable);
	ck_assert_int_eq(hc_options_set(&o, "no-check", "1", &err), HC_ERR_ARG);
}
END_TEST

START_TEST(test_options_string_too_long_rejected)
{
	struct hc_options o;
	struct hc_error err;
	size_t n = HC_OPTION_STRING_MAX + 16;
	char *s = malloc(n + 1);

	hc_options_defaults(&o);
	memcpy(s, "output=", 7);
	/* Exactly the maximum fits. */
	memset(s + 7, 'a', HC_OPTION_STRING_MAX - 1);
	s[7 + HC_OPTION_STRING_MAX - 1] = '\0';
	ck_assert_int_eq(hc_options_parse(&o, s, &err), HC_OK);
	ck_assert_uint_eq(strlen(o.output), HC_OPTION_STRING_MAX - 1);
	/* One more is refused and the old value stays. */
	memset(s + 7, 'b', HC_OPTION_STRING_MAX);
	s[7 + HC_OPTION_STRING_MAX] = '\0';
	ck_assert_int_eq(hc_options_parse(&o, s, &err), HC_ERR_ARG);
	ck_assert_str_eq(err.what, "output: value too long");
	ck_assert_int_eq(o.output[0], 'a');
	free(s);
}
END_TEST

START_TEST(test_options_format_round_trip)
{
	struct hc_options o, back;
	struct hc_error err;
	char buf[256];

	hc_options_defaults(&o);
	ck_assert_int_eq(hc_options_format(&o, buf, sizeof(buf)), HC_OK);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(hc_options_parse(&o, "stacks=no stack_depth=12:output=/tmp/x.%p "
					  "check=yes error_exitcode=0 format=json", &err),
			 HC_OK);
	ck_assert_int_eq(hc_options_format(&o, buf, sizeof(buf)), HC_OK);
	ck_assert_str_eq(buf, "output=/tmp/x.%p:stacks=false:stack_depth=12:check=true:"
			 "error_exitcode=0:format=json");
	hc_options_defaults(&back);
	ck_assert_int_eq(hc_options_parse(&back, buf, &err), HC_OK);
	ck_assert_int_eq(back.stacks, o.stacks);
	ck_assert_int_eq(back.stack_depth, o.stack_depth);
	ck_assert_int_eq(back.check, o.check);
	ck_assert_int_eq(back.error_exitcode, o.error_exitcode);
	ck_assert_str_eq(back.output, o.output);
	ck_assert_str_eq(back.format, o.format);
	/* Too small a buffer, or a value with a separator, is refused. */
	ck_assert_int_eq(hc_options_format(&o, buf, 20), HC_ERR_ARG);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(hc_options_set(&o, "output", "/tmp/a b", &err), HC_OK);
	ck_assert_int_eq(hc_options_format(&o, buf, sizeof(buf)), HC_ERR_ARG);
	ck_assert_int_eq(hc_options_set(&o, "output", "/tmp/a:b", &err), HC_OK);
	ck_assert_int_eq(hc_options_format(&o, buf, sizeof(buf)), HC_ERR_ARG);
}
END_TEST

START_TEST(test_options_help_lists_every_option)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	hc_options_print_help(f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "  --stack-depth=N "));
	ck_assert_ptr_nonnull(strstr(text, "(default: 64)\n"));
	ck_assert_ptr_nonnull(strstr(text, "  --output=STRING "));
	ck_assert_ptr_nonnull(strstr(text, "(default: heapcycle.%p.hcs)\n"));
	ck_assert_ptr_nonnull(strstr(text, "  --check "));
	ck_assert_ptr_nonnull(strstr(text, "--show-reachable"));
	free(text);
}
END_TEST

Suite *suite_options(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("options");

	tcase_add_test(tc, test_options_defaults);
	tcase_add_test(tc, test_options_parse_mixed_separators);
	tcase_add_test(tc, test_options_bad_number);
	tcase_add_test(tc, test_options_unknown_option);
	tcase_add_test(tc, test_options_bool_spellings);
	tcase_add_test(tc, test_options_string_too_long_rejected);
	tcase_add_test(tc, test_options_format_round_trip);
	tcase_add_test(tc, test_options_help_lists_every_option);
	suite_add_tcase(s, tc);
	return s;
}
