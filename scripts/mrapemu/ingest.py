"""Receiving request bodies: streaming, hashing and S3's integrity checks.

Design: the server wraps the socket in a BodyReader bounded by Content-Length;
it sends `100 Continue` lazily, on the first read, so a request refused before
its body is needed (bad signature, missing upload, locked object) never makes
the client send the body.  receive_to_file() streams a body to a temp file in
1 MiB chunks and read_small() reads a bounded XML body; both compute in one
pass what the request asks to be verified, then check in S3's order:

  1. x-amz-content-sha256 (the signed payload hash) unless UNSIGNED-PAYLOAD
     -> 400 XAmzContentSHA256Mismatch
  2. Content-MD5 (malformed -> 400 InvalidDigest before reading; mismatch ->
     400 BadDigest)
  3. x-amz-checksum-<alg> (crc32, crc32c, sha1, sha256) -> 400 BadDigest
     "The CRC32C you specified did not match the calculated checksum."

A failed check leaves nothing behind.

aws-chunked bodies: STREAMING-UNSIGNED-PAYLOAD-TRAILER (what current SDKs send
by default: `<hex size>\r\n<data>\r\n ... 0\r\n<x-amz-checksum-x>:<b64>\r\n\r\n`)
is decoded, and the trailing checksum is verified like the header form.  The
signed STREAMING-* variants are refused with 501 NotImplemented: verifying
their chunk signatures needs the seed signature, which the verifier does not
expose, and accepting them unverified would be an integrity hole.
"""
import base64
import binascii
import os
import queue
import re
import threading

from .checksums import ALGORITHMS, Digests, header_name
from .common import MAX_XML_BODY
from .store import CHUNK
from .xmlresp import S3Error, invalid_request, not_implemented

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
_DIGEST_SIZES = {"CRC32": 4, "CRC32C": 4, "SHA1": 20, "SHA256": 32}


class ClientGone(Exception):
    """The client closed the connection before sending the whole body."""


class BodyReader:
    def __init__(self, rfile, length, on_start=None):
        self.rfile = rfile
        self.remaining = length or 0
        self.consumed = 0
        self.on_start = on_start
        self.started = False

    def read(self, n):
        if not self.started:
            self.started = True
            if self.on_start and self.remaining:
                self.on_start()
        n = min(n, self.remaining)
        if n <= 0:
            return b""
        data = self.rfile.read(n)
        if not data:
            raise ClientGone()
        self.remaining -= len(data)
        self.consumed += len(data)
        return data

    def readline(self, limit):
        """One CRLF-terminated line of at most `limit` bytes (aws-chunked framing)."""
        if not self.started:
            self.read(0)
        line = self.rfile.readline(min(limit, self.remaining))
        if not line.endswith(b"\n"):
            raise ClientGone() if not line else S3Error(
                400, "IncompleteBody", "The request body terminated unexpectedly")
        self.remaining -= len(line)
        self.consumed += len(line)
        return line

    def readinto_full(self, view):
        """Fills `view` (at most `remaining` bytes long) completely."""
        if not self.started:
            self.read(0)
        got = 0
        while got < len(view):
            n = self.rfile.readinto(view[got:])
            if not n:
                raise ClientGone()
            got += n
        self.remaining -= got
        self.consumed += got
        return got

    def drain(self, limit):
        """Reads and drops what is left if it is at most `limit` bytes;
        returns False when the connection must be closed instead."""
        if self.remaining > limit:
            return False
        try:
            while self.remaining:
                self.read(CHUNK)
        except (ClientGone, OSError):
            return False
        return True


def _b64(value, size):
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == size else None


class _Expect:
    """What the request says the body must hash to."""

    def __init__(self, ctx):
        self.md5 = None
        self.checksums = {}
        self.sha256 = None
        md5 = ctx.h("content-md5")
        if md5 is not None:
            self.md5 = _b64(md5, 16)
            if self.md5 is None:
                raise S3Error(400, "InvalidDigest", "The Content-MD5 you specified was invalid.",
                              [("Content-MD5", md5)])
        for alg in ALGORITHMS:
            value = ctx.h(header_name(alg))
            if value is None:
                continue
            raw = _b64(value, _DIGEST_SIZES[alg])
            if raw is None:
                raise invalid_request("Value for %s header is invalid." % header_name(alg))
            self.checksums[alg] = raw
        if len(self.checksums) > 1:
            raise invalid_request("Expecting a single x-amz-checksum- header. "
                                  "Multiple checksum Types are not allowed.")
        self.algorithms = set(self.checksums)
        sdk_alg = ctx.h("x-amz-sdk-checksum-algorithm")
        if sdk_alg:
            if sdk_alg.upper() not in ALGORITHMS:
                raise invalid_request(
                    "Checksum algorithm provided is unsupported. Please try again with any of "
                    "the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
            self.algorithms.add(sdk_alg.upper())
        for alg in (ctx.extra_checksum_algorithms or ()):
            self.algorithms.add(alg)
        payload = ctx.auth.payload_hash if ctx.auth else "UNSIGNED-PAYLOAD"
        self.chunked = None
        if payload == UNSIGNED_TRAILER:
            self.chunked = _chunked_expectation(ctx, self)
        elif payload.startswith("STREAMING-"):
            raise not_implemented("x-amz-content-sha256",
                                  "Signed aws-chunked payloads are not supported by this emulator")
        if _HEX64.match(payload):
            self.sha256 = payload.lower()

    def digests(self):
        return Digests(sha256=self.sha256 is not None, algorithms=sorted(self.algorithms))

    def verify(self, d):
        if self.sha256 is not None:
            got = d.sha256.hexdigest()
            if got != self.sha256:
                raise S3Error(400, "XAmzContentSHA256Mismatch",
                              "The provided 'x-amz-content-sha256' header does not match what "
                              "was computed.",
                              [("ClientComputedContentSHA256", self.sha256),
                               ("S3ComputedContentSHA256", got)])
        md5 = d.md5.digest()
        if self.md5 is not None and md5 != self.md5:
            raise S3Error(400, "BadDigest",
                          "The Content-MD5 you specified did not match what we received.",
                          [("ExpectedDigest", self.md5.hex()), ("CalculatedDigest",
                                                                base64.b64encode(md5).decode())])
        for alg, want in self.checksums.items():
            if d.extra[alg].digest() != want:
                raise S3Error(400, "BadDigest", "The %s you specified did not match the "
                              "calculated checksum." % alg)
        return {"size": d.size, "md5": md5.hex(),
                "checksums": {a: h.digest() for a, h in d.extra.items()}}


def _chunked_expectation(ctx, expect):
    """(decoded length, trailer algorithm or None) of an unsigned aws-chunked body."""
    raw = ctx.h("x-amz-decoded-content-length")
    if raw is None or not raw.isdigit():
        raise S3Error(411, "MissingContentLength",
                      "You must provide the Content-Length HTTP header.")
    trailer = (ctx.h("x-amz-trailer") or "").strip().lower()
    alg = None
    if trailer:
        alg = next((a for a in ALGORITHMS if header_name(a) == trailer), None)
        if alg is None:
            raise invalid_request("The value specified in the x-amz-trailer header is not "
                                  "supported")
        expect.algorithms.add(alg)
    return int(raw), alg


def _receive_chunked(reader, expect, d, sink):
    """Decodes an unsigned aws-chunked body into sink(bytes); checks the
    decoded length and records the trailing checksum as the expected one."""
    size, alg = expect.chunked
    got = 0
    while True:
        line = reader.readline(4096)
        try:
            n = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise S3Error(400, "IncompleteBody", "The request body terminated unexpectedly") \
                from None
        if n == 0:
            break
        while n:
            chunk = reader.read(min(n, CHUNK))
            n -= len(chunk)
            got += len(chunk)
            d.update(chunk)
            sink(chunk)
        reader.readline(8)
    trailers = {}
    while True:
        line = reader.readline(4096).strip()
        if not line:
            break
        name, _, value = line.decode("latin-1").partition(":")
        trailers[name.strip().lower()] = value.strip()
    if got != size:
        raise S3Error(400, "IncompleteBody", "You did not provide the number of bytes specified "
                      "by the Content-Length HTTP header")
    if alg:
        raw = _b64(trailers.get(header_name(alg), ""), _DIGEST_SIZES[alg])
        if raw is None:
            raise invalid_request("Value for %s trailing header is invalid." % header_name(alg))
        expect.checksums[alg] = raw


def check_headers(ctx):
    """Validates the integrity headers before any byte is read; returns the
    expectation object to pass to receive_to_file/read_small."""
    return _Expect(ctx)


def receive_to_file(ctx, path, expect=None):
    """Streams the body into `path`; returns {size, md5 (hex), checksums {alg: raw}}.
    On any failure `path` is removed and the error propagates.

    Bodies larger than one chunk go through a two-stage pipeline: this thread
    fills 1 MiB buffers from the socket while a helper thread hashes and
    writes the previous ones (hashlib releases the GIL), so MD5 - the slowest
    step - overlaps the network reads."""
    expect = expect or _Expect(ctx)
    d = expect.digests()
    reader = ctx.reader
    try:
        with open(path, "wb") as f:
            if expect.chunked:
                _receive_chunked(reader, expect, d, f.write)
            elif reader.remaining <= CHUNK:
                chunk = reader.read(CHUNK)
                d.update(chunk)
                f.write(chunk)
            else:
                _pipeline(reader, d, f)
        return expect.verify(d)
    except BaseException:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        raise


def _pipeline(reader, digests, f, depth=3):
    free, full, failed = queue.Queue(), queue.Queue(), []
    for _ in range(depth):
        free.put(bytearray(CHUNK))

    def consume():
        while True:
            item = full.get()
            if item is None:
                return
            buf, n = item
            try:
                if not failed:
                    with memoryview(buf) as mv:
                        digests.update(mv[:n])
                        f.write(mv[:n])
            except BaseException as e:  # noqa: BLE001 - handed to the reading thread
                failed.append(e)
            free.put(buf)

    worker = threading.Thread(target=consume, name="ingest", daemon=True)
    worker.start()
    try:
        while reader.remaining and not failed:
            buf = free.get()
            n = min(CHUNK, reader.remaining)
            with memoryview(buf) as mv:
                reader.readinto_full(mv[:n])
            full.put((buf, n))
    finally:
        full.put(None)
        worker.join()
    if failed:
        raise failed[0]


def read_small(ctx, limit=MAX_XML_BODY):
    """Reads a bounded body (an XML document) into memory, verified."""
    expect = _Expect(ctx)
    reader = ctx.reader
    if reader.remaining > limit:
        raise S3Error(400, "MaxMessageLengthExceeded", "Your request was too big.",
                      [("MaxMessageLength", limit)])
    d = expect.digests()
    parts = []
    if expect.chunked:
        _receive_chunked(reader, expect, d, parts.append)
    while reader.remaining:
        chunk = reader.read(CHUNK)
        d.update(chunk)
        parts.append(chunk)
    expect.verify(d)
    return b"".join(parts)
