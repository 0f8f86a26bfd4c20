/* SPDX-License-Identifier: MIT */
/*
 * Shared vocabulary of the core: status codes, the error record readers fill,
 * the memory hook every core allocation goes through, and small macros.
 * The core never calls malloc directly: the shim points hc_mem at its private
 * jemalloc arena, the tools leave it on libc.
 */
#ifndef HC_SRC_HC_H
#define HC_SRC_HC_H

#include <stddef.h>
#include <stdint.h>

#define HC_EXPORT __attribute__((visibility("default")))
#define HC_UNUSED __attribute__((unused))
#define HC_LIKELY(x) __builtin_expect(!!(x), 1)
#define HC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The value of a hexadecimal digit, or -1. Cannot fail. AS-Safe. */
static inline int hc_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum hc_status {
	HC_OK = 0,
	HC_ERR_NOMEM = -1,
	HC_ERR_IO = -2,
	HC_ERR_FORMAT = -3,	/* malformed or truncated input */
	HC_ERR_VERSION = -4,
	HC_ERR_ARG = -5,
	HC_ERR_EXISTS = -6,	/* refused to overwrite or follow a link */
	/* When adding one, update hc_strerror() in error.c. */
};

/* Where and why a reader failed; printed by the tools as one line. */
struct hc_error {
	enum hc_status status;
	uint64_t offset;	/* byte offset in the input, when it has one */
	char what[64];		/* which part: "stack table", "block 12", ... */
};

/* Returns a static string for a status. Cannot fail. MT-Safe, AS-Safe. */
const char *hc_strerror(enum hc_status status);

/*
 * Records status, offset and a short description in err (may be NULL) and
 * returns status, so readers can write `return hc_error_set(...)`.
 * MT-Safe, AS-Safe (no allocation, no stdio).
 */
enum hc_status hc_error_set(struct hc_error *err, enum hc_status status,
			    uint64_t offset, const char *what);

/*
 * Formats err as "FILE: problem (what) at byte N" into buf. Returns buf.
 * Cannot fail (truncates).
 */
char *hc_error_format(const struct hc_error *err, const char *file,
		      char *buf, size_t len);

/* The memory hook. All three must be set together. */
struct hc_mem_ops {
	void *(*alloc)(size_t n);
	void *(*realloc)(void *p, size_t n);
	void (*free)(void *p);
	/* Optional: n zeroed bytes. An allocator that knows fresh pages are
	 * zero skips the memset, and the pages stay untouched until used
	 * (the stack depot's 8 MiB of buckets in every process). NULL: alloc
	 * and memset. */
	void *(*alloc_zeroed)(size_t n);
};

/* Replaces the hook; NULL restores libc. Call before any other core call. */
void hc_mem_set_ops(const struct hc_mem_ops *ops);
/* Return NULL on failure (or overflow, for calloc). */
void *hc_mem_alloc(size_t n);
void *hc_mem_calloc(size_t count, size_t size);
void *hc_mem_realloc(void *p, size_t n);
void hc_mem_free(void *p);
/* Copies s with hc_mem_alloc. Returns NULL on failure. */
char *hc_mem_strdup(const char *s);

/*
 * Reads the whole file at path into *out (hc_mem memory, NUL-terminated,
 * *outlen bytes before the NUL). Returns HC_OK; HC_ERR_IO with err naming
 * the system error; HC_ERR_FORMAT when the file is larger than max bytes;
 * HC_ERR_NOMEM. For the tools (uses stdio).
 */
int hc_file_read(const char *path, size_t max, char **out, size_t *outlen,
		 struct hc_error *err);

#ifdef NDEBUG
#define hc_assert(x) ((void)0)
#else
void hc_assert_fail(const char *expr, const char *file, int line);
#define hc_assert(x) (HC_LIKELY(x) ? (void)0 : hc_assert_fail(#x, __FILE__, __LINE__))
#endif

#endif
