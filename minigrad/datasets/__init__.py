"""Small real data sets shipped with minigrad (see README.md here for sources and licenses).

Load them with :func:`minigrad.data.load_cars`, or find a file with
:func:`minigrad.data.dataset_path` and read it with :func:`minigrad.data.load_csv`.
"""
