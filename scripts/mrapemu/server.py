"""HTTP front end: host routing, authentication, faults, accounting, replies.

Design: a ThreadingHTTPServer (daemon threads, HTTP/1.1 keep-alive, TCP_NODELAY)
whose handler turns each request into a routed Ctx and calls one operation
handler (ops.py).  Per request, in order:

  1. Route by Host.  `<alias>.accesspoint.s3-global.amazonaws.com` and
     `<alias>.localhost[:port]` are the MRAP data plane (path = /<key>);
     `localhost`/`127.0.0.1` are path-style regional buckets (/<bucket>/<key>,
     and `GET /` ListBuckets) plus the unsigned admin API under /_emulator/;
     `<bucket>.localhost` is virtual-hosted regional; `<12 digits>.localhost`
     and `[<account>.]s3-control.<region>.amazonaws.com` are S3 Control (control.py, which
     also authenticates those requests).  An unknown
     MRAP alias is answered 404 NoSuchAccessPoint "The specified accesspoint
     does not exist", the error S3 gives for an access point name it cannot
     resolve.
  2. The path is percent-decoded exactly once ('+' stays a plus) and must be
     UTF-8; the raw target is taken from the request line, untouched (the
     standard library collapses a leading '//', which would change keys).  An
     absolute-form target (`http://host/path`, what a client sends to a proxy)
     is reduced to its path, so clients that cannot resolve `*.localhost` can
     use the emulator as their HTTP proxy (the AWS CLI with HTTP_PROXY).
  3. Failure injection (data plane only): latency, then maybe 503/500/cut.
  4. Signature verification by sigv4.authenticate; then this module's
     endpoint rules: an MRAP needs SigV4A (AWS4-ECDSA-P256-SHA256) for service
     s3 with a region set covering the routed bucket; a regional bucket needs
     its own region.  The credential's account must own the MRAP/bucket.
  5. The handler runs; its Reply is sent with Content-Length always (GET
     bodies with socket.sendfile), x-amz-request-id and x-amz-id-2.

`100 Continue` is sent only when a handler starts reading the body, so a
refused upload is never transmitted.  A body left unread is drained when small,
otherwise the connection is closed.  Every data-plane request is counted once.
"""
import base64
import http.server
import secrets
import socket
import sys
import threading
import time
import traceback
import urllib.parse

from . import admin, control, ops
from .common import Ctx
from .ingest import BodyReader, ClientGone
from .xmlresp import S3Error, error_document, internal_error, invalid_request, no_such_bucket
from .config import valid_bucket_name

try:
    from . import sigv4
except ImportError:   # the verifier is written separately; without it nothing is accepted
    sigv4 = None

SIGV4A = "AWS4-ECDSA-P256-SHA256"
MAX_KEY_BYTES = 1024
DRAIN_LIMIT = 64 << 20
LOCAL_HOSTS = ("localhost", "127.0.0.1")



class Route:
    """Where a request goes: kind is 'mrap', 'regional', 'control' or 'admin'."""

    def __init__(self, kind, alias=None, bucket=None, virtual=False):
        self.kind = kind
        self.alias = alias
        self.bucket = bucket       # virtual-hosted bucket name
        self.virtual = virtual


def route_host(host, path):
    host = (host or "").strip().lower()
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    if name in LOCAL_HOSTS:
        if path.startswith("/_emulator/"):
            return Route("admin")
        return Route("regional")
    if name.endswith(".accesspoint.s3-global.amazonaws.com"):
        return Route("mrap", alias=name[:-len(".accesspoint.s3-global.amazonaws.com")])
    if (".s3-control." in name or name.startswith("s3-control.")) \
            and name.endswith(".amazonaws.com"):      # with or without the account label
        return Route("control")
    if name.endswith(".localhost"):
        label = name[:-len(".localhost")]
        if label.endswith(".mrap"):
            return Route("mrap", alias=label)
        if label.isdigit() and len(label) == 12:
            return Route("control")
        return Route("regional", bucket=label, virtual=True)
    if name in ("s3.amazonaws.com",) or (name.startswith("s3.") and name.endswith(".amazonaws.com")):
        return Route("regional")
    return None


def _request_id():
    return secrets.token_hex(8).upper()


def _host_id():
    return base64.b64encode(secrets.token_bytes(48)).decode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonS3"
    sys_version = ""
    timeout = 300

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def version_string(self):
        return self.server_version

    def handle_expect_100(self):
        self._expect_100 = True     # answered lazily, see BodyReader
        return True

    def log_message(self, fmt, *args):
        if self.server.app.log_requests:
            sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def _send_100(self):
        if getattr(self, "_expect_100", False):
            self._expect_100 = False
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_OPTIONS = do_PATCH = \
        lambda self: self.dispatch()

    # -- main path -----------------------------------------------------------

    def dispatch(self):
        app = self.server.app
        words = self.requestline.split()
        target = words[1] if len(words) >= 2 else "/"
        if target.lower().startswith(("http://", "https://")):   # absolute form (proxy)
            target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
        raw_path, _, raw_query = target.partition("?")
        self.request_id = _request_id()
        self.bytes_out = 0
        self.reader = None
        route = route_host(self.headers.get("Host"), raw_path)
        if route is not None and route.kind == "admin":
            return admin.handle(self, raw_path[len("/_emulator/"):], raw_query)
        ctx = Ctx(method=self.command, app=app, host=self.headers.get("Host", ""),
                  request_id=self.request_id)
        is_control = route is not None and route.kind == "control"
        ctx.op = "Unknown"
        fault = auth_error = None
        app.stats.begin()
        try:
            try:
                length = self._content_length()
                ctx.content_length = length
                self.reader = ctx.reader = BodyReader(self.rfile, length, self._send_100)
                self._parse(ctx, route, raw_path, raw_query)
                fault = None if is_control else self._draw_fault()
                if fault == "slowdown":
                    raise S3Error(503, "SlowDown", "Please reduce your request rate.")
                if fault == "internal_error":
                    raise internal_error()
                if fault == "cut" and self.command != "GET":
                    return self._cut_request()
                auth_error = "pending"
                self._authenticate(ctx, route, raw_path, raw_query)
                auth_error = None
                if length is None and ctx.op in ops.BODY_OPERATIONS:
                    raise S3Error(411, "MissingContentLength",
                                  "You must provide the Content-Length HTTP header.")
                ctx.content_length = length or 0
                if is_control:
                    reply = control.handle(ctx)
                else:
                    reply = ops.handler_for(ctx.op, ctx.via_mrap)(ctx)
            except S3Error as e:
                if auth_error == "pending":
                    auth_error = e.code
                return self._send_error(ctx, e)
            except ClientGone:
                self.close_connection = True
                return
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
                return
            except Exception:  # noqa: BLE001 - any bug becomes S3's 500, logged
                traceback.print_exc(file=sys.stderr)
                return self._send_error(ctx, internal_error())
            self._send_reply(ctx, reply, cut=(fault == "cut"))
        finally:
            self._finish_body()
            self._expect_100 = False
            if ctx.op is not None:
                app.stats.record(ctx.op, getattr(self, "status_sent", 0),
                                 self.reader.consumed if self.reader else 0, self.bytes_out,
                                 auth_error=auth_error if auth_error != "pending" else None,
                                 fault=fault)
            else:
                app.stats.end()

    def _content_length(self):
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise S3Error(411, "MissingContentLength",
                          "You must provide the Content-Length HTTP header.")
        raw = self.headers.get("Content-Length")
        if raw is None:
            return None
        try:
            n = int(raw)
            if n < 0:
                raise ValueError
            return n
        except ValueError:
            self.close_connection = True
            raise S3Error(400, "BadRequest", "An error occurred when parsing the HTTP request.") \
                from None

    def _parse(self, ctx, route, raw_path, raw_query):
        app = self.server.app
        if route is None:
            raise invalid_request("The request host is not served by this emulator.")
        try:
            path = urllib.parse.unquote_to_bytes(raw_path).decode("utf-8")
        except UnicodeDecodeError:
            raise S3Error(400, "InvalidURI", "Couldn't parse the specified URI.",
                          [("URI", raw_path)]) from None
        if not path.startswith("/"):
            raise S3Error(400, "InvalidURI", "Couldn't parse the specified URI.",
                          [("URI", raw_path)])
        query = {}
        for k, v in urllib.parse.parse_qsl(raw_query, keep_blank_values=True):
            query.setdefault(k, v)
        headers = {}
        for k, v in self.headers.items():
            k = k.lower()
            headers[k] = headers[k] + "," + v if k in headers else v
        ctx.query, ctx.headers = query, headers
        ctx.route = route
        if route.kind == "control":
            return control.route(ctx, self.command, path)
        bucket_name, key = None, path[1:]
        if route.kind == "regional" and not route.virtual:
            bucket_name, _, key = path[1:].partition("/")
        elif route.kind == "regional":
            bucket_name = route.bucket
        ctx.op = ops.classify(self.command, key != "", query, headers,
                              has_bucket=route.kind == "mrap" or bool(bucket_name))
        ctx.key = key if key else None
        if route.kind == "mrap":
            ctx.via_mrap = True
            ctx.mrap = app.state.mrap_by_alias(route.alias)
            if ctx.mrap is None:
                raise S3Error(404, "NoSuchAccessPoint", "The specified accesspoint does not exist",
                              [("AccessPointName", route.alias)])
        elif bucket_name:
            if not valid_bucket_name(bucket_name):
                raise S3Error(400, "InvalidBucketName", "The specified bucket is not valid.",
                              [("BucketName", bucket_name)])
            ctx.bucket_name = bucket_name
        if ctx.key is not None and len(ctx.key.encode("utf-8")) > MAX_KEY_BYTES:
            raise S3Error(400, "KeyTooLongError", "Your key is too long",
                          [("MaxSizeAllowed", MAX_KEY_BYTES),
                           ("Size", len(ctx.key.encode("utf-8")))])

    def _draw_fault(self):
        """Sleeps the configured latency; returns the fault to inject, if any."""
        fault, latency = self.server.app.faults.draw()
        if latency:
            time.sleep(latency)
        return fault

    def _authenticate(self, ctx, route, raw_path, raw_query):
        app = self.server.app
        if sigv4 is None:
            raise S3Error(403, "AccessDenied", "Access Denied")
        if route.kind == "control":
            return control.authenticate(ctx, self.command, raw_path, raw_query,
                                        list(self.headers.items()))
        bucket = app.state.buckets.get(ctx.bucket_name) if ctx.bucket_name else None
        try:   # sigv4 checks the service and, for SigV4, the regional bucket's region
            auth = sigv4.authenticate(self.command, raw_path, raw_query,
                                      list(self.headers.items()), app.lookup_credential,
                                      expected_region=bucket.region if bucket else None,
                                      service="s3")
        except sigv4.AuthError as e:
            # Like S3, name the bucket's region in a header too: a HEAD error
            # has no body, and SDKs redirect on it.
            hs = [("x-amz-bucket-region", bucket.region)] if bucket else []
            raise S3Error(e.status, e.code, e.message, e.extra, hs) from None
        ctx.auth = auth
        if route.kind == "mrap":
            if auth.algorithm != SIGV4A:
                raise invalid_request("The authorization mechanism you have provided is not "
                                      "supported. Please use %s." % SIGV4A)
            if auth.account != ctx.mrap.account:
                raise S3Error(403, "AccessDenied", "Access Denied")
            bucket = app.state.route(ctx.mrap)
        elif ctx.bucket_name:
            if bucket is None:
                raise no_such_bucket(ctx.bucket_name)
            if auth.account != bucket.account:
                raise S3Error(403, "AccessDenied", "Access Denied")
        if bucket is not None:
            if auth.algorithm == SIGV4A:
                regions = [r.strip() for r in auth.region.split(",")]
                if "*" not in regions and bucket.region not in regions:
                    # emulator wording: S3 does not document this refusal
                    raise S3Error(403, "AccessDenied", "Access Denied")
            ctx.bucket = bucket
            ctx.bstore = app.store.bucket(bucket.name)

    # -- replies ---------------------------------------------------------------

    def _common_headers(self, status, headers):
        self.send_response(status)
        self.status_sent = status
        self.send_header("x-amz-request-id", self.request_id)
        self.send_header("x-amz-id-2", _host_id())
        for name, value in headers:
            self.send_header(name, value)

    def _send_error(self, ctx, err):
        if self.command == "HEAD":
            body = b""
        else:
            body = error_document(err, self.request_id, _host_id())
        self._common_headers(err.status, err.headers)
        if body:
            self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        if self.reader and self.reader.remaining and not self._can_drain():
            self.close_connection = True
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body:
            self.wfile.write(body)
            self.bytes_out += len(body)

    def _send_reply(self, ctx, reply, cut=False):
        f = reply.file
        try:
            if cut and not (f and reply.length):
                self.close_connection = True
                return
            self._common_headers(reply.status, reply.headers)
            if reply.status in (204, 304):
                self.end_headers()
                return
            if reply.body:
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)
                    self.bytes_out += len(reply.body)
                return
            self.send_header("Content-Length", str(reply.length))
            self.end_headers()
            if f is None or self.command == "HEAD":
                return
            count = reply.length // 2 if cut else reply.length
            if count:
                self.bytes_out += self.connection.sendfile(f, reply.offset, count)
            if cut:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
        finally:
            if f is not None:
                f.close()

    def _cut_request(self):
        """Reads part of a request body (if any), then drops the connection."""
        self.close_connection = True
        r = self.reader
        try:
            want = r.remaining // 2
            while want > 0:
                got = len(r.read(min(want, 1 << 20)))
                want -= got
            self.connection.shutdown(socket.SHUT_RDWR)
        except (ClientGone, OSError):
            pass
        self.status_sent = 0

    def _can_drain(self):
        """Whether the unread body can be read and dropped to keep the connection:
        not when the client waits for 100 Continue (it may never send the body;
        S3 closes then) nor when the body is large."""
        r = self.reader
        return not getattr(self, "_expect_100", False) and r.remaining <= DRAIN_LIMIT

    def _finish_body(self):
        r = self.reader
        if r is None or not r.remaining or self.close_connection:
            return
        if not self._can_drain() or not r.drain(DRAIN_LIMIT):
            self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, app, port):
        self.app = app
        super().__init__(("127.0.0.1", port), Handler)


class App:
    """Everything a request may touch: the model, the store, faults and stats."""

    def __init__(self, state, store, stats, faults, restore_delay=2.0, log_requests=False,
                 operations=None, replication=None):
        self.state = state
        self.store = store
        self.stats = stats
        self.faults = faults
        self.restore_delay = restore_delay
        self.log_requests = log_requests
        self.operations = operations          # control_ops.Operations (S3 Control)
        self.replication = replication        # replication.Replicator or None
        self.control_settings = {"unavailable_regions": []}   # set through the admin API
        self.started = time.time()

    def lookup_credential(self, access_key):
        return self.state.credential(access_key)


def serve(app, port, on_ready):
    server = Server(app, port)
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    on_ready()
    return server, thread


def stop(server):
    server.shutdown()
    server.server_close()

