"""The day-one report: one self-contained HTML page from the run folders of ``keraslab lab``.

``write_report(runs_dir, path, parts=...)`` reads each part's ``metrics.json`` and PNG
figures from ``runs_dir/<part>/`` and writes a page with a table (parameters, final
metrics, fit time, backend) and every figure embedded as a base64 PNG, so the file can
be mailed or opened offline.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from keraslab.beyond.catalog import TOPICS
from keraslab.day1.catalog import PARTS
from keraslab.errors import UserError

COLUMNS = ("params", "epochs_run", "loss", "val_loss", "val_accuracy", "accuracy_by_hand", "test_accuracy",
           "fit_seconds", "backend")


def check_writable(path: Path) -> None:
    """Fail early, before hours of training, if the report cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = path.with_name(path.name + ".write-test")
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise UserError(f"cannot write the report {path} ({err.strerror or err}); choose another --report") from None


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value)) if value is not None else ""


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(path.stem)}"><figcaption>{html.escape(path.stem.replace("_", " "))}</figcaption></figure>'


def _rows(part: str, metrics: dict) -> list[tuple[str, dict]]:
    if "variants" in metrics:  # over-training: one row per network
        return [(f"{part}: {name}", values) for name, values in metrics["variants"].items()]
    return [(part, metrics)]


def _title(part: str) -> str:
    return PARTS[part].title if part in PARTS else TOPICS[part].title


def _key_metrics(part: str, metrics: dict) -> str:
    """A topic's own numbers (``Topic.report_metrics``) as a small table under its heading."""
    keys = [key for key in TOPICS[part].report_metrics if key in metrics] if part in TOPICS else []
    if not keys:
        return ""
    return "<table>" + "".join(f"<tr><td>{html.escape(key)}</td><td>{_cell(metrics[key])}</td></tr>" for key in keys) \
        + "</table>"


def write_report(runs_dir: Path, path: Path, parts: Sequence[str] = tuple(PARTS)) -> Path:
    """Write the HTML report for the run folders ``runs_dir/<part>`` and return its path."""
    runs_dir, path = Path(runs_dir), Path(path)
    rows, sections, notes = [], [], set()
    for part in parts:
        metrics_path = runs_dir / part / "metrics.json"
        if not metrics_path.exists():
            raise UserError(f"{metrics_path} is missing: run `keraslab run {part} --out {runs_dir / part}` first")
        metrics = json.loads(metrics_path.read_text())
        rows += _rows(part, metrics)
        if "data_source" in metrics:
            notes.add(metrics["data_source"])
        figures = sorted((runs_dir / part).glob("*.png")) + sorted((runs_dir / part).glob("*/*.png"))
        sections.append(f"<h2>{html.escape(_title(part))}</h2>\n" + _key_metrics(part, metrics)
                        + "\n".join(_image(f) for f in figures))
    header = "<tr><th>part</th>" + "".join(f"<th>{c}</th>" for c in COLUMNS) + "</tr>"
    body = "\n".join("<tr><td>" + html.escape(name) + "</td>" + "".join(f"<td>{_cell(m.get(c))}</td>" for c in COLUMNS)
                     + "</tr>" for name, m in rows)
    note = "".join(f"<p>Fashion-MNIST files: {html.escape(n)}.</p>" for n in sorted(notes))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>keraslab: day one</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
td:first-child{{text-align:left}}figure{{display:inline-block;margin:.5em}}img{{max-width:100%}}</style></head>
<body><h1>keraslab: day one of "Introduction to Deep Learning with Keras"</h1>
<p>Generated {stamp} from the run folders in {html.escape(str(runs_dir))}. fit_seconds is the time inside
<code>model.fit</code>; accuracies are fractions.</p>{note}
<table>{header}
{body}</table>
{''.join(sections)}
</body></html>
"""
    check_writable(path)
    path.write_text(page)
    return path
