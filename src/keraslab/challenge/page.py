"""The leaderboard as one HTML page for the room's projector.

Plain server-side HTML: no JavaScript, a ``<meta http-equiv="refresh">`` reload,
large high-contrast type. Every team name is escaped (teams choose their names).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from html import escape

from keraslab.challenge.leaderboard import Entry, figures
from keraslab.challenge.scoring import SHOWN_DECIMALS

REFRESH_SECONDS = 15

STYLE = """
body { font-family: system-ui, sans-serif; background: #fff; color: #111; margin: 2vw 3vw; font-size: clamp(18px, 1.9vw, 40px); }
h1 { font-size: 2em; margin: 0 0 0.2em; }
p.status { font-size: 1.1em; margin: 0 0 1em; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 0.35em 0.6em; text-align: right; border-bottom: 2px solid #ccc; }
th { background: #1a3d6d; color: #fff; }
td.team, th.team { text-align: left; }
tr.first td { font-weight: bold; background: #fff3c4; }
td.none { color: #666; }
small { color: #444; }
"""

# nothing but this page's own inline style: no script, no frame, no form, no other origin
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()}'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def _number(value: float | None, digits: int) -> str:
    return "&infin;" if value is None else f"{value:.{digits}f}"


def _time(when: dt.datetime | None) -> str:
    return "&ndash;" if when is None else f"{when:%H:%M:%S}"


def render(entries: list[Entry], closed: bool, closes_at: dt.datetime | None, now: dt.datetime) -> str:
    """The whole page; ``closes_at`` and ``now`` are naive UTC."""
    if closed:
        status = "Final ranking on the private jets (the submission that counts for each team)."
        head = ["Rank", "Team", "Private AUC", "Private accuracy", "Private 1/&epsilon;<sub>B</sub>", "Public AUC"]
    else:
        when = f" Closes at {closes_at:%Y-%m-%d %H:%M} UTC." if closes_at else ""
        status = f"Open: best public score of each team.{when}"
        head = ["Rank", "Team", "AUC", "Accuracy"]  # the rejection would leak labels (keraslab.challenge.scoring)
    head += ["Submissions", "Last (UTC)"]
    rows = []
    for entry in entries:
        cells = [str(entry.rank) if entry.rank else "&ndash;", escape(entry.team)]
        if entry.submission is None:
            cells += ["&ndash;"] * (len(head) - 4)
        else:
            if closed:
                shown = figures(entry.submission, "private")
                cells += [
                    _number(shown["auc"], 4),
                    _number(shown["accuracy"], 4),
                    _number(shown["rejection_at_30"], 1),
                    _number(figures(entry.submission, "public")["auc"], 4),
                ]
            else:
                shown = figures(entry.submission, "public", closed=False)
                cells += [_number(shown["auc"], SHOWN_DECIMALS), _number(shown["accuracy"], SHOWN_DECIMALS)]
        cells += [str(entry.n_submissions), _time(entry.last_submission_at)]
        css = ' class="first"' if entry.rank == 1 else ""
        rows.append(
            f"<tr{css}>"
            + "".join(
                f'<td class="team">{cell}</td>' if i == 1 else f"<td>{cell}</td>" for i, cell in enumerate(cells)
            )
            + "</tr>"
        )
    header = "".join(f'<th class="team">{h}</th>' if i == 1 else f"<th>{h}</th>" for i, h in enumerate(head))
    empty = "" if rows else f'<tr><td class="none" colspan="{len(head)}">No teams yet.</td></tr>'
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{REFRESH_SECONDS}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Top-tagging challenge leaderboard</title>
<style>{STYLE}</style>
</head>
<body>
<h1>Top-tagging challenge</h1>
<p class="status">{status}</p>
<table id="leaderboard">
<thead><tr>{header}</tr></thead>
<tbody>
{"".join(rows)}{empty}
</tbody>
</table>
<p><small>Updated {now:%H:%M:%S} UTC, refreshes every {REFRESH_SECONDS} s.
Submit: <code>keraslab challenge submit result.npy --server URL --token TOKEN</code>.
JSON: <a href="/api/leaderboard">/api/leaderboard</a>, API: <a href="/docs">/docs</a>.</small></p>
</body>
</html>
"""
