"""The rehearsal's own steps, each run as ``python -m keraslab.lab.steps NAME ...`` in its own process.

- ``check-jets DIR``: a jets folder given with ``keraslab lab --jets``: every file against its manifest.
- ``comparison``: the day-two comparison of the taggers that finished (``keraslab.toptag.comparison``).
- ``challenge``: a dry run of the challenge through its public command line and HTTP interface: a fresh
  database on the jets folder's hidden challenge labels, two teams, each network's ``result.npy``
  (``keraslab toptag predict``) submitted to the real server on the loopback interface, the challenge
  closed, and the final leaderboard saved as JSON and, where a headless Chromium is installed, as a
  screenshot of the page the teams see.

The comparison and the challenge write ``metrics.json`` in their ``--out`` folder; every step exits
non-zero, with one error line, when it fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from keraslab.errors import UserError
from keraslab.run_folder import read_json, write_json

KERASLAB = (sys.executable, "-m", "keraslab.cli")
# Two teams: one submits the networks that read jet images, the other those that read the constituents
TEAMS = ("Images", "Particles")
SERVER_START_SECONDS = 60
LEADERBOARD_PNG = "leaderboard.png"


def check_jets(directory: Path) -> None:
    """A jets folder's files against its manifest; the jets per file."""
    from keraslab.toptag import dataset

    manifest = dataset.read_manifest(directory)
    if manifest is None:
        raise UserError(f"{directory} has no {dataset.MANIFEST}; {dataset.LAYOUT_HINT}")
    problems = dataset.verify_checksums(directory)
    if problems:
        raise UserError(f"{directory}: " + "; ".join(problems))
    jets = {name: entry.get("jets") for name, entry in manifest["files"].items()}
    print(f"{directory}: every file matches {dataset.MANIFEST}: " + ", ".join(f"{n} {j}" for n, j in jets.items()))


def _finished(run_dir: Path) -> bool:
    """A tagger's run that got as far as its test AUC."""
    return (run_dir / "metrics.json").is_file() and "auc" in read_json(run_dir / "metrics.json")


def comparison(runs: Path, jets: Path, out: Path, taggers: list[str]) -> dict:
    """The comparison table and ROC plot of the taggers in ``runs`` that finished; the others are named."""
    from keraslab.toptag import comparison as compare

    finished = [name for name in taggers if _finished(runs / name)]
    missing = [name for name in taggers if name not in finished]
    if not finished:
        raise UserError("no tagger finished, so there is nothing to compare")
    out.mkdir(parents=True, exist_ok=True)
    curves = {name: curve for name in finished if (curve := compare.test_curve(runs / name, jets)) is not None}
    table = compare.summarise(runs, finished, curves)
    compare.write_outputs(out, table, curves)
    if missing:
        print(f"not compared (they did not finish): {', '.join(missing)}")
    return _write_metrics(out, {"taggers": finished, "missing": missing})


def _write_metrics(out: Path, metrics: dict) -> dict:
    write_json(out / "metrics.json", metrics)
    return metrics


def team_of(tagger: str) -> str:
    from keraslab.toptag.catalog import spec

    return TEAMS[0] if spec(tagger).inputs == "image" else TEAMS[1]


def _keraslab(*args: str) -> str:
    """Run one keraslab command; its output (shown, and returned), or a UserError with its last line."""
    print("$ keraslab " + " ".join(args), flush=True)
    finished = subprocess.run([*KERASLAB, *args], check=False, capture_output=True, text=True)
    print(finished.stdout + finished.stderr, end="", flush=True)
    if finished.returncode != 0:
        last = (finished.stderr.strip() or finished.stdout.strip() or "no output").splitlines()[-1]
        raise UserError(f"`keraslab {args[0]} {args[1]}` failed: {last}")
    return finished.stdout


def _keraslab_together(commands: list[list[str]]) -> None:
    """Run keraslab commands side by side; their outputs in turn; a UserError naming the first that failed."""
    running = []
    for args in commands:
        print("$ keraslab " + " ".join(args), flush=True)
        running.append((args, subprocess.Popen([*KERASLAB, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                               text=True)))
    failed = []
    for args, process in running:
        output, _ = process.communicate()
        print(output, end="", flush=True)
        if process.returncode != 0:
            failed.append(f"`keraslab {' '.join(args[:2])} {' '.join(args[2:4])}`: "
                          + (output.strip() or "no output").splitlines()[-1])
    if failed:
        raise UserError("failed: " + "; ".join(failed))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.load(reply)


def _wait_for(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise UserError(f"the challenge server stopped at once (exit code {server.returncode}); see its output above")
        try:
            _get_json(url)
            return
        except OSError:
            time.sleep(0.5)
    raise UserError(f"the challenge server did not answer at {url} within {SERVER_START_SECONDS} s")


def find_chromium() -> str | None:
    """A headless Chromium for the screenshot: the system one, else Playwright's own; None without either."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            bundled = playwright.chromium.executable_path
        return bundled if bundled and os.path.exists(bundled) else None
    except Exception:  # noqa: BLE001 - no Playwright or no browser of its own: the report shows a table instead
        return None


def screenshot(url: str, path: Path) -> str | None:
    """The page at ``url`` as a team's browser shows it (JavaScript off, as the page needs none), or why not."""
    chromium = find_chromium()
    if chromium is None:
        return "no headless Chromium here (sudo apt-get install chromium, or playwright install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "Playwright is not installed (pip install 'keraslab[dev]')"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True)
            try:
                page = browser.new_page(java_script_enabled=False, viewport={"width": 1280, "height": 720})
                page.goto(url)
                page.screenshot(path=path, full_page=True)
            finally:
                browser.close()
    except Exception as err:  # noqa: BLE001 - a browser that does not start: the table stands in
        return f"the browser failed ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})"
    return None


def challenge(runs: Path, jets: Path, out: Path, taggers: list[str]) -> dict:
    """The dry run (module docstring); metrics.json holds the submissions and both leaderboards."""
    from keraslab.toptag import dataset

    trained = [name for name in taggers if _finished(runs / name)]
    if not trained:
        raise UserError("no trained network to submit; the day-two parts must finish first")
    if out.exists():
        shutil.rmtree(out)  # a dry run starts from an empty database every time
    out.mkdir(parents=True)
    db = str(out / "challenge.db")
    _keraslab("challenge", "init", "--truth", str(jets), "--db", db)
    tokens = {team: _keraslab("challenge", "team", "add", team, "--db", db).strip().splitlines()[-1] for team in TEAMS}
    submissions = [{"tagger": tagger, "team": team_of(tagger), "file": str(out / tagger / "result.npy")}
                   for tagger in trained]
    predictions = []
    for submission in submissions:  # all at once: each process mostly waits on its imports
        Path(submission["file"]).parent.mkdir()
        predictions.append(["toptag", "predict", "--model", str(runs / submission["tagger"]), "--data",
                            str(dataset.sample_path(jets, dataset.CHALLENGE)), "--out", submission["file"]])
    _keraslab_together(predictions)

    url = f"http://127.0.0.1:{_free_port()}"
    print(f"$ keraslab challenge serve --db {db} --port {url.rsplit(':', 1)[1]}", flush=True)
    server = subprocess.Popen([*KERASLAB, "challenge", "serve", "--db", db, "--port", url.rsplit(":", 1)[1]])
    try:
        _wait_for(url + "/api/leaderboard", server)
        for submission in submissions:
            reply = _keraslab("challenge", "submit", submission["file"], "--server", url, "--token",
                              tokens[submission["team"]])
            submission["reply"] = reply.strip()
        open_board = _get_json(url + "/api/leaderboard")
        _keraslab("challenge", "close", "--db", db)
        final = _get_json(url + "/api/leaderboard")
        no_picture = screenshot(url + "/", out / LEADERBOARD_PNG)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if not final.get("closed"):
        raise UserError("the leaderboard does not show the challenge as closed after `keraslab challenge close`")
    ranked = [entry for entry in final["entries"] if entry.get("rank") is not None]
    print("final ranking: " + ", ".join(f"{e['rank']}. {e['team']} (private AUC {e['private']['auc']:.4f})"
                                        for e in ranked))
    if no_picture:
        print(f"no screenshot of the leaderboard: {no_picture}; the report shows it as a table")
    return _write_metrics(out, {
        "server": url, "teams": list(TEAMS), "submissions": submissions, "leaderboard_open": open_board,
        "leaderboard_final": final, "screenshot": None if no_picture else LEADERBOARD_PNG, "no_screenshot": no_picture,
    })


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m keraslab.lab.steps", description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    steps.add_parser("check-jets").add_argument("directory", type=Path)
    for name in ("comparison", "challenge"):
        step = steps.add_parser(name)
        step.add_argument("--runs", type=Path, required=True, help="the rehearsal's folder of run folders")
        step.add_argument("--jets", type=Path, required=True)
        step.add_argument("--out", type=Path, required=True)
        step.add_argument("--taggers", required=True, help="comma-separated run folder names")
    args = parser.parse_args(argv)
    try:
        if args.step == "check-jets":
            check_jets(args.directory)
        else:
            {"comparison": comparison, "challenge": challenge}[args.step](
                args.runs, args.jets, args.out, args.taggers.split(","))
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
