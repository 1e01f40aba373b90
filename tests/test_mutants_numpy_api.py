"""NumPy functions on Tensors (minigrad/numpy_api.py): which calls get a minigrad rule,
which fall through to NumPy, and when that fall-through is refused."""
