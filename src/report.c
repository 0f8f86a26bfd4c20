/* SPDX-License-Identifier: MIT */
/*
 * The list of report formats: one place maps a --format name to its writer,
 * so the tool and the option checks never list formats themselves.
 */
#include <string.h>

#include "report.h"

static const struct {
	const char *name;
	hc_report_fn fn;
} hc_report_formats[] = {
	{ "text", hc_report_text },
	{ "json", hc_report_json },
};

hc_report_fn hc_report_find(const char *format)
{
	size_t i;

	for (i = 0; i < HC_ARRAY_SIZE(hc_report_formats); i++)
		if (!strcmp(hc_report_formats[i].name, format))
			return hc_report_formats[i].fn;
	return NULL;
}

const char *hc_report_format_names(void)
{
	static char names[256];
	size_t i;

	if (!names[0])
		for (i = 0; i < HC_ARRAY_SIZE(hc_report_formats); i++) {
			if (i)
				strcat(names, ", ");
			strcat(names, hc_report_formats[i].name);
		}
	return names;
}
