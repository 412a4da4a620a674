"""Hand-written EPUBs for the locations tests: every markup shape whose CFIs epub.js numbers its own way."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

XHTML = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="ru">
<head><title>{title}</title></head>
<body{body_attrs}>{body}</body>
</html>
"""
CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="{opf}" media-type="application/oebps-package+xml"/></rootfiles>
</container>
"""


@dataclass
class Document:
    name: str
    body: str
    itemref_id: str = ""
    linear: str = ""  # "" (attribute absent), "yes" or "no"
    body_attrs: str = ""
    media_type: str = "application/xhtml+xml"
    page: str = ""  # the whole file as written, instead of the XHTML template around `body`


@dataclass
class Epub:
    documents: list[Document]
    opf_dir: str = "OEBPS"
    before_spine: list[str] = field(default_factory=list)  # extra package children placed before <spine>

    def write(self, path: Path) -> Path:
        opf = f"{self.opf_dir}/content.opf" if self.opf_dir else "content.opf"
        prefix = f"{self.opf_dir}/" if self.opf_dir else ""
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
            archive.writestr("META-INF/container.xml", CONTAINER.format(opf=opf))
            archive.writestr(opf, self._package())
            for doc in self.documents:
                page = doc.page or XHTML.format(title=doc.name, body=doc.body, body_attrs=doc.body_attrs)
                archive.writestr(prefix + doc.name, page)
        return path

    def _package(self) -> str:
        items = "".join(
            f'<item id="item{n}" href="{d.name}" media-type="{d.media_type}"/>'
            for n, d in enumerate(self.documents)
        )
        refs = "".join(
            f'<itemref idref="item{n}"'
            + (f' id="{d.itemref_id}"' if d.itemref_id else "")
            + (f' linear="{d.linear}"' if d.linear else "")
            + "/>"
            for n, d in enumerate(self.documents)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="uid">x</dc:identifier>'
            "<dc:title>Локации</dc:title><dc:language>ru</dc:language></metadata>"
            f"<manifest>{items}</manifest>{''.join(self.before_spine)}<spine>{refs}</spine></package>"
        )


LONG = "Над рекой стоял густой туман, и в нём тонули огни старой пристани. " * 6

#: Each entry: a name and an EPUB exercising one family of shapes.
EPUBS: dict[str, Epub] = {
    "entities": Epub(
        [
            Document(
                "ent.xhtml",
                "<p>Том &amp; Джерри &lt;3 &#160;неразрывный&#xA0;пробел &#8212; тире &gt; всё.</p>"
                f"<p>{LONG}&#x1F600;{LONG}</p><p>&#160;</p><p>конец</p>",
                itemref_id="ent",
            )
        ]
    ),
    "images_and_nested": Epub(
        [
            Document(
                "nest.xhtml",
                '<div id="c1"><section><h1 id="h1">Глава <em>первая</em></h1>'
                f'<p id="c1p0">{LONG}<img src="a.png" alt="картинка"/>{LONG}</p>'
                f"<p>один <em>два <strong>три {LONG}</strong> четыре</em> пять<br/>{LONG}</p>"
                '</section><figure><img src="b.png"/><figcaption>Подпись</figcaption></figure></div>',
                itemref_id="chap01ref",
            ),
            Document("notes.xhtml", f"<p>{LONG}</p>", linear="no"),
            Document("tail.xhtml", f"Текст прямо в body. {LONG}<p>абзац</p> хвост {LONG}"),
        ],
        before_spine=["<guide/>"],
    ),
    "emoji_and_missing_ids": Epub(
        [
            Document(
                "emoji.xhtml",
                "<p>"
                + "Кот 😺 сидел у окна 👩‍👩‍👧 и смотрел на 🌧 дождь. " * 8
                + "</p>"
                + "<p id='x'>a<!-- комментарий -->b<?pi x?>c</p><p>   </p><p>\u00a0\u3000</p>"
                + "<p>"
                + "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 " * 30
                + "</p>",
            ),
            Document("second.xhtml", f"<div><p>{LONG}</p></div>", itemref_id="s2", linear="yes"),
        ],
        opf_dir="",
    ),
    "short_chapters": Epub(
        [Document(f"s{n}.xhtml", f"<p>Короткая глава {n}.</p>") for n in range(5)]
        + [Document("empty.xhtml", "<p> </p>")]
    ),
}


CALIBRE_PAGE = """<?xml version='1.0' encoding='utf-8'?>
<html xmlns="http://www.w3.org/1999/xhtml">
  <head>
    <title>{title}</title>
    <meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>
    <link href="stylesheet.css" rel="stylesheet" type="text/css"/>
  </head>
  <body class="calibre">
<div class="calibre1">{body}</div>
</body></html>
"""
XHTML11 = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head>
<body>{body}</body></html>
"""

#: Books as they come in the wild: what epub.js in Chromium is the reference for (jsdom differs).
WILD_EPUBS: dict[str, Epub] = {
    "calibre": Epub(
        [
            Document(
                f"index_split_00{n}.html",
                "",
                page=CALIBRE_PAGE.format(
                    title=f"Часть {n}",
                    body=f'<h2 class="calibre2" id="ch{n}">Глава {n}</h2>'
                    f'<p class="calibre3">{LONG}</p><p class="calibre3"><span>«Да», — сказал он.</span></p>',
                ),
            )
            for n in range(3)
        ]
    ),
    "html_without_charset": Epub(
        [
            Document(
                "chapter.html",
                "",
                page=f"<html><head><title>Глава</title></head><body><p>{LONG}</p><p>Ёлка, ёж и щука.</p>"
                "</body></html>",
            )
        ]
    ),
    "text_html": Epub(
        [
            Document(
                "page.htm",
                "",
                media_type="text/html",
                page=f"<!DOCTYPE html><title>Страница</title><p>Первый абзац {LONG}<p>Второй, без"
                "закрывающего тега<table><tr><td>ячейка один<td>ячейка два</table>"
                f"<ul><li>пункт<li>ещё пункт</ul>конец текста {LONG}",
            )
        ]
    ),
    "cdata_and_comments": Epub(
        [
            Document(
                "cdata.xhtml",
                f"<p>до <![CDATA[внутри <b>не тег</b> {LONG}]]> после</p>"
                f"<p><!-- заметка -->раз<?pi два?>три <![CDATA[x]]><![CDATA[y]]> {LONG}</p>",
            )
        ]
    ),
    "xhtml11_entities": Epub(
        [
            Document(
                "entities.xhtml",
                "",
                page=XHTML11.format(
                    body=f"<p>&laquo;Привет&raquo;&nbsp;&mdash; сказал он&hellip; {LONG}</p>"
                    "<p>&copy;&nbsp;2026 &amp; &lt;ещё&gt; &euro;&thinsp;10</p>"
                ),
            )
        ]
    ),
}
