"""The upload validator: what a submission may be, and a one-line reason for everything else."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from keraslab.challenge.submission import MAX_UPLOAD_BYTES, SubmissionError, read_submission
from keraslab.errors import UserError

N_JETS = 50


def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def scores() -> np.ndarray:
    return np.random.default_rng(1).random(N_JETS).astype(np.float32)


def test_npy_bytes_path_and_zip_give_the_same_scores(scores, tmp_path):
    path = tmp_path / "result.npy"
    np.save(path, scores)
    zipped = tmp_path / "result.zip"
    zipped.write_bytes(zip_bytes({"result.npy": path.read_bytes()}))
    for source in (path.read_bytes(), path, zipped, zipped.read_bytes()):
        read = read_submission(source, N_JETS)
        assert read.dtype == np.float64 and read.shape == (N_JETS,)
        np.testing.assert_array_equal(read, scores.astype(np.float64))


def test_integer_scores_are_numbers_too():
    hard_labels = np.arange(N_JETS) % 2
    np.testing.assert_array_equal(read_submission(npy_bytes(hard_labels), N_JETS), hard_labels)


def _bomb() -> bytes:
    # 30 MiB of zeros inside a valid npy header: deflates to ~30 kB
    payload = npy_bytes(np.zeros((MAX_UPLOAD_BYTES + 10 * 2**20) // 8))
    return zip_bytes({"result.npy": payload})


BAD_UPLOADS = {
    "wrong length": (lambda s: npy_bytes(s[:-1]), "49 scores but the challenge file has 50 jets"),
    "text dtype": (lambda s: npy_bytes(s.astype(str)), "not a real number type"),
    "complex dtype": (lambda s: npy_bytes(s.astype(complex)), "not a real number type"),
    "pickled objects": (lambda s: npy_bytes(s.astype(object), allow_pickle=True), "Python objects"),
    "nan": (lambda s: npy_bytes(np.where(np.arange(N_JETS) == 3, np.nan, s)), "1 NaN or infinite"),
    "infinity": (lambda s: npy_bytes(np.where(np.arange(N_JETS) < 2, np.inf, s)), "2 NaN or infinite"),
    "keras (n, 1) output": (lambda s: npy_bytes(s[:, None]), "use scores.ravel()"),
    "softmax (n, 2) output": (lambda s: npy_bytes(np.stack([1 - s, s], axis=1)), "use scores[:, 1]"),
    "scalar": (lambda s: npy_bytes(np.float64(0.5)), "must be 1-D"),
    "not a npy": (lambda s: b"jet,score\n0,0.5\n", "neither a .npy nor a .zip"),
    "empty file": (lambda s: b"", "empty"),
    "truncated npy": (lambda s: npy_bytes(s)[:-10], "truncated or damaged"),
    "header declaring a huge array": (
        lambda s: npy_bytes(s).replace(b"(50,)", b"(10000000000,)", 1),
        "truncated or damaged",
    ),
    "npz": (lambda s: zip_bytes({"result.npy": npy_bytes(s), "extra.npy": npy_bytes(s)}), "holds 2 files"),
    "zip with several files": (
        lambda s: zip_bytes({"result.npy": npy_bytes(s), "notes.txt": b"hi"}),
        "must hold exactly one",
    ),
    "empty zip": (lambda s: zip_bytes({}), "holds 0 files"),
    "nested path": (lambda s: zip_bytes({"team/result.npy": npy_bytes(s)}), "inside a folder"),
    "path traversal": (lambda s: zip_bytes({"../result.npy": npy_bytes(s)}), "inside a folder"),
    "other name": (lambda s: zip_bytes({"scores.npy": npy_bytes(s)}), "under another name"),
    "damaged zip": (lambda s: zip_bytes({"result.npy": npy_bytes(s)})[:40], "damaged"),
    "zip bomb": (lambda s: _bomb(), "inflates to"),
    "oversize": (lambda s: npy_bytes(np.zeros(MAX_UPLOAD_BYTES // 8 + 1)), "over the 20 MiB limit"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_gives_one_line_reason(case, scores):
    make, reason = BAD_UPLOADS[case]
    with pytest.raises(SubmissionError) as raised:
        read_submission(make(scores), N_JETS)
    message = str(raised.value)
    assert reason in message
    assert "\n" not in message
    assert ";" in message or ": " in message  # what is wrong; what to do
    assert isinstance(raised.value, UserError)


def test_missing_path(tmp_path):
    with pytest.raises(SubmissionError, match="is not a file"):
        read_submission(tmp_path / "nothing.npy", N_JETS)


def test_zip_whose_header_under_reports_the_size_is_refused(scores, monkeypatch):
    """A bomb that claims to be small is stopped at the claimed size, not inflated further."""
    import keraslab.challenge.submission as submission

    upload = zip_bytes({"result.npy": b"placeholder"})
    archive = zipfile.ZipFile(io.BytesIO(_bomb()))
    archive.infolist()[0].file_size = 1000  # what a forged central directory would say
    monkeypatch.setattr(submission.zipfile, "ZipFile", lambda *args, **kwargs: archive)
    with pytest.raises(SubmissionError, match="cannot unzip result.npy"):
        read_submission(upload, N_JETS)


def _many_empty_entries(n: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i in range(n):
            archive.writestr(f"{i}", b"")
    return buffer.getvalue()


def test_a_zip_of_many_entries_is_refused_from_its_end_record(monkeypatch):
    """The 20,000 entries are never parsed: zipfile is not even called."""
    many = _many_empty_entries(20_000)

    def no_parsing(*args, **kwargs):
        raise AssertionError("the central directory was parsed")

    from keraslab.challenge import submission

    monkeypatch.setattr(submission.zipfile, "ZipFile", no_parsing)
    with pytest.raises(SubmissionError, match="the zip holds 20000 files; it must hold exactly one"):
        read_submission(many, N_JETS)


def test_a_zip_whose_end_record_understates_its_directory_is_refused(scores):
    """One entry declared, but a directory big enough for thousands: refused before it is parsed."""
    many = bytearray(_many_empty_entries(3000))
    end = many.rfind(b"PK\x05\x06")
    many[end + 8 : end + 12] = (1).to_bytes(2, "little") * 2  # entries on this disk, entries in all
    with pytest.raises(SubmissionError, match="directory is .* bytes, too large for one file"):
        read_submission(bytes(many), N_JETS)


def test_a_zip64_end_record_is_refused(scores):
    """Entry counts of 0xFFFF send zipfile to the zip64 record; a 20 MiB upload never needs one."""
    data = bytearray(zip_bytes({"result.npy": npy_bytes(scores)}))
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = b"\xff\xff\xff\xff"
    with pytest.raises(SubmissionError, match="zip64"):
        read_submission(bytes(data), N_JETS)


def test_an_oversized_npy_header_gets_a_clean_message(scores):
    big = np.lib.format.header_data_from_array_1_0(scores)
    header = repr(big).encode() + b" " * 60_000 + b"\n"
    forged = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + scores.tobytes()
    with pytest.raises(SubmissionError) as raised:
        read_submission(forged, N_JETS)
    message = str(raised.value)
    assert "header, over 10000 bytes" in message and "allow_pickle" not in message and "\n" not in message
