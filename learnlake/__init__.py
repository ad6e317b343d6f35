"""LearnLake kernel: settings, errors, logging and the ``learnlake`` command line."""

__version__ = "0.1.0"
