"""The challenge cell, made safe: score a jets file with a trained run, write result.npy.

The scores go through the challenge server's own validator
(``keraslab.challenge.submission.read_submission``) before anything is
written, and an existing output file is never replaced without ``overwrite``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from keraslab.errors import UserError


def predict_scores(run_dir: Path, data: Path) -> np.ndarray:
    """Top probability of every jet in the constituents file ``data``, in file order.

    Image networks read ``<name>_images.h5`` beside ``data``.
    """
    from keraslab import backend
    from keraslab.toptag.catalog import spec
    from keraslab.toptag.runs import PREDICT_BATCH, load_trained, read_settings

    settings = read_settings(run_dir)
    if not Path(data).is_file():
        raise UserError(f"no file {data}; --data takes a constituents file such as DIR/challenge.h5 "
                        "(image networks also read DIR/challenge_images.h5 beside it)")
    backend.select(spec(settings["model"]).backend)

    from keraslab.toptag.inputs import load_inputs

    model = load_trained(run_dir, settings)
    x, _ = load_inputs(settings["inputs"], Path(data), n_constituents=settings["n_constituents"])
    return model.predict(x, batch_size=PREDICT_BATCH, verbose="auto")[:, 1]


def predict_file(run_dir: Path, data: Path, out: Path, *, overwrite: bool = False) -> np.ndarray:
    """Write ``predict_scores`` to ``out`` as float32 .npy after the challenge validator accepted it."""
    from keraslab.challenge.submission import read_submission
    from keraslab.run_folder import atomic_write_bytes
    from keraslab.toptag.dataset import count_jets

    out = Path(out)
    if out.suffix != ".npy":
        raise UserError(f"--out {out} must end in .npy (the challenge takes result.npy)")
    if out.exists() and not overwrite:
        raise UserError(f"{out} already exists; pass --overwrite to replace it or choose another --out")
    if not out.parent.is_dir():
        raise UserError(f"folder {out.parent} does not exist; create it or choose another --out")
    scores = predict_scores(run_dir, data).astype(np.float32)
    buffer = io.BytesIO()
    np.save(buffer, scores)
    read_submission(buffer.getvalue(), n_jets=count_jets(data))  # the server's own checks, one score per jet
    try:
        atomic_write_bytes(out, buffer.getvalue())
    except OSError as err:
        raise UserError(f"cannot write {out} ({err.strerror or err}); choose a writable --out") from None
    print(f"wrote {len(scores)} scores to {out} (one per jet, in file order); hand it in, zipped or not")
    return scores
