/* SPDX-License-Identifier: MIT */
/*
 * The Valgrind XML report: the part of memcheck's XML output (protocol
 * version 4, Valgrind's docs/internals/xml-output-protocol4.txt) that CTest
 * (ctest -T memcheck) and Jenkins' Valgrind plug-in read, so that a CI set
 * up for Valgrind takes heapcycle's results unchanged. One leak group is one
 * <error> with kind Leak_DefinitelyLost, Leak_IndirectlyLost or
 * Leak_PossiblyLost. The protocol has no cycles: a cycle-class group is
 * Leak_DefinitelyLost (nothing outside the cycle reaches it, which is what
 * "definitely lost" means to those tools) and its text says "in a leaked
 * cycle". Valgrind writes one document per process; several snapshots here
 * make one document, with the first process's pid and each error's process
 * in its text. This file owns that mapping; escaping and frames come from
 * report.c.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

struct vg_ctx {
	FILE *out;
	const struct hc_report_opts *opts;
	struct hc_report_frames fr;
	uint64_t unique;	/* error number, across all processes */
};

static void tag_str(FILE *out, const char *indent, const char *tag, const char *s)
{
	fprintf(out, "%s<%s>", indent, tag);
	hc_report_xml_str(out, s);
	fprintf(out, "</%s>\n", tag);
}

static void frame(FILE *out, const struct hc_frame *f)
{
	const char *slash;
	char *dir;

	fprintf(out, "    <frame>\n      <ip>0x%" PRIX64 "</ip>\n", f->pc);
	if (f->module && f->module[0])
		tag_str(out, "      ", "obj", f->module);
	if (f->function)
		tag_str(out, "      ", "fn", f->function);
	/* Valgrind splits the path: <dir> only when the file has one. */
	if (f->file) {
		slash = strrchr(f->file, '/');
		if (slash && slash != f->file) {
			dir = hc_mem_alloc((size_t)(slash - f->file) + 1);
			if (dir) {
				memcpy(dir, f->file, (size_t)(slash - f->file));
				dir[slash - f->file] = '\0';
				tag_str(out, "      ", "dir", dir);
				hc_mem_free(dir);
			}
		}
		tag_str(out, "      ", "file", slash ? slash + 1 : f->file);
		if (f->line)
			fprintf(out, "      <line>%u</line>\n", f->line);
	}
	fputs("    </frame>\n", out);
}

static int error(struct vg_ctx *c, const struct hc_report_input *in,
		 const struct hc_leak_group *g, uint64_t record, uint64_t nrecords, bool several)
{
	static const char *const kind[HC_CLASS_COUNT] = {
		[HC_CLASS_DIRECT] = "Leak_DefinitelyLost",
		[HC_CLASS_INDIRECT] = "Leak_IndirectlyLost",
		[HC_CLASS_POSSIBLE] = "Leak_PossiblyLost",
		[HC_CLASS_CYCLE] = "Leak_DefinitelyLost",
	};
	static const char *const lost[HC_CLASS_COUNT] = {
		[HC_CLASS_DIRECT] = "definitely lost",
		[HC_CLASS_INDIRECT] = "indirectly lost",
		[HC_CLASS_POSSIBLE] = "possibly lost",
		[HC_CLASS_CYCLE] = "definitely lost in a leaked cycle",
	};
	const struct hc_snapshot *s = in->snap;
	FILE *out = c->out;
	uint32_t tid = 1;
	unsigned i;
	int rc;

	rc = hc_report_frames_get(&c->fr, in->sym, s, g->stack, c->opts->max_frames);
	if (g->first_block < s->nblocks && s->blocks[g->first_block].tid)
		tid = s->blocks[g->first_block].tid;
	fprintf(out, "<error>\n  <unique>0x%" PRIx64 "</unique>\n  <tid>%u</tid>\n"
		"  <kind>%s</kind>\n  <xwhat>\n    <text>%" PRIu64 " bytes in %" PRIu64
		" blocks are %s in loss record %" PRIu64 " of %" PRIu64,
		c->unique++, tid, kind[g->cls], g->bytes, g->blocks, lost[g->cls],
		record, nrecords);
	if (several)
		fprintf(out, " (pid %u)", s->pid);
	fprintf(out, "</text>\n    <leakedbytes>%" PRIu64 "</leakedbytes>\n"
		"    <leakedblocks>%" PRIu64 "</leakedblocks>\n  </xwhat>\n  <stack>\n",
		g->bytes, g->blocks);
	for (i = 0; i < c->fr.n; i++)
		frame(out, &c->fr.f[i]);
	fputs("  </stack>\n</error>\n\n", out);
	return rc;
}

int hc_report_vgxml(FILE *out, const struct hc_report_input *in, size_t n,
		    const struct hc_report_opts *opts)
{
	static const struct hc_report_opts defaults;
	struct vg_ctx c = { .out = out, .opts = opts ? opts : &defaults, .unique = 1 };
	const struct hc_report_input *first = NULL;
	uint64_t k, record, nrecords;
	size_t i, nproc = 0;
	int rc = HC_OK, r;
	const char *p, *sp;

	for (i = 0; i < n; i++)
		if (in[i].snap && in[i].an) {
			first = first ? first : &in[i];
			nproc++;
		}
	fputs("<?xml version=\"1.0\"?>\n\n<valgrindoutput>\n\n"
	      "<protocolversion>4</protocolversion>\n<protocoltool>memcheck</protocoltool>\n\n"
	      "<preamble>\n  <line>heapcycle " PACKAGE_VERSION ", a leak and reference-cycle "
	      "profiler (Valgrind memcheck XML subset)</line>\n</preamble>\n\n", out);
	fprintf(out, "<pid>%u</pid>\n<ppid>%u</ppid>\n<tool>memcheck</tool>\n\n",
		first ? first->snap->pid : 0, first ? first->snap->ppid : 0);
	fputs("<args>\n  <vargv>\n    <exe>heapcycle</exe>\n  </vargv>\n  <argv>\n", out);
	if (first) {
		tag_str(out, "    ", "exe", first->snap->exe ? first->snap->exe : "");
		/* cmdline is argv joined with spaces: its first word is the
		 * program, the rest are the arguments as well as they can be
		 * told apart. */
		p = first->snap->cmdline ? strchr(first->snap->cmdline, ' ') : NULL;
		while (p && *p) {
			while (*p == ' ')
				p++;
			if (!*p)
				break;
			sp = strchr(p, ' ');
			fputs("    <arg>", out);
			{
				size_t len = sp ? (size_t)(sp - p) : strlen(p);
				char *word = hc_mem_alloc(len + 1);

				if (word) {
					memcpy(word, p, len);
					word[len] = '\0';
					hc_report_xml_str(out, word);
					hc_mem_free(word);
				}
			}
			fputs("</arg>\n", out);
			p = sp;
		}
	}
	fputs("  </argv>\n</args>\n\n<status>\n  <state>RUNNING</state>\n"
	      "  <time>00:00:00:00.000 </time>\n</status>\n\n", out);
	for (i = 0; i < n; i++) {
		if (!in[i].snap || !in[i].an || !in[i].an->groups)
			continue;
		nrecords = 0;
		for (k = 0; k < in[i].an->ngroups; k++)
			if (hc_report_group_shown(&in[i].an->groups[k]))
				nrecords++;
		record = 0;
		for (k = 0; k < in[i].an->ngroups; k++) {
			if (!hc_report_group_shown(&in[i].an->groups[k]))
				continue;
			r = error(&c, &in[i], &in[i].an->groups[k], ++record, nrecords, nproc > 1);
			if (r != HC_OK)
				rc = r;
		}
	}
	fputs("<status>\n  <state>FINISHED</state>\n  <time>00:00:00:00.000 </time>\n"
	      "</status>\n\n<errorcounts>\n</errorcounts>\n\n<suppcounts>\n</suppcounts>\n\n"
	      "</valgrindoutput>\n\n", out);
	hc_report_frames_fini(&c.fr);
	if (fflush(out) != 0 || ferror(out))
		return HC_ERR_IO;
	return rc;
}
