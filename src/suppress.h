/* SPDX-License-Identifier: MIT */
/*
 * Suppressions: the files users already have, in LeakSanitizer's format
 * (leak:PATTERN lines) and in Valgrind's ({ name Memcheck:Leak fun:...
 * obj:... src:... ... }), parsed into one set, matched against the
 * symbolized allocation stacks of an analysis, and counted (which
 * suppression hid how much, and which hid nothing). Also writes the
 * Valgrind-format entry --gen-suppressions prints for a leak. The analysis
 * (analysis.h) owns the groups and cycles this marks; the report writers
 * decide how suppressed leaks are shown.
 */
#ifndef HC_SRC_SUPPRESS_H
#define HC_SRC_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis.h"
#include "hc.h"
#include "snapshot.h"
#include "symbolize.h"

/* Frames of one stack the matcher looks at (inlined calls expanded). */
#define HC_SUPPRESS_MAX_FRAMES 512u
/* Lines (frames) of one Valgrind entry; Valgrind's own limit is 24. */
#define HC_SUPPRESS_MAX_LINES 256u
/* Longest line of a suppression file. */
#define HC_SUPPRESS_MAX_LINE 4096u

enum hc_suppress_format {
	HC_SUPPRESS_LSAN = 1,		/* leak:PATTERN */
	HC_SUPPRESS_VALGRIND = 2,	/* { name Memcheck:Leak ... } */
};

/* One suppression and what it matched. */
struct hc_suppression {
	const char *name;	/* "leak:PATTERN", or the Valgrind entry's name */
	const char *file;	/* the file it came from */
	unsigned line;		/* its first line there */
	enum hc_suppress_format format;
	uint64_t hit_groups;	/* leak groups it suppressed */
	uint64_t hit_blocks;
	uint64_t hit_bytes;
};

struct hc_suppress_set;

/* Returns HC_OK with *out an empty set, or HC_ERR_NOMEM. */
int hc_suppress_new(struct hc_suppress_set **out);
void hc_suppress_free(struct hc_suppress_set *set);

/*
 * Parses the contents of one suppression file (buf, len bytes; need not be
 * NUL-terminated) and adds its entries to set. The format is detected from
 * the first line that is neither blank nor a '#' comment: '{' means
 * Valgrind, anything else LeakSanitizer. Entries for other tools or kinds
 * (Memcheck:Cond, race:...) are skipped; when notes is not NULL the first
 * one is named there, and how many more there were. name is kept (it must outlive set)
 * and is used in messages. Returns HC_OK; HC_ERR_FORMAT with err->offset
 * the 1-based line number and err->what the problem (the set keeps the
 * entries of earlier files only); HC_ERR_NOMEM.
 */
int hc_suppress_parse(struct hc_suppress_set *set, const char *name,
		      const char *buf, size_t len, FILE *notes, struct hc_error *err);

/*
 * Reads path and parses it as hc_suppress_parse does (path is copied).
 * Returns HC_ERR_IO (errno set, err->offset 0) when it cannot be read,
 * otherwise as hc_suppress_parse.
 */
/*
 * Adds heapcycle's built-in suppressions (what libraries keep for the
 * whole process: GLib's type system), named as coming from the file
 * HC_SUPPRESS_BUILTIN; --show-unused-suppressions does not list them.
 * Returns HC_OK or HC_ERR_NOMEM.
 */
extern const char hc_suppress_builtin_name[];	/* "(built-in)" */
#define HC_SUPPRESS_BUILTIN hc_suppress_builtin_name
int hc_suppress_add_builtin(struct hc_suppress_set *set, struct hc_error *err);

int hc_suppress_load_file(struct hc_suppress_set *set, const char *path,
			  FILE *notes, struct hc_error *err);

/* Number of suppressions in set, and the i-th (in file order). Cannot fail. */
size_t hc_suppress_count(const struct hc_suppress_set *set);
const struct hc_suppression *hc_suppress_get(const struct hc_suppress_set *set, size_t i);

/*
 * The frames of a stack as suppressions see them, innermost first: the
 * symbolizer's inline chains, heapcycle's own frames dropped (the shim does
 * not record them). Writes at most max frames and returns how many. Cannot
 * fail (stack 0 or out of range gives 0).
 */
unsigned hc_suppress_stack_frames(struct hc_symbolizer *sym, const struct hc_snapshot *s,
				  uint32_t stack, struct hc_frame *out, unsigned max);

/*
 * Returns the first suppression of set matching a leak of class cls with
 * these frames (from hc_suppress_stack_frames), or NULL. alloc_kind is the
 * block's enum hc_alloc_kind, or -1 when unknown. A LeakSanitizer pattern
 * matches when it matches any frame's function, file or module; a Valgrind
 * entry when its lines match the frames from the innermost one on and its
 * match-leak-kinds admit cls (a cycle counts as definite and as indirect,
 * as Valgrind and LeakSanitizer report cycle members). Valgrind's stacks
 * start in its malloc replacement, which heapcycle's do not have: a first
 * line naming an allocation function of alloc_kind (fun:malloc,
 * fun:_Znwm, fun:operator new(unsigned long), obj:*vgpreload_memcheck*,
 * ...) is skipped. Counts nothing. Cannot fail.
 */
const struct hc_suppression *hc_suppress_match(const struct hc_suppress_set *set,
					       const struct hc_frame *frames, unsigned n,
					       int alloc_kind, enum hc_leak_class cls);

/*
 * Marks what set suppresses in an: suppressed_by on each matching leak
 * group, and on each cycle all of whose members' stacks match; fills
 * an->suppressed and adds each group to its suppression's hit counts.
 * Returns HC_OK or HC_ERR_NOMEM (an is then left unmarked).
 */
int hc_suppress_apply(struct hc_suppress_set *set, const struct hc_snapshot *s,
		      struct hc_analysis *an, struct hc_symbolizer *sym);

/*
 * Writes "Suppressions used:" with LeakSanitizer's columns (count bytes
 * template; count is blocks) for the suppressions that matched, and, when
 * show_unused, the ones that matched nothing with their file and line.
 * Writes nothing for an empty set. Cannot fail (the stream's error flag
 * tells).
 */
void hc_suppress_print_used(FILE *out, const struct hc_suppress_set *set, bool show_unused);

/*
 * Writes a Valgrind-format suppression for a leak of class cls allocated
 * from stack: every frame outside heapcycle as fun:NAME (demangled), or
 * obj:MODULE when the function is unknown, then a comment with the
 * LeakSanitizer form. Cannot fail.
 */
void hc_suppress_print_entry(FILE *out, struct hc_symbolizer *sym, const struct hc_snapshot *s,
			     uint32_t stack, enum hc_leak_class cls);

#endif
