"""``learnlake eval rag``: retrieval quality on an OpenStax book and its H5P questions.

The book in the content directory is chunked and indexed (a Qdrant collection in memory);
every question (``content.json``: question and answer options; ``metadata.json``: the
``context`` module ids that hold the answer) is asked in each mode, with its options, as a
learner sees a multiple-choice question (its code as Markdown code, as a learner would paste
it). Sections are ranked by their best passage; the figures are recall@1 and @5 and MRR of
the gold sections, search latency percentiles (query embedding included), and how often the
correct option's text appears in the five passages returned. Nothing is fitted to the
questions: chunk sizes and the fusion are fixed. One choice was made on them: the form in which
pasted code is searched, the best of four tried (``models/tutor/query_code.py`` says which). Since
then, the questions of every third chapter are kept aside (``held_out``): the figures are given for all
questions and for the development and held-out splits, and choices look at the development split only.

``answers`` reads the offline tutor's answers (``answers.ExtractiveAnswerer``) to the same queries from the five
passages hybrid search finds, as the tutor answers: the share of answers with a sentence from a gold section and
the share of their sentences that come from one, beside the same answerer choosing the three sentences closest to
the question as they stand, whatever their passage's rank and heading and however far the second and third are
(the answerer before issue 31's last choices).

``rated`` measures what the tutor learns from its askers' ratings (``retrieval.RatedAnswers``), with simulated
askers: each question's answer cites the first ``CITED`` sections hybrid search finds, and its asker rates it
helpful when one of them is a gold section (``flipped``: that share of askers rate the other way, at random).
Each question is then asked again with every other question's rating remembered, as a later learner's question
meets the ratings of those who asked before.
"""

import hashlib
import html
import json
import logging
import re
import time
from pathlib import Path

import numpy as np
from rich.progress import track

from lake.sources.datasets.common import DatasetError
from lake.sources.datasets.openstax import read_book
from models.headline import HEADLINE, against_strongest, comparison
from models.tutor.answers import ExtractiveAnswerer
from models.tutor.content import book_chunks
from models.tutor.index import TutorIndex
from models.tutor.retrieval import CANDIDATES, MODES, Mode, RatedAnswers, Retriever, question_vectors

log = logging.getLogger(__name__)


CODE_ELEMENT = re.compile(r"<(pre|code)\b[^>]*>(.*?)</\1>", re.DOTALL | re.IGNORECASE)


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text))).strip()


def _markdown(text: str) -> str:
    """H5P HTML as a learner would write it: code blocks fenced, inline code in backticks, the rest plain."""
    pieces, last = [], 0
    for match in CODE_ELEMENT.finditer(text):
        pieces.append(_plain(text[last:match.start()]))
        code = re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", "\n", match.group(2), flags=re.IGNORECASE))
        code = html.unescape(code).replace("\xa0", " ").strip("\n")
        pieces.append(f"\n```\n{code}\n```\n" if match.group(1).lower() == "pre" else f"`{code}`")
        last = match.end()
    pieces.append(_plain(text[last:]))
    return " ".join(piece for piece in pieces if piece.strip()).strip()


def read_questions(questions_dir: Path) -> list[dict]:
    """Every H5P multiple-choice question under the directory, with its gold sections."""
    questions = []
    for content_file in sorted(questions_dir.rglob("content.json")):
        metadata_file = content_file.with_name("metadata.json")
        if not metadata_file.exists():
            continue
        try:
            content, metadata = json.loads(content_file.read_text()), json.loads(metadata_file.read_text())
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{content_file.parent}: not valid JSON: {exc}") from exc
        gold = set(metadata.get("context") or [])
        if not content.get("question") or not gold:
            continue
        answers = content.get("answers") or []
        questions.append({"id": content_file.parent.name, "question": _markdown(content["question"]),
                          "options": [_markdown(a.get("text", "")) for a in answers],
                          "correct": [_plain(a.get("text", "")) for a in answers if a.get("correct")],
                          "wrong": [_plain(a.get("text", "")) for a in answers if not a.get("correct")],
                          "explanations": [_plain((a.get("tipsAndFeedback") or {}).get("chosenFeedback") or "")
                                           for a in answers if a.get("correct")],
                          "gold": gold})
    if not questions:
        raise DatasetError(f"no H5P questions (content.json with a metadata.json context) under {questions_dir}")
    return questions


CHAPTER = re.compile(r"ch(\d+)", re.IGNORECASE)


def held_out(question_id: str) -> bool:
    """Questions kept aside from every retrieval choice: those of every third chapter (3, 6, 9...) by the
    question's id (``CPL-ch03-...``), or a third of the questions by hash when ids name no chapter."""
    if match := CHAPTER.search(question_id):
        return int(match.group(1)) % 3 == 0
    return int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % 3 == 0


def _figures(first_hits: list[int | None], latencies: list[float], answer_shown: list[bool]) -> dict:
    ranks = np.array([r if r is not None else np.inf for r in first_hits])
    return {"recall_at_1": float(np.mean(ranks < 1)), "recall_at_5": float(np.mean(ranks < 5)),
            "mrr": float(np.mean(np.where(np.isfinite(ranks), 1 / (ranks + 1), 0.0))),
            "p50_ms": float(np.percentile(latencies, 50)), "p95_ms": float(np.percentile(latencies, 95)),
            "answer_in_passages": float(np.mean(answer_shown)), "questions": len(first_hits)}


CITED = 3  # sections an answer cites: the tutor's "I don't know" points to three
ANSWERED_FROM = 5  # passages the tutor answers from (serving/tutor.py)
ANSWERERS = {"extractive": ExtractiveAnswerer(),
             "closest_sentences": ExtractiveAnswerer(rank_penalty=0.0, heading_weight=0.0, margin=None)}
CITATION = re.compile(r" \[(\d+)\](?= |$)")  # an extractive answer is "sentence [n] sentence [m]..."
FLIPPED = (0.0, 0.2)


def _rated(retriever: Retriever, course: str, queries: list[str], questions: list[dict], cited: list[tuple[str, ...]],
           *, flipped: float, progress: bool) -> tuple[list[tuple], float]:
    """Each question asked with every other question's simulated rating remembered (leave one out); and the
    share of answers rated helpful."""
    flips = np.random.default_rng(0).random(len(questions)) < flipped
    helpful = [bool(set(c) & q["gold"]) != flip for c, q, flip in zip(cited, questions, flips, strict=True)]
    vectors = question_vectors(queries)
    found = []
    for i in track(range(len(questions)), description=f"with ratings ({flipped:.0%} flipped)...", disable=not progress):
        others = [j for j in range(len(questions)) if j != i]
        rated = RatedAnswers(vectors[others], [cited[j] for j in others], [helpful[j] for j in others],
                             [questions[j]["id"] for j in others])  # each question its own asker
        found.append(_found(retriever, course, queries[i], questions[i], rated=rated))
    return found, float(np.mean(helpful))


def _found(retriever: Retriever, course: str, query: str, question: dict, *, mode: Mode = "hybrid",
           rated: RatedAnswers | None = None) -> tuple[bool, int | None, float, bool, list[str]]:
    """(held out, the first gold section's rank, latency in ms, the answer shown, the sections in order)."""
    started = time.perf_counter()
    passages = retriever.search(course, query, k=CANDIDATES, mode=mode, rated=rated)
    latency = (time.perf_counter() - started) * 1000
    sections = list(dict.fromkeys(p.chunk.document_id for p in passages))
    shown = _normalise(" ".join(p.chunk.text for p in passages[:5]))
    return (held_out(question["id"]), next((rank for rank, s in enumerate(sections) if s in question["gold"]), None),
            latency, any(_normalise(c) and _normalise(c) in shown for c in question["correct"]), sections)


def _answers(retriever: Retriever, course: str, queries: list[str], questions: list[dict], *, progress: bool) -> dict:
    """Per answerer (``ANSWERERS``), on every question and on each split: how much of its answers comes from a
    gold section."""
    found = [retriever.search(course, query, k=ANSWERED_FROM)
             for query in track(queries, description="answers...", disable=not progress)]
    figures = {}
    for name, answerer in ANSWERERS.items():
        read = []  # (held out, whether each sentence of the answer is from a gold section; None: no answer)
        for query, question, passages in zip(queries, questions, found, strict=True):
            answer = answerer.answer(query, passages)
            documents = {c.number: c.document_id for c in answer.citations}
            read.append((held_out(question["id"]), [documents[int(n)] in question["gold"]
                                                    for n in CITATION.findall(answer.text)] if answer.grounded else None))
        figures[name] = {**_answer_figures([r for _, r in read]),
                         **{split: _answer_figures([r for aside, r in read if aside == (split == "held_out")])
                            for split in ("development", "held_out")}}
    return figures


def _answer_figures(read: list[list[bool] | None]) -> dict:
    answered = [sentences for sentences in read if sentences]
    return {"answered": len(answered), "questions": len(read),
            "with_a_sentence_from_gold": float(np.mean([any(s) for s in answered])) if answered else 0.0,
            "sentences_from_gold": float(np.mean([np.mean(s) for s in answered])) if answered else 0.0}


def _split_figures(found: list[tuple]) -> tuple[dict, dict]:
    """Figures for all the questions, and for the development and held-out splits."""
    splits = {}
    for split, aside in (("development", False), ("held_out", True)):
        if part := [f for f in found if f[0] == aside]:
            splits[split] = _figures(*([f[i] for f in part] for i in (1, 2, 3)))
    return _figures(*([f[i] for f in found] for i in (1, 2, 3))), splits


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("`", "").lower()).strip()


def evaluate(content_dir: Path, questions_dir: Path, *, progress: bool = False) -> dict:
    book = read_book(content_dir)
    questions = read_questions(questions_dir)
    chunks = book_chunks(book)
    known = {section.module_id for section in book.sections}
    answerable = [q for q in questions if q["gold"] & known]
    log.info("rag: %d sections, %d passages, %d questions (%d about sections of this book)",
             len(book.sections), len(chunks), len(questions), len(answerable))
    if not answerable:
        raise DatasetError(f"none of the questions names a section of the book in {content_dir}")
    index = TutorIndex.in_memory()
    index.sync_course(book.slug, chunks)
    retriever = Retriever(index)
    retriever.search(book.slug, "warm up", k=1)  # loads the embedding model and builds BM25 once
    figures, splits, found_by = {}, {"development": {}, "held_out": {}}, {}
    queries = [" ".join([q["question"], *q["options"]]) for q in answerable]
    for mode in MODES:
        found_by[mode] = [_found(retriever, book.slug, query, q, mode=mode)
                          for query, q in track(list(zip(queries, answerable, strict=True)),
                                                description=f"{mode} retrieval...", disable=not progress)]
        figures[mode], by_split = _split_figures(found_by[mode])
        for split, split_figures in by_split.items():
            splits[split][mode] = split_figures
    answers = _answers(retriever, book.slug, queries, answerable, progress=progress)
    cited = [tuple(f[4][:CITED]) for f in found_by["hybrid"]]
    rated = {}
    for flipped in FLIPPED:
        found, helpful = _rated(retriever, book.slug, queries, answerable, cited, flipped=flipped, progress=progress)
        overall, by_split = _split_figures(found)
        rated[f"{round(flipped * 100)}_percent_flipped"] = {**overall, "rated_helpful": helpful, "splits": by_split}
    return {"book": book.title, "sections": len(book.sections), "passages": len(chunks),
            "questions": len(answerable), "questions_outside_the_book": len(questions) - len(answerable),
            "query": "question and its answer options", **figures["hybrid"], "modes": figures,
            "splits": splits, "answers": answers, "rated": {"cited_sections": CITED, **rated},
            HEADLINE: _headline(figures, splits.get("held_out", {}), answers)}


def _headline(figures: dict, held_out: dict, answers: dict) -> dict:
    """Hybrid recall@5 beside the stronger single search, on every question and on the held-out chapters; and the
    tutor's answers with a sentence from a gold section on the held-out chapters, beside the closest sentences."""
    found = {}
    for key, where, by_mode in (("recall_at_5", "every question", figures),
                                ("held_out_recall_at_5", "held-out chapters", held_out)):
        if "hybrid" in by_mode:
            found[key] = against_strongest(
                f"recall@5 of the gold section, {where}", "hybrid", by_mode["hybrid"]["recall_at_5"],
                {f"{mode} alone": by_mode[mode]["recall_at_5"] for mode in MODES if mode != "hybrid"})
    if answers["extractive"]["held_out"]["questions"]:
        found["held_out_answers_from_gold"] = comparison(
            "answers quoting a gold section, held-out chapters", "extractive tutor",
            answers["extractive"]["held_out"]["with_a_sentence_from_gold"], "closest sentences alone",
            answers["closest_sentences"]["held_out"]["with_a_sentence_from_gold"])
    return found
