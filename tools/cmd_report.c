/* SPDX-License-Identifier: MIT */
/*
 * `heapcycle report`, and the read-analyse-report pass that `heapcycle run`
 * shares with it: each snapshot file is read and checked (snapshot_read.c),
 * analysed (hc_analyze), given a symbolizer, and all of them are printed
 * together by the text or JSON writer. A file that cannot be read gets one
 * error line and is left out; the others are still reported. Also loads
 * the suppression files and the baseline once (suppress.c and baseline.c
 * parse them) and totals what --check fails on.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis.h"
#include "baseline.h"
#include "hc.h"
#include "options.h"
#include "report.h"
#include "snapshot.h"
#include "suppress.h"
#include "symbolize.h"
#include "tool.h"

void hc_tool_extras_fini(struct hc_tool_extras *x)
{
	hc_suppress_free(x->supp);
	hc_baseline_free(x->baseline);
	memset(x, 0, sizeof(*x));
}

int hc_tool_extras_load(const struct hc_options *o, struct hc_tool_extras *x)
{
	struct hc_error err = { 0 };
	char line[512];
	int rc = HC_ERR_ARG;

	memset(x, 0, sizeof(*x));
	if (hc_tool_parse_fail_on(o->fail_on, &x->fail_on, NULL) != HC_OK) {
		hc_tool_usage("--fail-on: bad value '%s'", o->fail_on);
		goto out;
	}
	if (o->suppressions[0] || o->default_suppressions) {
		if (hc_suppress_new(&x->supp) != HC_OK)
			goto nomem;
		if (o->default_suppressions && hc_suppress_add_builtin(x->supp, &err) != HC_OK)
			goto nomem;
	}
	if (o->suppressions[0]) {
		const char *p = o->suppressions;

		/* A comma list of files, as LSan's suppressions= takes one. */
		for (;;) {
			size_t len = strcspn(p, ",");
			char *path = strndup(p, len);
			int lrc;

			if (!path)
				goto nomem;
			if (len == 0) {
				free(path);
				hc_tool_usage("--suppressions: empty file name in '%s'",
					      o->suppressions);
				goto out;
			}
			memset(&err, 0, sizeof(err));
			lrc = hc_suppress_load_file(x->supp, path, stderr, &err);
			if (lrc == HC_ERR_NOMEM) {
				free(path);
				goto nomem;
			}
			if (lrc == HC_ERR_IO)
				hc_tool_error("%s: cannot read suppressions: %s", path, err.what);
			else if (lrc != HC_OK)
				hc_tool_error("%s:%llu: bad suppression: %s", path,
					      (unsigned long long)err.offset, err.what);
			free(path);
			if (lrc != HC_OK)
				goto out;
			if (!p[len])
				break;
			p += len + 1;
		}
	}
	if (o->baseline[0]) {
		int brc = hc_baseline_read_file(o->baseline, &x->baseline, &err);

		if (brc == HC_ERR_IO) {
			hc_tool_error("%s: cannot read the baseline: %s", o->baseline, err.what);
			goto out;
		}
		if (brc != HC_OK) {
			hc_tool_error("baseline %s", hc_error_format(&err, o->baseline, line,
								     sizeof(line)));
			goto out;
		}
	}
	rc = HC_OK;
	goto out;
nomem:
	hc_tool_error("out of memory");
out:
	if (rc != HC_OK)
		hc_tool_extras_fini(x);
	return rc;
}

bool hc_tool_result_fails(const struct hc_tool_result *res, const struct hc_options *o)
{
	if (!res->failing_blocks)
		return false;
	return o->max_leaked_bytes == 0 || res->failing_bytes > (uint64_t)o->max_leaked_bytes;
}

/* Adds to res what --check counts in one analysed snapshot. */
static void hc_tool_count_failing(const struct hc_report_input *in,
				  const struct hc_tool_extras *x, struct hc_tool_result *res)
{
	const struct hc_analysis *an = in->an;
	const struct hc_snapshot *s = in->snap;

	for (uint64_t i = 0; an->groups && i < an->ngroups; i++) {
		const struct hc_leak_group *g = &an->groups[i];

		if (g->cls == HC_CLASS_REACHABLE || g->cls >= HC_CLASS_COUNT ||
		    g->suppressed_by || !(x->fail_on & (1u << g->cls)))
			continue;
		if (x->baseline && hc_baseline_has_group(x->baseline, s, in->sym, g->stack, g->cls))
			continue;
		res->failing_blocks += g->blocks;
		res->failing_bytes += g->bytes;
	}
	/* A cycle new to the baseline whose members' groups all are in it
	 * (the same allocations, linked up differently) was not counted by
	 * its groups: count it as a cycle. */
	if (!x->baseline || !(x->fail_on & (1u << HC_CLASS_CYCLE)))
		return;
	for (uint32_t i = 0; an->cycles && i < an->ncycles; i++) {
		const struct hc_cycle *cy = &an->cycles[i];
		bool all_known = true;

		if (cy->suppressed_by || hc_baseline_has_cycle(x->baseline, s, an, in->sym, cy))
			continue;
		for (uint32_t m = 0; all_known && m < cy->nmembers; m++) {
			uint32_t b = cy->members[m];

			if (b >= s->nblocks || b >= an->nblocks)
				continue;
			all_known = hc_baseline_has_group(x->baseline, s, in->sym,
							  s->blocks[b].stack,
							  an->block_class[b]);
		}
		if (all_known) {
			res->failing_blocks += cy->nmembers;
			res->failing_bytes += cy->bytes;
		}
	}
}

static void hc_report_input_fini(struct hc_report_input *in)
{
	if (in->sym)
		hc_symbolizer_free(in->sym);
	if (in->an)
		hc_analysis_free((struct hc_analysis *)in->an);
	if (in->snap)
		hc_snapshot_free((struct hc_snapshot *)in->snap);
	memset(in, 0, sizeof(*in));
}

/*
 * Reads, analyses and prepares one file. When skip_api and the snapshot was
 * taken by heapcycle_snapshot(), sets *api and stops there (in left empty)
 * rather than analyse what will not be reported. Returns HC_OK, or the
 * failure after printing its one line (the file named as the user spelled
 * it).
 */
static int hc_report_input_load(struct hc_report_input *in, const char *path,
				bool skip_api, bool *api)
{
	struct hc_snapshot *snap = NULL;
	struct hc_analysis *an = NULL;
	struct hc_error err = { 0 };
	char line[512];
	int rc;

	memset(in, 0, sizeof(*in));
	in->path = path;
	rc = hc_snapshot_read_file(path, &snap, &err);
	if (rc != HC_OK) {
		if (err.status == HC_OK)
			hc_error_set(&err, (enum hc_status)rc, 0, "");
		hc_tool_error("%s", hc_error_format(&err, path, line, sizeof(line)));
		goto out;
	}
	in->snap = snap;
	/* Snapshots taken while the process ran (the API, a signal, the
	 * interval) are not what it leaked in the end; exit, _exit and exec
	 * ones are. */
	*api = snap->reason == HC_REASON_API || snap->reason == HC_REASON_SIGNAL ||
	       snap->reason == HC_REASON_INTERVAL;
	if (skip_api && *api)
		goto out;
	rc = hc_analyze(snap, &an);
	if (rc != HC_OK) {
		hc_tool_error("%s: cannot analyse: %s", path, hc_strerror(rc));
		goto out;
	}
	in->an = an;
	rc = hc_symbolizer_new(snap, &in->sym);
	if (rc != HC_OK) {
		hc_tool_error("%s: cannot symbolize: %s", path, hc_strerror(rc));
		goto out;
	}
out:
	if (rc != HC_OK || (skip_api && *api))
		hc_report_input_fini(in);
	return rc;
}

int hc_tool_report_files(FILE *out, char *const *paths, size_t n,
			 const struct hc_options *o, const struct hc_tool_extras *x,
			 bool color, bool *is_api, struct hc_tool_result *res)
{
	struct hc_report_input *in = NULL;
	struct hc_report_opts ropts = {
		.color = color && !strcmp(o->format, "text"),
		.show_reachable = o->show_reachable,
		.max_frames = 0,
		.gen_suppressions = o->gen_suppressions,
		.show_unused_suppressions = o->show_unused_suppressions,
		.suppressions = x->supp,
		.baseline = x->baseline,
	};
	size_t nin = 0;
	int rc = HC_OK;

	memset(res, 0, sizeof(*res));
	if (n == 0)
		goto out;
	in = calloc(n, sizeof(*in));
	if (!in) {
		hc_tool_error("out of memory");
		rc = HC_ERR_NOMEM;
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		bool api = false;
		int lrc = hc_report_input_load(&in[nin], paths[k], is_api != NULL, &api);

		if (is_api)
			is_api[k] = lrc == HC_OK && api;
		if (lrc != HC_OK) {
			res->nfailed++;
			continue;
		}
		if (is_api && api)
			continue;
		if (hc_suppress_apply(x->supp, in[nin].snap, (struct hc_analysis *)in[nin].an,
				      in[nin].sym) != HC_OK) {
			hc_tool_error("out of memory");
			rc = HC_ERR_NOMEM;
			nin++;
			goto out;
		}
		hc_tool_count_failing(&in[nin], x, res);
		nin++;
	}
	res->nread = nin;
	if (nin == 0)
		goto out;
	hc_report_leak_totals(in, nin, &res->leaked_blocks, &res->leaked_bytes);
	rc = hc_report_find(o->format)(out, in, nin, &ropts);
	if (rc == HC_OK && fflush(out) != 0)
		rc = HC_ERR_IO;
	if (rc != HC_OK)
		hc_tool_error("cannot write the report: %s",
			      rc == HC_ERR_IO ? strerror(errno) : hc_strerror(rc));
out:
	for (size_t k = 0; k < nin; k++)
		hc_report_input_fini(&in[k]);
	free(in);
	return rc;
}

/* A growing list of paths the caller frees. */
struct hc_pathlist {
	char **v;
	size_t n, cap;
};

static int hc_pathlist_add(struct hc_pathlist *l, char *path)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return HC_ERR_NOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = path;
	return HC_OK;
}

static void hc_pathlist_free(struct hc_pathlist *l)
{
	for (size_t k = 0; k < l->n; k++)
		free(l->v[k]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int hc_report_is_hcs(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return len > 4 && !strcmp(d->d_name + len - 4, ".hcs");
}

/*
 * Adds every *.hcs file of dir, in version order (app.9.hcs before
 * app.10.hcs). Returns HC_OK, HC_ERR_NOMEM, or HC_ERR_IO/HC_ERR_ARG after
 * printing one line (unreadable directory, or no snapshot in it).
 */
static int hc_report_add_dir(struct hc_pathlist *l, const char *dir)
{
	struct dirent **names = NULL;
	size_t dlen = strlen(dir);
	int count, rc = HC_OK;

	count = scandir(dir, &names, hc_report_is_hcs, versionsort);
	if (count < 0) {
		hc_tool_error("%s: %s", dir, strerror(errno));
		rc = HC_ERR_IO;
		goto out;
	}
	if (count == 0) {
		hc_tool_error("%s: no snapshot (*.hcs) in this directory", dir);
		rc = HC_ERR_ARG;
		goto out;
	}
	for (int k = 0; k < count; k++) {
		bool slash = dlen > 0 && dir[dlen - 1] == '/';
		char *p;

		if (asprintf(&p, "%s%s%s", dir, slash ? "" : "/", names[k]->d_name) < 0) {
			rc = HC_ERR_NOMEM;
			goto out;
		}
		if (hc_pathlist_add(l, p) != HC_OK) {
			free(p);
			rc = HC_ERR_NOMEM;
			goto out;
		}
	}
out:
	for (int k = 0; k < count; k++)
		free(names[k]);
	free(names);
	return rc;
}

int hc_cmd_report(struct hc_options *o, int argc, char **argv)
{
	struct hc_pathlist files = { 0 };
	struct hc_tool_extras x = { 0 };
	struct hc_tool_result res;
	bool output_given = false;
	bool operands_only = false;
	size_t noperands = 0, nbad = 0;
	int status = HC_EXIT_USAGE;
	int i = 1;

	/* Options and operands mix freely; "--" makes the rest operands. */
	while (i < argc) {
		const char *a = argv[i];
		struct stat st;
		char *p;

		if (!operands_only && a[0] == '-' && a[1]) {
			if (!strcmp(a, "--")) {
				operands_only = true;
				i++;
				continue;
			}
			if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
				hc_tool_print_help(stdout);
				status = fflush(stdout) ? 1 : 0;
				goto out;
			}
			/* The shim's options (output, stacks...) are accepted so
			 * that one HEAPCYCLE_OPTIONS line serves both commands. */
			if (hc_tool_parse_option(o, argc, argv, &i, false, &output_given) != HC_OK)
				goto out;
			continue;
		}
		noperands++;
		i++;
		if (stat(a, &st) != 0) {
			hc_tool_error("%s: %s", a, strerror(errno));
			nbad++;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int rc = hc_report_add_dir(&files, a);

			if (rc == HC_ERR_NOMEM)
				goto nomem;
			if (rc != HC_OK)
				nbad++;
			continue;
		}
		p = strdup(a);
		if (!p || hc_pathlist_add(&files, p) != HC_OK) {
			free(p);
			goto nomem;
		}
	}
	if (hc_tool_check_options(o) != HC_OK)
		goto out;
	if (noperands == 0) {
		status = hc_tool_usage("report: no snapshot file or directory given");
		goto out;
	}
	if (hc_tool_extras_load(o, &x) != HC_OK)
		goto out;
	if (hc_tool_report_files(stdout, files.v, files.n, o, &x,
				 hc_tool_want_color(STDOUT_FILENO), NULL, &res) != HC_OK) {
		status = HC_EXIT_USAGE;
		goto out;
	}
	nbad += res.nfailed;
	if (nbad)
		status = HC_EXIT_USAGE;
	else if (o->check && hc_tool_result_fails(&res, o))
		status = o->error_exitcode;
	else
		status = 0;
	goto out;
nomem:
	hc_tool_error("out of memory");
	status = HC_EXIT_USAGE;
out:
	hc_tool_extras_fini(&x);
	hc_pathlist_free(&files);
	return status;
}
