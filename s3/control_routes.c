/*
 * S3 Control route operations: Get/SubmitMultiRegionAccessPointRoutes with
 * route-region failover, and the failover helper built on them.
 *
 * A route operation that gets no answer or a 5xx from one route
 * region (after that region's own retries) moves on to the next; a 4xx is
 * an answer about the request and is returned at once, since another region
 * would say the same.
 */
#include "s3/control.h"
#include "s3/control_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/xml.h"
#include "util/log.h"

#define API MRAP_S3_CONTROL_API

void mrap_s3_routes_cleanup(struct mrap_s3_routes *r)
{
    if (!r)
        return;
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

static int routes_from(xmlNodePtr root, void *arg)
{
    struct mrap_s3_routes *out = arg;
    xmlNodePtr list = mrap_xml_child(root, "Routes");
    void *items;
    if (mrap_s3_control_opt_copy(root, "Mrap", out->mrap, sizeof(out->mrap)))
        return -EPROTO;
    int rc = mrap_s3_control_alloc_items(list, "Route", MRAP_S3_MRAP_MAX_REGIONS, sizeof(*out->v),
                                         &items, &out->n);
    out->v = items;
    size_t i = 0;
    for (xmlNodePtr x = mrap_xml_child(list, "Route"); !rc && x; x = mrap_xml_next(x, "Route")) {
        struct mrap_s3_route *r = &out->v[i++];
        char dial[8];
        uint64_t d;
        if (mrap_s3_control_opt_copy(x, "Bucket", r->bucket, sizeof(r->bucket)) ||
            mrap_s3_control_opt_copy(x, "Region", r->region, sizeof(r->region)) ||
            mrap_xml_child_text(x, "TrafficDialPercentage", dial, sizeof(dial)) <= 0 ||
            mrap_s3_op_parse_u64(dial, 100, &d))
            rc = -EPROTO;
        else
            r->dial = (int)d;
    }
    return rc;
}

static const char *route_regions_at(const struct mrap_s3_control *ctl, size_t k)
{
    return mrap_s3_control_route_region((ctl->route_first + k) % MRAP_S3_CONTROL_N_ROUTE_REGIONS);
}

/* Whether a failure is the region's fault (no answer, or server trouble). */
static bool region_failed(const struct mrap_s3_error *e)
{
    return e->http_status == 0 || e->http_status >= 500;
}

/* Runs one route request on each route region in turn until one answers. */
static int route_call(struct mrap_s3_control *ctl, const char *method, const char *path,
                      const struct mrap_buf *body, const char *root, mrap_s3_attrs_parse_fn parse,
                      void *out, char *served_by, struct mrap_s3_error *err)
{
    struct mrap_s3_error local;
    int rc = -EIO;
    if (!err)
        err = &local;
    for (size_t k = 0; k < MRAP_S3_CONTROL_N_ROUTE_REGIONS; k++) {
        const char *region = route_regions_at(ctl, k);
        rc = mrap_s3_control_call(ctl->route[k], ctl->account, method, path, NULL, 0, body, root,
                                  parse, out, err);
        if (rc == 0) {
            if (served_by)
                snprintf(served_by, 65, "%s", region);
            return 0;
        }
        if (!region_failed(err) || rc == -EPROTO)
            return rc;
        if (k + 1 < MRAP_S3_CONTROL_N_ROUTE_REGIONS)
            mrap_log(MRAP_LOG_WARN, "s3", "S3 Control routes: %s failed; trying %s", region,
                     route_regions_at(ctl, k + 1));
    }
    return rc;
}

int mrap_s3_control_get_routes(struct mrap_s3_control *ctl, const char *mrap,
                               struct mrap_s3_routes *out, char *served_by,
                               struct mrap_s3_error *err)
{
    char path[300];
    memset(out, 0, sizeof(*out));
    if (!mrap_s3_control_mrap_id_valid(mrap))
        return -EINVAL;
    snprintf(path, sizeof(path), API "/mrap/instances/%s/routes", mrap);
    int rc = route_call(ctl, "GET", path, NULL, "GetMultiRegionAccessPointRoutesResult",
                        routes_from, out, served_by, err);
    if (rc)
        mrap_s3_routes_cleanup(out);
    return rc;
}

static int route_elem(struct mrap_buf *b, const struct mrap_s3_route *r)
{
    char dial[8];
    snprintf(dial, sizeof(dial), "%d", r->dial);
    int rc = mrap_buf_append_str(b, "<Route>");
    if (!rc && r->bucket[0])
        rc = mrap_s3_op_xml_elem(b, "Bucket", r->bucket);
    if (!rc && r->region[0])
        rc = mrap_s3_op_xml_elem(b, "Region", r->region);
    if (!rc)
        rc = mrap_s3_op_xml_elem(b, "TrafficDialPercentage", dial);
    if (!rc)
        rc = mrap_buf_append_str(b, "</Route>");
    return rc;
}

int mrap_s3_control_submit_routes(struct mrap_s3_control *ctl, const char *mrap,
                                  const struct mrap_s3_route *routes, size_t n, char *served_by,
                                  struct mrap_s3_error *err)
{
    char path[300];
    struct mrap_buf b;
    if (!mrap_s3_control_mrap_id_valid(mrap) || n < 1 || n > MRAP_S3_MRAP_MAX_REGIONS)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        const struct mrap_s3_route *r = &routes[i];
        size_t blen = strnlen(r->bucket, sizeof(r->bucket));
        if ((!r->bucket[0] && !r->region[0]) || r->dial < 0 || r->dial > 100 ||
            blen >= sizeof(r->bucket) || (blen && blen < 3) ||
            (r->region[0] && !mrap_s3_control_region_valid(r->region)))
            return -EINVAL;
    }
    snprintf(path, sizeof(path), API "/mrap/instances/%s/routes", mrap);
    mrap_buf_init(&b, MRAP_S3_OP_DOC_BODY_MAX);
    int rc =
        mrap_buf_printf(&b,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                        "<SubmitMultiRegionAccessPointRoutesRequest xmlns=\"%s\"><RouteUpdates>",
                        MRAP_S3_CONTROL_XMLNS);
    for (size_t i = 0; !rc && i < n; i++)
        rc = route_elem(&b, &routes[i]);
    if (!rc)
        rc = mrap_buf_append_str(&b, "</RouteUpdates></SubmitMultiRegionAccessPointRoutesRequest>");
    if (!rc)
        rc = route_call(ctl, "PATCH", path, &b, NULL, NULL, NULL, served_by, err);
    mrap_buf_cleanup(&b);
    return rc;
}

int mrap_s3_control_failover(struct mrap_s3_control *ctl, const char *mrap, const char *to_region,
                             char *served_by, struct mrap_s3_error *err)
{
    struct mrap_s3_routes routes;
    bool found = false;
    if (!mrap_s3_control_region_valid(to_region))
        return -EINVAL;
    int rc = mrap_s3_control_get_routes(ctl, mrap, &routes, NULL, err);
    if (rc)
        return rc;
    /* The routes as read name bucket and region; sending both back keeps each
     * update unambiguous. */
    for (size_t i = 0; i < routes.n; i++) {
        bool target = strcmp(routes.v[i].region, to_region) == 0;
        routes.v[i].dial = target ? 100 : 0;
        found = found || target;
    }
    rc = found ? mrap_s3_control_submit_routes(ctl, mrap, routes.v, routes.n, served_by, err)
               : -ENOENT;
    mrap_s3_routes_cleanup(&routes);
    return rc;
}
