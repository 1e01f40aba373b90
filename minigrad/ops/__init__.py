"""Every differentiable primitive: a forward on arrays and one gradient rule per input.

Each rule is a vector-Jacobian product written in ordinary arithmetic. ``g`` is the
gradient of the loss with respect to the op's output ``out``; the rule returns the
gradient with respect to one input. Broadcasting is not the rules' business: the engine
sums every result back to its input's shape. ``saves`` lists, per rule, the values it
reads (input positions, ``OUT`` for the output): the engine refuses to run a rule whose
values were changed in place after the op was recorded.

The functions defined here work on ndarrays *and* on Tensors: given no Tensor they just
compute (returning an ndarray), given a Tensor they also record. Rules use them
(``where``, ``reshape``, ``broadcast_to``, ...) for whatever operators cannot say, which
is why one rule serves an ordinary backward (on arrays) and a recorded one (on Tensors,
for gradients of gradients).

The ops are split by kind, each module readable on its own: :mod:`.elementwise`,
:mod:`.reductions`, :mod:`.shape`, :mod:`.indexing`, :mod:`.linalg`,
:mod:`.decompositions` (``numpy.linalg``'s matrix functions), :mod:`.norms`,
:mod:`.composites` (functions written with the others), :mod:`.assembly` (repeat,
tile, pad, split, the stacks, tensordot, kron, cross), :mod:`.ordering` (cumulative
sums and products, sort, flip, roll, diff) and :mod:`.misc` (NumPy's other common
functions: nan_to_num, select, gradient, linspace, real/imag/conj/angle). This package
holds them all under one name, ``minigrad.ops.NAME``.
"""

import importlib

MODULES = (
    "base", "elementwise", "binary", "elementwise_more", "rounding", "shape", "reductions",
    "linalg", "decompositions", "norms", "indexing", "composites", "assembly", "ordering",
    "misc",
)  # fmt: skip
"""The modules whose names make up ``minigrad.ops``; each name must come from one module
(``tests/test_registry.py`` checks it: an alias such as ``max as maximum`` would shadow)."""

# minigrad.ops.NAME for every op and helper of every module (the rules and the compiler
# reach the private ones too: ops._sum, ops._getitem)
for _module in (importlib.import_module(f"minigrad.ops.{name}") for name in MODULES):
    globals().update(
        {k: v for k, v in vars(_module).items() if not k.startswith("__") and k != "annotations"}
    )
del _module, importlib
