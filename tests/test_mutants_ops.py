"""The ops (minigrad/ops.py) beyond the op table: axis handling, masks at kinks and ties,
shape helpers and error reports, pinned down where mutants survived."""
