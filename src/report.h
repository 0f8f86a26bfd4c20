/* SPDX-License-Identifier: MIT */
/*
 * Report writers: the same analysed snapshots printed as text (read like
 * LeakSanitizer and Valgrind, plus a section per cycle) or as JSON (the
 * schema is doc/report-schema.json, with a version field). One call reports
 * every process of a run.
 */
#ifndef HC_SRC_REPORT_H
#define HC_SRC_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "analysis.h"
#include "refhistory.h"
#include "snapshot.h"
#include "symbolize.h"

#define HC_REPORT_JSON_VERSION 1

struct hc_suppress_set;
struct hc_baseline;

struct hc_report_input {
	const char *path;		/* the snapshot file */
	const struct hc_snapshot *snap;
	const struct hc_analysis *an;
	struct hc_symbolizer *sym;
};

struct hc_report_opts {
	bool color;		/* ANSI colour (the tool sets it on a terminal only) */
	bool show_reachable;	/* list still-reachable groups too */
	unsigned max_frames;	/* frames shown per stack; 0 = all */
	/* Suppressions and baselines (suppress.h, baseline.h); text and JSON. */
	bool gen_suppressions;	/* text: a suppression entry after each leak */
	bool show_unused_suppressions;
	const struct hc_suppress_set *suppressions;	/* NULL: none given */
	const struct hc_baseline *baseline;		/* NULL: none given */
};

/* Each returns HC_OK or HC_ERR_IO (the stream failed). */
int hc_report_text(FILE *out, const struct hc_report_input *in, size_t n,
		   const struct hc_report_opts *opts);
int hc_report_json(FILE *out, const struct hc_report_input *in, size_t n,
		   const struct hc_report_opts *opts);

/*
 * More formats for tools and CI (man/heapcycle-report.5 describes each):
 * SARIF 2.1.0 (code-scanning annotations at the allocating line), JUnit XML
 * (one test case per leak group), the part of Valgrind's memcheck XML
 * (protocol 4) that CTest and Jenkins read, Graphviz DOT (the leaked
 * cycles), and one self-contained HTML page. Groups and cycles with
 * suppressed_by set are left out of all of them. Each returns HC_OK,
 * HC_ERR_IO (the stream failed) or HC_ERR_NOMEM (a stack could not be
 * expanded; what was written so far stays in the stream).
 */
int hc_report_sarif(FILE *out, const struct hc_report_input *in, size_t n,
		    const struct hc_report_opts *opts);
int hc_report_junit(FILE *out, const struct hc_report_input *in, size_t n,
		    const struct hc_report_opts *opts);
int hc_report_vgxml(FILE *out, const struct hc_report_input *in, size_t n,
		    const struct hc_report_opts *opts);
int hc_report_dot(FILE *out, const struct hc_report_input *in, size_t n,
		  const struct hc_report_opts *opts);
int hc_report_html(FILE *out, const struct hc_report_input *in, size_t n,
		   const struct hc_report_opts *opts);

typedef int (*hc_report_fn)(FILE *out, const struct hc_report_input *in, size_t n,
			    const struct hc_report_opts *opts);

/* Returns the writer of a format ("text", "json", ...), or NULL when the
 * name is unknown. Cannot fail. */
hc_report_fn hc_report_find(const char *format);
/* The known format names, comma separated, for messages. Cannot fail. */
const char *hc_report_format_names(void);

/*
 * The type of block i, for reports: the name the program gave it with
 * heapcycle_set_type(), else the C++ class whose vtable its first word
 * points at ("Widget"; a shared_ptr control block made by make_shared is
 * "Person (in a shared_ptr control block)"), else NULL. Uses buf
 * (len bytes) for names it builds; sym may be NULL (no C++ names then).
 * Cannot fail.
 */
const char *hc_report_block_type(const struct hc_snapshot *s, struct hc_symbolizer *sym,
				 uint64_t i, char *buf, size_t len);

/* A collection member that is part of a cycle. Cannot fail. */
bool hc_report_gc_in_cycle(const struct hc_gc_member *m);
/* The number of distinct cycles among a collection's members. Cannot
 * fail: out of memory, it looks back over the members instead. */
uint32_t hc_report_event_ncycles(const struct hc_gc_event *ev);

/* Names for bad deallocations: "invalid", "double", "mismatched"; the
 * call ("free()", "operator delete", ...); the allocating family
 * ("malloc()", "operator new", "operator new[]"). Cannot fail. */
const char *hc_report_bad_free_kind(uint8_t kind);
const char *hc_report_free_op(uint8_t op);
const char *hc_report_alloc_kind(uint8_t kind);

/* Why a snapshot was taken, as the reports name it: "exit", "_exit",
 * "api", "signal", "interval", "exec", or "unknown". Cannot fail. */
const char *hc_report_reason_name(uint32_t reason);

/* Sums the leaked (not reachable) blocks and bytes over all inputs. */
void hc_report_leak_totals(const struct hc_report_input *in, size_t n,
			   uint64_t *blocks, uint64_t *bytes);

/* ---- helpers shared by the writers (report.c) ---- */

#define HC_REPORT_INLINE_MAX 16u	/* frames per pc asked of the symbolizer */

/* A stack's frames as reports show them: heapcycle's own frames dropped,
 * inlined calls expanded, innermost first. Zero-initialize; reuse across
 * calls; release with hc_report_frames_fini. */
struct hc_report_frames {
	struct hc_frame *f;
	unsigned n, cap;
	unsigned skipped;	/* frames past the max_frames limit */
};

/* Fills fr with the frames of stack (none for stack 0 or out of range), at
 * most max (0 = all). Returns HC_OK, or HC_ERR_NOMEM with fr holding the
 * frames found so far. */
int hc_report_frames_get(struct hc_report_frames *fr, struct hc_symbolizer *sym,
			 const struct hc_snapshot *s, uint32_t stack, unsigned max);
void hc_report_frames_fini(struct hc_report_frames *fr);

/* The frame a leak is blamed on: the innermost one with a source file that
 * is not a system one (under /usr/, or glibc's "../sysdeps/..."), else the
 * innermost with a function name, else 0; -1 when fr is empty. Cannot fail. */
int hc_report_alloc_frame(const struct hc_report_frames *fr);

/*
 * Pairs the recorded g_object_ref/unref calls of h (refhistory.h), each
 * call keyed by the function that made it (its stack's innermost frame),
 * the initial reference by the function the block's allocation is blamed
 * on (hc_report_alloc_frame): where g_object_new was called.
 * fr is scratch. Returns HC_OK, HC_ERR_NOMEM or HC_ERR_ARG as
 * hc_refhist_pair does.
 */
int hc_report_refhist(struct hc_report_frames *fr, struct hc_symbolizer *sym,
		      const struct hc_snapshot *s, const struct hc_ref_history *h,
		      struct hc_refhist *out);

/* Whether a group or cycle is reported: leaks only, not suppressed, and (for
 * a cycle) every index in range. Cannot fail. */
bool hc_report_group_shown(const struct hc_leak_group *g);
bool hc_report_cycle_shown(const struct hc_snapshot *s, const struct hc_cycle *cy);
/* Whether every member and edge index of cy is in range of s (the JSON
 * report lists suppressed cycles too, so it asks only this). Cannot fail. */
bool hc_report_cycle_valid(const struct hc_snapshot *s, const struct hc_cycle *cy);

/* A cycle's members sorted by block index, to map an edge end to a member
 * number without a quadratic search. Returns NULL when out of memory
 * (hc_report_member_of then falls back to a linear scan); release with
 * hc_mem_free. */
struct hc_report_member_key {
	uint32_t block, member;
};
struct hc_report_member_key *hc_report_member_index_new(const struct hc_cycle *cy);

/* The member number of block in cy, or -1; keys from
 * hc_report_member_index_new, or NULL for a linear search. Cannot fail. */
int64_t hc_report_member_of(const struct hc_cycle *cy, const struct hc_report_member_key *keys,
			    uint32_t block);

/* Length of the valid UTF-8 sequence at s (n >= 1 bytes left), or 0 when it
 * is not one (overlong, surrogate, past U+10FFFF: RFC 3629). Cannot fail. */
size_t hc_report_utf8_len_rfc(const unsigned char *s, size_t n);
/* The same, also 0 for U+FFFE/U+FFFF, which XML 1.0 forbids. */
size_t hc_report_utf8_len(const unsigned char *s, size_t n);

/* Writes the valid UTF-8 sequence at s (n >= 1 bytes left, checked with
 * hc_report_utf8_len) and returns its length, or writes bad and returns 1.
 * Stream errors are left for the caller's ferror. */
size_t hc_report_put_utf8(FILE *out, const unsigned char *s, size_t n, const char *bad);

/* Flags of hc_report_json_str. */
#define HC_REPORT_JSON_HTML 1u	/* also escape < > & (for an HTML <script>) */
/* As the JSON report writes strings: \b and \f short escapes, DEL and
 * U+FFFE/U+FFFF as they are (doc/report-schema.json readers expect it). */
#define HC_REPORT_JSON_REPORT 2u

/* Writes s as a quoted JSON string ("null" for NULL); invalid UTF-8 becomes
 * U+FFFD. flags: HC_REPORT_JSON_*, or 0. Stream errors are left for the
 * caller's ferror. */
void hc_report_json_str(FILE *out, const char *s, unsigned flags);

/* Writes s escaped for XML 1.0 and HTML text and attribute values (nothing
 * for NULL): markup characters as entities, tab/newline/CR as character
 * references, other control characters and invalid UTF-8 as U+FFFD. */
void hc_report_xml_str(FILE *out, const char *s);

/* Hashes already written (SARIF fingerprints, JUnit test-case names), to
 * tell equal ones apart. Zero-initialize; release with hc_mem_free(v). */
struct hc_report_seen {
	uint64_t *v;
	size_t n, cap;
};

/* How many times h was recorded in seen before, recording it once more
 * (when out of memory it is not recorded: the count is then low, never
 * wrong by more than the lost entries). Cannot fail. */
unsigned hc_report_seen_add(struct hc_report_seen *seen, uint64_t h);

/* The part of path after its last '/'. Cannot fail. */
const char *hc_report_basename(const char *path);

/* FNV-1a hash of a leak class and the function names of fr, so that the
 * same leak found again (other addresses, shifted lines) gets the same
 * value. Cannot fail. */
uint64_t hc_report_stack_hash(const struct hc_report_frames *fr, unsigned cls);

#endif
