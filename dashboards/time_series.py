"""Counts over time as a chart should read them: a day (or week) without a row is a zero.

The marts hold a row only where something happened, and a line or area drawn from them bridges the
gap: a course active on 1 November and again on 7 December showed a slope across the five weeks
between, as if learners had trickled away day by day.
"""

import pandas as pd


def zero_filled(frame: pd.DataFrame, *, by: str, when: str, counts: list[str], periods: pd.DatetimeIndex
                ) -> pd.DataFrame:
    """``frame`` (one row per ``by`` value and period at most) with a row of zero ``counts`` for every ``by``
    value it has and every one of ``periods`` it has no row for; other columns are left empty there."""
    if frame.empty:
        return frame
    grid = pd.MultiIndex.from_product([periods.astype(frame[when].dtype), frame[by].unique()],
                                      names=[when, by]).to_frame(index=False)
    filled = grid.merge(frame, on=[when, by], how="left")
    return filled.fillna({column: 0 for column in counts}).sort_values([when, by], ignore_index=True)
