/*
 * Object tagging: Get/Put/DeleteObjectTagging, with S3's tag rules checked
 * before sending.
 *
 * Why check locally: the filesystem turns each `setfattr -n user.s3.tag.K`
 * into a PutObjectTagging of the whole set; a bad key should fail that one
 * call with a precise errno (E2BIG for length, EINVAL for characters) instead
 * of S3's generic InvalidTag after a round trip. The rules are S3's documented
 * ones: at most 10 tags, keys 1..128 and values 0..256 Unicode characters,
 * letters, digits, spaces and + - = . _ : / @, no "aws:" prefix. "Letters" is
 * Unicode-wide; rather than carry Unicode tables, every non-ASCII character
 * that is not a control character is accepted, and S3 remains the final
 * judge (InvalidTag -> -EINVAL).
 */
#include "s3/attrs.h"
#include "s3/attrs_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "s3/xml.h"

/* Bound on what a <Tagging> answer may hold: S3's limits, in bytes (4 per character). */
#define MAX_KEY_BYTES   (MRAP_S3_TAG_KEY_MAX_CHARS * 4 + 1)
#define MAX_VALUE_BYTES (MRAP_S3_TAG_VALUE_MAX_CHARS * 4 + 1)

/*
 * Counts the characters of s if it is valid UTF-8 made of characters S3
 * allows in tags; -1 otherwise. Overlong forms, surrogates and code points
 * past U+10FFFF are invalid UTF-8; C0/C1 controls and DEL are not allowed.
 */
static long tag_chars(const char *s)
{
    long n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c < 0x80) {
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      (c != 0 && strchr(" +-=._:/@", (int)c) != NULL);
            if (!ok)
                return -1;
            p++;
            n++;
            continue;
        }
        unsigned len, cp, min;
        if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return -1;
        }
        for (unsigned i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return -1;
            cp = cp << 6 | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp < 0xA0)
            return -1; /* overlong, out of range, surrogate, or a C1 control */
        p += len;
        n++;
    }
    return n;
}

int mrap_s3_tag_check(const char *key, const char *value)
{
    if (!key || !value)
        return -EINVAL;
    long kn = tag_chars(key), vn = tag_chars(value);
    if (kn < 0 || vn < 0 || kn == 0 || strncmp(key, "aws:", 4) == 0)
        return -EINVAL;
    if (kn > (long)MRAP_S3_TAG_KEY_MAX_CHARS || vn > (long)MRAP_S3_TAG_VALUE_MAX_CHARS)
        return -E2BIG;
    return 0;
}

int mrap_s3_tags_check(const struct mrap_s3_tag *tags, size_t n)
{
    if (n > MRAP_S3_TAGS_MAX)
        return -E2BIG;
    for (size_t i = 0; i < n; i++) {
        int rc = mrap_s3_tag_check(tags[i].key, tags[i].value);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(tags[i].key, tags[j].key) == 0)
                return -EINVAL; /* S3: "Cannot provide multiple Tags with the same key" */
    }
    return 0;
}

void mrap_s3_tagset_cleanup(struct mrap_s3_tagset *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].key);
        free(t->v[i].value);
    }
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

static int parse_tagging_root(xmlNodePtr root, void *arg)
{
    struct mrap_s3_tagset *out = arg;
    xmlNodePtr set = mrap_xml_child(root, "TagSet");
    if (!set)
        return -EPROTO;
    for (xmlNodePtr t = mrap_xml_child(set, "Tag"); t; t = mrap_xml_next(t, "Tag")) {
        if (out->n >= MRAP_S3_TAGS_MAX)
            return -EPROTO;
        char *k = malloc(MAX_KEY_BYTES), *v = malloc(MAX_VALUE_BYTES);
        struct mrap_s3_tag *grown = realloc(out->v, (out->n + 1) * sizeof(*grown));
        if (grown)
            out->v = grown;
        if (!k || !v || !grown) {
            free(k);
            free(v);
            return -ENOMEM;
        }
        out->v[out->n++] = (struct mrap_s3_tag){k, v};
        /* An absent <Value> is not valid; an empty one is "". */
        if (mrap_s3_attrs_child_copy(t, "Key", k, MAX_KEY_BYTES) ||
            mrap_s3_attrs_child_copy(t, "Value", v, MAX_VALUE_BYTES) || !*k)
            return -EPROTO;
    }
    return 0;
}

int mrap_s3_tagging_parse(const char *xml, size_t len, struct mrap_s3_tagset *out)
{
    memset(out, 0, sizeof(*out));
    int rc = mrap_s3_attrs_parse_doc(xml, len, "Tagging", parse_tagging_root, out);
    if (rc)
        mrap_s3_tagset_cleanup(out);
    return rc;
}

int mrap_s3_get_tagging(struct mrap_s3_client *c, const char *key, struct mrap_s3_tagset *out,
                        struct mrap_s3_error *err)
{
    memset(out, 0, sizeof(*out));
    int rc = mrap_s3_attrs_get(c, key, "tagging", "Tagging", parse_tagging_root, out, err);
    if (rc)
        mrap_s3_tagset_cleanup(out);
    return rc;
}

int mrap_s3_put_tagging(struct mrap_s3_client *c, const char *key, const struct mrap_s3_tag *tags,
                        size_t n, struct mrap_s3_error *err)
{
    struct mrap_buf b;
    int rc = mrap_s3_tags_check(tags, n);
    if (rc)
        return rc;
    rc = mrap_s3_attrs_doc_open(&b, "Tagging");
    if (!rc)
        rc = mrap_buf_append_str(&b, "<TagSet>");
    for (size_t i = 0; !rc && i < n; i++) {
        rc = mrap_buf_append_str(&b, "<Tag>");
        if (!rc)
            rc = mrap_s3_op_xml_elem(&b, "Key", tags[i].key);
        if (!rc)
            rc = mrap_s3_op_xml_elem(&b, "Value", tags[i].value);
        if (!rc)
            rc = mrap_buf_append_str(&b, "</Tag>");
    }
    if (!rc)
        rc = mrap_buf_append_str(&b, "</TagSet></Tagging>");
    if (!rc)
        rc = mrap_s3_attrs_send(c, "PUT", key, "tagging", &b, NULL, NULL, err);
    mrap_buf_cleanup(&b);
    return rc;
}

int mrap_s3_delete_tagging(struct mrap_s3_client *c, const char *key, struct mrap_s3_error *err)
{
    int rc = mrap_s3_op_check_key(key);
    if (rc)
        return rc;
    struct mrap_s3_param p[] = {{"tagging", NULL}};
    struct mrap_s3_request req = {.method = "DELETE", .key = key, .params = p, .n_params = 1};
    return mrap_s3_op_run(c, &req, MRAP_S3_OP_SMALL_BODY_MAX, NULL, err);
}
