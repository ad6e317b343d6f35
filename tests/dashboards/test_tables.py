"""A table's headers in words: what ``show_table`` heads a column it does not configure with."""

import pytest

from dashboards.tables import header


@pytest.mark.parametrize(("column", "shown"), [
    ("days_since_last_activity", "Days since last activity"), ("lag_s", "Lag (s)"), ("size_mb", "Size (MB)"),
    ("p95_ms", "P95 (ms)"), ("MRR", "MRR"), ("baseline value", "Baseline value"), ("s", "S"), ("_index_", "Index"),
])
def test_a_column_name_reads_as_words_with_its_unit(column, shown):
    assert header(column) == shown
