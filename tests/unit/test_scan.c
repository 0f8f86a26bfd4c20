/* SPDX-License-Identifier: MIT */
/* placeholder suite: being written */
#include "suites.h"

Suite *suite_scan(void)
{
	return suite_create("scan");
}
