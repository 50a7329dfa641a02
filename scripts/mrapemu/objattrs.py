"""Object attributes with S3's validation rules: tags, ACLs, Object Lock.

Design: pure functions from request input (headers or XML) to the JSON-able
values stored in an object's sidecar, and back to S3's XML.  Stored forms:

    tags:       [[key, value], ...]                       (order kept)
    acl:        [{"type": "CanonicalUser", "id": .., "permission": ..},
                 {"type": "Group", "uri": .., "permission": ..}, ...]
    retention:  {"mode": "GOVERNANCE"|"COMPLIANCE", "until": epoch seconds}
    legal_hold: "ON" | "OFF"

Buckets are modelled with ACLs enabled (Object Ownership "ObjectWriter"):
new AWS buckets default to BucketOwnerEnforced, which would refuse every ACL
change with AccessControlListNotSupported, and the issue asks for working ACLs.

The emulator does not model versioning.  S3 Object Lock protects object
versions (an overwrite of a locked object creates a new version); without
versions, the emulator protects the one current object instead: a locked
object can be neither deleted nor overwritten (403 AccessDenied) unless a
GOVERNANCE lock is bypassed with x-amz-bypass-governance-retention: true.
"""
import time
import urllib.parse

from .common import canonical_id, iso_date, parse_iso_date, parse_xml, text_of
from .xmlresp import S3Error, access_denied, el, invalid_argument, invalid_request, malformed_xml

XSI = "http://www.w3.org/2001/XMLSchema-instance"
GROUPS = {
    "AllUsers": "http://acs.amazonaws.com/groups/global/AllUsers",
    "AuthenticatedUsers": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
    "LogDelivery": "http://acs.amazonaws.com/groups/s3/LogDelivery",
}
EC2_BUNDLE_ID = "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c"
PERMISSIONS = ("FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP")
GRANT_HEADERS = (("x-amz-grant-full-control", "FULL_CONTROL"), ("x-amz-grant-read", "READ"),
                 ("x-amz-grant-read-acp", "READ_ACP"), ("x-amz-grant-write-acp", "WRITE_ACP"),
                 ("x-amz-grant-write", "WRITE"))
LOCK_PROTECTED = "Access Denied because object protected by object lock."
NO_LOCK_CONFIG = "Bucket is missing Object Lock Configuration"

# -- tags ---------------------------------------------------------------------


def validate_tags(pairs):
    if len(pairs) > 10:
        raise S3Error(400, "BadRequest", "Object tags cannot be greater than 10")
    seen = set()
    for k, v in pairs:
        if not k:
            raise S3Error(400, "InvalidTag", "The TagKey you have provided is invalid")
        if len(k) > 128:
            raise S3Error(400, "InvalidTag", "The TagKey you have provided is too long, max 128")
        if len(v) > 256:
            raise S3Error(400, "InvalidTag",
                          "The TagValue you have provided is too long, max 256")
        if k in seen:
            raise S3Error(400, "InvalidTag", "Cannot provide multiple Tags with the same key")
        seen.add(k)
    return [[k, v] for k, v in pairs]


def tags_from_header(value):
    """x-amz-tagging: a URL query string, k1=v1&k2=v2."""
    pairs = urllib.parse.parse_qsl(value, keep_blank_values=True)
    return validate_tags(pairs)


def tags_from_xml(data):
    root = parse_xml(data)
    tagset = root.find("TagSet") if root.tag == "Tagging" else None
    if tagset is None:
        raise malformed_xml()
    pairs = []
    for tag in tagset.findall("Tag"):
        k, v = text_of(tag, "Key"), text_of(tag, "Value")
        if k is None or v is None:
            raise malformed_xml()
        pairs.append((k, v))
    return validate_tags(pairs)


def tags_xml(tags):
    return ["<TagSet>"] + ["<Tag>%s%s</Tag>" % (el("Key", k), el("Value", v)) for k, v in tags] \
        + ["</TagSet>"]


# -- ACLs ---------------------------------------------------------------------


def _owner_grant(owner):
    return {"type": "CanonicalUser", "id": canonical_id(owner), "permission": "FULL_CONTROL"}


def canned_acl(name, owner):
    grants = [_owner_grant(owner)]
    if name in ("private", "bucket-owner-read", "bucket-owner-full-control"):
        pass   # the bucket owner is the object owner here: no second grant
    elif name == "public-read":
        grants.append({"type": "Group", "uri": GROUPS["AllUsers"], "permission": "READ"})
    elif name == "public-read-write":
        grants.append({"type": "Group", "uri": GROUPS["AllUsers"], "permission": "READ"})
        grants.append({"type": "Group", "uri": GROUPS["AllUsers"], "permission": "WRITE"})
    elif name == "authenticated-read":
        grants.append({"type": "Group", "uri": GROUPS["AuthenticatedUsers"], "permission": "READ"})
    elif name == "aws-exec-read":
        grants.append({"type": "CanonicalUser", "id": EC2_BUNDLE_ID, "permission": "READ"})
    else:
        raise invalid_argument("Invalid canned ACL", "x-amz-acl", name)
    return grants


def _grantee_from_header(spec, permission):
    kind, _, value = spec.strip().partition("=")
    value = value.strip().strip('"')
    kind = kind.strip().lower()
    if kind == "id" and value:
        return {"type": "CanonicalUser", "id": value, "permission": permission}
    if kind == "uri" and value in GROUPS.values():
        return {"type": "Group", "uri": value, "permission": permission}
    if kind == "emailaddress":
        raise S3Error(400, "UnresolvableGrantByEmailAddress",
                      "The e-mail address you provided does not match any account on record.",
                      [("EmailAddressProvided", value)])
    raise invalid_argument("Invalid id", "x-amz-grant-" + permission.lower().replace("_", "-"),
                           spec.strip())


def acl_from_headers(ctx, owner, default="private"):
    """The ACL a write request asks for: x-amz-acl or x-amz-grant-*, else `default`.
    Returns None when the request names no ACL and default is None."""
    canned = ctx.h("x-amz-acl")
    grants = []
    for header, permission in GRANT_HEADERS:
        value = ctx.h(header)
        if value:
            grants += [_grantee_from_header(s, permission) for s in value.split(",") if s.strip()]
    if canned is not None and grants:
        raise invalid_request("Specifying both Canned ACLs and Header Grants is not allowed")
    if canned is not None:
        return canned_acl(canned.strip(), owner)
    if grants:
        return grants
    return canned_acl(default, owner) if default else None


def acl_from_xml(data, owner):
    root = parse_xml(data)
    if root.tag != "AccessControlPolicy":
        raise S3Error(400, "MalformedACLError", "The XML you provided was not well-formed or did "
                      "not validate against our published schema")
    owner_el = root.find("Owner")
    if owner_el is None or text_of(owner_el, "ID") is None:
        raise S3Error(400, "MalformedACLError", "The XML you provided was not well-formed or did "
                      "not validate against our published schema")
    if text_of(owner_el, "ID") != canonical_id(owner):
        raise access_denied()
    acl = root.find("AccessControlList")
    grants = []
    for g in (acl.findall("Grant") if acl is not None else []):
        grantee = g.find("Grantee")
        perm = text_of(g, "Permission")
        if grantee is None or perm not in PERMISSIONS:
            raise S3Error(400, "MalformedACLError", "The XML you provided was not well-formed or "
                          "did not validate against our published schema")
        kind = grantee.get("{%s}type" % XSI) or grantee.get("type")
        if kind == "CanonicalUser" and text_of(grantee, "ID"):
            grants.append({"type": kind, "id": text_of(grantee, "ID"), "permission": perm})
        elif kind == "Group" and text_of(grantee, "URI") in GROUPS.values():
            grants.append({"type": kind, "uri": text_of(grantee, "URI"), "permission": perm})
        elif kind == "AmazonCustomerByEmail":
            raise S3Error(400, "UnresolvableGrantByEmailAddress", "The e-mail address you "
                          "provided does not match any account on record.",
                          [("EmailAddressProvided", text_of(grantee, "EmailAddress") or "")])
        else:
            raise S3Error(400, "MalformedACLError", "The XML you provided was not well-formed or "
                          "did not validate against our published schema")
    return grants


def acl_xml(grants, owner):
    out = ["<Owner>%s</Owner><AccessControlList>" % el("ID", canonical_id(owner))]
    for g in grants:
        if g["type"] == "Group":
            who = el("URI", g["uri"])
        else:
            who = el("ID", g["id"])
        out.append('<Grant><Grantee xmlns:xsi="%s" xsi:type="%s">%s</Grantee>%s</Grant>'
                   % (XSI, g["type"], who, el("Permission", g["permission"])))
    out.append("</AccessControlList>")
    return out


# -- Object Lock --------------------------------------------------------------


def lock_from_headers(ctx):
    """(retention or None, legal hold or None) from PutObject/CreateMultipartUpload headers."""
    mode = ctx.h("x-amz-object-lock-mode")
    until = ctx.h("x-amz-object-lock-retain-until-date")
    hold = ctx.h("x-amz-object-lock-legal-hold")
    if (mode is None) != (until is None):
        raise invalid_argument("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode "
                               "must both be supplied")
    retention = None
    if mode is not None:
        if mode not in ("GOVERNANCE", "COMPLIANCE"):
            raise invalid_argument("Unknown wormMode directive.", "x-amz-object-lock-mode", mode)
        ts = parse_iso_date(until)
        if ts is None:
            raise invalid_argument("The retain until date must be provided in ISO 8601 format",
                                   "x-amz-object-lock-retain-until-date", until)
        if ts <= time.time():
            raise invalid_argument("The retain until date must be in the future!")
        retention = {"mode": mode, "until": ts}
    if hold is not None and hold not in ("ON", "OFF"):
        raise invalid_argument("Legal Hold must be either of 'ON' or 'OFF'",
                               "x-amz-object-lock-legal-hold", hold)
    if (retention or hold) and not ctx.bucket.object_lock:
        raise invalid_request(NO_LOCK_CONFIG)
    return retention, hold


def is_locked(meta, bypass, now=None):
    """True when `meta` may not be deleted or overwritten by this request."""
    if meta.get("legal_hold") == "ON":
        return True
    r = meta.get("retention")
    if r and r["until"] > (now or time.time()):
        return not (r["mode"] == "GOVERNANCE" and bypass)
    return False


def bypass_requested(ctx):
    return (ctx.h("x-amz-bypass-governance-retention") or "").strip().lower() == "true"


def lock_headers(meta):
    out = []
    r = meta.get("retention")
    if r:
        out.append(("x-amz-object-lock-mode", r["mode"]))
        out.append(("x-amz-object-lock-retain-until-date", iso_date(r["until"])))
    if meta.get("legal_hold"):
        out.append(("x-amz-object-lock-legal-hold", meta["legal_hold"]))
    return out


def retention_from_xml(data):
    root = parse_xml(data)
    if root.tag != "Retention":
        raise malformed_xml()
    mode, until = text_of(root, "Mode"), text_of(root, "RetainUntilDate")
    if mode is None and until is None:
        return None
    if mode not in ("GOVERNANCE", "COMPLIANCE") or until is None:
        raise malformed_xml()
    ts = parse_iso_date(until)
    if ts is None:
        raise malformed_xml()
    if ts <= time.time():
        raise invalid_argument("The retain until date must be in the future!")
    return {"mode": mode, "until": ts}


def check_retention_change(old, new, bypass, now=None):
    """S3's rules for replacing an object's retention; raises 403 when refused."""
    now = now or time.time()
    if not old or old["until"] <= now:
        return
    weaker = (new is None or new["until"] < old["until"]
              or (old["mode"] == "COMPLIANCE" and new["mode"] != "COMPLIANCE"))
    if not weaker:
        return
    if old["mode"] == "COMPLIANCE" or not bypass:
        raise access_denied()


def legal_hold_from_xml(data):
    root = parse_xml(data)
    status = text_of(root, "Status") if root.tag == "LegalHold" else None
    if status not in ("ON", "OFF"):
        raise malformed_xml()
    return status
