"""Recommenders: what a learner should do next."""
