/*
 * S3 failures -> errno: the one mapping table. See errors.h for the contract.
 *
 * Order of precedence: the S3 <Code> when there is one (it is the most
 * specific), then the HTTP status (HEAD responses have no body, and proxies
 * or load balancers answer without S3 codes), then the transport errno when
 * no response arrived.
 *
 * What a filesystem user sees, and why:
 *  - Missing things (NoSuchKey, NoSuchBucket, NoSuchUpload, NoSuchAccessPoint,
 *    404) -> ENOENT.
 *  - Refusals (AccessDenied, AllAccessDisabled, 401/403) -> EACCES. Credential
 *    and signing failures (InvalidAccessKeyId, SignatureDoesNotMatch,
 *    ExpiredToken, InvalidToken, RequestTimeTooSkewed, ...) are EACCES too: to
 *    the user it is "not allowed"; the S3 code in the log line tells them apart.
 *  - AccessDenied whose message names Object Lock -> EPERM: the object is
 *    protected by policy (retention / legal hold), which no permission change
 *    for this user would fix; that is EPERM's meaning as opposed to EACCES.
 *  - InvalidObjectState (archived in Glacier / Deep Archive / an archive tier
 *    and not restored) -> ENODATA, "No data available": the object exists
 *    but its data cannot be read now. EACCES would send users chasing IAM
 *    policies, EIO suggests corruption, EAGAIN invites a retry loop that
 *    cannot succeed until someone restores the object.
 *  - PreconditionFailed / 412 -> ESTALE: an If-Match on the ETag we cached
 *    failed, i.e. the object changed under an open file.
 *  - 304 Not Modified -> EALREADY ("what you have is already current"). It only
 *    answers a conditional request the caller made on purpose, so the caller
 *    handles it before asking for an errno; EALREADY keeps it distinct from
 *    every real failure (EAGAIN is taken by nothing here, but reads as "retry").
 *  - InvalidRange / 416 -> EINVAL (a read past the end the caller should have
 *    clamped).
 *  - Requests S3 found malformed (MalformedXML, InvalidArgument,
 *    InvalidRequest, InvalidPart, InvalidPartOrder, EntityTooSmall, InvalidTag,
 *    InvalidURI, MetadataTooLarge, ...) -> EINVAL: the request mrapfs built was
 *    refused as invalid; retrying it unchanged cannot help.
 *  - Integrity failures (BadDigest, InvalidDigest, XAmzContentSHA256Mismatch,
 *    IncompleteBody) -> EIO: bytes were damaged or lost in transit; EIO is the
 *    honest answer for data that did not arrive intact.
 *  - EntityTooLarge -> EFBIG; KeyTooLongError -> ENAMETOOLONG; NotImplemented,
 *    MethodNotAllowed, 405, 501 -> ENOTSUP; QuotaExceeded,
 *    ServiceQuotaExceeded, TooManyBuckets -> EDQUOT; BucketNotEmpty ->
 *    ENOTEMPTY; BucketAlreadyExists/OwnedByYou -> EEXIST.
 *  - Server trouble (500/502/503/504, SlowDown, InternalError,
 *    ServiceUnavailable, RequestTimeout, throttling) -> EIO. The retry loop
 *    above consults mrap_s3_error_retryable(); this errno is what the user sees
 *    once retries are exhausted. EAGAIN would be wrong there: read(2) callers
 *    treat EAGAIN as "non-blocking, try again" and may spin.
 *  - Transport failures (no response: reset, refused, unreachable, timeout,
 *    TLS, over-bound body) -> EIO for the same reason: to a program reading a
 *    file, a network failure is an I/O error. The precise transport errno
 *    stays in the struct and in the log line. ENOMEM passes through.
 *  - Attributes that are not set (NoSuchTagSet, NoSuchObjectLockConfiguration)
 *    -> ENODATA, what getxattr(2) answers for an attribute that does not
 *    exist; the object itself is there (a missing object is NoSuchKey).
 *    ObjectLockConfigurationNotFoundError and AccessControlListNotSupported
 *    (the bucket has no Object Lock / enforces owner-only ACLs) -> ENOTSUP.
 *  - RestoreAlreadyInProgress -> EINPROGRESS: the restore asked for is
 *    already under way (callers of RestoreObject treat it as an outcome).
 *  - S3 Control (MRAP management): NoSuchMultiRegionAccessPoint and
 *    NoSuchAsyncRequest -> ENOENT; MalformedPolicy -> EINVAL;
 *    IdempotencyException (a ClientToken reused for a different request)
 *    -> EEXIST.
 *  - Anything else (unknown 3xx/4xx codes, a bare 400 or 409 without a code,
 *    a 2xx with no code) -> EIO.
 */
#include "s3/errors.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "s3/xml.h"

/* The table. Codes compare exactly (S3 codes are case-sensitive identifiers). */
struct code_map {
    const char *code;
    int err;        /* negative errno */
    bool retryable; /* another attempt may succeed */
};

static const struct code_map code_table[] = {
    /* missing */
    {"NoSuchKey", -ENOENT, false},
    {"NoSuchBucket", -ENOENT, false},
    {"NoSuchUpload", -ENOENT, false},
    {"NoSuchVersion", -ENOENT, false},
    {"NoSuchAccessPoint", -ENOENT, false},
    {"NoSuchMultiRegionAccessPoint", -ENOENT, false},
    {"NotFound", -ENOENT, false},
    {"NoSuchAsyncRequest", -ENOENT, false}, /* an unknown S3 Control request token */
    /* attributes that are not set on an existing object */
    {"NoSuchTagSet", -ENODATA, false},
    {"NoSuchObjectLockConfiguration", -ENODATA, false},
    {"ObjectLockConfigurationNotFoundError", -ENOTSUP, false},
    {"AccessControlListNotSupported", -ENOTSUP, false},
    {"RestoreAlreadyInProgress", -EINPROGRESS, false},
    /* refused */
    {"AccessDenied", -EACCES, false}, /* or EPERM for Object Lock: see lock_refusal() */
    {"AllAccessDisabled", -EACCES, false},
    {"AllAccountsDisabled", -EACCES, false},
    {"AccountProblem", -EACCES, false},
    {"NotSignedUp", -EACCES, false},
    {"UserSuspended", -EACCES, false},
    /* authentication / signing: EACCES, told apart by code in the log */
    {"InvalidAccessKeyId", -EACCES, false},
    {"SignatureDoesNotMatch", -EACCES, false},
    {"ExpiredToken", -EACCES, false},
    {"InvalidToken", -EACCES, false},
    {"TokenRefreshRequired", -EACCES, false},
    {"RequestTimeTooSkewed", -EACCES, false},
    {"RequestExpired", -EACCES, false},
    {"AuthorizationHeaderMalformed", -EACCES, false},
    {"MissingSecurityHeader", -EACCES, false},
    {"InvalidSecurity", -EACCES, false},
    /* object state and conditions */
    {"InvalidObjectState", -ENODATA, false},
    {"PreconditionFailed", -ESTALE, false},
    {"ConditionalRequestConflict", -ESTALE, false},
    {"NotModified", -EALREADY, false},
    {"InvalidRange", -EINVAL, false},
    /* the request we built was refused as invalid */
    {"MalformedXML", -EINVAL, false},
    {"InvalidArgument", -EINVAL, false},
    {"InvalidRequest", -EINVAL, false},
    {"InvalidPart", -EINVAL, false},
    {"InvalidPartOrder", -EINVAL, false},
    {"EntityTooSmall", -EINVAL, false},
    {"InvalidTag", -EINVAL, false},
    {"InvalidURI", -EINVAL, false},
    {"InvalidBucketName", -EINVAL, false},
    {"InvalidStorageClass", -EINVAL, false},
    {"MetadataTooLarge", -EINVAL, false},
    {"MissingContentLength", -EINVAL, false},
    {"MissingRequestBodyError", -EINVAL, false},
    {"MalformedACLError", -EINVAL, false},
    {"UnresolvableGrantByEmailAddress", -EINVAL, false},
    {"BadRequest", -EINVAL, false},
    {"InvalidRetentionPeriod", -EINVAL, false},
    {"MalformedPolicy", -EINVAL, false},
    /* integrity: data damaged or lost in transit */
    {"BadDigest", -EIO, false},
    {"InvalidDigest", -EIO, false},
    {"XAmzContentSHA256Mismatch", -EIO, false},
    {"IncompleteBody", -EIO, false},
    /* limits */
    {"EntityTooLarge", -EFBIG, false},
    {"KeyTooLongError", -ENAMETOOLONG, false},
    {"KeyTooLong", -ENAMETOOLONG, false},
    {"QuotaExceeded", -EDQUOT, false},
    {"ServiceQuotaExceeded", -EDQUOT, false},
    {"TooManyBuckets", -EDQUOT, false},
    /* unsupported */
    {"NotImplemented", -ENOTSUP, false},
    {"MethodNotAllowed", -ENOTSUP, false},
    /* buckets */
    {"BucketNotEmpty", -ENOTEMPTY, false},
    {"BucketAlreadyExists", -EEXIST, false},
    {"BucketAlreadyOwnedByYou", -EEXIST, false},
    {"IdempotencyException", -EEXIST, false},
    /* transient: server trouble and throttling (botocore's standard retry
     * lists: transient codes plus throttling codes) */
    {"InternalError", -EIO, true},
    {"ServiceUnavailable", -EIO, true},
    {"SlowDown", -EIO, true},
    {"RequestTimeout", -EIO, true},
    {"RequestTimeoutException", -EIO, true},
    {"PriorRequestNotComplete", -EIO, true},
    {"Throttling", -EIO, true},
    {"ThrottlingException", -EIO, true},
    {"ThrottledException", -EIO, true},
    {"RequestThrottled", -EIO, true},
    {"RequestThrottledException", -EIO, true},
    {"TooManyRequestsException", -EIO, true},
    {"RequestLimitExceeded", -EIO, true},
    {"BandwidthLimitExceeded", -EIO, true},
    {"LimitExceededException", -EIO, true},
    {"ProvisionedThroughputExceededException", -EIO, true},
    {"TransactionInProgressException", -EIO, true},
    {"EC2ThrottledException", -EIO, true},
};

struct status_map {
    long status;
    int err;
    bool retryable;
};

static const struct status_map status_table[] = {
    {304, -EALREADY, false}, {400, -EIO, false},    {401, -EACCES, false},
    {403, -EACCES, false},   {404, -ENOENT, false}, {405, -ENOTSUP, false},
    {408, -EIO, true},       {409, -EIO, false},    {411, -EINVAL, false},
    {412, -ESTALE, false},   {413, -EFBIG, false},  {414, -ENAMETOOLONG, false},
    {416, -EINVAL, false},   {429, -EIO, true},     {500, -EIO, true},
    {501, -ENOTSUP, false},  {502, -EIO, true},     {503, -EIO, true},
    {504, -EIO, true},
};

static const struct code_map *find_code(const char *code)
{
    if (!code[0])
        return NULL;
    for (size_t i = 0; i < sizeof(code_table) / sizeof(code_table[0]); i++)
        if (strcmp(code_table[i].code, code) == 0)
            return &code_table[i];
    return NULL;
}

static const struct status_map *find_status(long status)
{
    for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
        if (status_table[i].status == status)
            return &status_table[i];
    return NULL;
}

/* S3 refuses deletes and overwrites of locked objects with AccessDenied and a
 * message naming Object Lock ("Access Denied because object protected by
 * object lock."). */
static bool lock_refusal(const struct mrap_s3_error *e)
{
    return strcmp(e->code, "AccessDenied") == 0 && strcasestr(e->message, "object lock") != NULL;
}

int mrap_s3_error_errno(const struct mrap_s3_error *e)
{
    if (lock_refusal(e))
        return -EPERM;
    const struct code_map *c = find_code(e->code);
    if (c)
        return c->err;
    if (e->http_status > 0) {
        const struct status_map *s = find_status(e->http_status);
        return s ? s->err : -EIO;
    }
    if (e->transport_errno == -ENOMEM)
        return -ENOMEM;
    return -EIO;
}

bool mrap_s3_error_retryable(const struct mrap_s3_error *e)
{
    const struct code_map *c = find_code(e->code);
    if (c)
        return c->retryable;
    if (e->http_status > 0) {
        const struct status_map *s = find_status(e->http_status);
        return s && s->retryable;
    }
    /* No response. Resets and timeouts are transient; a refused connection,
     * an unknown host, a TLS failure or an over-bound body will fail the same
     * way next time, so the caller fails fast instead of backing off. */
    switch (e->transport_errno) {
    case -ECONNRESET:
    case -ECONNABORTED:
    case -EPIPE:
    case -ETIMEDOUT:
        return true;
    default:
        return false;
    }
}

/* Copies text for the log: bounded, NUL-terminated, control bytes replaced,
 * so a hostile server cannot forge log lines. */
static void copy_clean(char *dst, size_t dstlen, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < dstlen; i++) {
        unsigned char ch = (unsigned char)src[i];
        dst[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    dst[i] = '\0';
}

int mrap_s3_error_parse(struct mrap_s3_error *e, const char *xml, size_t len)
{
    int rc = -EPROTO;
    xmlDocPtr doc = NULL;
    char tmp[512];

    e->code[0] = '\0';
    e->message[0] = '\0';
    if (!xml || !len)
        goto out;
    doc = mrap_xml_parse(xml, len);
    if (!doc)
        goto out;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr outer = NULL;
    /* S3 Control may wrap the error as <ErrorResponse><Error>..</Error>
     * <RequestId>..</RequestId></ErrorResponse> (the rest-xml shape botocore
     * also accepts). */
    if (root && strcmp((const char *)root->name, "ErrorResponse") == 0) {
        outer = root;
        root = mrap_xml_child(root, "Error");
    }
    if (!root || strcmp((const char *)root->name, "Error") != 0)
        goto out;
    if (mrap_xml_child_text(root, "Code", tmp, sizeof(tmp)) <= 0)
        goto out;
    copy_clean(e->code, sizeof(e->code), tmp);
    if (mrap_xml_child_text(root, "Message", tmp, sizeof(tmp)) >= 0)
        copy_clean(e->message, sizeof(e->message), tmp);
    /* Keep the x-amz-request-id the caller may have taken from the headers
     * when the body has none. */
    if (mrap_xml_child_text(root, "RequestId", tmp, sizeof(tmp)) > 0 ||
        (outer && mrap_xml_child_text(outer, "RequestId", tmp, sizeof(tmp)) > 0))
        copy_clean(e->request_id, sizeof(e->request_id), tmp);
    rc = 0;
out:
    xmlFreeDoc(doc);
    return rc;
}

void mrap_s3_error_format(const struct mrap_s3_error *e, char *out, size_t outlen)
{
    char what[128];
    char rid[sizeof(e->request_id) + 16] = "";

    if (!out || !outlen)
        return;
    if (e->request_id[0])
        snprintf(rid, sizeof(rid), " [request id %s]", e->request_id);

    if (e->http_status == 0) {
        /* No response: the transport errno says what happened. */
        char ebuf[64];
        int err = e->transport_errno ? -e->transport_errno : EIO;
        snprintf(out, outlen, "no response: %s%s", strerror_r(err, ebuf, sizeof(ebuf)), rid);
        return;
    }
    if (e->code[0])
        snprintf(what, sizeof(what), "%s (%ld)", e->code, e->http_status);
    else
        snprintf(what, sizeof(what), "HTTP %ld", e->http_status);
    if (e->message[0])
        snprintf(out, outlen, "%s: %s%s", what, e->message, rid);
    else
        snprintf(out, outlen, "%s%s", what, rid);
}
