/* SPDX-License-Identifier: MIT */
/* placeholder suite: being written */
#include "suites.h"

Suite *suite_suppress(void)
{
	return suite_create("suppress");
}
