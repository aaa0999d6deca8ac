"""The team side of the challenge, from Python: upload a submission, choose the one that counts.

``keraslab challenge submit|select`` and the notebooks both call these functions.
Every failure (server unreachable, refused upload, wrong token) is a ``UserError``
whose one-line message says what to do.

An upload carries an ``Idempotency-Key``: the SHA-256 of the file. The server
answers a key it has seen from the team with the first answer and uses no daily
slot, so retrying after a dropped connection, or running the command again, is free.
Connections lost after the request was sent, and 503 (busy), are retried a few
times with the same key.
"""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import numpy as np

from keraslab.challenge.submission import RESULT_NAME
from keraslab.errors import UserError

IDEMPOTENCY_KEY = "Idempotency-Key"  # the server's header (keraslab.challenge.server)
ATTEMPTS = 3
RETRY_WAIT_S = 1.0
MAX_RETRY_WAIT_S = 10.0


def submit(server: str, token: str, submission: np.ndarray | Path) -> dict:
    """Upload one score per challenge jet (an array) or a result.npy / zip file; return the server's reply.

    The reply holds the submission ``id``, the ``team``, the ``public`` figures
    (``auc``, ``accuracy``; ``rejection_at_30`` only after the close), ``submissions_today``,
    ``daily_limit``, and ``replayed``: True when the server had this very file already
    (the first answer; no slot used).
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
    key = hashlib.sha256(data).hexdigest()
    response = _call(server, "POST", "/api/submissions", token, files={"file": (name, data)}, headers={IDEMPOTENCY_KEY: key})
    return {**response.json(), "replayed": response.headers.get("Idempotent-Replayed") == "true"}


def select(server: str, token: str, submission_id: int) -> dict:
    """Choose the submission that counts for the final ranking; return the server's reply."""
    return _call(server, "POST", f"/api/submissions/{submission_id}/select", token).json()


def public_figures(figures: dict) -> str:
    """The public figures of a reply in one line: AUC, accuracy and (after the close) 1/eps_B at eps_S = 0.3."""
    if "rejection_at_30" not in figures:  # hidden until the close: it would leak single labels
        return f"public AUC {figures['auc']:.3f}, accuracy {figures['accuracy']:.3f}"
    line = f"public AUC {figures['auc']:.4f}, accuracy {figures['accuracy']:.4f}"
    rejection = figures["rejection_at_30"]
    return line + f", 1/eps_B at eps_S=0.3 {'inf' if rejection is None else f'{rejection:.1f}'}"


def describe_submission(reply: dict) -> str:
    """What ``submit`` prints: the accepted submission, its public figures and today's count."""
    earlier = " (this file was accepted before: the same answer, no slot used)" if reply.get("replayed") else ""
    return (
        f"submission {reply['id']} accepted for team {reply['team']}{earlier}: {public_figures(reply['public'])} "
        f"({reply['submissions_today']} of {reply['daily_limit']} today)"
    )


def _call(server: str, method: str, path: str, token: str, headers: dict | None = None, **kwargs):
    """The server's response to one request, retried on a lost connection or a 503; UserError for a refusal.

    Only idempotent requests come here (an upload carries its idempotency key).
    """
    import httpx

    url = server.rstrip("/") + path
    headers = {"Authorization": f"Bearer {token}", **(headers or {})}
    with httpx.Client(timeout=60) as http:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = http.request(method, url, headers=headers, **kwargs)
            except httpx.HTTPError as err:
                if attempt == ATTEMPTS or isinstance(err, httpx.ConnectError):  # nothing was sent: fail at once
                    raise UserError(f"cannot reach {server} ({err}); check --server and that the server runs") from None
                time.sleep(RETRY_WAIT_S * attempt)
                continue
            if response.status_code != 503 or attempt == ATTEMPTS:
                break
            time.sleep(min(float(response.headers.get("Retry-After", RETRY_WAIT_S)), MAX_RETRY_WAIT_S))
    if response.status_code >= 400:
        try:
            detail = response.json()["detail"]
        except (ValueError, KeyError, TypeError):
            detail = response.text.strip().splitlines()[0] if response.text.strip() else response.reason_phrase
        raise UserError(f"the server refused ({response.status_code}): {detail}")
    return response
