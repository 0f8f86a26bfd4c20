/* SPDX-License-Identifier: MIT */
/*
 * Suppressions (suppress.c) and baselines (baseline.c): both parsers on
 * good, broken and large input, matching against hand-made frames, and the
 * baseline's JSON reader on valid, truncated and hostile text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suites.h"

#include "baseline.h"
#include "suppress.h"

static struct hc_suppress_set *set;
static FILE *devnull;

static void setup(void)
{
	ck_assert_int_eq(hc_suppress_new(&set), HC_OK);
	devnull = fopen("/dev/null", "w");
	ck_assert_ptr_nonnull(devnull);
}

static void teardown(void)
{
	hc_suppress_free(set);
	set = NULL;
	fclose(devnull);
}

static int parse(const char *text, struct hc_error *err)
{
	memset(err, 0, sizeof(*err));
	return hc_suppress_parse(set, "test.supp", text, strlen(text), devnull, err);
}

/* A stack of functions (innermost first), file "f.c", module "/bin/prog". */
static unsigned frames(struct hc_frame *fr, const char *const *fns)
{
	unsigned n = 0;

	for (; fns[n]; n++) {
		memset(&fr[n], 0, sizeof(fr[n]));
		fr[n].function = fns[n];
		fr[n].file = "/src/dir/f.c";
		fr[n].line = 10 + n;
		fr[n].module = "/usr/lib/x86_64-linux-gnu/libfoo.so.1";
	}
	return n;
}

static const char *match(const char *const *fns, enum hc_leak_class cls)
{
	struct hc_frame fr[16];
	unsigned n = frames(fr, fns);
	const struct hc_suppression *s = hc_suppress_match(set, fr, n, 0, cls);

	return s ? s->name : NULL;
}

static const char *const stack_abc[] = { "leaf", "middle", "main", NULL };
static const char *const stack_xyz[] = { "xyz_alloc", "xyz_init", "main", NULL };

START_TEST(test_suppress_lsan_substring_glob_and_anchors)
{
	struct hc_error err;

	ck_assert_int_eq(parse("# comment\n\n   \nleak:idd\n", &err), HC_OK);
	ck_assert_uint_eq(hc_suppress_count(set), 1);
	ck_assert_str_eq(match(stack_abc, HC_CLASS_DIRECT), "leak:idd");
	ck_assert_ptr_null(match(stack_xyz, HC_CLASS_DIRECT));
	hc_suppress_free(set);
	ck_assert_int_eq(hc_suppress_new(&set), HC_OK);
	ck_assert_int_eq(parse("leak:^eaf\nleak:^xyz_*t$\nleak:m?in$\n", &err), HC_OK);
	/* ^eaf does not match "leaf"; xyz_*t$ matches xyz_init; m?in$ matches main. */
	ck_assert_str_eq(match(stack_xyz, HC_CLASS_INDIRECT), "leak:^xyz_*t$");
	ck_assert_str_eq(match(stack_abc, HC_CLASS_CYCLE), "leak:m?in$");
}
END_TEST

START_TEST(test_suppress_lsan_matches_file_and_module)
{
	struct hc_error err;

	ck_assert_int_eq(parse("leak:libfoo.so\n", &err), HC_OK);
	ck_assert_str_eq(match(stack_abc, HC_CLASS_DIRECT), "leak:libfoo.so");
	hc_suppress_free(set);
	ck_assert_int_eq(hc_suppress_new(&set), HC_OK);
	ck_assert_int_eq(parse("leak:/dir/f.c$\n", &err), HC_OK);
	ck_assert_str_eq(match(stack_abc, HC_CLASS_DIRECT), "leak:/dir/f.c$");
	hc_suppress_free(set);
	ck_assert_int_eq(hc_suppress_new(&set), HC_OK);
	ck_assert_int_eq(parse("leak:^f.c\n", &err), HC_OK);
	ck_assert_ptr_null(match(stack_abc, HC_CLASS_DIRECT));
}
END_TEST

START_TEST(test_suppress_lsan_other_types_ignored_with_note)
{
	struct hc_error err;
	char *buf = NULL;
	size_t len = 0;
	FILE *notes = open_memstream(&buf, &len);

	ck_assert_int_eq(hc_suppress_parse(set, "n.supp", "race:foo\nleak:bar\n", 18, notes, &err),
			 HC_OK);
	fclose(notes);
	ck_assert_uint_eq(hc_suppress_count(set), 1);
	ck_assert_ptr_nonnull(strstr(buf, "n.supp:1"));
	ck_assert_ptr_nonnull(strstr(buf, "race:foo"));
	ck_assert_ptr_null(strstr(buf, "more entries"));
	free(buf);
	/* Many: the first is named, the rest counted in one line. */
	buf = NULL;
	notes = open_memstream(&buf, &len);
	ck_assert_int_eq(hc_suppress_parse(set, "m.supp", "race:a\nleak:b\nrace:c\nthread:d\n", 30,
					   notes, &err), HC_OK);
	fclose(notes);
	ck_assert_ptr_nonnull(strstr(buf, "m.supp:1"));
	ck_assert_ptr_nonnull(strstr(buf, "m.supp: note: 2 more entries for other tools or kinds ignored"));
	ck_assert_ptr_null(strstr(buf, "race:c"));
	free(buf);
}
END_TEST

/* heapcycle's own: GLib's type data, possibly lost or still reachable
 * only; a block lost outright the same way is still reported. */
START_TEST(test_suppress_builtin_glib_type_system)
{
	static const char *const reg[] = { "g_realloc", "type_node_any_new_W",
					   "g_type_register_static", "my_view_get_type", "main",
					   NULL };
	static const char *const cls[] = { "g_malloc0", "g_type_class_ref", "g_object_new",
					   "main", NULL };
	struct hc_error err;
	size_t i;

	ck_assert_int_eq(hc_suppress_add_builtin(set, &err), HC_OK);
	ck_assert_uint_gt(hc_suppress_count(set), 5);
	for (i = 0; i < hc_suppress_count(set); i++)
		ck_assert_ptr_eq(hc_suppress_get(set, i)->file, HC_SUPPRESS_BUILTIN);
	ck_assert_str_eq(match(reg, HC_CLASS_POSSIBLE), "glib-type-registration");
	ck_assert_str_eq(match(reg, HC_CLASS_REACHABLE), "glib-type-registration");
	ck_assert_str_eq(match(cls, HC_CLASS_POSSIBLE), "glib-type-class");
	ck_assert_ptr_null(match(reg, HC_CLASS_DIRECT));
	ck_assert_ptr_null(match(cls, HC_CLASS_CYCLE));
	ck_assert_ptr_null(match(stack_abc, HC_CLASS_POSSIBLE));
}
END_TEST

START_TEST(test_suppress_lsan_broken_line_names_line)
{
	struct hc_error err;

	ck_assert_int_eq(parse("leak:ok\n# fine\nno colon here\n", &err), HC_ERR_FORMAT);
	ck_assert_uint_eq(err.offset, 3);
	ck_assert_uint_eq(hc_suppress_count(set), 0);	/* the file is all or nothing */
	ck_assert_int_eq(parse("leak:\n", &err), HC_ERR_FORMAT);
	ck_assert_uint_eq(err.offset, 1);
}
END_TEST

START_TEST(test_suppress_valgrind_frames_in_order)
{
	struct hc_error err;
	const char *text =
		"# Valgrind\n"
		"{\n"
		"   exact\n"
		"   Memcheck:Leak\n"
		"   match-leak-kinds: definite\n"
		"   fun:malloc\n"
		"   fun:xyz_*\n"
		"   fun:xyz_init\n"
		"}\n";
	static const char *const wrong_order[] = { "xyz_init", "xyz_alloc", "main", NULL };

	ck_assert_int_eq(parse(text, &err), HC_OK);
	ck_assert_str_eq(match(stack_xyz, HC_CLASS_DIRECT), "exact");
	ck_assert_ptr_null(match(wrong_order, HC_CLASS_DIRECT));
	/* definite: not for indirect leaks, but for cycle members. */
	ck_assert_ptr_null(match(stack_xyz, HC_CLASS_INDIRECT));
	ck_assert_str_eq(match(stack_xyz, HC_CLASS_CYCLE), "exact");
	/* Anchored at the innermost frame: a later start does not match. */
	hc_suppress_free(set);
	ck_assert_int_eq(hc_suppress_new(&set), HC_OK);
	ck_assert_int_eq(parse("{\n n\n Memcheck:Leak\n fun:xyz_init\n}\n", &err), HC_OK);
	ck_assert_ptr_null(match(stack_xyz, HC_CLASS_DIRECT));
}
END_TEST

START_TEST(test_suppress_valgrind_dots_obj_src)
{
	struct hc_error err;
	const char *text =
		"{\n d1\n Memcheck:Leak\n ...\n fun:main\n}\n"
		"{\n o1\n Memcheck,Addrcheck:Leak\n obj:*/libfoo.so*\n ...\n}\n"
		"{\n s1\n Memcheck:Leak\n src:f.c:11\n}\n";
	static const char *const deep[] = { "a", "b", "c", "d", "main", NULL };
	struct hc_frame fr[16];
	unsigned n;

	ck_assert_int_eq(parse(text, &err), HC_OK);
	ck_assert_uint_eq(hc_suppress_count(set), 3);
	ck_assert_str_eq(match(deep, HC_CLASS_DIRECT), "d1");
	/* Without the first name the "..." entry cannot end on main. */
	n = frames(fr, stack_abc);
	fr[2].function = "not_main";
	fr[0].module = fr[1].module = fr[2].module = "/bin/prog";
	ck_assert_ptr_null(hc_suppress_match(set, fr, n, 0, HC_CLASS_DIRECT));
	/* obj: on the module. */
	fr[0].module = "/usr/lib/libfoo.so.2";
	ck_assert_str_eq(hc_suppress_match(set, fr, n, 0, HC_CLASS_DIRECT)->name, "o1");
	/* src:FILE:LINE on the base name and the line. */
	fr[0].module = "/bin/prog";
	fr[0].line = 11;
	ck_assert_str_eq(hc_suppress_match(set, fr, n, 0, HC_CLASS_DIRECT)->name, "s1");
	fr[0].line = 12;
	ck_assert_ptr_null(hc_suppress_match(set, fr, n, 0, HC_CLASS_DIRECT));
}
END_TEST

START_TEST(test_suppress_valgrind_allocator_line_by_kind)
{
	struct hc_error err;
	const char *text = "{\n n\n Memcheck:Leak\n fun:_Znwm\n fun:leaf\n}\n";
	struct hc_frame fr[16];
	unsigned n = frames(fr, stack_abc);

	ck_assert_int_eq(parse(text, &err), HC_OK);
	ck_assert_ptr_nonnull(hc_suppress_match(set, fr, n, 1, HC_CLASS_DIRECT));	/* new */
	ck_assert_ptr_null(hc_suppress_match(set, fr, n, 0, HC_CLASS_DIRECT));	/* malloc */
}
END_TEST

START_TEST(test_suppress_valgrind_other_kinds_skipped)
{
	struct hc_error err;
	const char *text =
		"{\n cond\n Memcheck:Cond\n fun:leaf\n}\n"
		"{\n param\n Memcheck:Param\n write(buf)\n fun:leaf\n}\n"
		"{\n race\n Helgrind:Race\n fun:leaf\n}\n"
		"{\n leak\n Memcheck:Leak\n match-leak-kinds: indirect,possible\n fun:leaf\n}\n";

	ck_assert_int_eq(parse(text, &err), HC_OK);
	ck_assert_uint_eq(hc_suppress_count(set), 1);
	ck_assert_str_eq(hc_suppress_get(set, 0)->name, "leak");
	ck_assert_uint_eq(hc_suppress_get(set, 0)->line, 17);
	ck_assert_ptr_null(match(stack_abc, HC_CLASS_DIRECT));
	ck_assert_str_eq(match(stack_abc, HC_CLASS_POSSIBLE), "leak");
}
END_TEST

START_TEST(test_suppress_valgrind_broken_files_name_line)
{
	static const struct {
		const char *text;
		unsigned line;
	} bad[] = {
		{ "{\n n\n Memcheck:Leak\n fun:x\n", 1 },		/* not closed */
		{ "{\n n\n Memcheck:Leak\n bogus:x\n}\n", 4 },
		{ "{\n n\n Memcheck:Leak\n}\n", 4 },			/* no frames */
		{ "{\n}\n", 2 },					/* no name */
		{ "{\n n\n NoColon\n fun:x\n}\n", 3 },
		{ "{\n n\n Memcheck:Leak\n match-leak-kinds: sometimes\n fun:x\n}\n", 4 },
		{ "{\n n\n Memcheck:Leak\n fun:x\n}\nstray\n", 6 },
		{ "{\n n\n Memcheck:Leak\n fun:\n}\n", 4 },
	};
	struct hc_error err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i].text, &err) == HC_ERR_FORMAT, "case %zu parsed", i);
		ck_assert_msg(err.offset == bad[i].line, "case %zu: line %llu, want %u", i,
			      (unsigned long long)err.offset, bad[i].line);
		ck_assert_msg(err.what[0], "case %zu: no message", i);
	}
	ck_assert_uint_eq(hc_suppress_count(set), 0);
}
END_TEST

START_TEST(test_suppress_ten_thousand_entries)
{
	size_t cap = 10000 * 64, len = 0;
	char *buf = malloc(cap);
	struct hc_error err;
	static const char *const last[] = { "fn_9999", "main", NULL };
	static const char *const none[] = { "fn_10000", "main", NULL };

	ck_assert_ptr_nonnull(buf);
	for (int i = 0; i < 10000; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					"{\n s%d\n Memcheck:Leak\n fun:fn_%d\n ...\n}\n", i, i);
	ck_assert_int_eq(hc_suppress_parse(set, "big", buf, len, devnull, &err), HC_OK);
	ck_assert_uint_eq(hc_suppress_count(set), 10000);
	ck_assert_str_eq(match(last, HC_CLASS_DIRECT), "s9999");
	ck_assert_ptr_null(match(none, HC_CLASS_DIRECT));
	free(buf);
}
END_TEST

START_TEST(test_suppress_load_file_errors)
{
	struct hc_error err = { 0 };
	char path[] = "/tmp/hc-supp-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "leak:a\nleak:b\n", 14), 14);
	close(fd);
	ck_assert_int_eq(hc_suppress_load_file(set, path, devnull, &err), HC_OK);
	ck_assert_uint_eq(hc_suppress_count(set), 2);
	ck_assert_str_eq(hc_suppress_get(set, 1)->file, path);
	unlink(path);
	ck_assert_int_eq(hc_suppress_load_file(set, path, devnull, &err), HC_ERR_IO);
}
END_TEST

/* ---- baselines ---- */

static const char good_report[] =
	"{\"version\": 1, \"tool\": \"heapcycle\",\n"
	" \"processes\": [{\"snapshot\": \"a.hcs\", \"pid\": 1, \"extra\": [1, 2.5e3, -0.5, true, null, {}],\n"
	"   \"leaks\": [{\"class\": \"direct\", \"blocks\": 1, \"bytes\": 8, \"stack\": [\n"
	"      {\"pc\": \"0x1\", \"function\": \"f\\u00e9\", \"file\": null, \"line\": null,"
	" \"module\": \"/bin/p\", \"offset\": \"0x1\", \"inlined\": false},\n"
	"      {\"function\": null, \"module\": \"/lib/libc.so.6\"}]},\n"
	"     {\"class\": \"indirect\", \"blocks\": 2, \"bytes\": 16, \"stack\": []},\n"
	"     {\"class\": \"direct\", \"blocks\": 3, \"bytes\": 24, \"stack\": [{\"function\": \"f\\u00e9\","
	" \"module\": \"/bin/p\"}, {\"function\": null, \"module\": \"/lib/libc.so.6\"}]}],\n"
	"   \"cycles\": [{\"bytes\": 96, \"members\": [{\"stack\": [{\"function\": \"g\"}]},"
	" {\"stack\": [{\"function\": \"h\"}]}], \"edges\": []}]}],\n"
	" \"summary\": {}}\n";

START_TEST(test_baseline_reads_groups_and_cycles)
{
	struct hc_baseline *b = NULL;
	struct hc_error err = { 0 };

	ck_assert_int_eq(hc_baseline_read_mem(good_report, strlen(good_report), &b, &err), HC_OK);
	/* The two direct groups differ only in counts: one key. */
	ck_assert_uint_eq(hc_baseline_ngroups(b), 2);
	ck_assert_uint_eq(hc_baseline_ncycles(b), 1);
	hc_baseline_free(b);
}
END_TEST

START_TEST(test_baseline_every_truncation_fails_cleanly)
{
	size_t len = strlen(good_report);
	struct hc_error err;

	/* The last byte is a newline: dropping only it still parses. */
	for (size_t n = 0; n < len - 1; n++) {
		struct hc_baseline *b = (struct hc_baseline *)1;
		int rc;

		memset(&err, 0, sizeof(err));
		rc = hc_baseline_read_mem(good_report, n, &b, &err);
		ck_assert_msg(rc == HC_ERR_FORMAT, "truncated at %zu: rc %d", n, rc);
		ck_assert_ptr_null(b);
		ck_assert_msg(err.what[0], "truncated at %zu: no message", n);
	}
}
END_TEST

START_TEST(test_baseline_hostile_input)
{
	static const char *const bad[] = {
		"", "null", "[]", "{}", "{\"version\": 1}",
		"{\"version\": 1, \"processes\": [],}",
		"{\"version\": 1, \"processes\": []} x",
		"{\"version\": 1, \"processes\": [{\"leaks\": [{\"class\": \"direct\"}]}]}",
		"{\"version\": 1, \"processes\": [{\"leaks\": [{\"class\": \"huge\", \"stack\": []}]}]}",
		"{\"version\": 1, \"processes\": [{\"leaks\": [{\"class\": \"direct\", \"stack\": [1]}]}]}",
		"{\"version\": \"1\", \"processes\": []}",
		"{\"version\": 1, \"processes\": [], \"s\": \"\\ud800\"}",
		"{\"version\": 1, \"processes\": [], \"s\": \"\\u0000\"}",
		"{\"version\": 1, \"processes\": [], \"s\": \"\\x\"}",
		"{\"version\": 1, \"processes\": [], \"s\": \"\xff\"}",
		"{\"version\": 1, \"processes\": [], \"s\": \"a\nb\"}",
		"{\"version\": 1, \"processes\": [], \"n\": 01}",
		"{\"version\": 1, \"processes\": [], \"n\": 1.}",
		"{\"version\": 1, \"processes\": [], \"n\": tru}",
		"{\"version\": 1 \"processes\": []}",
	};
	struct hc_baseline *b;
	struct hc_error err;
	char *deep;
	size_t depth = 100000;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = NULL;
		memset(&err, 0, sizeof(err));
		ck_assert_msg(hc_baseline_read_mem(bad[i], strlen(bad[i]), &b, &err) == HC_ERR_FORMAT,
			      "case %zu accepted", i);
		ck_assert_ptr_null(b);
	}
	ck_assert_int_eq(hc_baseline_read_mem("{\"version\": 7, \"processes\": []}", 31, &b, &err),
			 HC_ERR_VERSION);
	/* Deep nesting is refused at the limit, not by running out of stack. */
	deep = malloc(2 * depth + 64);
	ck_assert_ptr_nonnull(deep);
	strcpy(deep, "{\"version\": 1, \"processes\": [], \"x\": ");
	memset(deep + strlen(deep), '[', depth);
	deep[38 + depth] = '\0';
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(hc_baseline_read_mem(deep, strlen(deep), &b, &err), HC_ERR_FORMAT);
	ck_assert_str_eq(err.what, "nested too deeply");
	free(deep);
}
END_TEST

Suite *suite_suppress(void)
{
	Suite *s = suite_create("suppress");
	TCase *tc = tcase_create("suppress");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_suppress_lsan_substring_glob_and_anchors);
	tcase_add_test(tc, test_suppress_lsan_matches_file_and_module);
	tcase_add_test(tc, test_suppress_lsan_other_types_ignored_with_note);
	tcase_add_test(tc, test_suppress_builtin_glib_type_system);
	tcase_add_test(tc, test_suppress_lsan_broken_line_names_line);
	tcase_add_test(tc, test_suppress_valgrind_frames_in_order);
	tcase_add_test(tc, test_suppress_valgrind_dots_obj_src);
	tcase_add_test(tc, test_suppress_valgrind_allocator_line_by_kind);
	tcase_add_test(tc, test_suppress_valgrind_other_kinds_skipped);
	tcase_add_test(tc, test_suppress_valgrind_broken_files_name_line);
	tcase_add_test(tc, test_suppress_ten_thousand_entries);
	tcase_add_test(tc, test_suppress_load_file_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("baseline");
	tcase_add_test(tc, test_baseline_reads_groups_and_cycles);
	tcase_add_test(tc, test_baseline_every_truncation_fails_cleanly);
	tcase_add_test(tc, test_baseline_hostile_input);
	suite_add_tcase(s, tc);
	return s;
}
