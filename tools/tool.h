/* SPDX-License-Identifier: MIT */
/*
 * What the parts of the heapcycle command share: the subcommands' entry
 * points, command-line option parsing over options.def, error lines, and
 * the step that reads, analyses and reports a list of snapshot files (used
 * by both `run` and `report`). The core (src/) owns the snapshot format, the
 * analysis and the report writers; this file owns only how the command
 * drives them.
 */
#ifndef HC_TOOLS_TOOL_H
#define HC_TOOLS_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hc.h"
#include "options.h"

struct hc_suppress_set;
struct hc_baseline;

/* Exit status for a usage error or a file the tool could not read. */
#define HC_EXIT_USAGE 2
/* Exit status when PROG cannot be found, and when it can but not run (sh). */
#define HC_EXIT_NOTFOUND 127
#define HC_EXIT_NOEXEC 126

/*
 * Prints "heapcycle: MESSAGE" and a newline on standard error. Cannot fail
 * (a failing stderr is ignored).
 */
void hc_tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Prints "heapcycle: MESSAGE; try 'heapcycle --help'" on standard error and
 * returns HC_EXIT_USAGE, so callers can write `return hc_tool_usage(...)`.
 */
int hc_tool_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints the whole --help text (commands and every option) to out. */
void hc_tool_print_help(FILE *out);

/*
 * Loads the defaults and then HEAPCYCLE_OPTIONS from the environment into o,
 * and sets *output_given when that string names a non-empty output. Returns
 * HC_OK, or HC_ERR_ARG after printing one error line naming the bad item.
 */
int hc_tool_options_from_env(struct hc_options *o, bool *output_given);

/*
 * Parses the command-line option at argv[*i] into o: --name=value,
 * --name value, a bare --flag or --no-flag for a bool ('_' may be spelled
 * '-'), and -o PATH / -oPATH for --output when allow_short_o. On success
 * advances *i past what it consumed, sets *output_given if the option was
 * the output pattern, and returns HC_OK. Returns HC_ERR_ARG
 * after printing one usage line naming the option (unknown, missing or bad
 * value). The caller handles --help and "--" itself.
 */
int hc_tool_parse_option(struct hc_options *o, int argc, char **argv, int *i,
			 bool allow_short_o, bool *output_given);

/*
 * Checks the options the tool itself acts on (format, fail_on). Returns
 * HC_OK, or HC_ERR_ARG after printing one usage line.
 */
int hc_tool_check_options(const struct hc_options *o);

/*
 * Parses a fail_on list ("direct,indirect,possible,cycle", any subset, no
 * empty items) into *mask, a bit per enum hc_leak_class. Returns HC_OK, or
 * HC_ERR_ARG with *bad (when not NULL) pointing at the bad item.
 */
int hc_tool_parse_fail_on(const char *list, unsigned *mask, const char **bad);

/* What the report pass needs besides the snapshots, loaded once. */
struct hc_tool_extras {
	struct hc_suppress_set *supp;	/* NULL: no suppressions option */
	struct hc_baseline *baseline;	/* NULL: no baseline option */
	unsigned fail_on;		/* bit per enum hc_leak_class */
};

/*
 * Loads the suppression files (comma separated) and the baseline named by
 * o into x, and parses fail_on. Returns HC_OK, or HC_ERR_ARG after
 * printing one line naming the file (and line) that is wrong; x is then
 * empty. Release with hc_tool_extras_fini.
 */
int hc_tool_extras_load(const struct hc_options *o, struct hc_tool_extras *x);
void hc_tool_extras_fini(struct hc_tool_extras *x);

/* Totals of one reporting pass. */
struct hc_tool_result {
	size_t nread;		/* snapshots read and reported */
	size_t nfailed;		/* files that could not be read or analysed */
	uint64_t leaked_blocks;	/* every leak, suppressed ones included */
	uint64_t leaked_bytes;
	/* What --check looks at: unsuppressed leaks of the fail_on classes
	 * that are not in the baseline (all of them without one). */
	uint64_t failing_blocks;
	uint64_t failing_bytes;
};

/*
 * Whether res fails --check: a failing leak, and more than max_leaked_bytes
 * bytes of them (0: any). Cannot fail.
 */
bool hc_tool_result_fails(const struct hc_tool_result *res, const struct hc_options *o);

/*
 * Reads every file of paths[0..n), printing one error line per file that
 * cannot be read or analysed (and going on with the others), applies x's
 * suppressions, then reports the good ones together to out in o->format,
 * with colour when color. When is_api is not NULL, snapshots taken by
 * heapcycle_snapshot() (reason api) are left out of the report and flagged
 * in is_api[0..n) instead. Fills *res. Returns HC_OK, HC_ERR_NOMEM (nothing
 * reported) or HC_ERR_IO (out failed); bad files are not an error of the
 * call, they are counted in res->nfailed.
 */
int hc_tool_report_files(FILE *out, char *const *paths, size_t n,
			 const struct hc_options *o, const struct hc_tool_extras *x,
			 bool color, bool *is_api, struct hc_tool_result *res);

/* Whether to colour a report written to fd: a terminal and no NO_COLOR. */
bool hc_tool_want_color(int fd);

/*
 * `heapcycle run`: argv[0] is "run". o holds the options given so far (the
 * environment's, and any before the command); output_given says whether
 * one of them was the output pattern. Returns the exit status: PROG's own,
 * 128 + signal, error_exitcode (--check: a leak, or no readable snapshot to
 * show the run clean), 126/127 when PROG cannot be run, or HC_EXIT_USAGE on
 * a usage or set-up error (one line printed).
 */
int hc_cmd_run(struct hc_options *o, bool output_given, int argc, char **argv);

/*
 * `heapcycle report`: argv[0] is "report"; o as for hc_cmd_run. Returns
 * 0, HC_EXIT_USAGE if a file could not be read or on a usage error, or
 * error_exitcode with --check when a leak was found.
 */
int hc_cmd_report(struct hc_options *o, int argc, char **argv);

/*
 * `heapcycle diff [--format text|json] A.hcs B.hcs`: argv[0] is "diff".
 * Prints what grew from snapshot A to snapshot B (live blocks and bytes per
 * allocation stack), the leak groups and cycles B has that A has not.
 * Returns 0, or HC_EXIT_USAGE on a usage error or a file that cannot be
 * read (one line printed).
 */
int hc_cmd_diff(struct hc_options *o, int argc, char **argv);

#endif
