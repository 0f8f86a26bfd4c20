/* SPDX-License-Identifier: MIT */
/*
 * The JUnit XML report, for CI systems that show test results (Jenkins,
 * GitLab, CTest's JUnit import): one <testsuite> per process, one failing
 * <testcase> per leak group with the allocation stack as the failure's text,
 * and one passing test case for a process without leaks, so that a clean
 * run still shows up as a success. A test case is named after the leak's
 * class and allocating frame, not its size, so that CI tracks the same leak
 * from build to build. This file owns that layout; escaping and frames come
 * from report.c.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

struct junit_ctx {
	FILE *out;
	const struct hc_report_opts *opts;
	struct hc_report_frames fr;
	/* Hashes of the test-case names written in a suite: the second one
	 * with a name gets " (2)" so that names stay unique, as JUnit
	 * consumers key results by name. */
	struct hc_report_seen names;
};

static uint64_t str_hash(const char *s, uint64_t h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static void frame_line(FILE *out, unsigned no, const struct hc_frame *f)
{
	char head[64];

	snprintf(head, sizeof(head), "#%u 0x%" PRIx64 " in ", no, f->pc);
	fputs(head, out);
	hc_report_xml_str(out, f->function ? f->function : "??");
	if (f->file) {
		fputc(' ', out);
		hc_report_xml_str(out, f->file);
		if (f->line)
			fprintf(out, ":%u", f->line);
	} else if (f->module) {
		fputs(" (", out);
		hc_report_xml_str(out, f->module);
		fprintf(out, "+0x%" PRIx64 ")", f->module_offset);
	}
	if (f->inlined)
		fputs(" (inlined)", out);
	fputc('\n', out);
}

static const char *class_what(unsigned cls)
{
	switch (cls) {
	case HC_CLASS_DIRECT:
		return "Direct leak";
	case HC_CLASS_INDIRECT:
		return "Indirect leak";
	case HC_CLASS_POSSIBLE:
		return "Possible leak";
	default:
		return "Leaked cycle member";
	}
}

static int testcase(struct junit_ctx *c, const struct hc_report_input *in,
		    const char *classname, const struct hc_leak_group *g)
{
	FILE *out = c->out;
	const struct hc_frame *at;
	char name[1024];
	unsigned seen, i;
	int rc, a;

	rc = hc_report_frames_get(&c->fr, in->sym, in->snap, g->stack, c->opts->max_frames);
	a = hc_report_alloc_frame(&c->fr);
	at = a >= 0 ? &c->fr.f[a] : NULL;
	if (at && at->file && at->line)
		snprintf(name, sizeof(name), "%s leak allocated from %s at %s:%u",
			 hc_leak_class_name(g->cls), at->function ? at->function : "??",
			 hc_report_basename(at->file), at->line);
	else
		snprintf(name, sizeof(name), "%s leak allocated from %s",
			 hc_leak_class_name(g->cls), at && at->function ? at->function : "??");
	seen = hc_report_seen_add(&c->names, str_hash(name, 0xcbf29ce484222325ull));
	if (seen)
		snprintf(name + strlen(name), sizeof(name) - strlen(name), " (%u)", seen + 1);

	fputs("    <testcase classname=\"", out);
	hc_report_xml_str(out, classname);
	fputs("\" name=\"", out);
	hc_report_xml_str(out, name);
	fputs("\" time=\"0\"", out);
	if (at && at->file) {
		fputs(" file=\"", out);
		hc_report_xml_str(out, at->file);
		fputc('"', out);
		if (at->line)
			fprintf(out, " line=\"%u\"", at->line);
	}
	fprintf(out, ">\n      <failure type=\"%s\" message=\"%s of %" PRIu64 " byte(s) in %"
		PRIu64 " object(s)\">", hc_leak_class_name(g->cls), class_what(g->cls),
		g->bytes, g->blocks);
	fprintf(out, "%s of %" PRIu64 " byte(s) in %" PRIu64 " object(s) allocated from:\n",
		class_what(g->cls), g->bytes, g->blocks);
	for (i = 0; i < c->fr.n; i++)
		frame_line(out, i, &c->fr.f[i]);
	if (c->fr.skipped)
		fprintf(out, "... %u more frame(s)\n", c->fr.skipped);
	if (c->fr.n == 0)
		fputs("(no stack recorded)\n", out);
	fputs("</failure>\n    </testcase>\n", out);
	return rc;
}

static void timestamp(FILE *out, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;
	char buf[32];

	if (gmtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm))
		fprintf(out, " timestamp=\"%s\"", buf);
}

static void property(FILE *out, const char *name, const char *value)
{
	fprintf(out, "      <property name=\"%s\" value=\"", name);
	hc_report_xml_str(out, value ? value : "");
	fputs("\"/>\n", out);
}

static int suite(struct junit_ctx *c, const struct hc_report_input *in)
{
	const struct hc_analysis *an = in->an;
	FILE *out = c->out;
	char classname[512], pid[32];
	uint64_t i, tests = 0;
	int rc = HC_OK, r;

	for (i = 0; an->groups && i < an->ngroups; i++)
		if (hc_report_group_shown(&an->groups[i]))
			tests++;
	snprintf(classname, sizeof(classname), "heapcycle.%s", hc_report_basename(in->snap->exe));
	fputs("  <testsuite name=\"", out);
	hc_report_xml_str(out, classname);
	fprintf(out, " (pid %u)\" tests=\"%" PRIu64 "\" failures=\"%" PRIu64
		"\" errors=\"0\" skipped=\"0\" time=\"0\"", in->snap->pid, tests ? tests : 1, tests);
	timestamp(out, in->snap->time_ns);
	fputs(">\n    <properties>\n", out);
	property(out, "snapshot", in->path);
	property(out, "exe", in->snap->exe);
	property(out, "cmdline", in->snap->cmdline);
	snprintf(pid, sizeof(pid), "%u", in->snap->pid);
	property(out, "pid", pid);
	fputs("    </properties>\n", out);
	c->names.n = 0;
	for (i = 0; an->groups && i < an->ngroups; i++) {
		if (!hc_report_group_shown(&an->groups[i]))
			continue;
		r = testcase(c, in, classname, &an->groups[i]);
		if (r != HC_OK)
			rc = r;
	}
	if (!tests) {
		fputs("    <testcase classname=\"", out);
		hc_report_xml_str(out, classname);
		fputs("\" name=\"no leaks\" time=\"0\"/>\n", out);
	}
	fputs("  </testsuite>\n", out);
	return rc;
}

int hc_report_junit(FILE *out, const struct hc_report_input *in, size_t n,
		    const struct hc_report_opts *opts)
{
	static const struct hc_report_opts defaults;
	struct junit_ctx c = { .out = out, .opts = opts ? opts : &defaults };
	uint64_t tests = 0, failures = 0, k, shown;
	int rc = HC_OK, r;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!in[i].snap || !in[i].an)
			continue;
		shown = 0;
		for (k = 0; in[i].an->groups && k < in[i].an->ngroups; k++)
			if (hc_report_group_shown(&in[i].an->groups[k]))
				shown++;
		failures += shown;
		tests += shown ? shown : 1;
	}
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"heapcycle\" tests=\"%" PRIu64 "\" failures=\"%" PRIu64
		"\" errors=\"0\" time=\"0\">\n", tests, failures);
	for (i = 0; i < n; i++) {
		if (!in[i].snap || !in[i].an)
			continue;
		r = suite(&c, &in[i]);
		if (r != HC_OK)
			rc = r;
	}
	fputs("</testsuites>\n", out);
	hc_report_frames_fini(&c.fr);
	hc_mem_free(c.names.v);
	if (fflush(out) != 0 || ferror(out))
		return HC_ERR_IO;
	return rc;
}
