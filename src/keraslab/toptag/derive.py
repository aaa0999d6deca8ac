"""Images and features for reference-format files made elsewhere (e.g. the Zenodo ones).

``keraslab toptag generate`` writes {split}_images.h5 and {split}_features.h5
itself; for a folder holding only train.h5, val.h5, test.h5 (and perhaps
challenge.h5), ``keraslab toptag derive DIR`` computes them block by block,
so memory stays bounded for the 1.2M-jet training file.
"""

from __future__ import annotations

from pathlib import Path

from keraslab.errors import UserError
from keraslab.toptag import dataset as ds

BLOCK_JETS = 20_000


def derive(directory: str | Path, block_jets: int = BLOCK_JETS) -> list[Path]:
    """Write the missing images/features files of every sample present; return the paths written.

    Existing images/features files are kept as they are.
    """
    from tqdm.auto import tqdm

    from keraslab.toptag.images import jet_images
    from keraslab.toptag.substructure import jet_features

    directory = Path(directory)
    samples = [s for s in ds.ALL_SAMPLES if ds.sample_path(directory, s).is_file()]
    if not samples:
        raise UserError(f"{directory} holds no train.h5, val.h5, test.h5 or challenge.h5; {ds.LAYOUT_HINT}")
    written = []
    for sample in samples:
        source = ds.sample_path(directory, sample)
        targets = {kind: ds.sample_path(directory, sample, kind) for kind in ("images", "features")}
        if all(path.exists() for path in targets.values()):
            continue
        ds.read_constituents(source, n_jets=1)  # one-line error for a wrong file before the long loop
        with ds.AtomicStore(targets["images"]) as images, ds.AtomicStore(targets["features"]) as features, tqdm(
            total=ds.count_jets(source), unit="jet", desc=sample
        ) as bar:
            for frame, four_vectors in ds.iter_constituent_blocks(source, block_jets):
                labels = frame[ds.LABEL_COLUMN].to_numpy() if ds.LABEL_COLUMN in frame.columns else None
                values = jet_features(four_vectors)
                images.append(ds.images_frame(jet_images(four_vectors), values["mass"], labels))
                features.append(ds.features_frame(values, labels))
                bar.update(len(frame))
        written += list(targets.values())
    return written
