"""Reading a challenge submission: result.npy, or a zip holding exactly one result.npy.

An upload comes from an untrusted client, so every check a hostile or careless
file could defeat is explicit here: a size limit before anything is parsed,
``numpy.load(allow_pickle=False)`` (no code execution through pickles), a cap on
what a zip may inflate to (zip bombs), a zip's entry count and directory size
read from its end record before the directory is parsed (200,000 empty entries
would otherwise cost a second of CPU per request), and no paths inside the zip
(a file in a folder, ``../result.npy``). Each refusal is a :class:`SubmissionError` whose
one-line message says what is wrong and what to do.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import numpy as np
import numpy.lib.format as npy_format

from keraslab.errors import UserError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
"""Largest accepted upload, and largest result.npy a zip may inflate to (bytes).

2.5 million float64 scores; a 100k-jet submission is 0.8 MB."""

RESULT_NAME = "result.npy"
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
ZIP_END_RECORD = struct.Struct("<4s4H2LH")  # signature, disks, entries here/in all, directory size/offset, comment
ZIP64_LOCATOR_MAGIC = b"PK\x06\x07"
MAX_CENTRAL_DIRECTORY_BYTES = 4096  # one entry: 46 bytes, its name and a few extra fields
MAX_NPY_HEADER_BYTES = 10_000  # numpy.load's own limit for headers it reads without allow_pickle
HOW_TO_SAVE = "save one score per jet with numpy.save('result.npy', scores.ravel().astype('float32'))"


class SubmissionError(UserError):
    """A submission file that cannot be scored; the message says why and what to do."""


def read_submission(source: bytes | Path, n_jets: int) -> np.ndarray:
    """Return the scores of a submission as a 1-D float64 array of length ``n_jets``.

    ``source`` is the uploaded bytes or a path to a .npy or .zip file. A zip must
    hold exactly one member, ``result.npy``, at its top level. Scores must be
    finite numbers (int, unsigned or float dtype), one per jet in the challenge
    file's order; they are not required to lie in [0, 1], but accuracy is taken
    at a 0.5 threshold.

    Raises :class:`SubmissionError` for anything else.
    """
    data = _read_bounded(source)
    if data.startswith(ZIP_MAGIC) or data.startswith(EMPTY_ZIP_MAGIC):
        data = _unzip_result(data)
    return _parse_npy(data, n_jets)


def _read_bounded(source: bytes | Path) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise SubmissionError(f"{path} is not a file; give the path of your result.npy or result.zip")
        if path.stat().st_size > MAX_UPLOAD_BYTES:
            raise SubmissionError(_too_large(path.stat().st_size))
        data = path.read_bytes()
    if len(data) > MAX_UPLOAD_BYTES:
        raise SubmissionError(_too_large(len(data)))
    if not data:
        raise SubmissionError(f"the file is empty; {HOW_TO_SAVE}")
    return data


def _too_large(n_bytes: int) -> str:
    return (
        f"the file is {n_bytes / 2**20:.1f} MiB, over the {MAX_UPLOAD_BYTES / 2**20:.0f} MiB limit; "
        f"{HOW_TO_SAVE} (or zip it)"
    )


def _check_zip_end_record(data: bytes) -> None:
    """Refuse a zip that declares other than one entry, or a large directory, from its end record alone.

    The end record is found as ``zipfile`` finds it (at the very end, else the last
    signature within a maximal comment), so the figures checked are those ``zipfile``
    would trust. Zip64 is refused: a 20 MiB upload never needs it.
    """
    size = ZIP_END_RECORD.size
    tail_start = len(data) - size
    if data[tail_start:].startswith(EMPTY_ZIP_MAGIC) and data[-2:] == b"\x00\x00":
        start = tail_start
    else:
        start = data.rfind(EMPTY_ZIP_MAGIC, max(0, tail_start - 0xFFFF))
    if start < 0 or start + size > len(data):
        raise SubmissionError(f"the zip file is damaged (no end record); zip it again with zip -j result.zip {RESULT_NAME}")
    _, _, _, entries_here, entries, directory_bytes, _, _ = ZIP_END_RECORD.unpack_from(data, start)
    if data[max(0, start - 20) : start].startswith(ZIP64_LOCATOR_MAGIC) or 0xFFFF in (entries_here, entries):
        raise SubmissionError(f"the zip uses the zip64 format; zip result.npy alone with zip -j result.zip {RESULT_NAME}")
    if entries != 1 or entries_here != 1:
        raise SubmissionError(
            f"the zip holds {max(entries, entries_here)} files; it must hold exactly one, {RESULT_NAME}: "
            f"zip -j result.zip {RESULT_NAME}"
        )
    if directory_bytes > MAX_CENTRAL_DIRECTORY_BYTES:
        raise SubmissionError(
            f"the zip's directory is {directory_bytes} bytes, too large for one file; "
            f"zip result.npy alone with zip -j result.zip {RESULT_NAME}"
        )


def _unzip_result(data: bytes) -> bytes:
    _check_zip_end_record(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, NotImplementedError) as err:
        raise SubmissionError(f"the zip file is damaged ({err}); zip result.npy again") from None
    if len(members) != 1:  # the end record said one; a directory that disagrees is damaged
        raise SubmissionError(f"the zip file is damaged (its directory lists {len(members)} files); zip result.npy again")
    member = members[0]
    if member.filename != RESULT_NAME:
        where = "inside a folder" if "/" in member.filename or "\\" in member.filename else "under another name"
        raise SubmissionError(
            f"the zip holds {member.filename!r} {where}; it must hold {RESULT_NAME} at its top level: "
            f"zip -j result.zip {RESULT_NAME}"
        )
    if member.file_size > MAX_UPLOAD_BYTES:
        raise SubmissionError(
            f"{RESULT_NAME} inflates to {member.file_size / 2**20:.0f} MiB, over the "
            f"{MAX_UPLOAD_BYTES / 2**20:.0f} MiB limit; submit one score per jet"
        )
    try:
        with archive.open(member) as stream:
            # zipfile stops at the declared size and checks the CRC, so a header
            # that under-reports the size fails here instead of inflating further
            return stream.read(MAX_UPLOAD_BYTES)
    except (zipfile.BadZipFile, ValueError, NotImplementedError, RuntimeError, EOFError, OSError) as err:
        raise SubmissionError(
            f"cannot unzip {RESULT_NAME} ({err}); zip it again with zip -j result.zip {RESULT_NAME}"
        ) from None


def _parse_npy(data: bytes, n_jets: int) -> np.ndarray:
    if not data.startswith(NPY_MAGIC):
        raise SubmissionError(f"the file is neither a .npy nor a .zip holding {RESULT_NAME}; {HOW_TO_SAVE}")
    shape, dtype = _npy_header(data)
    if dtype.kind not in "iuf":
        raise SubmissionError(f"result.npy has dtype {dtype}, not a real number type; {HOW_TO_SAVE}")
    if len(shape) != 1:
        raise SubmissionError(
            f"result.npy has shape {shape}; it must be 1-D with {n_jets} scores "
            "(for a Keras (n, 1) output use scores.ravel(), for softmax (n, 2) use scores[:, 1])"
        )
    if shape[0] != n_jets:
        raise SubmissionError(
            f"result.npy has {shape[0]} scores but the challenge file has {n_jets} jets; "
            "predict on every jet of the challenge file, in its order"
        )
    try:
        scores = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise SubmissionError(f"result.npy is damaged ({err}); {HOW_TO_SAVE}") from None
    scores = scores.astype(np.float64)
    if not np.isfinite(scores).all():
        n_bad = int(np.count_nonzero(~np.isfinite(scores)))
        raise SubmissionError(f"result.npy has {n_bad} NaN or infinite scores; every score must be a finite number")
    return scores


def _npy_header(data: bytes) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from the .npy header, checked against the bytes that follow.

    numpy.load allocates the shape the header declares before reading the data,
    so a tiny file declaring 10**12 scores must be refused here, unread.
    """
    stream = io.BytesIO(data)
    length_format = {1: "<H", 2: "<I"}.get(data[6] if len(data) > 6 else 0)
    if length_format is not None and len(data) >= 8 + struct.calcsize(length_format):
        (header_bytes,) = struct.unpack_from(length_format, data, 8)
        if header_bytes > MAX_NPY_HEADER_BYTES:  # numpy's own message would suggest allow_pickle=True
            raise SubmissionError(
                f"result.npy has a {header_bytes}-byte header, over {MAX_NPY_HEADER_BYTES} bytes; {HOW_TO_SAVE}"
            )
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except ValueError as err:
        raise SubmissionError(f"result.npy has a damaged header ({err}); {HOW_TO_SAVE}") from None
    if dtype.hasobject:
        raise SubmissionError(f"result.npy holds Python objects, which are not accepted; {HOW_TO_SAVE}")
    declared_bytes = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if declared_bytes != len(data) - stream.tell():
        raise SubmissionError(
            f"result.npy declares shape {shape} but holds {len(data) - stream.tell()} bytes of data, "
            f"not {declared_bytes}: it is truncated or damaged; {HOW_TO_SAVE}"
        )
    return tuple(shape), dtype
