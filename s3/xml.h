/*
 * XML helpers over libxml2 for S3 documents.
 *
 * Parsing is bounded and safe for hostile input: the caller's buffer is
 * already size-limited; the parser never loads external entities or DTDs,
 * never touches the network, and refuses documents nested deeper than
 * libxml2's default. S3 documents use a default namespace; lookups here
 * match local names only.
 */
#ifndef MRAP_S3_XML_H
#define MRAP_S3_XML_H

#include <libxml/tree.h>
#include <stddef.h>

#include "util/buf.h"

/* Parses; returns NULL (and logs nothing) on malformed input. Free with xmlFreeDoc. */
xmlDocPtr mrap_xml_parse(const char *buf, size_t len);

/* First element child of `parent` with this local name, or NULL. */
xmlNodePtr mrap_xml_child(xmlNodePtr parent, const char *name);
/* Next element sibling after `node` with this local name, or NULL. */
xmlNodePtr mrap_xml_next(xmlNodePtr node, const char *name);

/* Text content of the first child element `name` copied into out (truncated to
 * outlen-1, always NUL-terminated). Returns the full length, or -1 when absent. */
long mrap_xml_child_text(xmlNodePtr parent, const char *name, char *out, size_t outlen);
/* Same, as a heap string (NULL when absent or out of memory). */
char *mrap_xml_child_strdup(xmlNodePtr parent, const char *name);

/* Appends s with &, <, >, ", ' escaped (and control characters as &#xN;). */
int mrap_xml_escape(struct mrap_buf *b, const char *s);

#endif
