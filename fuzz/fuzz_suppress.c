/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the suppressions parser and matcher (suppress.c).
 * Suppression files come from the user's repository, from a CI job's
 * configuration or from a downloaded project, so they are input: the input
 * is parsed as one file (LeakSanitizer or Valgrind format, detected as the
 * tool detects it), and whatever the parser accepts is matched against a
 * fixed set of realistic stacks for every leak class, which drives the
 * wildcard and '...' matchers with patterns the mutator chose, then
 * printed as the "Suppressions used" table. Beyond "no crash": a failed
 * parse says where (a line number) and what.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suppress.h"

static FILE *fz_null;

/* Stacks as hc_suppress_stack_frames would give them, innermost first;
 * the first stack starts with heapcycle's allocator frame. */
static const struct hc_frame fz_stack_a[] = {
	{ .pc = 0x7f0000001000, .function = "malloc", .file = "preload/shim_alloc.c",
	  .line = 300, .module = "/usr/lib/x86_64-linux-gnu/heapcycle/libheapcycle.so" },
	{ .pc = 0x555555555100, .function = "node_new", .file = "tests/programs/leak_cycle3.c",
	  .line = 30, .module = "/tmp/b/tests/programs/leak_cycle3" },
	{ .pc = 0x555555555200, .function = "make_ring", .file = "tests/programs/leak_cycle3.c",
	  .line = 40, .module = "/tmp/b/tests/programs/leak_cycle3", .inlined = true },
	{ .pc = 0x555555555200, .function = "main", .file = "tests/programs/leak_cycle3.c",
	  .line = 55, .module = "/tmp/b/tests/programs/leak_cycle3" },
	{ .pc = 0x7f0000002000, .function = "__libc_start_call_main", .file = NULL,
	  .module = "/usr/lib/x86_64-linux-gnu/libc.so.6" },
};
static const struct hc_frame fz_stack_b[] = {
	{ .pc = 0x7f0000003000, .function = "std::vector<int, std::allocator<int> >::push_back(int const&)",
	  .file = "/usr/include/c++/12/bits/stl_vector.h", .line = 1287,
	  .module = "/usr/bin/app" },
	{ .pc = 0x7f0000004000, .function = NULL, .file = NULL, .module = NULL, .stale = true },
	{ .pc = 0x7f0000005000, .function = "g_object_new", .file = "../gobject/gobject.c",
	  .line = 2000, .module = "/usr/lib/x86_64-linux-gnu/libgobject-2.0.so.0" },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hc_suppress_set *set = NULL;
	struct hc_error err;
	char *buf;
	size_t n, i;
	int rc, cls;

	if (!fz_null) {
		fz_null = fopen("/dev/null", "w");
		if (!fz_null)
			abort();
	}
	/* Exactly size bytes, not NUL-terminated (the parser takes a length):
	 * ASan sees a read past the end. */
	buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	if (hc_suppress_new(&set) != HC_OK)
		abort();
	memset(&err, 0, sizeof(err));
	rc = hc_suppress_parse(set, "fuzz.supp", buf, size, fz_null, &err);
	if (rc != HC_OK && rc != HC_ERR_FORMAT && rc != HC_ERR_NOMEM)
		abort();
	if (rc == HC_ERR_FORMAT && (err.status != HC_ERR_FORMAT || err.offset == 0 ||
				    !memchr(err.what, '\0', sizeof(err.what)) ||
				    err.what[0] == '\0'))
		abort();	/* a refusal must name the line and the problem */
	n = hc_suppress_count(set);
	for (i = 0; i < n; i++) {
		const struct hc_suppression *s = hc_suppress_get(set, i);

		if (!s || !s->name || !s->file)
			abort();
	}
	for (cls = 0; cls < HC_CLASS_COUNT; cls++) {
		const struct hc_suppression *m;

		m = hc_suppress_match(set, fz_stack_a, HC_ARRAY_SIZE(fz_stack_a), true, cls);
		if (m && !m->name)
			abort();
		hc_suppress_match(set, fz_stack_a + 1, HC_ARRAY_SIZE(fz_stack_a) - 1, false, cls);
		hc_suppress_match(set, fz_stack_b, HC_ARRAY_SIZE(fz_stack_b), false, cls);
		hc_suppress_match(set, fz_stack_b, 0, false, cls);
	}
	hc_suppress_print_used(fz_null, set, true);
	hc_suppress_free(set);
	free(buf);
	return 0;
}
