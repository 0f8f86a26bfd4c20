/* SPDX-License-Identifier: MIT */
/*
 * Report writers: the same analysed snapshots printed as text (read like
 * LeakSanitizer and Valgrind, plus a section per cycle) or as JSON (the
 * schema is doc/report-schema.json, with a version field). One call reports
 * every process of a run.
 */
#ifndef HC_SRC_REPORT_H
#define HC_SRC_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "analysis.h"
#include "snapshot.h"
#include "symbolize.h"

#define HC_REPORT_JSON_VERSION 1

struct hc_report_input {
	const char *path;		/* the snapshot file */
	const struct hc_snapshot *snap;
	const struct hc_analysis *an;
	struct hc_symbolizer *sym;
};

struct hc_report_opts {
	bool color;		/* ANSI colour (the tool sets it on a terminal only) */
	bool show_reachable;	/* list still-reachable groups too */
	unsigned max_frames;	/* frames shown per stack; 0 = all */
};

/* Each returns HC_OK or HC_ERR_IO (the stream failed). */
int hc_report_text(FILE *out, const struct hc_report_input *in, size_t n,
		   const struct hc_report_opts *opts);
int hc_report_json(FILE *out, const struct hc_report_input *in, size_t n,
		   const struct hc_report_opts *opts);

typedef int (*hc_report_fn)(FILE *out, const struct hc_report_input *in, size_t n,
			    const struct hc_report_opts *opts);

/* Returns the writer of a format ("text", "json", ...), or NULL when the
 * name is unknown. Cannot fail. */
hc_report_fn hc_report_find(const char *format);
/* The known format names, comma separated, for messages. Cannot fail. */
const char *hc_report_format_names(void);

/* Sums the leaked (not reachable) blocks and bytes over all inputs. */
void hc_report_leak_totals(const struct hc_report_input *in, size_t n,
			   uint64_t *blocks, uint64_t *bytes);

#endif
