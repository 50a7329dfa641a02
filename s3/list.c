/*
 * ListObjectsV2: one page per call, parsed into owned entries.
 *
 * Requests always ask for encoding-type=url: S3 then percent-encodes keys and
 * prefixes (spaces as '+'), so keys holding characters XML 1.0 cannot carry
 * still arrive intact. A decoded key containing NUL cannot be a file name or a
 * C string; such entries are dropped here with a warning.
 *
 * Bounds: the response body is limited to 16 MiB and a page to 10,000 entries
 * (S3 sends at most 1,000), so a broken or hostile server cannot make a
 * listing allocate without limit.
 */
#include "s3/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/xml.h"
#include "util/log.h"

#define MRAP_S3_LIST_BODY_MAX (16u * 1024 * 1024)
#define MRAP_S3_LIST_MAX_ENTRIES 10000

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decodes S3's url encoding in place ('+' is a space). -EPROTO for a bad escape
 * or a NUL in the result. */
static int url_decode(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r == '+') {
            *w++ = ' ';
        } else if (*r == '%') {
            int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);
            if (hi < 0 || lo < 0)
                return -EPROTO;
            char ch = (char)(hi * 16 + lo);
            if (ch == '\0')
                return -EPROTO;
            *w++ = ch;
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return 0;
}

void mrap_s3_list_page_cleanup(struct mrap_s3_list_page *page)
{
    if (!page)
        return;
    for (size_t i = 0; i < page->n_objects; i++)
        free(page->objects[i].key);
    for (size_t i = 0; i < page->n_prefixes; i++)
        free(page->prefixes[i]);
    free(page->objects);
    free(page->prefixes);
    free(page->next_token);
    memset(page, 0, sizeof(*page));
}

static size_t count_children(xmlNodePtr root, const char *name)
{
    size_t n = 0;
    for (xmlNodePtr x = mrap_xml_child(root, name); x; x = mrap_xml_next(x, name))
        n++;
    return n;
}

static int parse_entry(xmlNodePtr node, bool url, struct mrap_s3_list_entry *e)
{
    char num[32], lm[64];
    e->key = mrap_xml_child_strdup(node, "Key");
    if (!e->key)
        return -EPROTO;
    if (url && url_decode(e->key))
        return -EPROTO;
    if (mrap_xml_child_text(node, "Size", num, sizeof(num)) < 0)
        return -EPROTO;
    char *end;
    errno = 0;
    e->size = strtoull(num, &end, 10);
    if (errno || *end || num[0] == '-')
        return -EPROTO;
    if (mrap_xml_child_text(node, "LastModified", lm, sizeof(lm)) < 0 ||
        mrap_s3_parse_time(lm, &e->mtime))
        return -EPROTO;
    if (mrap_xml_child_text(node, "ETag", e->etag, sizeof(e->etag)) < 0)
        e->etag[0] = '\0';
    if (mrap_xml_child_text(node, "StorageClass", e->storage_class, sizeof(e->storage_class)) <
        0)
        e->storage_class[0] = '\0';
    return 0;
}

int mrap_s3_list_parse(const char *xml, size_t len, struct mrap_s3_list_page *page)
{
    int rc = -EPROTO;
    char flag[16], enc[16];
    memset(page, 0, sizeof(*page));
    xmlDocPtr doc = mrap_xml_parse(xml, len);
    if (!doc)
        return -EPROTO;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root || strcmp((const char *)root->name, "ListBucketResult") != 0)
        goto out;
    bool url = mrap_xml_child_text(root, "EncodingType", enc, sizeof(enc)) >= 0 &&
               strcmp(enc, "url") == 0;
    page->truncated = mrap_xml_child_text(root, "IsTruncated", flag, sizeof(flag)) >= 0 &&
                      strcmp(flag, "true") == 0;
    page->next_token = mrap_xml_child_strdup(root, "NextContinuationToken");
    if (page->truncated && !page->next_token)
        goto out; /* a truncated page without a token would loop forever */

    size_t n_obj = count_children(root, "Contents");
    size_t n_pre = count_children(root, "CommonPrefixes");
    if (n_obj + n_pre > MRAP_S3_LIST_MAX_ENTRIES)
        goto out;
    rc = -ENOMEM;
    page->objects = calloc(n_obj ? n_obj : 1, sizeof(*page->objects));
    page->prefixes = calloc(n_pre ? n_pre : 1, sizeof(*page->prefixes));
    if (!page->objects || !page->prefixes)
        goto out;

    for (xmlNodePtr x = mrap_xml_child(root, "Contents"); x; x = mrap_xml_next(x, "Contents")) {
        struct mrap_s3_list_entry *e = &page->objects[page->n_objects];
        if (parse_entry(x, url, e)) {
            char raw[128] = "";
            mrap_xml_child_text(x, "Key", raw, sizeof(raw));
            mrap_log(MRAP_LOG_WARN, "s3", "listing: skipping unusable entry (key \"%s\")", raw);
            free(e->key);
            memset(e, 0, sizeof(*e));
            continue;
        }
        page->n_objects++;
    }
    for (xmlNodePtr x = mrap_xml_child(root, "CommonPrefixes"); x;
         x = mrap_xml_next(x, "CommonPrefixes")) {
        char *p = mrap_xml_child_strdup(x, "Prefix");
        if (!p || (url && url_decode(p))) {
            mrap_log(MRAP_LOG_WARN, "s3", "listing: skipping unusable common prefix");
            free(p);
            continue;
        }
        page->prefixes[page->n_prefixes++] = p;
    }
    rc = 0;
out:
    xmlFreeDoc(doc);
    if (rc)
        mrap_s3_list_page_cleanup(page);
    return rc;
}

int mrap_s3_list_objects(struct mrap_s3_client *c, const struct mrap_s3_list_opts *opts,
                         struct mrap_s3_list_page *page, struct mrap_s3_error *err)
{
    struct mrap_s3_param params[7];
    size_t n = 0;
    char max_keys[16];
    struct mrap_http_response resp;

    memset(page, 0, sizeof(*page));
    params[n++] = (struct mrap_s3_param){"list-type", "2"};
    params[n++] = (struct mrap_s3_param){"encoding-type", "url"};
    if (opts->prefix && *opts->prefix)
        params[n++] = (struct mrap_s3_param){"prefix", opts->prefix};
    if (opts->delimiter && *opts->delimiter)
        params[n++] = (struct mrap_s3_param){"delimiter", opts->delimiter};
    if (opts->continuation_token)
        params[n++] = (struct mrap_s3_param){"continuation-token", opts->continuation_token};
    if (opts->start_after && *opts->start_after)
        params[n++] = (struct mrap_s3_param){"start-after", opts->start_after};
    if (opts->max_keys || opts->probe) {
        snprintf(max_keys, sizeof(max_keys), "%u", opts->max_keys > 1000 ? 1000 : opts->max_keys);
        params[n++] = (struct mrap_s3_param){"max-keys", max_keys};
    }
    struct mrap_s3_request req = {.method = "GET", .params = params, .n_params = n};
    mrap_http_response_init(&resp, MRAP_S3_LIST_BODY_MAX);
    int rc = mrap_s3_execute(c, &req, &resp, err);
    if (!rc)
        rc = mrap_s3_list_parse(resp.body.data ? resp.body.data : "", resp.body.len, page);
    mrap_http_response_cleanup(&resp);
    return rc;
}
