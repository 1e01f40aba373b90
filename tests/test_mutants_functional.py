"""The function transforms (minigrad/functional.py): argnums, stand-ins, dtypes, when
the inner backward is recorded, pinned down where mutants survived."""
