"""The challenge web server: a FastAPI app over the challenge database.

Routes: ``POST /api/submissions`` (Bearer token, multipart ``file``),
``GET /api/submissions`` (the caller's own), ``POST /api/submissions/{id}/select``,
``GET /api/leaderboard``, ``GET /`` (HTML) and the OpenAPI pages at ``/docs``;
with a jets folder (``data``), ``GET /data/`` (the index of its public files) and
``GET /data/{name}`` (one of them, HTTP Range supported; keraslab.challenge.data_files).
Nothing serves the labels, the public/private split, another team's
submissions, or private scores before the close.

Endpoints are plain ``def``: FastAPI runs them in its thread pool, so scoring
(NumPy, GIL released while sorting) and database commits do not block the event loop.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from fastapi import Depends, FastAPI, File, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel

from keraslab.challenge import data_files, leaderboard, page, store
from keraslab.challenge.db import Team, make_engine
from keraslab.challenge.scoring import public_and_private
from keraslab.challenge.submission import (
    MAX_UPLOAD_BYTES,
    SubmissionError,
    read_submission,
)

MULTIPART_OVERHEAD_BYTES = 64 * 1024  # boundaries and part headers around the file
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES
TOO_LARGE = f"upload over the {MAX_UPLOAD_BYTES // 2**20} MiB limit; submit one float32 score per jet (or zip it)"


class Figures(BaseModel):
    auc: float
    accuracy: float
    rejection_at_30: float | None  # null: infinite (no background jet passes at eps_S = 0.3)


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
            return await JSONResponse({"detail": TOO_LARGE}, status_code=413)(scope, receive, send)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:  # chunked uploads carry no Content-Length
                    raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, limited_receive, send)


def create_app(db: str, data: Path | None = None) -> FastAPI:
    """The challenge app for database ``db`` (URL or SQLite path), which must hold a challenge.

    ``data``: a jets folder whose public files the app also serves under ``/data/``.
    """
    engine = make_engine(db)
    truth = store.load_truth(engine)
    served = data_files.public_files(data) if data is not None else {}
    data_files.check_challenge_matches(served, truth.n_jets)
    bearer = HTTPBearer(auto_error=False, description="the team token from keraslab challenge team add")
    # Swagger UI and ReDoc served from the package, not a CDN: class rooms are often offline
    app = FastAPIOffline(
        title="keraslab top-tagging challenge",
        description="Upload result.npy (one score per challenge jet) and see the leaderboard.",
        version="1",
    )
    app.add_middleware(BodySizeLimit, max_bytes=MAX_REQUEST_BYTES)

    @app.exception_handler(store.ChallengeRefusal)
    def refusal(_request: Request, err: store.ChallengeRefusal) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if err.status == 401 else None
        return JSONResponse({"detail": str(err)}, status_code=err.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    def invalid_request(_request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        hint = "; upload result.npy as the multipart field file (curl -F file=@result.npy)" if "file" in where else ""
        return JSONResponse({"detail": f"{where}: {first.get('msg', 'invalid')}{hint}"}, status_code=422)

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
            public=leaderboard.figures(submission, "public"),
            selected=selected_id == submission.id,
            submissions_today=today,
            daily_limit=truth.daily_limit,
            **private,
        )

    @app.post("/api/submissions", status_code=201, response_model=SubmissionOut, response_model_exclude_unset=True)
    def submit(
        file: UploadFile = File(..., description="result.npy, or a zip holding exactly one result.npy"),
        team: Team = Depends(authenticated_team),
    ) -> SubmissionOut:
        """Score an upload on the public jets (and, hidden until the close, the private ones)."""
        store.refuse_if_closed(engine, store.utc_now())
        data = file.file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise store.ChallengeRefusal(413, TOO_LARGE)
        try:
            scores = read_submission(data, truth.n_jets)
        except SubmissionError as err:
            raise store.ChallengeRefusal(422, str(err)) from None
        public, private = public_and_private(truth.labels, truth.public_mask, scores)
        submission = store.record_submission(
            engine, team, truth.daily_limit, public, private, hashlib.sha256(data).hexdigest(), len(data)
        )
        return submission_out(submission, team, False, team.selected_submission_id)

    @app.get("/api/submissions", response_model=list[SubmissionOut], response_model_exclude_unset=True)
    def own_submissions(team: Team = Depends(authenticated_team)) -> list[SubmissionOut]:
        """Your team's submissions (never another team's); private scores only after the close."""
        closed, _ = is_closed()
        return [submission_out(s, team, closed, team.selected_submission_id) for s in store.team_submissions(engine, team)]

    @app.post("/api/submissions/{submission_id}/select", response_model=SubmissionOut, response_model_exclude_unset=True)
    def select(submission_id: int, team: Team = Depends(authenticated_team)) -> SubmissionOut:
        """Choose which of your submissions counts for the final (private) ranking; before the close only."""
        store.refuse_if_closed(engine, store.utc_now())
        chosen = store.select_submission(engine, team, submission_id)
        return submission_out(chosen, team, False, submission_id)

    @app.get("/api/leaderboard", response_model=LeaderboardOut, response_model_exclude_unset=True)
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

    @app.get("/", response_class=HTMLResponse)
    def leaderboard_page() -> str:
        """The leaderboard for the projector: refreshes itself, no JavaScript."""
        closed, closing = is_closed()
        teams, submissions = store.all_teams_and_submissions(engine)
        return page.render(leaderboard.ranking(teams, submissions, closed), closed, closing, store.utc_now())

    return app
