"""S3 error documents and small XML helpers.

Design: every failure inside the emulator is raised as an S3Error carrying the
HTTP status, the S3 error code, S3's message text and the extra elements S3 adds
to that error (in S3's order).  The server turns it into the exact document S3
sends:

    <?xml version="1.0" encoding="UTF-8"?>
    <Error><Code>..</Code><Message>..</Message>[extra..]<RequestId>..</RequestId><HostId>..</HostId></Error>

HEAD requests and 304 responses carry no body; the server decides that, not
this module.  The builders below write XML by hand (S3's documents are simple
and element order matters to some clients), escaping every text node.
"""
from xml.sax.saxutils import escape

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'


class S3Error(Exception):
    """An S3 error response: status, code, message and extra (element, text) pairs."""

    def __init__(self, status, code, message, extra=None, headers=None):
        super().__init__("%s: %s" % (code, message))
        self.status = status
        self.code = code
        self.message = message
        self.extra = list(extra or [])
        self.headers = list(headers or [])


def error_document(err, request_id, host_id):
    parts = [XML_DECL, "<Error><Code>", escape(err.code), "</Code><Message>",
             escape(err.message), "</Message>"]
    for name, text in err.extra:
        parts.append("<%s>%s</%s>" % (name, escape(str(text)), name))
    parts.append("<RequestId>%s</RequestId><HostId>%s</HostId></Error>" % (request_id, host_id))
    return "".join(parts).encode("utf-8")


def el(name, text):
    """One element with escaped text; None gives nothing, booleans are lower case."""
    if text is None:
        return ""
    if isinstance(text, bool):
        text = "true" if text else "false"
    return "<%s>%s</%s>" % (name, escape(str(text)), name)


def document(root, body, namespace=True):
    ns = ' xmlns="%s"' % S3_NS if namespace else ""
    return ("%s<%s%s>%s</%s>" % (XML_DECL, root, ns, "".join(body), root)).encode("utf-8")


# Errors used from several modules, with S3's wording.

def no_such_key(key):
    return S3Error(404, "NoSuchKey", "The specified key does not exist.", [("Key", key)])


def no_such_bucket(bucket):
    return S3Error(404, "NoSuchBucket", "The specified bucket does not exist",
                   [("BucketName", bucket)])


def no_such_upload(upload_id):
    return S3Error(404, "NoSuchUpload",
                   "The specified upload does not exist. The upload ID may be invalid, "
                   "or the upload may have been aborted or completed.",
                   [("UploadId", upload_id)])


def malformed_xml():
    return S3Error(400, "MalformedXML",
                   "The XML you provided was not well-formed or did not validate against "
                   "our published schema")


def invalid_argument(message, name=None, value=None):
    extra = []
    if name is not None:
        extra = [("ArgumentName", name), ("ArgumentValue", "" if value is None else value)]
    return S3Error(400, "InvalidArgument", message, extra)


def invalid_request(message):
    return S3Error(400, "InvalidRequest", message)


def access_denied(message="Access Denied"):
    return S3Error(403, "AccessDenied", message)


def not_implemented(header=None, message=None):
    return S3Error(501, "NotImplemented",
                   message or "A header you provided implies functionality that is not implemented",
                   [("Header", header)] if header else [])


def internal_error():
    return S3Error(500, "InternalError", "We encountered an internal error. Please try again.")


def method_not_allowed(method, resource_type="OBJECT"):
    return S3Error(405, "MethodNotAllowed",
                   "The specified method is not allowed against this resource.",
                   [("Method", method), ("ResourceType", resource_type)])
