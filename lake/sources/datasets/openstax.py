"""An OpenStax book in CNXML -> chapters of sections, each section as Markdown with its headings.

The collection file (``collections/*.collection.xml``) gives the table of contents:
subcollections are chapters, their modules are sections (``modules/<id>/index.cnxml``). A
subcollection of subcollections (a unit) gives its chapters in order, and its own modules (a unit's
opening page) a chapter under its title. Modules outside any chapter form a chapter named "Front
matter" (a preface) before the first chapter, or "Back matter" (appendices) after it. Each chapter
is a skill its sections practise (``BookChapter.skill_id``); front and back matter teach none, so
no practice question is made from a preface or a licence. Each section keeps where it came from
(book, module id, file) so that answers built from it can cite their source. Figures keep their alt
text and caption; images themselves are not read.
"""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from lake.sources.datasets.common import DatasetError

NAME = "openstax"
CNXML = "{http://cnx.rice.edu/cnxml}"
COLLXML = "{http://cnx.rice.edu/collxml}"
MDML = "{http://cnx.rice.edu/mdml}"
BLOCKS = {"para", "list", "table", "figure", "note", "example", "exercise", "section", "equation"}


@dataclass
class BookSection:
    module_id: str
    title: str
    markdown: str
    path: str  # the CNXML file, relative to the book directory


@dataclass
class BookChapter:
    title: str
    sections: list[BookSection] = field(default_factory=list)
    skill_id: str | None = None  # None: front or back matter, which teach nothing to practise


@dataclass
class Book:
    title: str
    slug: str
    uuid: str
    license_url: str | None
    chapters: list[BookChapter]

    @property
    def sections(self) -> list[BookSection]:
        return [s for chapter in self.chapters for s in chapter.sections]


def read_book(data_dir: Path) -> Book:
    """The first collection under ``data_dir`` with its modules, in reading order."""
    collections = sorted(data_dir.rglob("*.collection.xml"))
    if not collections:
        raise DatasetError(f"no collections/*.collection.xml under {data_dir}")
    root = _parse(collections[0])
    metadata = root.find(f"{COLLXML}metadata")
    title = _text(metadata.find(f"{MDML}title")) if metadata is not None else collections[0].stem
    slug = _text(metadata.find(f"{MDML}slug")) if metadata is not None else collections[0].stem
    book_uuid = _text(metadata.find(f"{MDML}uuid")) if metadata is not None else slug
    license_element = metadata.find(f"{MDML}license") if metadata is not None else None
    modules_dir = collections[0].parent.parent / "modules"
    content = root.find(f"{COLLXML}content")
    if content is None:
        raise DatasetError(f"{collections[0]}: the collection has no content")
    front, back, chapters = BookChapter("Front matter"), BookChapter("Back matter"), []
    for child in content:
        if child.tag == f"{COLLXML}module":
            (back if chapters else front).sections.append(_section(modules_dir, child.get("document"), data_dir))
        elif child.tag == f"{COLLXML}subcollection":
            chapters.extend(_chapters(child, modules_dir, data_dir))
    chapters = [chapter for chapter in (front, *chapters, back) if chapter.sections]
    for position, chapter in enumerate(chapters, start=1):  # the front matter keeps its place in the numbering
        if chapter is not front and chapter is not back:
            chapter.title = chapter.title or f"Chapter {position}"
            chapter.skill_id = f"{slug}:chapter-{position}"
    return Book(title, slug, book_uuid, license_element.get("url") if license_element is not None else None,
                chapters)


def _chapters(subcollection: ET.Element, modules_dir: Path, data_dir: Path) -> list[BookChapter]:
    """The subcollection's own modules as a chapter, then the chapters of the subcollections it holds."""
    chapter = BookChapter(_text(subcollection.find(f"{MDML}title")))
    found = [chapter]
    content = subcollection.find(f"{COLLXML}content")
    for child in content if content is not None else ():
        if child.tag == f"{COLLXML}module":
            chapter.sections.append(_section(modules_dir, child.get("document"), data_dir))
        elif child.tag == f"{COLLXML}subcollection":
            found.extend(_chapters(child, modules_dir, data_dir))
    return [c for c in found if c.sections]


def _parse(path: Path) -> ET.Element:
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise DatasetError(f"{path}: not well-formed XML: {exc}") from exc


def _section(modules_dir: Path, module_id: str | None, data_dir: Path) -> BookSection:
    path = modules_dir / str(module_id) / "index.cnxml"
    if not module_id or not path.exists():
        raise DatasetError(f"the collection lists module {module_id!r}, but {path} does not exist")
    root = _parse(path)
    title = _text(root.find(f"{CNXML}title")) or module_id
    body = root.find(f"{CNXML}content")
    markdown = _blocks(body, level=2) if body is not None else ""
    return BookSection(module_id, title, f"# {title}\n\n{markdown}".strip() + "\n",
                       str(path.relative_to(data_dir)))


def _blocks(element: ET.Element, level: int) -> str:
    """Block children as Markdown paragraphs; sections, notes and examples become headings."""
    out = []
    for child in element:
        tag = child.tag.removeprefix(CNXML)
        if tag == "section" or tag in ("note", "example", "exercise"):
            heading = _text(child.find(f"{CNXML}title"))
            if heading:
                out.append(f"{'#' * min(level, 6)} {heading}")
            out.append(_blocks(child, level + 1))
        elif tag == "title":
            continue
        elif tag == "list":
            out.append("\n".join(f"- {_inline(item)}" for item in child.findall(f"{CNXML}item")))
        elif tag == "table":
            rows = [" | ".join(_inline(entry) for entry in row.findall(f"{CNXML}entry"))
                    for row in child.iter(f"{CNXML}row")]
            out.append("\n".join(rows))
        elif tag == "figure":
            media = child.find(f"{CNXML}media")
            caption = _inline(child.find(f"{CNXML}caption")) if child.find(f"{CNXML}caption") is not None else ""
            alt = media.get("alt", "") if media is not None else ""
            out.append(f"Figure: {alt} {caption}".strip())
        elif tag == "code" and "inline" not in child.get("class", ""):
            out.append(f"```python\n{''.join(child.itertext()).strip()}\n```")
        elif tag in ("problem", "solution", "commentary", "para", "equation", "quote", "definition"):
            if any(_is_block(c) for c in child):
                out.append(f"{(child.text or '').strip()}\n\n{_blocks(child, level)}".strip())
            else:
                out.append(_inline(child))
        elif tag in ("media", "iframe", "metadata"):
            continue
        else:
            out.append(_blocks(child, level) if len(child) else _inline(child))
    return "\n\n".join(part for part in out if part and part.strip())


def _is_block(element: ET.Element) -> bool:
    tag = element.tag.removeprefix(CNXML)
    return tag in BLOCKS or (tag == "code" and "inline" not in element.get("class", ""))


def _inline(element: ET.Element | None) -> str:
    """The text of an element, with inline code in backticks and terms in bold, on one line."""
    if element is None:
        return ""
    parts = [element.text or ""]
    for child in element:
        tag = child.tag.removeprefix(CNXML)
        inner = _inline(child)
        if tag == "code":
            parts.append(f"`{''.join(child.itertext())}`")
        elif tag == "term":
            parts.append(f"**{inner}**")
        elif tag == "emphasis":
            parts.append(f"*{inner}*")
        elif tag == "newline":
            parts.append(" ")
        else:
            parts.append(inner)
        parts.append(child.tail or "")
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _text(element: ET.Element | None) -> str:
    return re.sub(r"\s+", " ", "".join(element.itertext())).strip() if element is not None else ""
