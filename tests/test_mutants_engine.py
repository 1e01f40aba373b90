"""The backward engine (minigrad/autograd.py), pinned down where mutants survived: grad
mode, recording, version-counter checks, broadcast reduction, accumulation on leaves."""
