/*
 * mrapctl output: a streaming JSON writer (pretty-printed, every string
 * escaped per RFC 8259) and an aligned text table.
 *
 * The JSON writer tracks only where commas go; the caller nests begin/end
 * calls correctly (depth is bounded by MRAPCTL_JSON_DEPTH, deeper calls are
 * ignored rather than overflowing). A `key` is given inside objects and NULL
 * inside arrays.
 */
#ifndef MRAP_CTL_OUT_H
#define MRAP_CTL_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define MRAPCTL_JSON_DEPTH 16

struct mrapctl_out {
    FILE *f;
    int depth;
    bool has_items[MRAPCTL_JSON_DEPTH];
};

void mrapctl_out_init(struct mrapctl_out *o, FILE *f);
void mrapctl_json_obj(struct mrapctl_out *o, const char *key);                /* opens {  */
void mrapctl_json_arr(struct mrapctl_out *o, const char *key);                /* opens [  */
void mrapctl_json_end(struct mrapctl_out *o, char close);                     /* '}' or ']' */
void mrapctl_json_str(struct mrapctl_out *o, const char *key, const char *v); /* NULL: null */
void mrapctl_json_int(struct mrapctl_out *o, const char *key, long long v);
void mrapctl_json_bool(struct mrapctl_out *o, const char *key, bool v);
/* Ends the document (a newline after the top-level value). */
void mrapctl_json_done(struct mrapctl_out *o);
/* Whether s is well-formed UTF-8 (what S3 requires of object keys). */
bool mrapctl_utf8_valid(const char *s);
/* A JSON string literal for s, quotes included, on f. */
void mrapctl_json_quote(FILE *f, const char *s);

/* A table of text cells printed with columns padded to the widest cell. */
#define MRAPCTL_TABLE_COLS 8
struct mrapctl_table {
    size_t ncols;
    char **cells; /* owned; row-major */
    size_t nrows, cap_rows;
    bool failed; /* out of memory: print what fits, never crash */
};

/* headers (ncols of them) become the first row, unless headers is NULL. */
void mrapctl_table_init(struct mrapctl_table *t, size_t ncols, const char *const *headers);
/* Adds one row of ncols cells (copied; NULL is printed as ""). */
void mrapctl_table_row(struct mrapctl_table *t, const char *const *cells);
/* Prints with two spaces between columns, no trailing blanks; then frees. */
void mrapctl_table_print(struct mrapctl_table *t, FILE *f);
void mrapctl_table_cleanup(struct mrapctl_table *t);

#endif
