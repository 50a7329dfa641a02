/*
 * Object Lock on one object: retention (GOVERNANCE/COMPLIANCE until a date)
 * and legal hold (ON/OFF), with the RFC 3339 dates both use.
 *
 * Dates: S3 writes RetainUntilDate as "2030-01-02T03:04:05.000Z" and
 * accepts any ISO 8601 date-time; users write RFC 3339 in the xattr. The
 * parser takes RFC 3339 exactly (date, 'T', time, optional fraction, 'Z' or
 * a numeric offset) and refuses impossible dates (Feb 30, hour 24) instead
 * of letting timegm() normalise them into a different instant; retention is
 * a legal commitment, so a date that means something else than it says must
 * not be sent.
 */
#include "s3/attrs.h"
#include "s3/attrs_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3/xml.h"

/* n decimal digits at s -> *out; false when any is not a digit. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

int mrap_s3_parse_rfc3339(const char *s, time_t *out)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    if (!s || strlen(s) < 20)
        return -EINVAL;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return -EINVAL;
    const char *p = s + 19;
    if (*p == '.') {
        const char *f = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == f)
            return -EINVAL;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -EINVAL;
        p += 6;
    } else {
        return -EINVAL;
    }
    /* Second 60 (a leap second) is valid RFC 3339; it is taken as :59. */
    if (*p || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || sec > 60)
        return -EINVAL;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec == 60 ? 59 : sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -EINVAL;
    t -= (time_t)sign * (oh * 3600 + om * 60);
    if (t < 0)
        return -EINVAL;
    *out = t;
    return 0;
}

void mrap_s3_format_rfc3339(time_t t, char out[32])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 32, "1970-01-01T00:00:00Z");
}

static const char *mode_name(enum mrap_s3_lock_mode m)
{
    return m == MRAP_S3_LOCK_GOVERNANCE   ? "GOVERNANCE"
           : m == MRAP_S3_LOCK_COMPLIANCE ? "COMPLIANCE"
                                          : NULL;
}

static int mode_parse(const char *s, size_t len, enum mrap_s3_lock_mode *out)
{
    if (len == 10 && strncmp(s, "GOVERNANCE", 10) == 0)
        *out = MRAP_S3_LOCK_GOVERNANCE;
    else if (len == 10 && strncmp(s, "COMPLIANCE", 10) == 0)
        *out = MRAP_S3_LOCK_COMPLIANCE;
    else
        return -EINVAL;
    return 0;
}

int mrap_s3_retention_from_text(const char *s, struct mrap_s3_retention *out)
{
    if (!s)
        return -EINVAL;
    const char *sp = strchr(s, ' ');
    if (!sp || mode_parse(s, (size_t)(sp - s), &out->mode))
        return -EINVAL;
    while (*sp == ' ')
        sp++;
    /* setfattr values often end with a newline (echo); accept one. */
    char date[64];
    size_t n = strcspn(sp, "\n");
    if (n >= sizeof(date) || (sp[n] == '\n' && sp[n + 1]))
        return -EINVAL;
    memcpy(date, sp, n);
    date[n] = '\0';
    return mrap_s3_parse_rfc3339(date, &out->until);
}

void mrap_s3_retention_to_text(const struct mrap_s3_retention *r, char out[64])
{
    const char *m = mode_name(r->mode);
    char date[32];
    if (!m) {
        out[0] = '\0';
        return;
    }
    mrap_s3_format_rfc3339(r->until, date);
    snprintf(out, 64, "%s %s", m, date);
}

static int retention_from_root(xmlNodePtr root, void *arg)
{
    struct mrap_s3_retention *out = arg;
    char mode[16], until[64];
    memset(out, 0, sizeof(*out));
    if (mrap_s3_attrs_child_copy(root, "Mode", mode, sizeof(mode)) ||
        mrap_s3_attrs_child_copy(root, "RetainUntilDate", until, sizeof(until)) ||
        mode_parse(mode, strlen(mode), &out->mode) || mrap_s3_parse_rfc3339(until, &out->until))
        return -EPROTO;
    return 0;
}

int mrap_s3_retention_parse(const char *xml, size_t len, struct mrap_s3_retention *out)
{
    int rc = mrap_s3_attrs_parse_doc(xml, len, "Retention", retention_from_root, out);
    return rc;
}

int mrap_s3_get_retention(struct mrap_s3_client *c, const char *key, struct mrap_s3_retention *out,
                          struct mrap_s3_error *err)
{
    memset(out, 0, sizeof(*out));
    return mrap_s3_attrs_get(c, key, "retention", "Retention", retention_from_root, out, err);
}

int mrap_s3_put_retention(struct mrap_s3_client *c, const char *key,
                          const struct mrap_s3_retention *r, bool bypass_governance,
                          struct mrap_s3_error *err)
{
    struct mrap_buf b;
    struct mrap_s3_op_headers h = {.n = 0};
    const char *m = mode_name(r->mode);
    if ((r->mode != MRAP_S3_LOCK_NONE && !m) || (m && r->until < 0))
        return -EINVAL;
    int rc = mrap_s3_attrs_doc_open(&b, "Retention");
    if (!rc && m) {
        char date[32];
        mrap_s3_format_rfc3339(r->until, date);
        rc = mrap_s3_op_xml_elem(&b, "Mode", m);
        if (!rc)
            rc = mrap_s3_op_xml_elem(&b, "RetainUntilDate", date);
    }
    if (!rc)
        rc = mrap_buf_append_str(&b, "</Retention>");
    if (bypass_governance)
        mrap_s3_op_header_add(&h, "x-amz-bypass-governance-retention", "true");
    if (!rc)
        rc = mrap_s3_attrs_send(c, "PUT", key, "retention", &b, &h, NULL, err);
    mrap_buf_cleanup(&b);
    return rc;
}

static int hold_from_root(xmlNodePtr root, void *arg)
{
    bool *on = arg;
    char status[8];
    if (mrap_s3_attrs_child_copy(root, "Status", status, sizeof(status)))
        return -EPROTO;
    if (strcmp(status, "ON") == 0)
        *on = true;
    else if (strcmp(status, "OFF") == 0)
        *on = false;
    else
        return -EPROTO;
    return 0;
}

int mrap_s3_legal_hold_parse(const char *xml, size_t len, bool *on)
{
    return mrap_s3_attrs_parse_doc(xml, len, "LegalHold", hold_from_root, on);
}

int mrap_s3_get_legal_hold(struct mrap_s3_client *c, const char *key, bool *on,
                           struct mrap_s3_error *err)
{
    return mrap_s3_attrs_get(c, key, "legal-hold", "LegalHold", hold_from_root, on, err);
}

int mrap_s3_put_legal_hold(struct mrap_s3_client *c, const char *key, bool on,
                           struct mrap_s3_error *err)
{
    struct mrap_buf b;
    int rc = mrap_s3_attrs_doc_open(&b, "LegalHold");
    if (!rc)
        rc = mrap_s3_op_xml_elem(&b, "Status", on ? "ON" : "OFF");
    if (!rc)
        rc = mrap_buf_append_str(&b, "</LegalHold>");
    if (!rc)
        rc = mrap_s3_attrs_send(c, "PUT", key, "legal-hold", &b, NULL, NULL, err);
    mrap_buf_cleanup(&b);
    return rc;
}
