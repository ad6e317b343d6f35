"""What the tutor knows: the course content in the lake, as documents to chunk and index.

Lessons written in the core API and books imported from OpenStax CNXML are content items
with a Markdown body; the core snapshot holds the current version of each. Items without a body (videos, quizzes) have nothing to cite.
"""

import json
from dataclasses import dataclass

from lake.sources.core_snapshot import course_content
from learnlake.settings import Settings
from models.tutor.chunks import Chunk, document_chunks


@dataclass(frozen=True)
class Document:
    course_id: str
    document_id: str
    title: str
    markdown: str
    location: str
    skills: tuple[str, ...] = ()


def _location(item: dict) -> str:
    """Where a reader finds the item: the imported file, else its URL, else the item itself."""
    try:
        source = json.loads(item["source"]) if item["source"] else {}
    except json.JSONDecodeError:
        source = {}
    if source.get("path") or source.get("module"):
        return source.get("path") or f"{source.get('book', 'book')}/{source['module']}"
    return item["url"] or f"courses/{item['course_id']}/items/{item['item_id']}"


def lake_documents(settings: Settings) -> dict[str, list[Document]]:
    """Every course's content items with a body, by course id, in course order."""
    documents: dict[str, list[Document]] = {}
    for item in course_content(settings).iter_rows(named=True):
        documents.setdefault(item["course_id"], []).append(
            Document(item["course_id"], item["item_id"], item["title"], item["body"], _location(item),
                     tuple(item["skills"] or ())))
    return documents


def chunk_documents(documents: list[Document]) -> list[Chunk]:
    return [chunk for d in documents for chunk in document_chunks(
        course_id=d.course_id, document_id=d.document_id, title=d.title, markdown=d.markdown, location=d.location,
        skills=d.skills)]


def book_chunks(book) -> list[Chunk]:
    """An OpenStax book's sections (``lake.sources.datasets.openstax.Book``) as the passages of one course, the
    book's slug, each practising its chapter's skill as when imported: what the evaluations on a book index."""
    return chunk_documents([Document(book.slug, section.module_id, section.title, section.markdown, section.path,
                                     (chapter.skill_id,) if chapter.skill_id else ())
                            for chapter in book.chapters for section in chapter.sections])
