"""How epub.js in a browser reads a spine document's bytes, for the importer and the locations.

epub.js opens the EPUB with JSZip and reads every document as a UTF-8 string (a byte-order mark
dropped, as TextDecoder does), whatever its `<meta charset>` says; then it parses `.html` / `.htm`
items with the browser's HTML parser (`text/html`) and everything else as XML. Two things the XML
parser of Chromium does that lxml does not, made explicit here:

- CDATA sections are nodes of their own, which epub.js's text walker (SHOW_TEXT) skips and which
  split the text around them: each becomes an empty processing instruction, which does the same;
- under an XHTML or MathML DOCTYPE, HTML's named entities (`&nbsp;`, `&mdash;`, `&laquo;`) are
  resolved: they become numeric references. Elsewhere a named entity is an XML error, as in Chromium.
"""

from __future__ import annotations

import html.entities
import re

from lxml import etree

_CDATA = re.compile(r"<!\[CDATA\[.*?\]\]>", re.S)
_XHTML_DOCTYPE = re.compile(
    r"<!DOCTYPE\s+html\s+PUBLIC\s+[\"']-//(?:W3C|WAPFORUM)//DTD (?:XHTML|MathML)", re.I
)
_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
CDATA_PLACEHOLDER = "<?bookjobs-cdata?>"


def decode(content: bytes) -> str:
    """The document as JSZip hands it to epub.js: UTF-8, a BOM dropped, bad bytes replaced."""
    return content.decode("utf-8", errors="replace").removeprefix("\ufeff")


def parse_html(content: bytes) -> etree._Element:
    """The `<html>` element a browser's HTML parser builds (implied `<head>`, `<tbody>` and all)."""
    import html5lib

    return html5lib.parse(decode(content), treebuilder="lxml").getroot()


def parse_xhtml(content: bytes) -> etree._Element:
    """The document as Chromium's XML parser sees it (see the module docstring); raises
    etree.XMLSyntaxError where Chromium would show a parse error."""
    text = _CDATA.sub(CDATA_PLACEHOLDER, decode(content))
    if _XHTML_DOCTYPE.search(text[:4096]):
        text = _NAMED_ENTITY.sub(_numeric, text)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # lxml refuses an encoding declaration in a str
    return etree.fromstring(text, etree.XMLParser(resolve_entities=False, no_network=True))


def _numeric(match: re.Match) -> str:
    name = match.group(1)
    value = html.entities.html5.get(f"{name};")
    if name in _XML_ENTITIES or value is None:
        return match.group(0)
    return "".join(f"&#{ord(char)};" for char in value)
