/* SPDX-License-Identifier: MIT */
/*
 * Runs every core suite in one runner (libsigrokdecode's layout). Check's
 * fork mode isolates a crashing test; CK_RUN_SUITE=graph runs one suite,
 * CK_FORK=no runs in-process for gdb and valgrind.
 */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(suite_snapshot());
	int failed;

	srunner_add_suite(sr, suite_stackdepot());
	srunner_add_suite(sr, suite_blocktable());
	srunner_add_suite(sr, suite_youngset());
	srunner_add_suite(sr, suite_graph());
	srunner_add_suite(sr, suite_roots());
	srunner_add_suite(sr, suite_scan());
	srunner_add_suite(sr, suite_options());
	srunner_add_suite(sr, suite_report());
	srunner_add_suite(sr, suite_suppress());
	srunner_add_suite(sr, suite_formats());
	srunner_add_suite(sr, suite_generations());
	srunner_add_suite(sr, suite_refhistory());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
