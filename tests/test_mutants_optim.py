"""The update rules (minigrad/optim/*.py, minigrad/nn/utils.py): optimizer steps and
state, learning-rate schedules, gradient clipping, pinned down where mutants survived."""
