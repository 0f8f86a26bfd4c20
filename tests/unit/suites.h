/* SPDX-License-Identifier: MIT */
/* One Check suite per core module; main.c runs them all. */
#ifndef HC_TESTS_UNIT_SUITES_H
#define HC_TESTS_UNIT_SUITES_H

#include <check.h>

Suite *suite_snapshot(void);
Suite *suite_stackdepot(void);
Suite *suite_blocktable(void);
Suite *suite_youngset(void);
Suite *suite_graph(void);
Suite *suite_roots(void);
Suite *suite_scan(void);
Suite *suite_options(void);
Suite *suite_report(void);
Suite *suite_suppress(void);
Suite *suite_formats(void);
Suite *suite_generations(void);
Suite *suite_refhistory(void);

/* Runs python3 on script with text in a file named by argv[1] and arg (or
 * nothing for NULL) as argv[2]; returns its exit status (test_report.c). */
int hc_test_run_python(const char *text, const char *script, const char *arg);

#endif
