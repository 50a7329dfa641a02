"""The unsigned admin API under /_emulator/ (Host localhost or 127.0.0.1), JSON in and out.

    GET  health                 liveness and uptime
    GET  stats                  request accounting (accounting.Stats)
    POST stats/reset            zero the counters
    GET  faults                 current failure injection settings
    POST faults                 set any of slowdown_rate, internal_error_rate, cut_rate,
                                latency_ms, seed
    GET  state                  MRAPs (with region dials), buckets, accounts
    POST routes                 {"mrap": "demo", "active": ["demo-eu-west-1"]} or
                                {"mrap": "demo", "dials": {"demo-us-east-1": 0, ...}}
                                (the same dials S3 Control's SubmitMultiRegionAccessPointRoutes sets)
    GET  control                S3 Control settings and asynchronous operations
    POST control                {"delay_s": 0.2, "unavailable_regions": ["us-east-1"]}:
                                operation delay; Regions whose control endpoint answers 503
    GET  replication            replication lags per MRAP and copy counters
    POST replication            {"mrap": "demo", "lag_s": 1.5} (null: off for that MRAP)
    GET  object?bucket=B&key=K  an object's full metadata (tags, ACL, lock, restore, ...)
    POST object                 seed an object: {"bucket", "key", "body" (base64) or "size",
                                "storage_class", "content_type", "metadata", "tags"}
    DELETE object?bucket=B&key=K  remove an object, ignoring Object Lock
    GET  uploads                open multipart uploads in every bucket

Design: admin requests bypass signatures, faults and accounting entirely, so
tests can observe and steer the emulator without disturbing what they measure.
"""
import base64
import hashlib
import json
import time
import urllib.parse

from .objattrs import canned_acl
from .s3ops import ARCHIVED, STORAGE_CLASSES, restore_state
from .store import CHUNK

_PATTERN = bytes(range(256)) * (CHUNK // 256)


def handle(h, path, raw_query):
    """h: the server's request handler.  Always answers with JSON."""
    app = h.server.app
    query = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
    try:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        body = json.loads(raw) if raw.strip() else {}
        status, doc = _route(app, h.command, path.strip("/"), query, body)
    except (ValueError, KeyError, TypeError) as e:
        status, doc = 400, {"error": "%s: %s" % (type(e).__name__, e)}
    data = json.dumps(doc, indent=1, sort_keys=True).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(data)


def _route(app, method, path, query, body):
    if path == "health":
        return 200, {"ok": True, "uptime_s": round(time.time() - app.started, 3)}
    if path == "stats" and method == "GET":
        return 200, app.stats.snapshot()
    if path == "stats/reset" and method == "POST":
        app.stats.reset()
        return 200, app.stats.snapshot()
    if path == "faults":
        if method == "POST":
            return 200, app.faults.update(body)
        return 200, app.faults.snapshot()
    if path == "state":
        return 200, app.state.snapshot()
    if path == "routes" and method == "POST":
        try:
            mrap = app.state.set_routes(body["mrap"], body.get("active"), body.get("dials"))
        except KeyError:
            return 404, {"error": "no such MRAP: %s" % body.get("mrap")}
        return 200, mrap
    if path == "control":
        if method == "POST":
            _set_control(app, body)
        return 200, dict(app.operations.snapshot(), **app.control_settings)
    if path == "replication":
        if method == "POST":
            try:
                app.replication.set_lag(body["mrap"], body.get("lag_s"))
            except KeyError:
                return 404, {"error": "no such MRAP: %s" % body.get("mrap")}
        return 200, app.replication.snapshot()
    if path == "object":
        return _object(app, method, query, body)
    if path == "uploads" and method == "GET":
        out = []
        for name in sorted(app.state.buckets):
            b = app.store.bucket(name)
            for d in b.list_uploads():
                out.append({"bucket": name, "key": d["key"], "upload_id": d["upload_id"],
                            "initiated": d["initiated"],
                            "parts": [p["number"] for p in b.parts(d["upload_id"])]})
        return 200, {"uploads": out}
    return 404, {"error": "unknown admin path: %s %s" % (method, path)}


def _set_control(app, body):
    unknown = set(body) - {"delay_s", "unavailable_regions"}
    if unknown:
        raise ValueError("unknown control settings: %s" % ", ".join(sorted(unknown)))
    if "delay_s" in body:
        delay = float(body["delay_s"])
        if delay < 0:
            raise ValueError("delay_s must be >= 0")
        app.operations.delay_s = delay
    if "unavailable_regions" in body:
        regions = body["unavailable_regions"]
        if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
            raise ValueError("unavailable_regions must be a list of Region names")
        app.control_settings["unavailable_regions"] = list(regions)


def _object(app, method, query, body):
    if method == "POST":
        return _seed(app, body)
    bucket = query.get("bucket") or ""
    if bucket not in app.state.buckets:
        return 404, {"error": "no such bucket: %s" % bucket}
    b = app.store.bucket(bucket)
    key = query.get("key", "")
    if method == "DELETE":
        return (200, {"deleted": key}) if b.delete(key) else (404, {"error": "no such key"})
    meta = b.head(key)
    if meta is None:
        return 404, {"error": "no such key: %r" % key}
    rs = restore_state(meta)
    meta["restore_status"] = rs[0] if rs else None
    meta["exists"] = True
    return 200, meta


def _seed(app, doc):
    bucket, key = doc["bucket"], doc["key"]
    if bucket not in app.state.buckets:
        return 404, {"error": "no such bucket: %s" % bucket}
    if not key or len(key.encode()) > 1024:
        raise ValueError("key must be 1..1024 bytes")
    sc = doc.get("storage_class", "STANDARD")
    if sc not in STORAGE_CLASSES:
        raise ValueError("invalid storage class %s" % sc)
    tmp = app.store.temp_path()
    md5 = hashlib.md5()
    with open(tmp, "wb") as f:
        if "body" in doc:
            data = base64.b64decode(doc["body"])
            f.write(data)
            md5.update(data)
            size = len(data)
        else:
            size = remaining = int(doc["size"])
            while remaining:
                chunk = _PATTERN[:min(remaining, len(_PATTERN))]
                f.write(chunk)
                md5.update(chunk)
                remaining -= len(chunk)
    account = app.state.buckets[bucket].account
    meta = {"size": size, "etag": md5.hexdigest(), "last_modified": int(time.time()),
            "content_type": doc.get("content_type", "binary/octet-stream"),
            "user_meta": {k.lower(): v for k, v in doc.get("metadata", {}).items()},
            "storage_class": sc, "tags": [[k, v] for k, v in doc.get("tags", {}).items()],
            "acl": canned_acl("private", account), "owner": account, "headers": {},
            "checksums": {}}
    app.store.bucket(bucket).install(key, tmp, meta)
    return 200, {"bucket": bucket, "key": key, "size": size, "etag": meta["etag"],
                 "archived": sc in ARCHIVED}
