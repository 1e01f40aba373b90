"""Shared test set-up: the Hypothesis profile ("ci" when CI is set: derandomized, bounded)."""

from minigrad.testing import load_profile_from_env

load_profile_from_env()
