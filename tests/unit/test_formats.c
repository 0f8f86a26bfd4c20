/* SPDX-License-Identifier: MIT */
/*
 * Tests for the SARIF, JUnit, Valgrind XML, DOT and HTML writers and the
 * helpers they share in report.c. Each test runs a writer on a hand-built
 * snapshot and analysis whose strings are hostile (quotes, markup, control
 * characters, bytes that are not UTF-8 in the paths the program gave), and
 * parses the result with python3 (json + the vendored SARIF schema through
 * python3-jsonschema, xml.etree) or checks it here, counts included.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "suites.h"

#ifndef HC_TEST_DATA
#define HC_TEST_DATA "tests/data"
#endif
#define SARIF_SCHEMA HC_TEST_DATA "/schemas/sarif-schema-2.1.0.json"

/* Every hostile byte the escapers must handle. */
#define EVIL "<x a=\"1\" b='2'>&amp;]]>\\N\t\n\x01\x7f\xff\xc3(</script><!--"

struct fx {
	struct hc_module modules[1];
	uint64_t stack1[2], stack2[1];
	struct hc_stack stacks[3];
	struct hc_block blocks[5];
	struct hc_edge edges[3];
	struct hc_snapshot snap;
	uint8_t block_class[5];
	uint32_t block_cycle[5];
	struct hc_leak_group groups[4];
	uint32_t members[2];
	uint64_t cycle_edges[2];
	struct hc_cycle cycles[2];
	struct hc_analysis an;
	struct hc_symbolizer *sym;
	struct hc_report_input in;
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	/* A module whose file is gone: frames keep module and offset only,
	 * so the module path (hostile) reaches every writer. */
	f->modules[0] = (struct hc_module){ .bias = 0x100000, .start = 0x100000,
		.end = 0x110000, .path = "/nonexistent/" EVIL ".so" };
	f->stack1[0] = 0x100040;
	f->stack1[1] = 0x100080;
	f->stack2[0] = 0x1000c0;
	f->stacks[1] = (struct hc_stack){ 2, f->stack1 };
	f->stacks[2] = (struct hc_stack){ 1, f->stack2 };
	f->blocks[0] = (struct hc_block){ .addr = 0x1000, .size = 40, .seq = 1, .stack = 1, .tid = 7 };
	f->blocks[1] = (struct hc_block){ .addr = 0x2000, .size = 48, .seq = 2, .stack = 2 };
	f->blocks[2] = (struct hc_block){ .addr = 0x3000, .size = 48, .seq = 3, .stack = 2 };
	f->blocks[3] = (struct hc_block){ .addr = 0x4000, .size = 24, .seq = 4, .stack = 2 };
	f->blocks[4] = (struct hc_block){ .addr = 0x5000, .size = 8, .seq = 5, .stack = 1 };
	f->edges[0] = (struct hc_edge){ .from = 1, .to = 2, .from_offset = 8 };
	f->edges[1] = (struct hc_edge){ .from = 2, .to = 1, .from_offset = 16, .to_offset = 4 };
	f->edges[2] = (struct hc_edge){ .from = 2, .to = 3, .from_offset = 24 };
	f->snap = (struct hc_snapshot){ .version = HC_SNAPSHOT_VERSION, .pid = 4242, .ppid = 1,
		.reason = HC_REASON_EXIT, .time_ns = 1700000000000000000ull,
		.exe = "/bin/" EVIL, .cmdline = "prog " EVIL " --x",
		.nmodules = 1, .modules = f->modules, .nstacks = 3, .stacks = f->stacks,
		.nblocks = 5, .blocks = f->blocks, .nedges = 3, .edges = f->edges };
	f->block_class[0] = HC_CLASS_DIRECT;
	f->block_class[1] = f->block_class[2] = HC_CLASS_CYCLE;
	f->block_class[3] = HC_CLASS_INDIRECT;
	f->block_class[4] = HC_CLASS_DIRECT;
	f->block_cycle[1] = f->block_cycle[2] = 1;
	f->groups[0] = (struct hc_leak_group){ HC_CLASS_CYCLE, 2, 2, 96, 1, NULL };
	f->groups[1] = (struct hc_leak_group){ HC_CLASS_DIRECT, 1, 1, 40, 0, NULL };
	f->groups[2] = (struct hc_leak_group){ HC_CLASS_INDIRECT, 2, 1, 24, 3, NULL };
	/* Suppressed: must appear in no format. */
	f->groups[3] = (struct hc_leak_group){ HC_CLASS_DIRECT, 1, 1, 8, 4, "supp-" EVIL };
	f->members[0] = 1;
	f->members[1] = 2;
	f->cycle_edges[0] = 0;
	f->cycle_edges[1] = 1;
	f->cycles[0] = (struct hc_cycle){ .nmembers = 2, .members = f->members, .nedges = 2,
		.edges = f->cycle_edges, .bytes = 96, .retained_bytes = 120,
		.retained_blocks = 3, .is_root = true };
	f->cycles[1] = f->cycles[0];
	f->cycles[1].suppressed_by = "a suppressed cycle";
	f->cycles[1].bytes = 987654;
	f->an = (struct hc_analysis){ .nblocks = 5, .block_class = f->block_class,
		.block_cycle = f->block_cycle, .ngroups = 4, .groups = f->groups,
		.ncycles = 2, .cycles = f->cycles };
	f->an.totals[HC_CLASS_DIRECT] = (struct hc_class_total){ 2, 48 };
	f->an.totals[HC_CLASS_CYCLE] = (struct hc_class_total){ 2, 96 };
	f->an.totals[HC_CLASS_INDIRECT] = (struct hc_class_total){ 1, 24 };
	f->an.suppressed = (struct hc_class_total){ 1, 8 };
	ck_assert_int_eq(hc_symbolizer_new(&f->snap, &f->sym), HC_OK);
	f->in = (struct hc_report_input){ .path = "/tmp/" EVIL ".hcs", .snap = &f->snap,
		.an = &f->an, .sym = f->sym };
}

static void fx_fini(struct fx *f)
{
	hc_symbolizer_free(f->sym);
}

static char *render(hc_report_fn fn, const struct hc_report_input *in, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(mem);
	ck_assert_int_eq(fn(mem, in, n, NULL), HC_OK);
	fclose(mem);
	return buf;
}

/* Runs python3 on script with the text as the file argv[1] and the SARIF
 * schema as argv[2]; returns its exit status. */
static int run_python(const char *text, const char *script)
{
	return hc_test_run_python(text, script, SARIF_SCHEMA);
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

START_TEST(test_formats_table_lists_every_writer)
{
	ck_assert_ptr_eq(hc_report_find("sarif"), hc_report_sarif);
	ck_assert_ptr_eq(hc_report_find("junit"), hc_report_junit);
	ck_assert_ptr_eq(hc_report_find("valgrind-xml"), hc_report_vgxml);
	ck_assert_ptr_eq(hc_report_find("dot"), hc_report_dot);
	ck_assert_ptr_eq(hc_report_find("html"), hc_report_html);
	ck_assert_ptr_null(hc_report_find("xml"));
	ck_assert_ptr_nonnull(strstr(hc_report_format_names(), "valgrind-xml"));
}
END_TEST

START_TEST(test_formats_xml_escaper_leaves_no_markup_or_control_bytes)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	hc_report_xml_str(mem, "a<b>&\"'\t\n\x01\xff\xe2\x82\xac");
	fclose(mem);
	ck_assert_str_eq(buf, "a&lt;b&gt;&amp;&quot;&#39;&#9;&#10;\xef\xbf\xbd\xef\xbf\xbd\xe2\x82\xac");
	free(buf);
}
END_TEST

START_TEST(test_formats_json_escaper_html_safe_hides_script_end)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	hc_report_json_str(mem, "</script>&\"\\\x01\xff", HC_REPORT_JSON_HTML);
	fputc(' ', mem);
	hc_report_json_str(mem, "<ok>", 0);
	fputc(' ', mem);
	hc_report_json_str(mem, NULL, 0);
	fclose(mem);
	ck_assert_str_eq(buf, "\"\\u003c/script\\u003e\\u0026\\\"\\\\\\u0001\\ufffd\" \"<ok>\" null");
	free(buf);
}
END_TEST

START_TEST(test_formats_alloc_frame_skips_system_files)
{
	struct hc_frame fr[4] = {
		{ .function = "memcpy", .file = "../sysdeps/x86_64/memcpy.S" },
		{ .function = "std::vector", .file = "/usr/include/c++/12/bits/vector.tcc" },
		{ .function = "make", .file = "/src/app/make.c", .line = 3 },
		{ .function = "main", .file = "/src/app/main.c" },
	};
	struct hc_report_frames f = { .f = fr, .n = 4 };

	ck_assert_int_eq(hc_report_alloc_frame(&f), 2);
	f.n = 2;
	ck_assert_int_eq(hc_report_alloc_frame(&f), 0);
	f.n = 0;
	ck_assert_int_eq(hc_report_alloc_frame(&f), -1);
}
END_TEST

START_TEST(test_formats_sarif_validates_and_leaves_out_suppressed)
{
	struct fx f;
	char *out;

	fx_init(&f);
	out = render(hc_report_sarif, &f.in, 1);
	ck_assert_int_eq(run_python(out,
		"import json, sys, jsonschema\n"
		"d = json.load(open(sys.argv[1]))\n"
		"jsonschema.validate(d, json.load(open(sys.argv[2])))\n"
		"r = d['runs'][0]['results']\n"
		"assert [x['ruleId'] for x in r] == ['cycle', 'direct', 'indirect'], r\n"
		"assert [x['level'] for x in r] == ['error', 'error', 'warning']\n"
		"assert [x['properties']['bytes'] for x in r] == [96, 40, 24]\n"
		"assert '96 byte(s) in 2 object(s)' in r[0]['message']['text']\n"
		"fr = r[1]['stacks'][0]['frames']\n"
		"assert len(fr) == 2 and fr[0]['module'].startswith('/nonexistent/<x a=')\n"
		"assert '\\ufffd' in fr[0]['module']\n"
		"assert r[0]['partialFingerprints'] != r[2]['partialFingerprints']\n"
		"assert r[0]['properties']['snapshot'].startswith('/tmp/<x')\n"), 0);
	ck_assert_ptr_null(strstr(out, "supp-"));
	free(out);
	fx_fini(&f);
}
END_TEST

START_TEST(test_formats_junit_counts_and_escapes)
{
	struct fx f;
	struct hc_report_input two[2];
	char *out;

	fx_init(&f);
	two[0] = f.in;
	two[1] = f.in;
	out = render(hc_report_junit, two, 2);
	ck_assert_int_eq(run_python(out,
		"import sys, xml.etree.ElementTree as ET\n"
		"root = ET.parse(sys.argv[1]).getroot()\n"
		"assert root.get('tests') == '6' and root.get('failures') == '6'\n"
		"s = root.findall('testsuite')\n"
		"assert len(s) == 2 and s[0].get('failures') == '3'\n"
		"c = s[0].findall('testcase')\n"
		"assert [x.find('failure').get('type') for x in c] == ['cycle', 'direct', 'indirect']\n"
		"assert len({x.get('name') for x in c}) == 3\n"
		"p = {x.get('name'): x.get('value') for x in s[0].iter('property')}\n"
		"assert p['cmdline'].startswith('prog <x a=\"1\" b=\\'2\\'>&amp;]]>\\\\N\\t\\n'), p\n"
		"assert '/nonexistent/<x' in c[1].find('failure').text\n"), 0);
	ck_assert_ptr_null(strstr(out, "supp-"));
	free(out);

	/* No leak: one passing test case. */
	f.an.ngroups = 0;
	out = render(hc_report_junit, &f.in, 1);
	ck_assert_uint_eq(count(out, "<testcase "), 1);
	ck_assert_ptr_nonnull(strstr(out, "name=\"no leaks\" time=\"0\"/>"));
	ck_assert_ptr_nonnull(strstr(out, "failures=\"0\""));
	free(out);
	fx_fini(&f);
}
END_TEST

START_TEST(test_formats_vgxml_kinds_bytes_and_frames)
{
	struct fx f;
	char *out;

	fx_init(&f);
	out = render(hc_report_vgxml, &f.in, 1);
	ck_assert_int_eq(run_python(out,
		"import sys, xml.etree.ElementTree as ET\n"
		"root = ET.parse(sys.argv[1]).getroot()\n"
		"assert root.findtext('protocolversion') == '4'\n"
		"assert root.findtext('pid') == '4242'\n"
		"e = root.findall('error')\n"
		"assert [x.findtext('kind') for x in e] == ['Leak_DefinitelyLost'] * 2 + ['Leak_IndirectlyLost']\n"
		"assert [x.find('xwhat').findtext('leakedbytes') for x in e] == ['96', '40', '24']\n"
		"assert [x.find('xwhat').findtext('leakedblocks') for x in e] == ['2', '1', '1']\n"
		"assert 'in a leaked cycle' in e[0].find('xwhat').findtext('text')\n"
		"assert e[1].findtext('tid') == '7'\n"
		"fr = e[1].find('stack').findall('frame')\n"
		"assert [x.findtext('ip') for x in fr] == ['0x100040', '0x100080']\n"
		"assert fr[0].findtext('obj').startswith('/nonexistent/<x a=')\n"
		"a = [x.text for x in root.find('args').find('argv').findall('arg')]\n"
		"assert a[0] == '<x' and a[-1] == '--x', a\n"), 0);
	ck_assert_ptr_null(strstr(out, "supp-"));
	free(out);
	fx_fini(&f);
}
END_TEST

START_TEST(test_formats_dot_draws_cycle_and_what_it_retains)
{
	struct fx f;
	char *out;

	fx_init(&f);
	out = render(hc_report_dot, &f.in, 1);
	ck_assert_uint_eq(count(out, "subgraph cluster_"), 1);	/* suppressed one left out */
	ck_assert_ptr_nonnull(strstr(out, "p0_b1 -> p0_b2 [label=\"+8\"]"));
	ck_assert_ptr_nonnull(strstr(out, "p0_b2 -> p0_b1 [label=\"+16 \xe2\x86\x92 +4\"]"));
	/* Block 3 hangs off the cycle: drawn lighter, with its edge. */
	ck_assert_ptr_nonnull(strstr(out, "p0_b3 [label=\"0x4000\\n24 bytes"));
	ck_assert_ptr_nonnull(strstr(out, "p0_b2 -> p0_b3 [label=\"+24\", color=\"#999999\""));
	ck_assert_ptr_nonnull(strstr(out, "retaining 120 bytes in 3 object(s)"));
	ck_assert_ptr_null(strstr(out, "987654"));
	free(out);

	f.an.ncycles = 0;
	out = render(hc_report_dot, &f.in, 1);
	ck_assert_ptr_nonnull(strstr(out, "no leaked cycles"));
	free(out);
	fx_fini(&f);
}
END_TEST

START_TEST(test_formats_html_escapes_everything_and_stands_alone)
{
	struct fx f;
	char *out;

	fx_init(&f);
	out = render(hc_report_html, &f.in, 1);
	/* The only raw "<x" would be an injected element; "</script>" must
	 * appear only as the page's own closing tags (two scripts). */
	ck_assert_ptr_null(strstr(out, "<x "));
	ck_assert_uint_eq(count(out, "</script>"), 2);
	ck_assert_ptr_null(strstr(out, "\x01"));
	ck_assert_ptr_null(strstr(out, "\xff"));
	ck_assert_ptr_null(strstr(out, "http:"));
	ck_assert_ptr_null(strstr(out, "https:"));
	ck_assert_ptr_nonnull(strstr(out, "/bin/&lt;x a=&quot;1&quot;"));
	ck_assert_uint_eq(count(out, "<figure class=\"cycle\""), 1);
	ck_assert_uint_eq(count(out, "<g class=\"node\">"), 2);
	ck_assert_uint_eq(count(out, "<path class=\"edge\""), 2);
	ck_assert_ptr_null(strstr(out, "987654"));
	ck_assert_ptr_null(strstr(out, "supp-"));
	ck_assert_ptr_nonnull(strstr(out, "8 bytes in 1 blocks matched a suppression"));
	ck_assert_int_eq(run_python(out,
		"import sys, json, re\n"
		"t = open(sys.argv[1], encoding='utf-8').read()\n"
		"m = re.search(r'<script type=\"application/json\" id=\"hc-data\">(.*?)</script>', t, re.S)\n"
		"d = json.loads(m.group(1))\n"
		"g = d['processes'][0]['groups']\n"
		"assert [x['class'] for x in g] == ['cycle', 'direct', 'indirect']\n"
		"assert [x['bytes'] for x in g] == [96, 40, 24]\n"
		"assert g[1]['frames'][0] == 'script><!--.so+0x40', g[1]['frames']\n"), 0);
	free(out);
	fx_fini(&f);
}
END_TEST

START_TEST(test_formats_writers_report_a_failed_stream)
{
	static const hc_report_fn fns[] = { hc_report_sarif, hc_report_junit, hc_report_vgxml,
					    hc_report_dot, hc_report_html };
	struct fx f;
	FILE *full;
	size_t i;

	fx_init(&f);
	for (i = 0; i < HC_ARRAY_SIZE(fns); i++) {
		full = fopen("/dev/full", "w");
		ck_assert_ptr_nonnull(full);
		ck_assert_int_eq(fns[i](full, &f.in, 1, NULL), HC_ERR_IO);
		fclose(full);
	}
	fx_fini(&f);
}
END_TEST

Suite *suite_formats(void)
{
	Suite *s = suite_create("formats");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_formats_table_lists_every_writer);
	tcase_add_test(tc, test_formats_xml_escaper_leaves_no_markup_or_control_bytes);
	tcase_add_test(tc, test_formats_json_escaper_html_safe_hides_script_end);
	tcase_add_test(tc, test_formats_alloc_frame_skips_system_files);
	tcase_add_test(tc, test_formats_sarif_validates_and_leaves_out_suppressed);
	tcase_add_test(tc, test_formats_junit_counts_and_escapes);
	tcase_add_test(tc, test_formats_vgxml_kinds_bytes_and_frames);
	tcase_add_test(tc, test_formats_dot_draws_cycle_and_what_it_retains);
	tcase_add_test(tc, test_formats_html_escapes_everything_and_stands_alone);
	tcase_add_test(tc, test_formats_writers_report_a_failed_stream);
	suite_add_tcase(s, tc);
	return s;
}
