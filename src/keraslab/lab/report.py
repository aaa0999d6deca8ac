"""The rehearsal's report: one self-contained HTML page from ``keraslab lab``'s folder.

``write_report(out, path)`` reads ``out/lab.json`` (every part's status, time and
command, ``runner``) and each part's run folder, and writes a page with, from the
top: the one-line verdict, a table of contents, the environment (versions, devices
and the verdict of ``keraslab doctor``, data sources with their SHA-256 checksums),
a table of every part (status, wall time, fit time, backend), then one section per
part with its metrics and figures. Figures are embedded as base64 PNG, so the file
can be mailed or opened offline. A part that failed shows its error line, the end of
its log and the command that reruns it; the others are reported as usual.
"""

from __future__ import annotations

import base64
import html
import importlib.metadata
import json
import math
import os
import platform
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from keraslab.beyond.catalog import TOPICS
from keraslab.day1 import fashion_mnist
from keraslab.errors import UserError
from keraslab.lab import plan
from keraslab.lab.runner import (
    FAILED,
    OK,
    SKIPPED,
    read_status,
    terminal_lines,
    verdict,
)
from keraslab.run_folder import read_json
from keraslab.toptag import comparison as toptag_comparison
from keraslab.toptag.dataset import sha256

# The day-one table's columns, as in docs/day1.md
DAY_ONE_COLUMNS = ("params", "epochs_run", "loss", "val_loss", "val_accuracy", "accuracy_by_hand", "test_accuracy",
                   "fit_seconds", "backend")
NETWORK_METRICS = ("auc", "accuracy", "rejection_at_30", "params", "epochs_run", "n_train", "n_test", "fit_seconds",
                   "backend")
BASELINE_METRICS = ("auc", "auc_uncertainty", "accuracy", "rejection_at_30", "background_passing_at_30",
                    "n_test_background", "mass_window", "n_train_scan", "n_test")
VERSIONS = ("keraslab", "keras", "tensorflow", "tensorflow-cpu", "jax", "jaxlib", "numpy", "scikit-learn",
            "matplotlib", "pandas", "pythia8mc", "fastjet", "fastapi", "playwright")
LOG_TAIL_LINES = 25
STATUS_MARK = {OK: "✔", FAILED: "✘", SKIPPED: "–", "running": "…"}

STYLE = """body{font-family:sans-serif;max-width:1150px;margin:auto;padding:1em;line-height:1.35}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;
vertical-align:top}td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:.5em;
max-width:48%}figure.wide{display:block;max-width:100%}img{max-width:100%}.verdict{font-size:1.3em;padding:.6em;border-radius:6px}
.ok{background:#e3f6e3}.bad{background:#fde2e2}.failed{color:#b00000}.skipped{color:#8a6d00}
pre{background:#f6f6f6;padding:.5em;overflow-x:auto;white-space:pre-wrap;font-size:.85em}
.other-data{color:#666;font-style:italic}code{background:#f3f3f3}"""


def check_writable(path: Path) -> None:
    """Fail early, before the rehearsal's minutes of training, if the report cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = path.with_name(path.name + ".write-test")
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise UserError(f"cannot write the report {path} ({err.strerror or err}); choose another --report") from None


def _e(value) -> str:
    return html.escape(str(value))


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isinf(value) or math.isnan(value):
            return str(value)
        return str(int(value)) if value.is_integer() and abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(cell(v) for v in value)
    return _e(value)


def table(header: Iterable[str], rows: Iterable[Iterable], html_cells: bool = False) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{v if html_cells else cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def image(path: Path, caption: str | None = None, wide: bool = False) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    caption = caption or path.stem.replace("_", " ")
    return (f'<figure{" class=wide" if wide else ""}><img src="data:image/png;base64,{data}" alt="{_e(caption)}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _figures(folder: Path, skip: Iterable[str] = ()) -> str:
    found = sorted(folder.glob("*.png")) + sorted(folder.glob("*/*.png"))
    return "".join(image(f, str(f.relative_to(folder).with_suffix("")).replace("_", " ")) for f in found
                   if f.name not in skip)


def _metrics(folder: Path) -> dict:
    path = folder / "metrics.json"
    return read_json(path) if path.is_file() else {}


# --- per part ---------------------------------------------------------------------------------------------

def _day_one(name: str, folder: Path, metrics: dict) -> str:
    rows = ([(f"{name}: {variant}", values) for variant, values in metrics["variants"].items()]
            if "variants" in metrics else [(name, metrics)])
    note = f"<p>Fashion-MNIST files: {_e(metrics['data_source'])}.</p>" if "data_source" in metrics else ""
    return table(("part", *DAY_ONE_COLUMNS), ((label, *(m.get(c) for c in DAY_ONE_COLUMNS)) for label, m in rows)) \
        + note + _figures(folder)


def _key_values(metrics: dict, keys: Iterable[str]) -> str:
    present = [key for key in keys if key in metrics]
    return table(("metric", "value"), ((key, metrics[key]) for key in present)) if present else ""


def _topic(name: str, folder: Path, metrics: dict) -> str:
    return _key_values(metrics, ("fit_seconds", "backend", *TOPICS[name].report_metrics)) + _figures(folder)


def _backup(name: str, folder: Path, metrics: dict) -> str:
    claims = metrics.get("claims", {})
    rows = ((entry.get("demonstration"), entry.get("statement"), entry.get("value"),
             "holds" if entry.get("passed") else "FAILS") for entry in claims.values())
    held = sum(bool(entry.get("passed")) for entry in claims.values())
    return (f"<p>{held} of {len(claims)} claims hold (backend {_e(metrics.get('backend', '?'))}).</p>"
            + table(("demonstration", "claim", "value", "verdict"), rows) + _figures(folder))


def _jets(name: str, folder: Path, metrics: dict, jets: Path) -> str:
    manifest = _manifest(jets)
    if manifest is None:
        return ""
    settings = manifest.get("settings", {})
    described = ", ".join(f"{k} {cell(v)}" for k, v in settings.items()) if settings else "given with --jets"
    rows = ((file, entry.get("jets"), f"<code>{entry.get('sha256', '')}</code>")
            for file, entry in sorted(manifest.get("files", {}).items()))
    return (f"<p>Folder <code>{_e(jets)}</code> ({_e(described)}).</p>"
            + table(("file", "jets", "SHA-256"), ((f, cell(j), s) for f, j, s in rows), html_cells=True))


def _validation(name: str, folder: Path, metrics: dict) -> str:
    path = folder / "validation.json"
    if not path.is_file():
        return _figures(folder)
    checks = read_json(path).get("checks", [])
    rows = ((c["name"], "ok" if c["passed"] else "FAIL", c.get("detail", "")) for c in checks)
    return table(("check", "result", "detail"), rows) + _figures(folder)


def _network(name: str, folder: Path, metrics: dict) -> str:
    keys = BASELINE_METRICS if name == plan.CUT_BASELINE else NETWORK_METRICS
    return _key_values(metrics, keys) + _figures(folder)


def markdown_to_html(text: str) -> str:
    """The comparison's markdown (paragraphs, **bold**, pipe tables) as HTML, so its numbers are formatted in one place."""
    blocks, rows = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            if not set(line) <= set("|-: "):  # the header's separator row
                rows.append([cell.strip() for cell in line.strip("|").split("|")])
            continue
        if rows:
            blocks.append(table(rows[0], rows[1:]))
            rows = []
        if line.strip():
            bold = line.strip().startswith("**") and line.strip().endswith("**")
            blocks.append(f"<p>{'<b>' if bold else ''}{_e(line.strip().strip('*'))}{'</b>' if bold else ''}</p>")
    return "".join(blocks)


def _comparison(name: str, folder: Path, metrics: dict) -> str:
    summary = folder / "comparison.md"
    if not summary.is_file():
        return ""
    text = summary.read_text()
    # the published numbers start at the line that says "Published, ..." (toptag.comparison.markdown)
    found = re.search(r"^Published\b", text, re.MULTILINE)
    measured, published = (text[:found.start()], text[found.start():]) if found else (text, "")
    if not published:
        published = table(("tagger (published)", "AUC", "1/eps_B at eps_S=0.3", "1/eps_B at eps_S=0.5"),
                          toptag_comparison.PUBLISHED) \
            + f"<p>{_e(toptag_comparison.PUBLISHED_NOTE)}</p>"
    else:
        published = markdown_to_html(published)
    missing = metrics.get("missing") or []
    roc = folder / "roc.png"
    return (("<p class='failed'>Not compared (they did not finish): " + _e(", ".join(missing)) + "</p>" if missing
             else "")
            + "<p>Measured on this rehearsal's jets (test sample):</p>" + markdown_to_html(measured)
            + "<div class='other-data'><p><b>Other data:</b> published numbers, measured on the reference dataset, "
              "NOT on these jets; for orientation only.</p>" + published + "</div>"
            + (image(roc, "ROC: lines measured on these jets; open markers published, on other data", wide=True)
               if roc.is_file() else ""))


def _figures_of_merit(figures: dict | None) -> tuple:
    if not figures:
        return (None, None, None)
    rejection = figures.get("rejection_at_30")
    return (figures.get("auc"), figures.get("accuracy"), "inf" if rejection is None else rejection)


def _challenge(name: str, folder: Path, metrics: dict) -> str:
    if not metrics:
        return ""
    final = metrics.get("leaderboard_final", {})
    submissions = table(("team", "tagger", "server's reply (public score)"),
                        ((s["team"], s["tagger"], s.get("reply", "")) for s in metrics.get("submissions", [])))
    board = table(("rank", "team", "submissions", "private AUC", "private accuracy", "private 1/eps_B at 0.3",
                   "public AUC"),
                  ((e.get("rank") or "–", e["team"], e.get("submissions"), *_figures_of_merit(e.get("private")),
                    _figures_of_merit(e.get("public"))[0]) for e in final.get("entries", [])))
    closed = "closed: the final (private) ranking" if final.get("closed") else "still open (public ranking)"
    picture = folder / (metrics.get("screenshot") or "")
    if metrics.get("screenshot") and picture.is_file():
        shown = image(picture, "the leaderboard page as a team sees it, after the close (headless Chromium)",
                      wide=True) \
            + "<details><summary>the same as a table</summary>" + board + "</details>"
    else:
        shown = f"<p>No screenshot: {_e(metrics.get('no_screenshot', ''))}. The leaderboard as a table:</p>" + board
    return (f"<p>Server {_e(metrics.get('server', ''))} on the loopback interface; {final.get('n_jets', '?')} "
            f"challenge jets; teams {_e(', '.join(metrics.get('teams', [])))}; challenge {closed}.</p>"
            + submissions + shown)


def _doctor(name: str, folder: Path, metrics: dict, log: str) -> str:
    return f"<pre>{_e(log)}</pre>" if log else ""


# --- environment ------------------------------------------------------------------------------------------

def _manifest(jets: Path) -> dict | None:
    path = jets / "manifest.json"
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except (OSError, json.JSONDecodeError):
        return None


def _doctor_log(status: dict, out: Path) -> str:
    record = status["parts"].get("doctor")
    path = Path(record["log"]) if record and record.get("log") else out / "logs" / "doctor.log"
    if not path.is_file():
        return ""
    return "\n".join(line for line in path.read_text(errors="replace").splitlines() if not line.startswith("$ "))


def _versions() -> list[tuple[str, str]]:
    found = [("Python", platform.python_version())]
    for distribution in VERSIONS:
        try:
            found.append((distribution, importlib.metadata.version(distribution)))
        except importlib.metadata.PackageNotFoundError:
            if distribution in ("pythia8mc", "fastjet", "playwright"):
                found.append((distribution, "not installed"))
    return found


def _fashion_mnist_source(status: dict) -> str:
    folder = fashion_mnist.data_folder(status.get("data_dir")) or fashion_mnist.keras_cache_dir()
    try:
        release = fashion_mnist.verify(folder)
    except UserError as err:
        release = f"NOT verified: {err}"
    rows = ((file, f"<code>{sha256(folder / file)}</code>" if (folder / file).is_file() else "missing")
            for file in fashion_mnist.FILES)
    return (f"<p>Fashion-MNIST: <code>{_e(folder)}</code>: {_e(release)}.</p>"
            + table(("file", "SHA-256"), rows, html_cells=True))


def _environment(status: dict, out: Path) -> str:
    versions = table(("package", "version"), _versions())
    machine = (f"<p>{_e(platform.platform())}, {os.cpu_count()} CPU core(s); size "
               f"<b>{_e(status.get('size', '?'))}</b>.</p>")
    log = _doctor_log(status, out)
    doctor_line = next((line for line in reversed(log.splitlines()) if line.startswith("verdict:")), None)
    devices = [line.strip() for line in log.splitlines() if line.strip().split(" ", 1)[0] in ("ok", "warn", "FAIL")]
    doctor = (f"<p><b>keraslab doctor</b> {_e(doctor_line)}</p><pre>{_e(chr(10).join(devices))}</pre>" if doctor_line
              else "<p><b>keraslab doctor</b> did not run (part doctor).</p>")
    jets = Path(status.get("jets", out / plan.JETS))
    manifest = _manifest(jets)
    jets_line = (f"<p>Jets: <code>{_e(jets)}</code>, checksums in the section <a href='#part-jets'>jets</a> "
                 f"({len(manifest.get('files', {}))} files).</p>" if manifest else
                 f"<p>Jets: no jets folder at <code>{_e(jets)}</code>.</p>")
    return (f"<h2 id='environment'>Environment</h2>{machine}{doctor}<h3>Versions</h3>{versions}"
            f"<h3>Data sources</h3>{_fashion_mnist_source(status)}{jets_line}")


# --- the page ---------------------------------------------------------------------------------------------

SECTION_WRITERS = {
    "day1": _day_one, "beyond": _topic, "backup": _backup, "jets": _validation,
}


def _part_body(name: str, record: dict, folder: Path, status: dict) -> str:
    metrics = _metrics(folder)
    if name == plan.JETS:
        return _jets(name, folder, metrics, Path(status.get("jets", folder)))
    if name == "doctor":
        return _doctor(name, folder, metrics, _doctor_log(status, folder.parent))
    if name == "comparison":
        return _comparison(name, folder, metrics)
    if name == "challenge":
        return _challenge(name, folder, metrics)
    if record["section"] == "day2":
        return _network(name, folder, metrics)
    writer = SECTION_WRITERS.get(record["section"])
    return writer(name, folder, metrics) if writer else _figures(folder)


def _failure(name: str, record: dict, status: dict) -> str:
    message = record.get("message") or "did not finish"
    text = f"<p class='{record['status']}'><b>{_e(record['status'].upper())}</b>: {_e(message)}</p>"
    text += f"<p>Rerun just this part: <code>{_e(status['rerun'].format(parts=name))}</code></p>"
    log = Path(record["log"]) if record.get("log") else None
    if log is not None and log.is_file():
        tail = terminal_lines(log.read_text(errors="replace"))
        text += f"<details open><summary>last lines of {_e(log)}</summary><pre>" \
                f"{_e(chr(10).join(tail[-LOG_TAIL_LINES:]))}</pre></details>"
    return text


def shown_command(command: list[str]) -> str:
    """The command as the tutor would type it: ``keraslab ...`` for this Python's ``-m keraslab.cli``."""
    text = " ".join(command)
    for prefix, shown in ((plan.KERASLAB, "keraslab"), (plan.STEPS, "python -m keraslab.lab.steps")):
        text = text.replace(" ".join(prefix), shown)
    return text


def _fit_and_backend(folder: Path) -> tuple:
    metrics = _metrics(folder)
    return metrics.get("fit_seconds"), metrics.get("backend")


def write_report(out: Path, path: Path) -> Path:
    """Write the HTML report of the rehearsal in ``out`` (its ``lab.json``) and return its path."""
    out, path = Path(out), Path(path)
    status = read_status(out)
    if not status["parts"]:
        raise UserError(f"{out} holds no rehearsal (no lab.json); run `keraslab lab --out {out}` first")
    ran, line = verdict(status)
    names = [name for name in status.get("order", []) if name in status["parts"]]
    records = {name: status["parts"][name] for name in names}

    contents, sections, summary = [], [], []
    for key, heading in plan.SECTIONS.items():
        members = [name for name in names if records[name]["section"] == key]
        if not members:
            continue
        contents.append(f"<li><a href='#section-{key}'>{_e(heading)}</a><ul>" + "".join(
            f"<li><a href='#part-{n}'>{STATUS_MARK.get(records[n]['status'], '?')} {_e(records[n]['title'])}</a> "
            f"<span class='{records[n]['status']}'>({_e(records[n]['status'])})</span></li>" for n in members)
            + "</ul></li>")
        body = [f"<h2 id='section-{key}'>{_e(heading)}</h2>"]
        for name in members:
            record, folder = records[name], out / name
            fit, backend = _fit_and_backend(folder)
            mark = f"<span class='{record['status']}'>{STATUS_MARK.get(record['status'], '?')} {_e(record['status'])}</span>"
            summary.append((f"<a href='#part-{name}'>{_e(name)}</a>", mark, cell(record.get("seconds")), cell(fit),
                            cell(backend)))
            body.append(f"<h3 id='part-{name}'>{STATUS_MARK.get(record['status'], '?')} {_e(record['title'])} "
                        f"<small>({_e(name)})</small></h3>")
            body.append(f"<p>wall time {cell(record.get('seconds'))} s; fit time {cell(fit) or '–'} s; backend "
                        f"{cell(backend) or '–'}; command <code>{_e(shown_command(record.get('command', [])))}</code></p>")
            if record["status"] != OK:
                body.append(_failure(name, record, status))
            body.append(_part_body(name, record, folder, status))
        sections.append("\n".join(body))

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    total = sum(record.get("seconds", 0) for record in records.values())
    parts_table = table(("part", "status", "wall time (s)", "fit time (s)", "backend"), summary, html_cells=True)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>keraslab: the lab's dress rehearsal</title>
<style>{STYLE}</style></head>
<body><h1>keraslab: dress rehearsal of "Introduction to Deep Learning with Keras"</h1>
<p class="verdict {'ok' if ran else 'bad'}" id="verdict"><b>Verdict:</b> {_e(line)}</p>
<p>Generated {stamp} from <code>{_e(out)}</code>: {len(records)} parts, {total / 60:.1f} min of wall time.
fit time is the time inside <code>model.fit</code>; accuracies are fractions; 1/eps_B is the background rejection
at a signal efficiency of 0.3.</p>
<nav id="contents"><h2>Contents</h2><ul><li><a href="#environment">Environment</a></li>
<li><a href="#parts">Every part at a glance</a></li>{''.join(contents)}</ul></nav>
{_environment(status, out)}
<h2 id="parts">Every part at a glance</h2>{parts_table}
{''.join(sections)}
</body></html>
"""
    check_writable(path)
    path.write_text(page)
    return path
