"""Files minigrad writes and reads: atomic saves, and loads that refuse bad files clearly.

Every file minigrad writes (models, checkpoints, figures, predictions, benchmark results)
goes through :func:`atomic_path` (or :func:`atomic_write`, built on it): the bytes go to a
temporary file in the target's own folder, which replaces the target with ``os.replace``
only once it is complete. A save that fails halfway (a full disk, Ctrl-C, an error while
serialising) leaves the previous file as it was and no temporary file behind.

:func:`load_arrays` reads an ``.npz`` archive of plain arrays and turns every way a file
can be wrong (empty, truncated, random bytes, one ``.npy`` array, pickled objects) into
one :class:`FileFormatError` that names the file and the problem.

>>> import os, tempfile, numpy as np
>>> path = os.path.join(tempfile.mkdtemp(), "w.npz")
>>> with atomic_write(path) as f:
...     np.savez(f, w=np.arange(3.0))
>>> load_arrays(path)["w"].tolist()
[0.0, 1.0, 2.0]
>>> sorted(os.listdir(os.path.dirname(path)))          # no temporary file left
['w.npz']
"""

from __future__ import annotations

import os
import secrets
import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

PathLike = str | os.PathLike[str]


class FileFormatError(ValueError):
    """A file minigrad cannot read; the message names the file and what is wrong with it."""

    def __init__(self, path: PathLike, what: str, problem: str) -> None:
        self.path, self.problem = os.fspath(path), problem
        super().__init__(f"{self.path} is not {what}: {problem}")


@contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix); move it onto ``path`` on success.

    Write the whole file to the yielded path (a tool that picks the format from the
    suffix sees the right one). When the block ends normally the file is flushed to disk
    and moved into place with ``os.replace`` (atomic on POSIX and Windows); when it raises
    (KeyboardInterrupt included) the temporary file is removed and ``path`` is untouched.
    A new file gets the usual permissions (0o666 less the umask); a replaced one keeps its
    own.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "Is a directory", os.fspath(path))
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # honours the umask
    try:
        yield tmp
        with open(tmp, "rb+") as written:  # on disk before it replaces the old file
            os.fsync(written.fileno())
        if path.exists():
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_write(path: PathLike, mode: str = "wb", **options: Any) -> Iterator[IO]:
    """``open(path, mode)`` that replaces ``path`` only once the block has succeeded.

    ``options`` go to :func:`open` (``encoding=``, ``newline=``). See :func:`atomic_path`.
    """
    if not mode.startswith("w"):
        raise ValueError(f"atomic_write writes a whole new file: mode 'w…', got {mode!r}")
    with atomic_path(path) as tmp, open(tmp, mode, **options) as file:
        yield file


def save_arrays(path: PathLike, arrays: dict[str, Any]) -> None:
    """Write ``arrays`` to ``path`` as an ``.npz`` archive (exactly that name), atomically."""
    with atomic_write(path) as file:
        np.savez(file, **arrays)


def save_text(path: PathLike, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8, atomically (see :func:`atomic_path`)."""
    with atomic_write(path, "w", encoding="utf-8") as file:
        file.write(text)


_ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first entry, or an empty zip
_PICKLE_STARTS = (b"\x80",)  # the PROTO opcode of pickle protocols 2 and later


def load_arrays(path: PathLike, what: str = "a minigrad .npz file") -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` archive at ``path``, read in full.

    Raises :class:`FileFormatError` (a ValueError) naming the file when it is not ``what``:
    empty, random bytes, one ``.npy`` array, a pickle, an archive holding pickled objects,
    a truncated or corrupt archive. A missing file raises FileNotFoundError.
    """
    name = os.fspath(path)
    with open(path, "rb") as file:
        head = file.read(8)
    if not head:
        raise FileFormatError(name, what, "the file is empty (0 bytes)")
    if head.startswith(b"\x93NUMPY"):
        raise FileFormatError(name, what, "one array (.npy), not an .npz archive")
    if head.startswith(_PICKLE_STARTS):
        raise FileFormatError(
            name, what, "it is a Python pickle, which minigrad never loads (allow_pickle=False)"
        )
    if not head.startswith(_ZIP_STARTS):
        raise FileFormatError(
            name, what, "not a NumPy .npz archive (its first bytes are not a zip file's)"
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except ValueError as error:
        if "pickle" not in str(error):
            raise FileFormatError(name, what, f"a corrupt .npz archive ({error})") from None
        raise FileFormatError(
            name, what, "it holds pickled Python objects (an object array), which minigrad "
            "never loads (allow_pickle=False)",
        ) from None  # fmt: skip
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise FileFormatError(
            name, what, f"a truncated or corrupt .npz archive ({error})"
        ) from None
