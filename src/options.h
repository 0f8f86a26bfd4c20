/* SPDX-License-Identifier: MIT */
/*
 * Options from HEAPCYCLE_OPTIONS and the command line, generated from
 * options.def. Parsing never allocates (the shim parses before it has a
 * heap) and never aborts: a bad option is an error value naming it.
 */
#ifndef HC_SRC_OPTIONS_H
#define HC_SRC_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "hc.h"

#define HC_OPTION_STRING_MAX 4096

#define HC_OPTION_TYPE_bool bool
#define HC_OPTION_TYPE_int int
#define HC_OPTION_TYPE_string char

struct hc_options {
#define HC_OPTION_FIELD_bool(name) bool name;
#define HC_OPTION_FIELD_int(name) int name;
#define HC_OPTION_FIELD_string(name) char name[HC_OPTION_STRING_MAX];
#define HC_OPTION(type, name, def, help) HC_OPTION_FIELD_##type(name)
#include "options.def"
#undef HC_OPTION
};

/* Sets every option to its default. Cannot fail. AS-Safe. */
void hc_options_defaults(struct hc_options *o);

/*
 * Parses "name=value" items separated by ':' or white space into o (items
 * not mentioned keep their value). Returns HC_OK, or HC_ERR_ARG with
 * err->what naming the bad item ("unknown option 'x'", "stack_depth: not a
 * number"). Items before the bad one are applied. No allocation, AS-Safe.
 */
int hc_options_parse(struct hc_options *o, const char *s, struct hc_error *err);

/*
 * Sets one option by name (with '_' or '-') from a string value; value may
 * be NULL for a bare bool. Returns HC_OK or HC_ERR_ARG (err filled).
 */
int hc_options_set(struct hc_options *o, const char *name, const char *value,
		   struct hc_error *err);

/* Returns true if name (with '_' or '-') is an option, and whether it is a bool. */
bool hc_options_known(const char *name, bool *is_bool);

/*
 * Writes o back as a HEAPCYCLE_OPTIONS string (only options that differ
 * from their defaults), for passing options to the shim through the
 * environment. String values containing ':' or white space cannot be
 * represented: returns HC_ERR_ARG for those. Returns HC_OK or HC_ERR_ARG
 * (also when buf is too small).
 */
int hc_options_format(const struct hc_options *o, char *buf, size_t len);

/* Prints one line per option: "  --name=VALUE   help (default: x)". */
void hc_options_print_help(FILE *out);

#endif
