"""Reading three-line files for knowledge tracing: skill ids numbered from 0 or from 1."""

import pytest

from lake.sources.datasets.common import DatasetError
from models.knowledge_tracing.data import one_based, read_split


def _write(path, students):
    path.write_text("".join(f"{len(s)}\n{','.join(map(str, s))}\n{','.join('1' * len(s))}\n" for s in students))
    return path


def test_files_numbered_from_zero_are_shifted_together(tmp_path):
    # Only the test file holds skill 0: both splits move, so skill 3 stays one skill across them.
    train = read_split(_write(tmp_path / "a_train.csv", [[1, 3, 3], [2]]))
    test = read_split(_write(tmp_path / "a_test.csv", [[0, 3]]))
    one_based(train, test, None)
    assert [s.skills.tolist() for s in train + test] == [[2, 4, 4], [3], [1, 4]]


def test_files_numbered_from_one_are_left_alone_and_negative_ids_refused(tmp_path):
    train = read_split(_write(tmp_path / "b_train.csv", [[1, 2]]))
    one_based(train)
    assert train[0].skills.tolist() == [1, 2]
    with pytest.raises(DatasetError, match="negative"):
        read_split(_write(tmp_path / "c_train.csv", [[-1, 2]]))
