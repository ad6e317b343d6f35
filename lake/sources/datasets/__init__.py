"""Real public datasets as lake events: ``learnlake datasets load <name> --data-dir DIR``.

Each loader reads any directory in the layout of ``../shared/data/README.md`` (not only
the files there) and turns it into ``bronze.events`` rows (``source`` = the dataset name)
plus, where the dataset has them, labels. Loading appends under one Delta transaction id
per dataset content, so loading the same files again adds nothing.
"""
