"""Run the rehearsal's parts one after the other, record each one's outcome, and keep going after a failure.

Each part's output goes to the terminal as it comes (its own progress bars included)
and to ``OUT/logs/PART.log``. ``OUT/lab.json`` records every part's status (ok,
failed, skipped), wall time, command and, for a failure, its last error line; a
rehearsal continued with ``--resume`` keeps the parts recorded as ok and reruns the
others. After the first part, each heading says about how long the rest will take:
the expected times of the parts left (``plan.Size.seconds``), scaled by how much
slower or faster than expected the finished parts ran.
"""

from __future__ import annotations

import codecs
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from keraslab.lab import plan
from keraslab.run_folder import read_json, write_json

STATUS_FILE = "lab.json"
LOGS = "logs"
OK, FAILED, SKIPPED = "ok", "failed", "skipped"


def read_status(out: Path) -> dict:
    path = Path(out) / STATUS_FILE
    return read_json(path) if path.is_file() else {"parts": {}}


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def terminal_lines(log: str) -> list[str]:
    """The log's lines as a terminal showed them: no colour codes, each progress bar at its last state."""
    lines = (line.rstrip("\r").rsplit("\r", 1)[-1] for line in ANSI_ESCAPE.sub("", log).split("\n"))
    return [line.rstrip() for line in lines if line.strip()]


def last_error(log: str) -> str:
    """The line that says what went wrong: the last 'error:' line, else the last line of the output."""
    lines = [line.strip() for line in terminal_lines(log)]
    errors = [line for line in lines if line.lower().startswith("error:") or "Error:" in line]
    found = (errors or lines or ["no output"])[-1]
    return found if len(found) <= 400 else found[:400] + " ..."


def _run_logged(command: Sequence[str], log_path: Path) -> int:
    """Run ``command``, its output both to this terminal and to ``log_path``; its exit code."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(command) + "\n")
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment)
        try:
            while chunk := process.stdout.read1(4096):
                text = decoder.decode(chunk)
                sys.stdout.write(text)
                sys.stdout.flush()
                log.write(text)
        except KeyboardInterrupt:  # the part got the Ctrl-C too; let it end, then stop the rehearsal
            process.wait()
            raise
        return process.wait()


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


class Rehearsal:
    """The parts of one ``keraslab lab`` call, run into ``ctx.out``."""

    def __init__(self, ctx: plan.Context, chosen: list[plan.Part], resume: bool, rerun_hint: str):
        self.ctx, self.chosen, self.resume = ctx, chosen, resume
        self.status = read_status(ctx.out)
        self.status.update(size=ctx.size.name, rerun=rerun_hint, jets=str(ctx.jets),
                           data_dir=str(ctx.data_dir) if ctx.data_dir else None)
        self.status.setdefault("order", [])
        for part in chosen:  # the report shows the parts of every call into this folder, in the rehearsal's order
            if part.name not in self.status["order"]:
                self.status["order"].append(part.name)
        order = [p.name for p in plan.parts(ctx.size, True)]
        self.status["order"].sort(key=lambda name: order.index(name) if name in order else len(order))

    def _save(self) -> None:
        write_json(self.ctx.out / STATUS_FILE, self.status)

    def _record(self, part: plan.Part, **fields) -> None:
        self.status["parts"][part.name] = {"title": part.title, "section": part.section, **fields}
        self._save()

    def _blocked_by(self, part: plan.Part) -> str | None:
        for needed in part.needs:
            if needed == plan.JETS and self.ctx.jets_dir is not None and needed not in {p.name for p in self.chosen}:
                continue  # the user's --jets folder, not checked again when only its users were chosen
            record = self.status["parts"].get(needed)
            if record is None or record["status"] != OK:
                state = "did not run" if record is None else record["status"]
                return f"needs part {needed}, which {'did not run' if record is None else 'is ' + state}"
        return None

    def run(self) -> dict:
        """Run every chosen part; return the status of all parts of this folder."""
        todo = [part for part in self.chosen
                if not (self.resume and self.status["parts"].get(part.name, {}).get("status") == OK)]
        for part in self.chosen:
            if part not in todo:
                print(f"keraslab lab: {part.name} finished before, kept (--resume)")
        expected_total = sum(plan.expected_seconds(part, self.ctx.size) for part in todo)
        print(f"keraslab lab: {len(todo)} part(s) to run at the {self.ctx.size.name} size, expected about "
              f"{_minutes(expected_total)} on a 2-core CPU", flush=True)
        done_expected = done_measured = 0.0
        self.status["started"] = datetime.now(UTC).isoformat(timespec="seconds")
        for number, part in enumerate(todo, start=1):
            left = ""
            if done_expected:
                rest = sum(plan.expected_seconds(p, self.ctx.size) for p in todo[number - 1:])
                left = f", about {_minutes(rest * done_measured / done_expected)} left"
            print(f"\n##### keraslab lab [{number}/{len(todo)}] {part.name}: {part.title}{left} #####", flush=True)
            started = time.monotonic()
            if self._run_part(part):  # a part skipped at once says nothing about this machine's speed
                done_expected += plan.expected_seconds(part, self.ctx.size)
                done_measured += time.monotonic() - started
        return self.status

    def _run_part(self, part: plan.Part) -> bool:
        """Run one part and record how it went; False when it could not start."""
        blocked = self._blocked_by(part)
        reason = blocked or plan.precheck(part, self.ctx)
        if reason is not None:
            status = SKIPPED if blocked else FAILED
            print(f"{part.name}: {status}: {reason}")
            self._record(part, status=status, message=reason, seconds=0.0)
            return False
        command = plan.command(part, self.ctx)
        log_path = self.ctx.out / LOGS / f"{part.name}.log"
        started = time.monotonic()
        self._record(part, status="running", command=command, log=str(log_path), seconds=0.0,
                     message="did not finish: the rehearsal stopped during it")
        try:
            code = _run_logged(command, log_path)
        except KeyboardInterrupt:
            self._record(part, status=FAILED, message="interrupted (Ctrl-C)", command=command, log=str(log_path),
                         seconds=round(time.monotonic() - started, 1))
            raise
        seconds = round(time.monotonic() - started, 1)
        if code == 0:
            self._record(part, status=OK, command=command, log=str(log_path), seconds=seconds)
            print(f"{part.name}: ok in {_minutes(seconds)}")
        else:
            message = last_error(log_path.read_text(errors="replace"))
            self._record(part, status=FAILED, command=command, log=str(log_path), seconds=seconds,
                         message=f"exit code {code}: {message}")
            print(f"{part.name}: FAILED (exit code {code}) after {_minutes(seconds)}; the rehearsal goes on")
        return True


def verdict(status: dict) -> tuple[bool, str]:
    """``(everything ran, one line)``: what failed (and what was skipped for it), with the command that reruns it."""
    records = {name: status["parts"][name] for name in status.get("order", []) if name in status["parts"]}
    if not records:
        return False, "nothing ran"
    not_ok = [name for name, record in records.items() if record["status"] != OK]
    if not not_ok:
        seconds = sum(record.get("seconds", 0) for record in records.values())
        return True, f"everything ran: {len(records)} parts in {_minutes(seconds)}"
    failed = [name for name in not_ok if records[name]["status"] != SKIPPED]
    skipped = [name for name in not_ok if records[name]["status"] == SKIPPED]
    reasons = [f"{name} {records[name]['status']} ({records[name].get('message') or 'did not finish'})"
               for name in failed]
    if skipped and failed:
        reasons.append(f"skipped for it: {', '.join(skipped)}")
    elif skipped:  # nothing failed in this call: say why each was skipped
        reasons += [f"{name} skipped ({records[name].get('message')})" for name in skipped]
    line = "NOT everything ran: " + "; ".join(reasons)
    return False, line + ". Rerun just that: " + status["rerun"].format(parts=",".join(not_ok))
