"""The short-answer grader with the packaged MiniLM: what it counts as said, what costs a point, and when it
is unsure enough to ask a person."""

import pytest

from models.assessment.short_answers import Assessment, grade

LOOP = Assessment(reference="A for loop repeats its body once for each item of a sequence.")
QUESTION = "What does a for loop do?"


@pytest.mark.parametrize("answer", [
    "A for loop repeats its body once for each item of a sequence.",
    "I think a for loop repeats its body once for each item of a sequence",
    "a FOR loop   repeats its body once for each item of a sequence!",
])
def test_the_reference_in_any_frame_gets_full_marks_surely(answer):
    result = grade(QUESTION, LOOP, answer)
    assert (result.score, result.points) == (2, 2) and not result.needs_review and result.covered


def test_an_unrelated_answer_gets_nothing_surely_and_a_negated_one_gets_nothing():
    unrelated = grade(QUESTION, LOOP, "Dictionaries map keys to values.")
    assert unrelated.score == 0 and not unrelated.needs_review and unrelated.missed == [LOOP.reference]
    negated = grade(QUESTION, LOOP, "A for loop does not repeat its body once for each item of a sequence.")
    assert negated.score == 0


def test_the_same_point_in_other_words_is_never_graded_wrong_with_confidence():
    result = grade(QUESTION, LOOP, "The for loop runs its body once for every item in the sequence.")
    assert result.score == 2 or result.needs_review


def test_values_must_be_given_exactly_and_in_order():
    total = Assessment(reference="126.0", points=1)
    assert grade("What is bill?", total, "It is 126.0.").score == 1
    assert grade("What is bill?", total, "It is 26.0.").score == 0
    assert grade("What is bill?", total, "126").score == 0
    colour = Assessment(reference="red=255, green=0, blue=255")
    assert grade("Which colour?", colour, "red=255, green=0, blue=255").score == 2
    assert grade("Which colour?", colour, "red=0, green=255, blue=255").score == 0


def test_a_hedged_answer_loses_a_point_and_goes_to_a_person_but_reasons_do_not():
    value = Assessment(reference="126.0")
    hedged = grade("What is bill?", value, "126.0 or 26.0")
    assert hedged.score == 1 and hedged.needs_review and "26.0" in hedged.conflicts
    worded = grade("Is it true?", Assessment(reference="False"), "False, or maybe True")
    assert worded.score == 1 and worded.needs_review
    explained = grade("What is bill?", value, "126.0, because tax adds 6.0 and the tip 20.0 to 100")
    assert explained.score == 2 and not explained.conflicts and not explained.needs_review


def test_key_points_give_partial_credit_on_the_items_scale():
    sample = Assessment(reference="A random subset of the population.",
                        key_points=("a sample is a subset of the population", "it is chosen at random"), points=4)
    both = grade("What is a sample?", sample, "A sample is a subset of the population. It is chosen at random.")
    one = grade("What is a sample?", sample, "A sample is a subset of the population.")
    assert (both.score, one.score, one.missed) == (4, 2, ["it is chosen at random"])
    assert one.share == 0.5 and both.share == 1.0


def test_not_and_or_are_read_near_the_point_they_concern():
    sample = Assessment(reference="A random subset that is not biased.",
                        key_points=("a sample is a subset of the population", "it is not biased"))
    answer = "A sample is a subset of the population. It is not biased, whether it is large or small."
    assert grade("What is a sample?", sample, answer).score == 2
    denied = grade("What is a sample?", sample, "A sample is not a subset of the population. It is not biased.")
    assert denied.score == 1 and denied.missed == ["a sample is a subset of the population"]
