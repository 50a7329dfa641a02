/*
 * mrapctl output helpers. JSON is written as it is produced (no document in
 * memory), so the only state is "has this container got items yet", one flag
 * per open level. Tables keep their cells until printed because column
 * widths depend on every row.
 */
#include "ctl/out.h"

#include <stdlib.h>
#include <string.h>

void mrapctl_out_init(struct mrapctl_out *o, FILE *f)
{
    memset(o, 0, sizeof(*o));
    o->f = f;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs,
 * no surrogates, at most U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p)
{
    size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
    if (p[0] < 0xc2 || p[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
        return 0;
    return n;
}

bool mrapctl_utf8_valid(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        size_t n = *p < 0x80 ? 1 : utf8_len(p);
        if (!n)
            return false;
        p += n - 1;
    }
    return true;
}

void mrapctl_json_quote(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p >= 0x80) {
            /* JSON text is UTF-8: a byte that is not part of a well-formed
             * sequence (a key given in Latin-1, say) becomes U+FFFD. */
            size_t n = utf8_len(p);
            if (n) {
                fwrite(p, 1, n, f);
                p += n - 1;
            } else {
                fputs("\\ufffd", f);
            }
            continue;
        }
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Comma, newline and indentation before a value, then its key. */
static void item(struct mrapctl_out *o, const char *key)
{
    if (o->depth > 0) {
        int d = o->depth < MRAPCTL_JSON_DEPTH ? o->depth : MRAPCTL_JSON_DEPTH - 1;
        if (o->has_items[d])
            fputc(',', o->f);
        o->has_items[d] = true;
        fprintf(o->f, "\n%*s", 2 * o->depth, "");
    }
    if (key) {
        mrapctl_json_quote(o->f, key);
        fputs(": ", o->f);
    }
}

static void open_container(struct mrapctl_out *o, const char *key, char open)
{
    item(o, key);
    fputc(open, o->f);
    if (o->depth + 1 < MRAPCTL_JSON_DEPTH)
        o->has_items[o->depth + 1] = false;
    o->depth++;
}

void mrapctl_json_obj(struct mrapctl_out *o, const char *key)
{
    open_container(o, key, '{');
}

void mrapctl_json_arr(struct mrapctl_out *o, const char *key)
{
    open_container(o, key, '[');
}

void mrapctl_json_end(struct mrapctl_out *o, char close)
{
    if (o->depth <= 0)
        return;
    int d = o->depth < MRAPCTL_JSON_DEPTH ? o->depth : MRAPCTL_JSON_DEPTH - 1;
    o->depth--;
    if (o->has_items[d])
        fprintf(o->f, "\n%*s", 2 * o->depth, "");
    fputc(close, o->f);
}

void mrapctl_json_str(struct mrapctl_out *o, const char *key, const char *v)
{
    item(o, key);
    if (v)
        mrapctl_json_quote(o->f, v);
    else
        fputs("null", o->f);
}

void mrapctl_json_int(struct mrapctl_out *o, const char *key, long long v)
{
    item(o, key);
    fprintf(o->f, "%lld", v);
}

void mrapctl_json_bool(struct mrapctl_out *o, const char *key, bool v)
{
    item(o, key);
    fputs(v ? "true" : "false", o->f);
}

void mrapctl_json_done(struct mrapctl_out *o)
{
    fputc('\n', o->f);
    o->depth = 0;
}

void mrapctl_table_init(struct mrapctl_table *t, size_t ncols, const char *const *headers)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols < 1 ? 1 : ncols > MRAPCTL_TABLE_COLS ? MRAPCTL_TABLE_COLS : ncols;
    if (headers)
        mrapctl_table_row(t, headers);
}

void mrapctl_table_row(struct mrapctl_table *t, const char *const *cells)
{
    if (t->failed)
        return;
    if (t->nrows == t->cap_rows) {
        size_t cap = t->cap_rows ? 2 * t->cap_rows : 8;
        char **n = realloc(t->cells, cap * t->ncols * sizeof(*n));
        if (!n) {
            t->failed = true;
            return;
        }
        t->cells = n;
        t->cap_rows = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        row[i] = strdup(cells[i] ? cells[i] : "");
        if (!row[i]) {
            while (i > 0)
                free(row[--i]);
            t->failed = true;
            return;
        }
        for (char *q = row[i]; *q; q++) /* one row stays one line */
            if ((unsigned char)*q < 0x20 || *q == 0x7f)
                *q = ' ';
    }
    t->nrows++;
}

void mrapctl_table_print(struct mrapctl_table *t, FILE *f)
{
    size_t w[MRAPCTL_TABLE_COLS] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t i = 0; i < t->ncols; i++) {
            size_t n = strlen(t->cells[r * t->ncols + i]);
            w[i] = n > w[i] ? n : w[i];
        }
    for (size_t r = 0; r < t->nrows; r++) {
        char **row = t->cells + r * t->ncols;
        size_t last = t->ncols;
        while (last > 1 && !row[last - 1][0])
            last--; /* no trailing padding for empty cells */
        for (size_t i = 0; i < last; i++) {
            if (i + 1 < last)
                fprintf(f, "%-*s  ", (int)w[i], row[i]);
            else
                fputs(row[i], f);
        }
        fputc('\n', f);
    }
    if (t->failed)
        fputs("mrapctl: out of memory: table truncated\n", stderr);
    mrapctl_table_cleanup(t);
}

void mrapctl_table_cleanup(struct mrapctl_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap_rows = 0;
}
