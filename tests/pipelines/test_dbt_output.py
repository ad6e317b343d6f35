"""dbt's console output keeps what says something and drops its line per node."""

import io
import sys

from pipelines.defs.transforms.dbt_output import without_node_progress

DBT_OUTPUT = """Running with dbt=1.11.16
Found 29 models, 116 data tests, 5 sources, 517 macros, 3 unit tests
1 of 148 START sql table model staging.stg_core__content_items ................. [RUN]
1 of 148 OK created sql table model staging.stg_core__content_items ............ [\x1b[32mOK\x1b[0m in 0.22s]
7 of 148 START test not_null_stg_core__content_items_item_id ................... [RUN]
7 of 148 PASS not_null_stg_core__content_items_item_id ......................... [\x1b[32mPASS\x1b[0m in 0.07s]
8 of 148 FAIL 3 unique_stg_core__content_items_item_id ........................ [\x1b[31mFAIL 3\x1b[0m in 0.03s]
9 of 148 WARN 1 accepted_values_dim_content_items_content_type ................ [\x1b[33mWARN 1\x1b[0m in 0.03s]
10 of 148 SKIP relation marts.dim_courses ..................................... [\x1b[33mSKIP\x1b[0m]
Done. PASS=145 WARN=1 ERROR=0 SKIP=1 NO-OP=0 TOTAL=148"""


def test_node_progress_is_dropped_and_problems_and_the_summary_are_kept(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    with without_node_progress():
        for line in DBT_OUTPUT.splitlines():  # as dagster-dbt writes them: a line and its newline
            sys.stdout.write(line + "\n")
        sys.stdout.write("Done, in two ")  # a line in pieces, the last without its newline
        sys.stdout.write("writes")
    assert sys.stdout is out
    kept = out.getvalue().splitlines()
    assert kept == ["Running with dbt=1.11.16", "Found 29 models, 116 data tests, 5 sources, 517 macros, 3 unit tests",
                    *[line for line in DBT_OUTPUT.splitlines() if " FAIL " in line or " WARN " in line or " SKIP " in line],
                    "Done. PASS=145 WARN=1 ERROR=0 SKIP=1 NO-OP=0 TOTAL=148", "Done, in two writes"]
