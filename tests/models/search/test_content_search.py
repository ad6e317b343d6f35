"""Content search on a small catalogue with the packaged MiniLM: stemming, the semantic half, filters,
facets, snippets and their highlights."""

import pytest

from models.embeddings import embed
from models.search.content_search import ContentSearch, Filters, SearchDocument, _readable, difficulty_band
from models.tutor.retrieval import tokens

DOCUMENTS = [
    SearchDocument("loops", "py", "Python", "m1", "Repetition", "lesson", "Loops",
                   "# Loops\nA `for` loop repeats its block once for every element of a sequence. "
                   "Looping over a range counts.", -1.0, ("loops",)),
    SearchDocument("files", "py", "Python", "m2", "Input and output", "lesson", "Reading files",
                   "Open a file with open() and read its lines; close it when done, or use a with block.",
                   0.2, ("files",)),
    SearchDocument("quiz", "py", "Python", "m1", "Repetition", "quiz", "Quiz: loops", "", 1.2, ("loops",)),
    SearchDocument("joins", "sql", "Databases", "m9", "Joins", "lesson", "Inner joins",
                   "An inner join keeps the rows whose keys match in both tables.", 0.0, ("joins",)),
    SearchDocument("draft", "secret", "Draft course", "m5", "Hidden", "lesson", "Loops in the draft",
                   "Loops, loops and more loops.", 0.0, ("loops",)),
]
SEEN = frozenset({"py", "sql"})  # what a learner may see: not the draft course


@pytest.fixture(scope="module")
def search() -> ContentSearch:
    texts = {d.item_id: d.text for d in DOCUMENTS if d.text}
    vectors = embed(list(texts.values()))
    return ContentSearch(DOCUMENTS, {i: [(t, v)] for (i, t), v in zip(texts.items(), vectors, strict=True)})


def _ids(results) -> list[str]:
    return [h.document.item_id for h in results.hits]


def test_words_are_stemmed_so_a_form_finds_the_others():
    assert tokens("Looping loops looped") == ["loop", "loop", "loop"]
    assert "**" in tokens("2 ** 3") and "the" not in tokens("the loop")


def test_keyword_search_finds_every_form_and_never_a_course_the_user_may_not_see(search):
    found = search.search("looping", Filters(courses=SEEN), mode="keyword")
    assert set(_ids(found)) == {"loops", "quiz"} and found.total == 2
    assert "draft" in _ids(search.search("looping", Filters(courses=SEEN | {"secret"}), mode="keyword"))


def test_the_semantic_half_finds_a_paraphrase_that_shares_no_word(search):
    query = "iterate through each entry of a collection"
    assert "loops" not in _ids(search.search(query, Filters(courses=SEEN), mode="keyword"))
    found = search.search(query, Filters(courses=SEEN))
    assert _ids(found)[0] == "loops" and "semantic" in found.hits[0].matched_by


def test_filters_narrow_before_ranking_and_facets_count_what_they_let_through(search):
    everything = Filters(courses=SEEN)
    assert _ids(search.search("loops", Filters(courses=SEEN, content_type="quiz"))) == ["quiz"]
    assert _ids(search.search("loops", Filters(courses=SEEN, difficulty="easy"), mode="keyword")) == ["loops"]
    assert _ids(search.search("loop file", Filters(courses=SEEN, module_id="m2"), mode="keyword")) == ["files"]
    assert set(_ids(search.search("loops files", Filters(courses=SEEN, tags=frozenset({"files"}))))) == {"files"}
    assert search.search("loops", Filters(courses=frozenset({"sql"})), mode="keyword").total == 0
    facets = search.search("loops", everything, mode="keyword").facets
    assert facets["type"] == [("lesson", "lesson", 1), ("quiz", "quiz", 1)]
    assert facets["course"] == [("py", "Python", 2)] and facets["tags"] == [("loops", "loops", 2)]
    assert [band for band, _, _ in facets["difficulty"]] == ["easy", "hard"]
    assert difficulty_band(None) is None and difficulty_band(0.5) == "hard"


def test_snippets_highlight_the_query_words_in_any_form(search):
    hit = search.search("loop over ranges", Filters(courses=SEEN), mode="keyword").hits[0]
    assert hit.document.item_id == "loops" and "#" not in hit.snippet and "`" not in hit.snippet
    marked = [hit.snippet[a:b].lower() for a, b in hit.highlights]
    assert {"loop", "looping", "range"} <= set(marked)
    # The item's title is shown above its snippet, not again in it; a heading ends before its first sentence.
    assert hit.snippet.startswith("A for loop repeats")
    assert " ".join(_readable("# Loops\n\n## When to loop\nUse `for`.\n## Why?\nTo repeat.", "Loops").split()) == \
        "When to loop: Use for. Why? To repeat."
    assert _readable("# Loops\n", "Loops").strip() == "Loops:", "a title with nothing under it is all there is to show"
    assert search.search("quiz", Filters(courses=SEEN), mode="keyword").hits[0].snippet == "Quiz: loops"


def test_odd_queries_answer_without_failing(search):
    for query in ("", "   ", "!!!", "the and of", "x" * 500, "```\nfor i in range(3):\n    print(i)\n```", "日本語"):
        for mode in ("hybrid", "keyword", "semantic"):
            found = search.search(query, Filters(courses=SEEN), mode=mode)
            assert found.total >= len(found.hits)
    with pytest.raises(ValueError, match="mode"):
        search.search("loops", Filters(courses=SEEN), mode="fuzzy")
    empty = ContentSearch([])
    assert not empty.semantic and empty.search("loops", Filters(courses=SEEN)).total == 0
