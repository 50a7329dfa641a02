/* XML helpers: lookups by local name, text extraction, escaping, and hostile input. */
#include "s3/xml.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static xmlDocPtr parse_str(const char *s)
{
    return mrap_xml_parse(s, strlen(s));
}

static void test_lookups(void)
{
    static const char doc_ns[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
        "  <Name>bucket</Name>\n"
        "  <KeyCount>2</KeyCount>\n"
        "  <Contents><Key>a &amp; b.txt</Key><Size>12</Size></Contents>\n"
        "  <Other/>\n"
        "  <Contents><Key><![CDATA[c<d>]]></Key><Size>0</Size></Contents>\n"
        "  <Contents><Key>x&#x9;y</Key></Contents>\n"
        "</ListBucketResult>\n";
    xmlDocPtr doc = parse_str(doc_ns);
    CHECK(doc != NULL, "namespaced document parses");
    if (!doc)
        return;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    CHECK_STR((const char *)root->name, "ListBucketResult");

    char out[64];
    CHECK_INT(mrap_xml_child_text(root, "Name", out, sizeof(out)), 6);
    CHECK_STR(out, "bucket");
    CHECK_INT(mrap_xml_child_text(root, "Missing", out, sizeof(out)), -1);
    CHECK_STR(out, "");
    CHECK_INT(mrap_xml_child_text(root, "Other", out, sizeof(out)), 0);

    /* Truncation: returns the full length, copies outlen-1 bytes, terminates. */
    char small[4];
    CHECK_INT(mrap_xml_child_text(root, "Name", small, sizeof(small)), 6);
    CHECK_STR(small, "buc");
    CHECK_INT(mrap_xml_child_text(root, "Name", NULL, 0), 6);

    xmlNodePtr c = mrap_xml_child(root, "Contents");
    CHECK(c != NULL, "first Contents");
    char *key = mrap_xml_child_strdup(c, "Key");
    CHECK_STR(key, "a & b.txt");
    free(key);
    c = mrap_xml_next(c, "Contents");
    CHECK(c != NULL, "second Contents skips <Other/>");
    key = mrap_xml_child_strdup(c, "Key");
    CHECK_STR(key, "c<d>");
    free(key);
    c = mrap_xml_next(c, "Contents");
    key = mrap_xml_child_strdup(c, "Key");
    CHECK_STR(key, "x\ty");
    free(key);
    CHECK(mrap_xml_next(c, "Contents") == NULL, "no fourth Contents");
    CHECK(mrap_xml_child_strdup(c, "Size") == NULL, "absent child -> NULL");
    CHECK(mrap_xml_child(NULL, "x") == NULL, "NULL parent");
    CHECK(mrap_xml_next(NULL, "x") == NULL, "NULL node");
    xmlFreeDoc(doc);

    /* Without a namespace, and with a prefixed namespace: local names match. */
    doc = parse_str("<Error><Code>NoSuchKey</Code></Error>");
    CHECK(doc != NULL, "plain document parses");
    if (doc) {
        CHECK_INT(mrap_xml_child_text(xmlDocGetRootElement(doc), "Code", out, sizeof(out)), 9);
        CHECK_STR(out, "NoSuchKey");
        xmlFreeDoc(doc);
    }
    doc = parse_str("<s3:Error xmlns:s3=\"urn:x\"><s3:Code>A</s3:Code><Code>B</Code></s3:Error>");
    CHECK(doc != NULL, "prefixed document parses");
    if (doc) {
        CHECK_INT(mrap_xml_child_text(xmlDocGetRootElement(doc), "Code", out, sizeof(out)), 1);
        CHECK_STR(out, "A");
        xmlFreeDoc(doc);
    }
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        "",
        "not xml at all",
        "<a><b></a>",
        "<a>",
        "<a>&undefined;</a>",
        "<a></a><b></b>",
        "\xff\xfe<\0a\0>\0",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        xmlDocPtr d = mrap_xml_parse(bad[i], strlen(bad[i]));
        CHECK(d == NULL, "malformed input %zu refused", i);
        xmlFreeDoc(d);
    }
    CHECK(mrap_xml_parse(NULL, 10) == NULL, "NULL buffer");
    CHECK(mrap_xml_parse("<a/>", 0) == NULL, "zero length");
    /* The length is honoured: the bytes after it are never read. */
    xmlDocPtr d = mrap_xml_parse("<a/>garbage", 4);
    CHECK(d != NULL, "length-bounded parse");
    xmlFreeDoc(d);

    /* Deep nesting beyond libxml2's default limit (256) is refused. */
    struct mrap_buf b;
    mrap_buf_init(&b, 1 << 20);
    for (int i = 0; i < 5000; i++)
        mrap_buf_append_str(&b, "<a>");
    for (int i = 0; i < 5000; i++)
        mrap_buf_append_str(&b, "</a>");
    d = mrap_xml_parse(b.data, b.len);
    CHECK(d == NULL, "5000-deep nesting refused");
    xmlFreeDoc(d);
    mrap_buf_cleanup(&b);
}

static void test_hostile(void)
{
    /* Billion laughs: 10^9 copies if expanded. Must be refused quickly. */
    static const char laughs[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE lolz [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
        " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
        " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
        " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
        "]>\n"
        "<Error><Code>&lol9;</Code></Error>\n";
    time_t t0 = time(NULL);
    xmlDocPtr d = parse_str(laughs);
    CHECK(d == NULL, "billion laughs refused");
    CHECK(time(NULL) - t0 < 10, "and quickly");
    xmlFreeDoc(d);

    /* External entity (XXE): never read, document refused. */
    static const char xxe[] = "<?xml version=\"1.0\"?>\n"
                              "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
                              "<Error><Code>&x;</Code></Error>\n";
    d = parse_str(xxe);
    CHECK(d == NULL, "external entity document refused");
    xmlFreeDoc(d);

    /* An external DTD reference, over the network or from disk: refused. */
    d = parse_str("<!DOCTYPE r SYSTEM \"http://127.0.0.1:9/evil.dtd\"><r/>");
    CHECK(d == NULL, "external DTD refused");
    xmlFreeDoc(d);
    d = parse_str("<!DOCTYPE r><r/>");
    CHECK(d == NULL, "any DOCTYPE refused (S3 never sends one)");
    xmlFreeDoc(d);

    /* A DOCTYPE is refused, but an ordinary processing instruction and comment are fine. */
    d = parse_str("<?xml version=\"1.0\"?><!-- c --><?pi x?><r><!-- c --><k>v</k></r>");
    CHECK(d != NULL, "comments and PIs are fine");
    if (d) {
        char out[8];
        CHECK_INT(mrap_xml_child_text(xmlDocGetRootElement(d), "k", out, sizeof(out)), 1);
        xmlFreeDoc(d);
    }
}

static void test_escape(void)
{
    struct mrap_buf b;
    mrap_buf_init(&b, 1024);
    CHECK_INT(mrap_xml_escape(&b, "plain/key.txt"), 0);
    CHECK_STR(mrap_buf_str(&b), "plain/key.txt");
    mrap_buf_reset(&b);
    CHECK_INT(mrap_xml_escape(&b, "a&b<c>d\"e'f"), 0);
    CHECK_STR(mrap_buf_str(&b), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    mrap_buf_reset(&b);
    CHECK_INT(mrap_xml_escape(&b, "t\tn\nr\r\x01\x1f"), 0);
    CHECK_STR(mrap_buf_str(&b), "t&#x9;n&#xA;r&#xD;&#x1;&#x1F;");
    mrap_buf_reset(&b);
    CHECK_INT(mrap_xml_escape(&b, "\xc3\xa9t\xc3\xa9"), 0); /* UTF-8 passes through */
    CHECK_STR(mrap_buf_str(&b), "\xc3\xa9t\xc3\xa9");
    mrap_buf_reset(&b);
    CHECK_INT(mrap_xml_escape(&b, ""), 0);
    CHECK_STR(mrap_buf_str(&b), "");
    CHECK_INT(mrap_xml_escape(&b, NULL), -EINVAL);
    mrap_buf_cleanup(&b);

    /* Bound: all or nothing. */
    mrap_buf_init(&b, 8);
    CHECK_INT(mrap_buf_append_str(&b, "ab"), 0);
    CHECK_INT(mrap_xml_escape(&b, "x&y"), -EFBIG);
    CHECK_STR(mrap_buf_str(&b), "ab");
    CHECK_INT(mrap_xml_escape(&b, "x<"), 0);
    CHECK_STR(mrap_buf_str(&b), "abx&lt;");
    mrap_buf_cleanup(&b);

    /* Round trip through the parser. */
    const char *key = "dir/a&b <c> \"q\" 'x'\ttab\r\nnl\r";
    mrap_buf_init(&b, 4096);
    mrap_buf_append_str(&b, "<Delete><Key>");
    mrap_xml_escape(&b, key);
    mrap_buf_append_str(&b, "</Key></Delete>");
    xmlDocPtr d = mrap_xml_parse(b.data, b.len);
    CHECK(d != NULL, "escaped document parses");
    if (d) {
        char *back = mrap_xml_child_strdup(xmlDocGetRootElement(d), "Key");
        CHECK_STR(back, key);
        free(back);
        xmlFreeDoc(d);
    }
    mrap_buf_cleanup(&b);
}

int main(void)
{
    test_lookups();
    test_malformed();
    test_hostile();
    test_escape();
    return mrap_test_finish();
}
