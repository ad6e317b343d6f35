"""The great-expectations suites the lake and transforms checks run."""
