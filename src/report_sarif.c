/* SPDX-License-Identifier: MIT */
/*
 * The SARIF 2.1.0 report, for code-scanning services (GitHub, GitLab): one
 * run whose driver is heapcycle with one rule per leak class, one result per
 * leak group, located at the allocating line (hc_report_alloc_frame), with
 * the whole allocation stack as a SARIF stack and a code flow, and a
 * partial fingerprint made of the stack's function names so that the
 * service recognises the same leak in the next build. Files under the
 * current directory are written relative to the SRCROOT base, as the
 * services expect for annotations. This file owns that mapping; escaping
 * and frames come from report.c.
 */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

struct sarif_ctx {
	FILE *out;
	const struct hc_report_opts *opts;
	const char *root;		/* current directory, ends with '/', or NULL */
	size_t rootlen;
	struct hc_report_frames fr;
	bool first_result;
	/* Fingerprints written so far in the run: two call sites in one
	 * function have the same function stack, and the services merge
	 * results whose fingerprints are equal, so the second one is told
	 * apart by its occurrence (as GitHub's own primaryLocationLineHash
	 * does with its ":N" suffix). */
	struct hc_report_seen hashes;
};

struct sarif_rule {
	const char *id, *name, *level, *text;
};

/* Indexed by enum hc_leak_class; the order of driver.rules. */
static const struct sarif_rule rules[HC_CLASS_COUNT] = {
	[HC_CLASS_DIRECT] = { "direct", "DirectLeak", "error",
		"Memory leak: a block that nothing points at any more (Valgrind's "
		"\"definitely lost\")." },
	[HC_CLASS_INDIRECT] = { "indirect", "IndirectLeak", "warning",
		"Memory leak: a block that only other leaked blocks point at; fixing "
		"the leak that owns it usually fixes it." },
	[HC_CLASS_POSSIBLE] = { "possible", "PossibleLeak", "warning",
		"Possible memory leak: a block reachable only through pointers into "
		"its middle." },
	[HC_CLASS_CYCLE] = { "cycle", "LeakedCycle", "error",
		"Memory leak: a block in a reference cycle that nothing outside the "
		"cycle reaches." },
};

/* Percent-encodes a path for a URI reference (RFC 3986): unreserved
 * characters and '/' stay, everything else (spaces, '%', '#', '?', bytes
 * that are not ASCII) becomes %XX. */
static void uri_path(FILE *out, const char *path)
{
	const unsigned char *p = (const unsigned char *)path;

	for (; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
			fputc(*p, out);
		else
			fprintf(out, "%%%02X", *p);
	}
}

static void artifact(struct sarif_ctx *c, const char *file)
{
	FILE *out = c->out;

	fputs("{\"uri\": \"", out);
	if (c->root && !strncmp(file, c->root, c->rootlen) && file[c->rootlen]) {
		uri_path(out, file + c->rootlen);
		fputs("\", \"uriBaseId\": \"SRCROOT\"}", out);
		return;
	}
	if (file[0] == '/')
		fputs("file://", out);
	uri_path(out, file);
	fputs("\"}", out);
}

/* A SARIF location for one frame: physical when the file is known, logical
 * (function) when it is named, and the address always. */
static void location(struct sarif_ctx *c, const struct hc_frame *f)
{
	FILE *out = c->out;

	fputc('{', out);
	if (f->file) {
		fputs("\"physicalLocation\": {\"artifactLocation\": ", out);
		artifact(c, f->file);
		if (f->line) {
			fprintf(out, ", \"region\": {\"startLine\": %u", f->line);
			if (f->column)
				fprintf(out, ", \"startColumn\": %u", f->column);
			fputc('}', out);
		}
		fputs("}, ", out);
	}
	if (f->function) {
		fputs("\"logicalLocations\": [{\"fullyQualifiedName\": ", out);
		hc_report_json_str(out, f->function, 0);
		fputs(", \"kind\": \"function\"}], ", out);
	}
	fprintf(out, "\"properties\": {\"pc\": \"0x%" PRIx64 "\"", f->pc);
	if (f->inlined)
		fputs(", \"inlined\": true", out);
	if (f->stale)
		fputs(", \"stale\": true", out);
	fputs("}}", out);
}

static void message_text(struct sarif_ctx *c, const struct hc_leak_group *g,
			 const struct hc_frame *at)
{
	static const char *const what[HC_CLASS_COUNT] = {
		[HC_CLASS_DIRECT] = "Direct leak",
		[HC_CLASS_INDIRECT] = "Indirect leak",
		[HC_CLASS_POSSIBLE] = "Possible leak (interior pointers only)",
		[HC_CLASS_CYCLE] = "Leak in a reference cycle",
	};
	char buf[1024];

	/* A name cut short by the buffer ends in a partial UTF-8 sequence at
	 * worst, which the escaper turns into U+FFFD. */
	snprintf(buf, sizeof(buf), "%s of %" PRIu64 " byte(s) in %" PRIu64
		 " object(s) allocated from %s", what[g->cls], g->bytes, g->blocks,
		 at && at->function ? at->function : "an unknown function");
	fputs("{\"text\": ", c->out);
	hc_report_json_str(c->out, buf, 0);
	fputc('}', c->out);
}

static int result(struct sarif_ctx *c, const struct hc_report_input *in,
		  const struct hc_leak_group *g)
{
	FILE *out = c->out;
	const struct hc_frame *at;
	uint64_t hash;
	int rc, a;
	unsigned i;

	rc = hc_report_frames_get(&c->fr, in->sym, in->snap, g->stack, c->opts->max_frames);
	a = hc_report_alloc_frame(&c->fr);
	at = a >= 0 ? &c->fr.f[a] : NULL;
	fprintf(out, "%s\n        {\"ruleId\": \"%s\", \"ruleIndex\": %u, \"level\": \"%s\",\n"
		"         \"message\": ", c->first_result ? "" : ",", rules[g->cls].id,
		(unsigned)g->cls - 1, rules[g->cls].level);
	c->first_result = false;
	message_text(c, g, at);
	fputs(",\n         \"locations\": [", out);
	if (at)
		location(c, at);
	fputs("],\n         \"stacks\": [{\"message\": {\"text\": \"allocation stack\"}, \"frames\": [", out);
	for (i = 0; i < c->fr.n; i++) {
		fputs(i ? ",\n           " : "\n           ", out);
		fputs("{\"location\": ", out);
		location(c, &c->fr.f[i]);
		if (c->fr.f[i].module) {
			fputs(", \"module\": ", out);
			hc_report_json_str(out, c->fr.f[i].module, 0);
		}
		fputc('}', out);
	}
	/* A code flow runs in execution order: main first, the allocation
	 * last, the way the services draw it. */
	fputs("]}],\n         \"codeFlows\": [{\"threadFlows\": [{\"locations\": [", out);
	for (i = c->fr.n; i-- > 0;) {
		fprintf(out, "%s{\"nestingLevel\": %u, \"location\": ",
			i + 1 == c->fr.n ? "\n           " : ",\n           ", c->fr.n - 1 - i);
		location(c, &c->fr.f[i]);
		fputc('}', out);
	}
	hash = hc_report_stack_hash(&c->fr, g->cls);
	fprintf(out, "]}]}],\n         \"partialFingerprints\": {\"heapcycleStack/v1\": \"%016"
		PRIx64 ":%u\"},\n         \"properties\": {\"class\": \"%s\", \"blocks\": %"
		PRIu64 ", \"bytes\": %" PRIu64 ", \"pid\": %u, \"snapshot\": ",
		hash, hc_report_seen_add(&c->hashes, hash) + 1, rules[g->cls].id, g->blocks,
		g->bytes, in->snap->pid);
	hc_report_json_str(out, in->path, 0);
	fputs(", \"exe\": ", out);
	hc_report_json_str(out, in->snap->exe, 0);
	if (c->fr.skipped)
		fprintf(out, ", \"framesOmitted\": %u", c->fr.skipped);
	fputs("}}", out);
	return rc;
}

int hc_report_sarif(FILE *out, const struct hc_report_input *in, size_t n,
		    const struct hc_report_opts *opts)
{
	static const struct hc_report_opts defaults;
	struct sarif_ctx c = { .out = out, .opts = opts ? opts : &defaults, .first_result = true };
	char cwd[PATH_MAX + 1];
	int rc = HC_OK, r, k;
	uint64_t i;
	size_t p;

	if (getcwd(cwd, sizeof(cwd) - 1) && cwd[0] == '/') {
		c.rootlen = strlen(cwd);
		if (cwd[c.rootlen - 1] != '/') {
			cwd[c.rootlen++] = '/';
			cwd[c.rootlen] = '\0';
		}
		c.root = cwd;
	}
	fputs("{\"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\", "
	      "\"version\": \"2.1.0\",\n  \"runs\": [{\n    \"tool\": {\"driver\": "
	      "{\"name\": \"heapcycle\", \"version\": \"" PACKAGE_VERSION "\", "
	      "\"semanticVersion\": \"" PACKAGE_VERSION "\",\n      \"rules\": [", out);
	for (k = HC_CLASS_DIRECT; k < HC_CLASS_COUNT; k++) {
		fprintf(out, "%s\n        {\"id\": \"%s\", \"name\": \"%s\", "
			"\"shortDescription\": {\"text\": ", k == HC_CLASS_DIRECT ? "" : ",",
			rules[k].id, rules[k].name);
		hc_report_json_str(out, rules[k].text, 0);
		fprintf(out, "}, \"defaultConfiguration\": {\"level\": \"%s\"}}", rules[k].level);
	}
	fputs("]}},\n", out);
	if (c.root) {
		fputs("    \"originalUriBaseIds\": {\"SRCROOT\": {\"uri\": \"file://", out);
		uri_path(out, c.root);
		fputs("\"}},\n", out);
	}
	fputs("    \"results\": [", out);
	for (p = 0; p < n; p++) {
		if (!in[p].snap || !in[p].an || !in[p].an->groups)
			continue;
		for (i = 0; i < in[p].an->ngroups; i++) {
			if (!hc_report_group_shown(&in[p].an->groups[i]))
				continue;
			r = result(&c, &in[p], &in[p].an->groups[i]);
			if (r != HC_OK)
				rc = r;
		}
	}
	fputs(c.first_result ? "]}]}\n" : "\n    ]}]}\n", out);
	hc_report_frames_fini(&c.fr);
	hc_mem_free(c.hashes.v);
	if (fflush(out) != 0 || ferror(out))
		return HC_ERR_IO;
	return rc;
}
