"""Types and helpers shared by the operation handlers.

Design: the server parses a request into a Ctx (routing already done: which
bucket, which key, which operation, who signed it) and hands it to one handler,
which returns a Reply.  Handlers never touch sockets: a body arrives through
ctx.reader (see ingest.py) and a file body leaves as Reply.file, which the
server sends with socket.sendfile.
"""
import calendar
import datetime
import email.utils
import hashlib
import time
import xml.etree.ElementTree as ET

from .xmlresp import S3Error, malformed_xml

MAX_XML_BODY = 4 << 20


class Reply:
    def __init__(self, status=200, headers=None, body=b"", file=None, offset=0, length=0):
        self.status = status
        self.headers = list(headers or [])
        self.body = body
        self.file = file          # open file to send [offset, offset+length) of
        self.offset = offset
        self.length = length

    def add(self, name, value):
        if value is not None:
            self.headers.append((name, str(value)))
        return self


class Ctx:
    """One routed data-plane request."""

    def __init__(self, **kw):
        self.method = "GET"
        self.op = None            # S3 operation name, e.g. "GetObject"
        self.key = None           # decoded key, None for bucket-level requests
        self.bucket = None        # config.Bucket
        self.bucket_name = None   # bucket named by a regional request
        self.route = None         # server.Route
        self.bstore = None        # store.BucketStore
        self.query = {}           # name -> first value ('' for bare names)
        self.headers = {}         # lower-case name -> value (repeats joined by ',')
        self.auth = None          # sigv4.AuthResult
        self.via_mrap = False
        self.mrap = None
        self.host = ""
        self.reader = None        # ingest.BodyReader
        self.content_length = None
        self.app = None           # server.App: state, store, settings
        self.extra_checksum_algorithms = ()   # computed on the body even if not sent
        self.__dict__.update(kw)

    def h(self, name, default=None):
        return self.headers.get(name, default)

    @property
    def bucket_label(self):
        """The bucket name S3 reports in response documents (see s3ops design note)."""
        return self.bucket.name


def canonical_id(account):
    """A stable 64-hex canonical user ID for an account."""
    return hashlib.sha256(("canonical-user:" + account).encode()).hexdigest()


def http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


def iso_date(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


def parse_http_date(text):
    try:
        dt = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


def parse_iso_date(text):
    """ISO 8601 timestamp (as S3 accepts in Object Lock dates) -> epoch, or None."""
    text = (text or "").strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


def midnight_after(ts):
    """S3 rounds restore expiry to the next midnight UTC."""
    day = time.gmtime(ts)
    return calendar.timegm((day.tm_year, day.tm_mon, day.tm_mday, 0, 0, 0)) + 86400


def quote_etag(etag):
    return '"%s"' % etag


def strip_etag(etag):
    etag = (etag or "").strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


def parse_xml(data):
    """Parses a request document; namespaces are dropped from tags."""
    if not data.strip():
        raise malformed_xml()
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise malformed_xml() from None
    for e in root.iter():
        if isinstance(e.tag, str) and "}" in e.tag:
            e.tag = e.tag.split("}", 1)[1]
    return root


def text_of(elem, name):
    child = elem.find(name)
    if child is None:
        return None
    return child.text or ""


def entity_too_large(size, limit):
    return S3Error(400, "EntityTooLarge",
                   "Your proposed upload exceeds the maximum allowed object size.",
                   [("ProposedSize", size), ("MaxSizeAllowed", limit)])


_URL_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./*")


def url_encode(text):
    """encoding-type=url as S3 applies it to listings: form encoding (space is
    '+') that keeps '/' and '*' and encodes '~'; clients decode with unquote_plus."""
    out = []
    for b in text.encode("utf-8", "surrogatepass"):
        if b in _URL_SAFE:
            out.append(chr(b))
        elif b == 0x20:
            out.append("+")
        else:
            out.append("%%%02X" % b)
    return "".join(out)
