/*
 * XML helpers over libxml2. See xml.h for the contract.
 *
 * Safety model: every document comes from the network, so the parser is
 * configured for hostile input.
 *  - No DTD is ever accepted. S3 never sends one, and a DTD is the only way
 *    into entity expansion ("billion laughs"), external entities (XXE) and
 *    external subsets. Rather than rely on option flags alone, the SAX
 *    internalSubset callback stops the parser the moment a <!DOCTYPE> is seen,
 *    before any declaration inside it is read. The options also leave out
 *    XML_PARSE_NOENT and XML_PARSE_DTDLOAD and add XML_PARSE_NONET, so even
 *    without that hook entities would stay unexpanded and nothing is fetched.
 *  - Size: the caller bounds its buffer; we also refuse anything over
 *    MRAP_XML_MAX_BYTES (and over INT_MAX, libxml2's length type). Nesting
 *    depth and text node sizes keep libxml2's defaults (no XML_PARSE_HUGE).
 *  - Silence: XML_PARSE_NOERROR/NOWARNING so libxml2 never writes to stderr;
 *    callers report a parse failure through their own log line.
 *  - Text extraction reads only text and CDATA children; it never follows
 *    entity references (there can be none without a DTD, but the helpers do
 *    not depend on that).
 *
 * Thread-safety: libxml2 must be initialised once before concurrent use;
 * pthread_once does that on first parse. After that, parsing and the lookup
 * helpers are safe from any thread on distinct documents.
 */
#include "s3/xml.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

/* No S3 response we parse comes near this; a larger one is an attack or a bug. */
#define MRAP_XML_MAX_BYTES ((size_t)64 << 20)

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init_once(void)
{
    xmlInitParser();
}

/* State shared with the SAX hook through ctxt->_private. */
struct parse_guard {
    bool saw_doctype;
};

static void refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
                           const xmlChar *system_id)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct parse_guard *g = ctxt->_private;
    g->saw_doctype = true;
    xmlStopParser(ctxt);
}

xmlDocPtr mrap_xml_parse(const char *buf, size_t len)
{
    xmlDocPtr doc = NULL;
    xmlParserCtxtPtr ctxt = NULL;
    struct parse_guard guard = {false};

    if (!buf || len == 0 || len > MRAP_XML_MAX_BYTES || len > INT_MAX)
        return NULL;
    pthread_once(&xml_once, xml_init_once);

    ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
    if (!ctxt)
        goto out;
    /* The context owns a private copy of the SAX handler, so this is local. */
    ctxt->sax->internalSubset = refuse_doctype;
    ctxt->_private = &guard;
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA |
                                XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlParseDocument(ctxt);
    doc = ctxt->myDoc;
    ctxt->myDoc = NULL;
    if (!ctxt->wellFormed || guard.saw_doctype || !doc || !xmlDocGetRootElement(doc)) {
        xmlFreeDoc(doc);
        doc = NULL;
    }
out:
    if (ctxt)
        xmlFreeParserCtxt(ctxt);
    return doc;
}

static bool is_named(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->name && strcmp((const char *)n->name, name) == 0;
}

/* The first element named `name` among n and its following siblings. */
static xmlNodePtr find_from(xmlNodePtr n, const char *name)
{
    for (; n; n = n->next)
        if (is_named(n, name))
            return n;
    return NULL;
}

xmlNodePtr mrap_xml_child(xmlNodePtr parent, const char *name)
{
    return parent && name ? find_from(parent->children, name) : NULL;
}

xmlNodePtr mrap_xml_next(xmlNodePtr node, const char *name)
{
    return node && name ? find_from(node->next, name) : NULL;
}

/*
 * Concatenates the text and CDATA children of `el` into out[0..outlen) (when
 * out is not NULL) and returns the full length. Only direct children: S3 text
 * elements are flat, and this never walks into entity references.
 */
static size_t element_text(xmlNodePtr el, char *out, size_t outlen)
{
    size_t total = 0;
    for (xmlNodePtr t = el->children; t; t = t->next) {
        if ((t->type != XML_TEXT_NODE && t->type != XML_CDATA_SECTION_NODE) || !t->content)
            continue;
        size_t n = strlen((const char *)t->content);
        if (out && total < outlen) {
            size_t room = outlen - total;
            memcpy(out + total, t->content, n < room ? n : room);
        }
        total += n;
    }
    return total;
}

long mrap_xml_child_text(xmlNodePtr parent, const char *name, char *out, size_t outlen)
{
    xmlNodePtr el = mrap_xml_child(parent, name);
    if (out && outlen)
        out[0] = '\0';
    if (!el)
        return -1;
    size_t cap = out && outlen ? outlen - 1 : 0;
    size_t total = element_text(el, out, cap);
    if (out && outlen)
        out[total < cap ? total : cap] = '\0';
    return total > LONG_MAX ? LONG_MAX : (long)total;
}

char *mrap_xml_child_strdup(xmlNodePtr parent, const char *name)
{
    xmlNodePtr el = mrap_xml_child(parent, name);
    if (!el)
        return NULL;
    size_t n = element_text(el, NULL, 0);
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    element_text(el, s, n);
    s[n] = '\0';
    return s;
}

int mrap_xml_escape(struct mrap_buf *b, const char *s)
{
    if (!b || !s)
        return -EINVAL;
    const size_t orig_len = b->len; /* restored on failure: all or nothing */
    const char *run = s;            /* start of the pending unescaped run */
    int rc = 0;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        const char *rep = NULL;
        char num[8];
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        default:
            /* Control characters (tab, CR, LF included, which the XML parser
             * would otherwise normalise) travel as character references, as S3
             * documents for object keys. */
            if (c != '\0' && c < 0x20) {
                snprintf(num, sizeof(num), "&#x%X;", c);
                rep = num;
            }
        }
        if (!rep && c != '\0')
            continue;
        if (p > run && (rc = mrap_buf_append(b, run, (size_t)(p - run))) != 0)
            goto fail;
        if (c == '\0')
            return 0;
        if ((rc = mrap_buf_append_str(b, rep)) != 0)
            goto fail;
        run = p + 1;
    }
fail:
    b->len = orig_len;
    if (b->data)
        b->data[orig_len] = '\0';
    return rc;
}
