"""An OpenStax book imported as a course: readable through the API, cited by source, re-importable."""

import dataclasses

import pytest

from lake import readers
from lake.sources.core_snapshot import snapshot_core_tables
from lake.sources.datasets.openstax import read_book
from serving.core.imports import import_book
from tests.conftest import real_data_dir

BOOK_DIR = real_data_dir() / "openstax-python"


@pytest.fixture(scope="module")
def book():
    if not BOOK_DIR.is_dir():
        pytest.skip(f"the OpenStax book is not at {BOOK_DIR} (set LEARNLAKE_DATA_DIR)")
    return read_book(BOOK_DIR)


def test_the_book_is_read_in_order_with_headings_and_sources(book):
    assert book.title == "Introduction to Python Programming"
    assert book.chapters[1].title == "Statements"
    assert len(book.sections) == 115  # every module the table of contents lists
    io = next(s for s in book.sections if s.module_id == "m00003")
    assert io.markdown.startswith("# Input/output\n")
    assert "## Basic output" in io.markdown
    assert "The **`print()`** function displays output to the user." in io.markdown
    assert (BOOK_DIR / io.path).exists()


def test_an_imported_book_is_a_published_course_anyone_can_read(api, book):
    database, outbox = api.client.app.state.database, api.client.app.state.outbox
    report = import_book(database, outbox, book)
    assert report.created and report.sections_added == 115
    learner = api.user()
    course = api.client.get(f"/api/v1/courses/{report.course_id}", headers=learner.headers).json()
    assert course["status"] == "published" and course["metadata"]["source"] == "openstax"
    modules = api.client.get(f"/api/v1/courses/{report.course_id}/modules", headers=learner.headers).json()
    assert [m["title"] for m in modules][:3] == ["Front matter", "Statements", "Expressions"]
    section = modules[1]["items"][2]
    assert section["source"]["module"] == "m00003" and section["body"].startswith("# Input/output")
    # Each chapter is a skill its sections practise, named by the chapter's title; the front matter teaches none.
    assert course["metadata"]["skill_names"][section["skills"][0]] == "Statements"
    assert len(course["metadata"]["skill_names"]) == len(book.chapters) - 1
    assert modules[0]["items"] and all(item["skills"] == [] for item in modules[0]["items"])
    # Importing again changes nothing; a changed section is updated in place, with its event.
    assert import_book(database, outbox, book).sections_added == 0
    edited = dataclasses.replace(book, chapters=[dataclasses.replace(c, sections=list(c.sections))
                                                 for c in book.chapters])
    edited.chapters[1].sections[2] = dataclasses.replace(edited.chapters[1].sections[2], markdown="# Input/output\n")
    again = import_book(database, outbox, edited)
    assert (again.sections_added, again.sections_updated) == (0, 1)
    snapshot_core_tables(api.settings.database_url, api.settings)
    items = readers.read_table("bronze.core_content_items")
    assert items.height == 115
    assert items.filter(items["source"].str.contains('"m00003"'))["body"].to_list() == ["# Input/output\n"]
