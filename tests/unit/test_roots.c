/* SPDX-License-Identifier: MIT */
/* placeholder suite: being written */
#include "suites.h"

Suite *suite_roots(void)
{
	return suite_create("roots");
}
