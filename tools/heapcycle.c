/* SPDX-License-Identifier: MIT */
/*
 * The heapcycle command's entry point: subcommand dispatch, --help,
 * --version, and the command-line spelling of the options that options.def
 * declares (--name=value, --name value, --flag, --no-flag, -o PATH). The
 * option values themselves are parsed and checked by src/options.c; running
 * a program is cmd_run.c's, reading and reporting snapshots cmd_report.c's,
 * comparing two snapshots cmd_diff.c's.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "hc.h"
#include "options.h"
#include "report.h"
#include "tool.h"

#define HC_TOOL_NAME_MAX 64

void hc_tool_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("heapcycle: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int hc_tool_usage(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("heapcycle: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("; try 'heapcycle --help'\n", stderr);
	return HC_EXIT_USAGE;
}

void hc_tool_print_help(FILE *out)
{
	fputs("Usage: heapcycle run [OPTIONS] [--] PROG [ARGS...]\n"
	      "       heapcycle report [OPTIONS] SNAPSHOT...|DIR\n"
	      "       heapcycle diff [--format text|json] A.hcs B.hcs\n"
	      "       heapcycle --help | --version\n"
	      "\n"
	      "Find the memory a C or C++ program lost, leaked reference cycles included.\n"
	      "\n"
	      "Commands:\n"
	      "  run       run PROG under the heapcycle shim (following fork and exec) and\n"
	      "            report what every process leaked on standard error; PROG's\n"
	      "            standard output is left alone and its exit status is returned\n"
	      "  report    report snapshot files (a directory: its *.hcs files) on\n"
	      "            standard output\n"
	      "  diff      compare two snapshots of one process: growth by allocation\n"
	      "            stack, leak groups and cycles new in B (--format text|json)\n"
	      "  help      show this help\n"
	      "\n"
	      "Options (also read from HEAPCYCLE_OPTIONS as name=value items separated by\n"
	      "':' or white space; the command line wins):\n"
	      "  -o PATH                    same as --output=PATH (run only; the snapshots\n"
	      "                             are kept)\n",
	      out);
	hc_options_print_help(out);
	fputs("  -h, --help                 show this help\n"
	      "  --version                  show the version\n"
	      "\n"
	      "Exit status: run returns PROG's status (128+N if signal N killed it), 126 or\n"
	      "127 if PROG cannot be run; report returns 0, or 2 if a file could not be\n"
	      "read. With --check both return error_exitcode when unsuppressed leaks of\n"
	      "the fail_on classes (not in the baseline, if one is given) exceed\n"
	      "max_leaked_bytes. Usage errors, and suppression or baseline files that\n"
	      "cannot be read, return 2.\n"
	      "\n"
	      "See heapcycle(1).\n",
	      out);
}

static void hc_tool_normalize(char *name)
{
	for (; *name; name++)
		if (*name == '-')
			*name = '_';
}

int hc_tool_options_from_env(struct hc_options *o, bool *output_given)
{
	const char *env = getenv("HEAPCYCLE_OPTIONS");
	struct hc_error err = { 0 };
	char saved[HC_OPTION_STRING_MAX];
	int rc = HC_OK;

	hc_options_defaults(o);
	*output_given = false;
	if (!env || !*env)
		goto out;
	/* An empty output before parsing tells whether the string set one. */
	memcpy(saved, o->output, sizeof(saved));
	o->output[0] = '\0';
	rc = hc_options_parse(o, env, &err);
	if (rc != HC_OK) {
		hc_tool_error("HEAPCYCLE_OPTIONS: %s",
			      err.what[0] ? err.what : hc_strerror(rc));
		rc = HC_ERR_ARG;
		goto out;
	}
	if (o->output[0])
		*output_given = true;
	else
		memcpy(o->output, saved, sizeof(saved));
out:
	return rc;
}

int hc_tool_parse_option(struct hc_options *o, int argc, char **argv, int *i,
			 bool allow_short_o, bool *output_given)
{
	const char *arg = argv[*i];
	const char *value = NULL;
	const char *eq;
	char name[HC_TOOL_NAME_MAX];
	struct hc_error err = { 0 };
	bool is_bool = false;
	size_t len;
	int rc = HC_ERR_ARG;

	if (allow_short_o && arg[0] == '-' && arg[1] == 'o') {
		strcpy(name, "output");
		if (arg[2]) {
			value = arg + 2;
		} else if (*i + 1 < argc) {
			value = argv[++*i];
		} else {
			hc_tool_usage("option '-o' needs a path");
			goto out;
		}
		goto set;
	}
	if (arg[0] != '-' || arg[1] != '-' || !arg[2]) {
		hc_tool_usage("unknown option '%s'", arg);
		goto out;
	}
	eq = strchr(arg + 2, '=');
	len = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
	if (len >= sizeof(name)) {
		hc_tool_usage("unknown option '%.*s'", (int)(len + 2), arg);
		goto out;
	}
	memcpy(name, arg + 2, len);
	name[len] = '\0';
	hc_tool_normalize(name);

	/* Known names include no_NAME for each bool NAME (options.c). */
	if (!hc_options_known(name, &is_bool)) {
		hc_tool_usage("unknown option '%.*s'", (int)(len + 2), arg);
		goto out;
	}
	if (eq) {
		value = eq + 1;
	} else if (!is_bool) {
		if (*i + 1 >= argc) {
			hc_tool_usage("option '%s' needs a value", arg);
			goto out;
		}
		value = argv[++*i];
	}
set:
	if (hc_options_set(o, name, value, &err) != HC_OK) {
		hc_tool_usage("%s: %s", arg, err.what[0] ? err.what : "bad value");
		goto out;
	}
	rc = HC_OK;
	if (!strcmp(name, "output"))
		*output_given = o->output[0] != '\0';
	++*i;
out:
	return rc;
}

int hc_tool_parse_fail_on(const char *list, unsigned *mask, const char **bad)
{
	static const struct {
		const char *name;
		enum hc_leak_class cls;
	} names[] = {
		{ "direct", HC_CLASS_DIRECT },
		{ "indirect", HC_CLASS_INDIRECT },
		{ "possible", HC_CLASS_POSSIBLE },
		{ "cycle", HC_CLASS_CYCLE },
	};
	const char *p = list;
	unsigned m = 0;

	for (;;) {
		size_t len = strcspn(p, ",");
		bool found = false;

		for (size_t k = 0; k < HC_ARRAY_SIZE(names); k++)
			if (len == strlen(names[k].name) && !strncmp(p, names[k].name, len)) {
				m |= 1u << names[k].cls;
				found = true;
			}
		if (!found) {
			if (bad)
				*bad = p;
			return HC_ERR_ARG;
		}
		if (!p[len])
			break;
		p += len + 1;
	}
	*mask = m;
	return HC_OK;
}

int hc_tool_check_options(const struct hc_options *o)
{
	const char *bad = NULL;
	unsigned mask;

	if (!hc_report_find(o->format)) {
		hc_tool_usage("unknown report format '%s' (%s)", o->format,
			      hc_report_format_names());
		return HC_ERR_ARG;
	}
	if (hc_tool_parse_fail_on(o->fail_on, &mask, &bad) != HC_OK) {
		hc_tool_usage("--fail-on: bad class '%.*s' in '%s' (a comma list of "
			      "direct, indirect, possible, cycle)",
			      (int)strcspn(bad, ","), bad, o->fail_on);
		return HC_ERR_ARG;
	}
	return HC_OK;
}

bool hc_tool_want_color(int fd)
{
	const char *no_color = getenv("NO_COLOR");

	/* https://no-color.org: any non-empty value turns colour off. */
	if (no_color && *no_color)
		return false;
	return isatty(fd) == 1;
}

int main(int argc, char **argv)
{
	struct hc_options *o;
	bool output_given = false;
	int status = HC_EXIT_USAGE;
	int i = 1;

	/* One thread writes the reports: stdio need not lock the stream for
	 * each of the millions of small writes a large report makes. */
	__fsetlocking(stdout, FSETLOCKING_BYCALLER);
	__fsetlocking(stderr, FSETLOCKING_BYCALLER);
	/* struct hc_options holds several 4 KiB strings: keep it off the stack. */
	o = calloc(1, sizeof(*o));
	if (!o) {
		hc_tool_error("out of memory");
		goto out;
	}
	if (hc_tool_options_from_env(o, &output_given) != HC_OK)
		goto out;

	/* Options may also come before the command: heapcycle --check run ... */
	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			hc_tool_print_help(stdout);
			status = fflush(stdout) ? 1 : 0;
			goto out;
		}
		if (!strcmp(a, "--version")) {
			printf("heapcycle %s\n", PACKAGE_VERSION);
			status = fflush(stdout) ? 1 : 0;
			goto out;
		}
		if (!strcmp(a, "--"))
			break;
		if (hc_tool_parse_option(o, argc, argv, &i, false, &output_given) != HC_OK)
			goto out;
	}
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc) {
		status = hc_tool_usage("no command given (run, report or diff)");
		goto out;
	}
	if (!strcmp(argv[i], "run")) {
		status = hc_cmd_run(o, output_given, argc - i, argv + i);
	} else if (!strcmp(argv[i], "report")) {
		status = hc_cmd_report(o, argc - i, argv + i);
	} else if (!strcmp(argv[i], "diff")) {
		status = hc_cmd_diff(o, argc - i, argv + i);
	} else if (!strcmp(argv[i], "help")) {
		hc_tool_print_help(stdout);
		status = fflush(stdout) ? 1 : 0;
	} else {
		status = hc_tool_usage("unknown command '%s'", argv[i]);
	}
out:
	free(o);
	return status;
}
