/* SPDX-License-Identifier: MIT */
/*
 * `heapcycle report`, and the read-analyse-report pass that `heapcycle run`
 * shares with it: each snapshot file is read and checked (snapshot_read.c),
 * analysed (hc_analyze), given a symbolizer, and all of them are printed
 * together by the text or JSON writer. A file that cannot be read gets one
 * error line and is left out; the others are still reported.
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
#include "hc.h"
#include "options.h"
#include "report.h"
#include "snapshot.h"
#include "symbolize.h"
#include "tool.h"

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
	*api = snap->reason == HC_REASON_API;
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
			 const struct hc_options *o, bool color, bool *is_api,
			 struct hc_tool_result *res)
{
	struct hc_report_input *in = NULL;
	struct hc_report_opts ropts = {
		.color = color && !strcmp(o->format, "text"),
		.show_reachable = o->show_reachable,
		.max_frames = 0,
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
		if (lrc != HC_OK)
			res->nfailed++;
		else if (!is_api || !api)
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
	if (hc_tool_report_files(stdout, files.v, files.n, o,
				 hc_tool_want_color(STDOUT_FILENO), NULL, &res) != HC_OK) {
		status = HC_EXIT_USAGE;
		goto out;
	}
	nbad += res.nfailed;
	if (nbad)
		status = HC_EXIT_USAGE;
	else if (o->check && res.leaked_blocks)
		status = o->error_exitcode;
	else
		status = 0;
	goto out;
nomem:
	hc_tool_error("out of memory");
	status = HC_EXIT_USAGE;
out:
	hc_pathlist_free(&files);
	return status;
}
