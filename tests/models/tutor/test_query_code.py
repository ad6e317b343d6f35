"""Code in a question: its outline in words for the dense search, its own tokens for BM25."""

from models.tutor.query_code import outline, with_outlines, without_markers
from models.tutor.rag_evaluation import _markdown


def test_the_outline_names_literals_by_type_and_keeps_the_language_but_not_the_names():
    assert outline("8 * 0.25") == "integer * float"
    assert outline("str(5.2) + '7'") == "str ( float ) + string"
    assert outline("def update(hour):\n    global is_dst\n    return hour + 1") == (
        "def ( ) : global return + integer")
    assert outline("0x1F + 3j") == "integer + complex"


def test_what_is_not_python_has_no_outline():
    assert outline("print(") == ""  # unbalanced: the tokenizer gives up
    assert outline("don't") == ""


def test_code_spans_get_their_outline_and_plain_text_stays_as_it_is():
    question = "What is `8 * 0.25`?\n```\nx = 'ab' * 2\nprint(x)\n```\nOptions: `2` or `2.0`"
    assert with_outlines(question) == ("What is 8 * 0.25 integer * float ? x = 'ab' * 2 print(x) = string * integer "
                                       "print ( ) Options: 2 integer or 2.0 float")
    assert without_markers(question) == "What is 8 * 0.25 ? x = 'ab' * 2 print(x) Options: 2 or 2.0"
    plain = "Why does my while loop never stop?"
    assert with_outlines(plain) == without_markers(plain) == plain
    assert with_outlines("a single ` backtick") == "a single ` backtick"


def test_h5p_questions_read_as_a_learner_would_paste_them():
    html = ('What is the output?\n<pre class="python" lang="python">def f():\n&nbsp;&nbsp;print(<span>"hi"</span>)'
            '<br>f()\n</pre> Pick <code class="python">1 &lt; 2</code> or <b>none</b> of them')
    assert _markdown(html) == 'What is the output? \n```\ndef f():\n  print("hi")\nf()\n```\n Pick `1 < 2` or none of them'
