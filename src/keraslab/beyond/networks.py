"""The networks of the parts beyond the slides, one plain builder each, by name in ``BUILDERS``.

``keraslab.models.build(name)`` finds them with both days' networks; the notebooks'
networks are tested to be identical to these (tests/test_notebooks_twins.py).
Shapes are per sample, without the batch axis.
"""

from __future__ import annotations

from collections.abc import Callable

import keras

BUILDERS: dict[str, Callable[..., keras.Model]] = {}
