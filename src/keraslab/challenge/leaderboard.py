"""The leaderboard: public ranking while the challenge is open, private final ranking after.

While open, each team is ranked by its best public AUC as shown (ties: the
earlier submission), so that the order cannot reveal what the rounding hides. After the close, each
team is ranked by the private AUC of the submission that counts: the one it
selected, else its best public one (the Kaggle convention, since teams never
see private scores before the end). Ties go to the earlier submission.

Before the close the public AUC and accuracy are served as stored when the
submission was recorded (three decimals, snapped to an earlier submission's within
a few single-jet moves: keraslab.challenge.scoring.shown_figure), and the rejection
is not served: no single hidden label can be read from them. After the close,
everything is served to 4 decimals (rejection to 0.1).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from keraslab.challenge.db import Submission, Team
from keraslab.challenge.scoring import SHOWN_DECIMALS


@dataclass(frozen=True)
class Entry:
    """One line of the leaderboard."""

    rank: int | None  # None for a team without submissions
    team: str
    submission: Submission | None  # the best (open) or counted (closed) one
    selected: bool  # the team chose this submission itself
    n_submissions: int
    last_submission_at: dt.datetime | None


def shown_public_auc(submission: Submission) -> float:
    """The public AUC served before the close (older databases: rounded at once)."""
    shown = submission.public_auc_shown
    return round(submission.public_auc, SHOWN_DECIMALS) if shown is None else shown


def figures(submission: Submission, split: str, closed: bool = True) -> dict[str, float | None]:
    """Figures of one split ("public" or "private") as served; an infinite rejection is None.

    Before the close (``closed`` False, public split only): the shown AUC and accuracy, no rejection.
    """
    if not closed:
        accuracy = submission.public_accuracy_shown
        return {
            "auc": shown_public_auc(submission),
            "accuracy": round(submission.public_accuracy, SHOWN_DECIMALS) if accuracy is None else accuracy,
        }
    rejection = getattr(submission, f"{split}_rejection")
    return {
        "auc": round(getattr(submission, f"{split}_auc"), 4),
        "accuracy": round(getattr(submission, f"{split}_accuracy"), 4),
        "rejection_at_30": None if math.isinf(rejection) else round(rejection, 1),
    }


def ranking(teams: list[Team], submissions: list[Submission], closed: bool) -> list[Entry]:
    """Leaderboard lines, best first, teams without submissions last."""
    by_team: dict[int, list[Submission]] = {team.id: [] for team in teams}
    for submission in submissions:
        by_team[submission.team_id].append(submission)

    def best_public(own: list[Submission]) -> Submission:
        return min(own, key=lambda s: (-shown_public_auc(s), s.submitted_at, s.id))

    scored: list[tuple[tuple, Team, Submission, bool]] = []
    unranked: list[Entry] = []
    for team in teams:
        own = by_team[team.id]
        if not own:
            unranked.append(Entry(None, team.name, None, False, 0, None))
            continue
        selected = next((s for s in own if s.id == team.selected_submission_id), None)
        counted = (selected or best_public(own)) if closed else best_public(own)
        auc = counted.private_auc if closed else shown_public_auc(counted)
        scored.append(((-auc, counted.submitted_at, counted.id), team, counted, selected is counted))
    scored.sort(key=lambda item: item[0])
    entries = [
        Entry(rank, team.name, counted, is_selected, len(by_team[team.id]), by_team[team.id][-1].submitted_at)
        for rank, (_, team, counted, is_selected) in enumerate(scored, start=1)
    ]
    return entries + unranked


def as_json(entry: Entry, closed: bool) -> dict:
    """A leaderboard line for GET /api/leaderboard; private figures only once closed."""
    line = {
        "rank": entry.rank,
        "team": entry.team,
        "submissions": entry.n_submissions,
        "last_submission_at": iso(entry.last_submission_at),
        "public": figures(entry.submission, "public", closed) if entry.submission else None,
    }
    if closed:
        line["private"] = figures(entry.submission, "private") if entry.submission else None
        line["counted_submission_id"] = entry.submission.id if entry.submission else None
        line["selected_by_team"] = entry.selected
    return line


def iso(when: dt.datetime | None) -> str | None:
    """ISO 8601 UTC time with a Z, as served."""
    return None if when is None else when.replace(microsecond=0).isoformat() + "Z"
