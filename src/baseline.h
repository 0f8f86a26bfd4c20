/* SPDX-License-Identifier: MIT */
/*
 * Baselines: the leaks a JSON report (heapcycle report --format json,
 * doc/report-schema.json) already listed, so that CI fails only on new
 * ones. A leak group is known by its class and the demangled function names
 * of the top HC_BASELINE_FRAMES frames of its allocation stack (pcs,
 * offsets, files and lines are left out: they move with every rebuild); a
 * cycle by the set of its members' stack keys. This file owns the strict,
 * bounded JSON reader and the keys; the tool decides what fails.
 */
#ifndef HC_SRC_BASELINE_H
#define HC_SRC_BASELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "analysis.h"
#include "hc.h"
#include "snapshot.h"
#include "symbolize.h"

#define HC_BASELINE_FRAMES 8u
/* Limits of the reader: input size, nesting depth, one string. */
#define HC_BASELINE_MAX_INPUT (1024u * 1024u * 1024u)
#define HC_BASELINE_MAX_DEPTH 64u
#define HC_BASELINE_MAX_STRING (1024u * 1024u)

struct hc_baseline;

/*
 * Reads a JSON report from buf (len bytes). Returns HC_OK with *out set
 * (release with hc_baseline_free); HC_ERR_FORMAT with err->offset the byte
 * offset and err->what the problem when the text is not JSON, is nested
 * deeper than HC_BASELINE_MAX_DEPTH, or is not a heapcycle report;
 * HC_ERR_VERSION when its version is not one this build writes;
 * HC_ERR_NOMEM.
 */
int hc_baseline_read_mem(const char *buf, size_t len, struct hc_baseline **out,
			 struct hc_error *err);

/* The same from a file; HC_ERR_IO (err->what says why) when it cannot be
 * read. */
int hc_baseline_read_file(const char *path, struct hc_baseline **out,
			  struct hc_error *err);

void hc_baseline_free(struct hc_baseline *b);

/* Distinct group and cycle keys read. Cannot fail. */
size_t hc_baseline_ngroups(const struct hc_baseline *b);
size_t hc_baseline_ncycles(const struct hc_baseline *b);

/*
 * Whether the baseline holds a group of class cls allocated from stack (of
 * snapshot s, symbolized by sym), and whether it holds cycle cy of analysis
 * an. Returns false when out of memory (a leak is then treated as new).
 */
bool hc_baseline_has_group(const struct hc_baseline *b, const struct hc_snapshot *s,
			   struct hc_symbolizer *sym, uint32_t stack, enum hc_leak_class cls);
bool hc_baseline_has_cycle(const struct hc_baseline *b, const struct hc_snapshot *s,
			   const struct hc_analysis *an, struct hc_symbolizer *sym,
			   const struct hc_cycle *cy);

#endif
