/*
 * ListParts and ListMultipartUploads: what an upload holds before it is
 * completed (so a writer can check S3 has exactly its parts), and which
 * uploads are open (so abandoned ones can be found and aborted).
 *
 * The parsers are strict where a wrong answer could do harm: a part with a
 * number, size, ETag or CRC32C that does not parse, parts out of order, a
 * truncated page without its next marker, or more entries than S3 ever sends
 * in a page are -EPROTO for the whole page, because a check made against a
 * partial list would be worthless. Only an upload whose key cannot be a C
 * string (S3's url encoding can carry %00) is skipped, with a warning.
 *
 * Bounds: 16 MiB of XML per page, 1,000 entries per page, and for
 * mrap_s3_mpu_list_all_parts 20 pages and 10,000 parts.
 */
#include "s3/write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/write_internal.h"
#include "s3/xml.h"
#include "util/crc32c.h"
#include "util/log.h"

#define PAGE_MAX_ENTRIES   1000
#define LIST_ALL_MAX_PAGES 20

/* Text of child `name` into out: 0, or -EPROTO when absent, empty or too long. */
static int child(xmlNodePtr node, const char *name, char *out, size_t outlen)
{
    long n = mrap_xml_child_text(node, name, out, outlen);
    return n > 0 && (size_t)n < outlen ? 0 : -EPROTO;
}

static int child_u64(xmlNodePtr node, const char *name, uint64_t max, uint64_t *out)
{
    char num[24];
    int rc = child(node, name, num, sizeof(num));
    return rc ? rc : mrap_s3_op_parse_u64(num, max, out);
}

/* IsTruncated, which S3 always sends. */
static int truncated_flag(xmlNodePtr root, bool *out)
{
    char flag[8];
    if (child(root, "IsTruncated", flag, sizeof(flag)))
        return -EPROTO;
    if (strcmp(flag, "true") != 0 && strcmp(flag, "false") != 0)
        return -EPROTO;
    *out = flag[0] == 't';
    return 0;
}

static size_t count_children(xmlNodePtr root, const char *name)
{
    size_t n = 0;
    for (xmlNodePtr x = mrap_xml_child(root, name); x; x = mrap_xml_next(x, name))
        n++;
    return n;
}

/* The document's root when it is named `root_name`, else NULL. */
static xmlNodePtr root_named(xmlDocPtr doc, const char *root_name)
{
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    return root && strcmp((const char *)root->name, root_name) == 0 ? root : NULL;
}

/* Fills a page from a document: 0, -EPROTO or -ENOMEM. `after`: the marker
 * the page was asked from (every part must follow it; 0 for uploads). */
typedef int (*page_from_doc_fn)(xmlDocPtr doc, void *page, unsigned after);

static int page_from_bytes(const char *xml, size_t len, page_from_doc_fn fill, void *page)
{
    xmlDocPtr doc = mrap_xml_parse(xml, len);
    int rc = doc ? fill(doc, page, 0) : -EPROTO;
    xmlFreeDoc(doc);
    return rc;
}

/* Runs req and fills the page from its <root> document; the caller cleans up
 * the page on failure. */
static int fetch_page(struct mrap_s3_client *c, const struct mrap_s3_request *req, const char *root,
                      page_from_doc_fn fill, void *page, unsigned after, struct mrap_s3_error *err)
{
    xmlDocPtr doc = NULL;
    struct mrap_http_response resp;
    int rc = mrap_s3_op_xml(c, req, MRAP_S3_OP_PAGE_BODY_MAX, root, &doc, &resp, err);
    if (!rc && (rc = fill(doc, page, after)) == -EPROTO)
        mrap_s3_op_fail(err, &resp, "", "%s %s: malformed page", root, req->key ? req->key : "");
    xmlFreeDoc(doc);
    mrap_http_response_cleanup(&resp);
    return rc;
}

/* ---- parts ---- */

void mrap_s3_part_list_cleanup(struct mrap_s3_part_list *l)
{
    if (!l)
        return;
    free(l->parts);
    memset(l, 0, sizeof(*l));
}

static int parse_part(xmlNodePtr x, struct mrap_s3_part *p)
{
    uint64_t v;
    char lm[64], crc[16];
    if (child_u64(x, "PartNumber", MRAP_S3_MAX_PARTS, &v) || v < 1)
        return -EPROTO;
    p->part_number = (unsigned)v;
    if (child_u64(x, "Size", MRAP_S3_MAX_PART_SIZE, &p->size))
        return -EPROTO;
    if (child(x, "ETag", p->etag, sizeof(p->etag)) || mrap_s3_op_etag_md5(p->etag, p->md5))
        return -EPROTO;
    if (child(x, "LastModified", lm, sizeof(lm)) || mrap_s3_parse_time(lm, &p->last_modified))
        return -EPROTO;
    if (mrap_xml_child(x, "ChecksumCRC32C")) {
        if (child(x, "ChecksumCRC32C", crc, sizeof(crc)) ||
            mrap_crc32c_from_base64(crc, &p->crc32c))
            return -EPROTO;
        p->has_crc32c = true;
    }
    return 0;
}

static int parts_from_doc(xmlDocPtr doc, void *out, unsigned after)
{
    struct mrap_s3_part_list *page = out;
    uint64_t marker = 0;
    xmlNodePtr root = root_named(doc, "ListPartsResult");
    if (!root || truncated_flag(root, &page->truncated))
        return -EPROTO;
    if (page->truncated) {
        /* Without the marker, the next page cannot be asked for. */
        if (child_u64(root, "NextPartNumberMarker", MRAP_S3_MAX_PARTS, &marker))
            return -EPROTO;
        page->next_marker = (unsigned)marker;
    }
    size_t n = count_children(root, "Part");
    if (n > PAGE_MAX_ENTRIES)
        return -EPROTO;
    page->parts = calloc(n ? n : 1, sizeof(*page->parts));
    if (!page->parts)
        return -ENOMEM;
    for (xmlNodePtr x = mrap_xml_child(root, "Part"); x; x = mrap_xml_next(x, "Part")) {
        struct mrap_s3_part *p = &page->parts[page->n];
        unsigned floor = page->n ? p[-1].part_number : after;
        if (parse_part(x, p) || p->part_number <= floor)
            return -EPROTO;
        page->n++;
    }
    return 0;
}

int mrap_s3_list_parts_parse(const char *xml, size_t len, struct mrap_s3_part_list *page)
{
    memset(page, 0, sizeof(*page));
    int rc = page_from_bytes(xml, len, parts_from_doc, page);
    if (rc)
        mrap_s3_part_list_cleanup(page);
    return rc;
}

int mrap_s3_mpu_list_parts(struct mrap_s3_client *c, const char *key, const char *upload_id,
                           unsigned part_number_marker, struct mrap_s3_part_list *page,
                           struct mrap_s3_error *err)
{
    char marker[16];

    memset(page, 0, sizeof(*page));
    if (err)
        memset(err, 0, sizeof(*err));
    int rc = mrap_s3_op_check_key(key);
    if (!rc)
        rc = mrap_s3_write_check_upload_id(upload_id);
    if (!rc && part_number_marker > MRAP_S3_MAX_PARTS)
        rc = -EINVAL;
    if (rc)
        return rc;
    snprintf(marker, sizeof(marker), "%u", part_number_marker);
    struct mrap_s3_param params[] = {
        {"uploadId", upload_id}, {"max-parts", "1000"}, {"part-number-marker", marker}};
    struct mrap_s3_request req = {
        .method = "GET", .key = key, .params = params, .n_params = part_number_marker ? 3 : 2};
    rc = fetch_page(c, &req, "ListPartsResult", parts_from_doc, page, part_number_marker, err);
    if (rc)
        mrap_s3_part_list_cleanup(page);
    return rc;
}

static int append_parts(struct mrap_s3_part_list *all, const struct mrap_s3_part_list *page)
{
    if (!page->n)
        return 0;
    if (all->n + page->n > MRAP_S3_MAX_PARTS ||
        (all->n && page->parts[0].part_number <= all->parts[all->n - 1].part_number))
        return -EPROTO;
    struct mrap_s3_part *grown = realloc(all->parts, (all->n + page->n) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    memcpy(grown + all->n, page->parts, page->n * sizeof(*grown));
    all->parts = grown;
    all->n += page->n;
    return 0;
}

int mrap_s3_mpu_list_all_parts(struct mrap_s3_client *c, const char *key, const char *upload_id,
                               struct mrap_s3_part_list *all, struct mrap_s3_error *err)
{
    struct mrap_s3_part_list page;
    unsigned marker = 0;
    int rc = 0;

    memset(all, 0, sizeof(*all));
    for (unsigned pages = 1;; pages++) {
        rc = mrap_s3_mpu_list_parts(c, key, upload_id, marker, &page, err);
        if (rc)
            break;
        rc = append_parts(all, &page);
        bool more = page.truncated;
        unsigned next = page.next_marker;
        mrap_s3_part_list_cleanup(&page);
        if (rc || !more)
            break;
        if (next <= marker || pages >= LIST_ALL_MAX_PAGES) {
            mrap_log(MRAP_LOG_WARN, "s3", "ListParts %s: %s (page %u, next marker %u after %u)",
                     key, next <= marker ? "pages do not advance" : "too many pages", pages, next,
                     marker);
            rc = -EPROTO;
            break;
        }
        marker = next;
    }
    if (rc)
        mrap_s3_part_list_cleanup(all);
    return rc;
}

int mrap_s3_mpu_parts_match(const struct mrap_s3_part *mine, size_t n,
                            const struct mrap_s3_part_list *listed)
{
    size_t have = listed ? listed->n : 0;
    if (have != n) {
        mrap_log(MRAP_LOG_WARN, "s3", "upload holds %zu parts, %zu were uploaded", have, n);
        return -EIO;
    }
    for (size_t i = 0; i < n; i++) {
        const struct mrap_s3_part *a = &mine[i], *b = &listed->parts[i];
        bool crc_differs = a->has_crc32c && b->has_crc32c && a->crc32c != b->crc32c;
        if (a->part_number != b->part_number || a->size != b->size ||
            !mrap_s3_write_etag_equal(a->etag, b->etag) || crc_differs) {
            mrap_log(MRAP_LOG_WARN, "s3",
                     "upload part %u differs: listed part %u, %llu bytes, ETag %s%s; uploaded "
                     "%llu bytes, ETag %s",
                     a->part_number, b->part_number, (unsigned long long)b->size, b->etag,
                     crc_differs ? ", another CRC32C" : "", (unsigned long long)a->size, a->etag);
            return -EIO;
        }
    }
    return 0;
}

/* ---- uploads ---- */

void mrap_s3_upload_page_cleanup(struct mrap_s3_upload_page *page)
{
    if (!page)
        return;
    for (size_t i = 0; i < page->n; i++) {
        free(page->uploads[i].key);
        free(page->uploads[i].upload_id);
    }
    free(page->uploads);
    free(page->next_key_marker);
    free(page->next_upload_id_marker);
    memset(page, 0, sizeof(*page));
}

/* 0, -EPROTO for a malformed entry, or 1 for a key that cannot be used. */
static int parse_upload(xmlNodePtr x, bool url, struct mrap_s3_upload *u)
{
    char when[64];
    u->key = mrap_xml_child_strdup(x, "Key");
    u->upload_id = mrap_xml_child_strdup(x, "UploadId");
    if (!u->key || !*u->key || !u->upload_id || mrap_s3_write_check_upload_id(u->upload_id))
        return -EPROTO;
    if (child(x, "Initiated", when, sizeof(when)) || mrap_s3_parse_time(when, &u->initiated))
        return -EPROTO;
    if (mrap_xml_child(x, "StorageClass") &&
        child(x, "StorageClass", u->storage_class, sizeof(u->storage_class)))
        return -EPROTO;
    return url && mrap_s3_op_url_decode(u->key) ? 1 : 0;
}

static int uploads_from_doc(xmlDocPtr doc, void *out, unsigned after)
{
    struct mrap_s3_upload_page *page = out;
    char enc[8];
    xmlNodePtr root = root_named(doc, "ListMultipartUploadsResult");
    if (!root || truncated_flag(root, &page->truncated))
        return -EPROTO;
    bool url =
        mrap_xml_child_text(root, "EncodingType", enc, sizeof(enc)) == 3 && strcmp(enc, "url") == 0;
    if (page->truncated) {
        page->next_key_marker = mrap_xml_child_strdup(root, "NextKeyMarker");
        page->next_upload_id_marker = mrap_xml_child_strdup(root, "NextUploadIdMarker");
        if (!page->next_key_marker || !*page->next_key_marker ||
            (url && mrap_s3_op_url_decode(page->next_key_marker)))
            return -EPROTO; /* a truncated page must say where the next one starts */
        if (!page->next_upload_id_marker && !(page->next_upload_id_marker = strdup("")))
            return -ENOMEM;
    }
    size_t n = count_children(root, "Upload");
    if (n > PAGE_MAX_ENTRIES)
        return -EPROTO;
    page->uploads = calloc(n ? n : 1, sizeof(*page->uploads));
    if (!page->uploads)
        return -ENOMEM;
    for (xmlNodePtr x = mrap_xml_child(root, "Upload"); x; x = mrap_xml_next(x, "Upload")) {
        struct mrap_s3_upload *u = &page->uploads[page->n];
        int rc = parse_upload(x, url, u);
        if (rc == 1) {
            mrap_log(MRAP_LOG_WARN, "s3", "uploads: skipping upload %s of an unusable key",
                     u->upload_id);
            free(u->key);
            free(u->upload_id);
            memset(u, 0, sizeof(*u));
            continue;
        }
        page->n++; /* counted even on failure, so cleanup frees its strings */
        if (rc)
            return rc;
    }
    return 0;
}

int mrap_s3_list_uploads_parse(const char *xml, size_t len, struct mrap_s3_upload_page *page)
{
    memset(page, 0, sizeof(*page));
    int rc = page_from_bytes(xml, len, uploads_from_doc, page);
    if (rc)
        mrap_s3_upload_page_cleanup(page);
    return rc;
}

int mrap_s3_list_uploads(struct mrap_s3_client *c, const char *prefix, const char *key_marker,
                         const char *upload_id_marker, struct mrap_s3_upload_page *page,
                         struct mrap_s3_error *err)
{
    struct mrap_s3_param params[6] = {
        {"uploads", NULL}, {"encoding-type", "url"}, {"max-uploads", "1000"}};
    size_t n = 3;

    memset(page, 0, sizeof(*page));
    if (err)
        memset(err, 0, sizeof(*err));
    if ((prefix && strlen(prefix) > MRAP_S3_KEY_MAX) ||
        (key_marker && strlen(key_marker) > MRAP_S3_KEY_MAX))
        return -ENAMETOOLONG;
    if (upload_id_marker && *upload_id_marker && mrap_s3_write_check_upload_id(upload_id_marker))
        return -EINVAL;
    if (prefix && *prefix)
        params[n++] = (struct mrap_s3_param){"prefix", prefix};
    if (key_marker && *key_marker) {
        params[n++] = (struct mrap_s3_param){"key-marker", key_marker};
        if (upload_id_marker && *upload_id_marker)
            params[n++] = (struct mrap_s3_param){"upload-id-marker", upload_id_marker};
    }
    struct mrap_s3_request req = {.method = "GET", .params = params, .n_params = n};
    int rc = fetch_page(c, &req, "ListMultipartUploadsResult", uploads_from_doc, page, 0, err);
    if (rc)
        mrap_s3_upload_page_cleanup(page);
    return rc;
}
