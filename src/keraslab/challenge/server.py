"""The challenge web server: a FastAPI app over the challenge database.

Routes: ``POST /api/submissions`` (Bearer token, multipart ``file``),
``GET /api/submissions`` (the caller's own), ``POST /api/submissions/{id}/select``,
``GET|HEAD /api/leaderboard``, ``GET|HEAD /`` (HTML) and the OpenAPI pages at ``/docs``;
with a jets folder (``data``), ``GET /data/`` (the index of its public files) and
``GET /data/{name}`` (one of them, HTTP Range supported; keraslab.challenge.data_files).
Nothing serves the labels, the public/private split, another team's
submissions, or private scores before the close.

Endpoints are plain ``def``: FastAPI runs them in its thread pool, so database
calls do not block the event loop. The upload is ``async``: it checks the token,
an idempotency key, the close and the daily limit before it reads a byte of the
body, then reads the body itself within limits (keraslab.challenge.guard), and
hands parsing, scoring and the commit to the thread pool.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi import Path as PathParameter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from keraslab.challenge import data_files, leaderboard, page, store
from keraslab.challenge.db import Team, database_url, make_engine
from keraslab.challenge.guard import (
    DEFAULT_LIMITS,
    MAX_REQUEST_BYTES,
    TOO_LARGE,
    Limits,
    UploadGate,
    read_upload,
    uvicorn_settings,
)
from keraslab.challenge.scoring import public_and_private
from keraslab.challenge.submission import SubmissionError, read_submission
from keraslab.errors import UserError

MAX_SUBMISSION_ID = 2**31 - 1  # PostgreSQL's integer; anything above is no submission
IDEMPOTENCY_KEY = "Idempotency-Key"
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9._:-]{8,128}$"
DB_ENV, DATA_ENV = "KERASLAB_CHALLENGE_DB", "KERASLAB_CHALLENGE_DATA"  # what --workers processes are started with
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
# Swagger UI and ReDoc (served from the package) start with inline scripts and styles
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
NOTHING_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
UPLOAD_BODY = {  # the body the upload route reads itself, for the OpenAPI page
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "result.npy, or a zip holding exactly one result.npy",
                        }
                    },
                }
            }
        },
    }
}


class Figures(BaseModel):
    auc: float
    accuracy: float
    # only after the close (it would leak single labels); null: infinite (no background jet passes)
    rejection_at_30: float | None = None


class SubmissionOut(BaseModel):
    id: int
    team: str
    submitted_at: str
    public: Figures
    private: Figures | None = None  # only after the close
    selected: bool
    submissions_today: int
    daily_limit: int


class LeaderboardLine(BaseModel):
    rank: int | None
    team: str
    submissions: int
    last_submission_at: str | None
    public: Figures | None
    private: Figures | None = None  # only after the close
    counted_submission_id: int | None = None  # only after the close
    selected_by_team: bool | None = None  # only after the close


class LeaderboardOut(BaseModel):
    closed: bool
    closes_at: str | None
    n_jets: int
    public_fraction: float
    daily_limit: int
    entries: list[LeaderboardLine]


class SecurityHeaders:
    """ASGI middleware: nosniff, no framing, no referrer, and a Content-Security-Policy per kind of page."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if path == "/":
            policy = page.CONTENT_SECURITY_POLICY
        elif path.startswith(("/docs", "/redoc")):
            policy = DOCS_CSP
        else:
            policy = NOTHING_CSP

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    *SECURITY_HEADERS,
                    (b"content-security-policy", policy.encode()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` before they are parsed or spooled.

    Starlette would otherwise write any multipart upload to a temporary file, whatever its size.
    """

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            refused = JSONResponse({"detail": TOO_LARGE}, status_code=413, headers={"Connection": "close"})
            return await refused(scope, receive, send)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:  # chunked uploads carry no Content-Length
                    raise store.ChallengeRefusal(413, TOO_LARGE)
            return message

        await self.app(scope, limited_receive, send)


def create_app(db: str, data: Path | None = None, limits: Limits = DEFAULT_LIMITS) -> FastAPI:
    """The challenge app for database ``db`` (URL or SQLite path), which must hold a challenge.

    ``data``: a jets folder whose public files the app also serves under ``/data/``.
    ``limits``: body deadlines and uploads in flight (the header deadline is the protocol's, see :func:`serve`).
    """
    engine = make_engine(db)
    truth = store.load_truth(engine)
    served = data_files.public_files(data) if data is not None else {}
    data_files.check_challenge_matches(served, truth.n_jets)
    gate = UploadGate(limits)
    bearer = HTTPBearer(auto_error=False, description="the team token from keraslab challenge team add")
    # Swagger UI and ReDoc served from the package, not a CDN: class rooms are often offline
    app = FastAPIOffline(
        title="keraslab top-tagging challenge",
        description="Upload result.npy (one score per challenge jet) and see the leaderboard.",
        version="1",
    )
    app.add_middleware(BodySizeLimit, max_bytes=MAX_REQUEST_BYTES)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(store.ChallengeRefusal)
    def refusal(_request: Request, err: store.ChallengeRefusal) -> JSONResponse:
        # close: the refused request's body may be unread (the connection lingers, see keraslab.challenge.guard)
        headers = {"Connection": "close"}
        if err.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if err.retry_after is not None:
            headers["Retry-After"] = str(err.retry_after)
        return JSONResponse({"detail": str(err)}, status_code=err.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    def invalid_request(_request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        hint = "; upload result.npy as the multipart field file (curl -F file=@result.npy)" if "file" in where else ""
        detail = f"{where}: {first.get('msg', 'invalid')}{hint}"
        return JSONResponse({"detail": detail}, status_code=422, headers={"Connection": "close"})

    @app.exception_handler(Exception)
    def internal_error(_request: Request, _err: Exception) -> JSONResponse:
        return JSONResponse({"detail": "internal error; tell your tutor (the server log has the details)"}, status_code=500)

    def authenticated_team(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Team:
        if credentials is None:
            raise store.ChallengeRefusal(401, "no token; send the header Authorization: Bearer TOKEN")
        return store.team_for_token(engine, credentials.credentials)

    def is_closed() -> tuple[bool, dt.datetime | None]:
        closing = store.closes_at(engine)
        return closing is not None and store.utc_now() >= closing, closing

    def submission_out(submission, team: Team, closed: bool, selected_id: int | None) -> SubmissionOut:
        today = sum(s.day == submission.day for s in store.team_submissions(engine, team))
        private = {"private": leaderboard.figures(submission, "private")} if closed else {}  # unset: not served
        return SubmissionOut(
            id=submission.id,
            team=team.name,
            submitted_at=leaderboard.iso(submission.submitted_at),
            public=leaderboard.figures(submission, "public", closed),
            selected=selected_id == submission.id,
            submissions_today=today,
            daily_limit=truth.daily_limit,
            **private,
        )

    def replayed(submission, team: Team) -> JSONResponse:
        """The first answer to a repeated idempotency key (its body unread: the connection closes)."""
        closed, _ = is_closed()
        body = submission_out(submission, team, closed, team.selected_submission_id).model_dump(exclude_unset=True)
        return JSONResponse(body, status_code=200, headers={"Idempotent-Replayed": "true", "Connection": "close"})

    @app.post(
        "/api/submissions",
        status_code=201,
        response_model=SubmissionOut,
        response_model_exclude_unset=True,
        openapi_extra=UPLOAD_BODY,
        responses={200: {"description": "a repeated Idempotency-Key: the first upload's answer, no slot used"}},
    )
    async def submit(
        request: Request,
        team: Team = Depends(authenticated_team),
        idempotency_key: Annotated[
            str | None,
            Header(
                alias=IDEMPOTENCY_KEY,
                pattern=IDEMPOTENCY_KEY_PATTERN,
                description="any 8-128 letters, digits or ._:- ; a repeated key gets the first answer",
            ),
        ] = None,
    ):
        """Score an upload on the public jets (and, hidden until the close, the private ones).

        Checked before the body is read: the token, the idempotency key, the close, the daily limit.
        """
        earlier = await run_in_threadpool(store.submission_for_key, engine, team, idempotency_key)
        if earlier is not None:
            return replayed(earlier, team)
        await run_in_threadpool(store.refuse_if_closed, engine, store.utc_now())
        await run_in_threadpool(store.refuse_if_used_up, engine, team, truth.daily_limit)
        with gate.admit(team.id):
            data = await read_upload(request, limits)
            submission, repeated = await run_in_threadpool(record, data, team, idempotency_key)
        if repeated:  # the same key arrived twice at once: the other one was recorded
            return replayed(submission, team)
        return submission_out(submission, team, False, team.selected_submission_id)

    def record(data: bytes, team: Team, idempotency_key: str | None):
        try:
            scores = read_submission(data, truth.n_jets)
        except SubmissionError as err:
            raise store.ChallengeRefusal(422, str(err)) from None
        public, private = public_and_private(truth.labels, truth.public_mask, scores)
        return store.record_submission(
            engine, team, truth, public, private, hashlib.sha256(data).hexdigest(), len(data), idempotency_key
        )

    @app.get("/api/submissions", response_model=list[SubmissionOut], response_model_exclude_unset=True)
    def own_submissions(team: Team = Depends(authenticated_team)) -> list[SubmissionOut]:
        """Your team's submissions (never another team's); private scores only after the close."""
        closed, _ = is_closed()
        return [submission_out(s, team, closed, team.selected_submission_id) for s in store.team_submissions(engine, team)]

    @app.post("/api/submissions/{submission_id}/select", response_model=SubmissionOut, response_model_exclude_unset=True)
    def select(
        submission_id: Annotated[int, PathParameter(ge=1, le=MAX_SUBMISSION_ID)],
        team: Team = Depends(authenticated_team),
    ) -> SubmissionOut:
        """Choose which of your submissions counts for the final (private) ranking; before the close only."""
        store.refuse_if_closed(engine, store.utc_now())
        chosen = store.select_submission(engine, team, submission_id)
        return submission_out(chosen, team, False, submission_id)

    @app.api_route("/api/leaderboard", methods=["GET", "HEAD"], response_model=LeaderboardOut, response_model_exclude_unset=True)
    def leaderboard_json() -> LeaderboardOut:
        """Ranking by best public AUC while open; by the private AUC of the counted submission after."""
        closed, closing = is_closed()
        teams, submissions = store.all_teams_and_submissions(engine)
        return LeaderboardOut(
            closed=closed,
            closes_at=leaderboard.iso(closing),
            n_jets=truth.n_jets,
            public_fraction=round(float(truth.public_mask.mean()), 4),
            daily_limit=truth.daily_limit,
            entries=[leaderboard.as_json(e, closed) for e in leaderboard.ranking(teams, submissions, closed)],
        )

    if served:  # only with --data: without it the routes do not exist
        @app.get("/data/")
        def data_index() -> dict:
            """The jets folder's public files: name, size (bytes), SHA-256 from its manifest, and jets."""
            return {"files": [f.as_json() for f in served.values()]}

        @app.get("/data/{name}", response_class=FileResponse)
        def data_file(name: str) -> FileResponse:
            """One file of the index (HTTP Range requests resume a download); 404 for any other name."""
            listed = served.get(name)  # looked up, never joined to a path
            if listed is None:
                raise HTTPException(404, f"no file {name!r}; GET /data/ lists the files served")
            return FileResponse(listed.path, filename=listed.name, media_type="application/octet-stream")

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def leaderboard_page() -> str:
        """The leaderboard for the projector: refreshes itself, no JavaScript."""
        closed, closing = is_closed()
        teams, submissions = store.all_teams_and_submissions(engine)
        return page.render(leaderboard.ranking(teams, submissions, closed), closed, closing, store.utc_now())

    return app


def app_from_environment() -> FastAPI:
    """The app of a ``--workers`` process: database and jets folder from the environment."""
    data = os.environ.get(DATA_ENV)
    return create_app(os.environ[DB_ENV], Path(data) if data else None)


def serve(db: str, data: Path | None, host: str, port: int, workers: int = 1, limits: Limits = DEFAULT_LIMITS) -> None:
    """Run the server with uvicorn until Ctrl-C: the guarded protocol, limits on headers and idle connections.

    ``workers`` > 1 runs that many processes on one PostgreSQL database (each with its own
    upload gate); SQLite is refused there.
    """
    import uvicorn

    if workers > 1 and database_url(db).startswith("sqlite"):
        raise UserError(
            f"--workers {workers} needs PostgreSQL (--db postgresql://...); with SQLite every write waits for one "
            "file lock, so more processes would only queue (use --workers 1, which is enough for a class)"
        )
    app = create_app(db, data, limits)  # fails here, in one line, on a bad --db or --data
    _raise_open_file_limit()
    settings = {"host": host, "port": port, "log_level": "warning", "timeout_graceful_shutdown": 5, **uvicorn_settings(limits)}
    if workers > 1:
        os.environ[DB_ENV] = db
        os.environ[DATA_ENV] = str(data) if data is not None else ""
        uvicorn.run("keraslab.challenge.server:app_from_environment", factory=True, workers=workers, **settings)
    else:
        uvicorn.run(app, **settings)


def _raise_open_file_limit() -> None:
    """Every connection is a file handle: take the hard limit, not the soft one (often 1024)."""
    try:
        import resource
    except ImportError:  # Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):  # macOS refuses an unlimited hard limit
            pass
