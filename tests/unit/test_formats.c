/* SPDX-License-Identifier: MIT */
/* placeholder suite: being written */
#include "suites.h"

Suite *suite_formats(void)
{
	return suite_create("formats");
}
