"""The team side of the challenge, from Python: upload a submission, choose the one that counts.

``keraslab challenge submit|select`` and the notebooks both call these functions.
Every failure (server unreachable, refused upload, wrong token) is a ``UserError``
whose one-line message says what to do.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from keraslab.challenge.submission import RESULT_NAME
from keraslab.errors import UserError


def submit(server: str, token: str, submission: np.ndarray | Path) -> dict:
    """Upload one score per challenge jet (an array) or a result.npy / zip file; return the server's reply.

    The reply holds the submission ``id``, the ``team``, the ``public`` figures
    (``auc``, ``accuracy``, ``rejection_at_30``), ``submissions_today`` and ``daily_limit``.
    """
    if isinstance(submission, (str, Path)):
        path = Path(submission)
        if not path.is_file():
            raise UserError(f"{path} does not exist; save your scores with numpy.save('result.npy', scores)")
        name, data = path.name, path.read_bytes()
    else:
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(submission, dtype=np.float32).ravel())
        name, data = RESULT_NAME, buffer.getvalue()
    return _call(server, "POST", "/api/submissions", token, files={"file": (name, data)})


def select(server: str, token: str, submission_id: int) -> dict:
    """Choose the submission that counts for the final ranking; return the server's reply."""
    return _call(server, "POST", f"/api/submissions/{submission_id}/select", token)


def public_figures(figures: dict) -> str:
    """The public figures of a reply in one line: AUC, accuracy and 1/eps_B at eps_S = 0.3."""
    rejection = figures["rejection_at_30"]
    return (
        f"public AUC {figures['auc']:.4f}, accuracy {figures['accuracy']:.4f}, "
        f"1/eps_B at eps_S=0.3 {'inf' if rejection is None else f'{rejection:.1f}'}"
    )


def describe_submission(reply: dict) -> str:
    """What ``submit`` prints: the accepted submission, its public figures and today's count."""
    return (
        f"submission {reply['id']} accepted for team {reply['team']}: {public_figures(reply['public'])} "
        f"({reply['submissions_today']} of {reply['daily_limit']} today)"
    )


def _call(server: str, method: str, path: str, token: str, **kwargs) -> dict:
    import httpx

    url = server.rstrip("/") + path
    try:
        response = httpx.request(method, url, headers={"Authorization": f"Bearer {token}"}, timeout=60, **kwargs)
    except httpx.HTTPError as err:
        raise UserError(f"cannot reach {server} ({err}); check --server and that the server runs") from None
    if response.status_code >= 400:
        try:
            detail = response.json()["detail"]
        except (ValueError, KeyError, TypeError):
            detail = response.text.strip().splitlines()[0] if response.text.strip() else response.reason_phrase
        raise UserError(f"the server refused ({response.status_code}): {detail}")
    return response.json()
