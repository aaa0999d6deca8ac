"""Does every dependency of keraslab install from a wheel on each platform a class brings?

For each requirement in pyproject.toml (the base package in one table, each extra in a
second) and each target (macOS arm64 and x86_64, Windows amd64, Linux x86_64 and aarch64)
and supported Python (3.11, 3.12, 3.13), this script evaluates the requirement's
environment markers for the TARGET, not this machine, then asks PyPI's simple index (the
one pip reads) which version pip would take: the newest matching, non-yanked, final
release with a file for that target (a compatible wheel, or an sdist that pip would build).
Each requirement's direct requirements (with its extras: jax[cpu] -> jaxlib), as its
newest release states them, are checked the same way and named in the cell only when
they lack a wheel; where a pin has none (jaxlib==X on macOS Intel) the newest wheel of
that requirement is shown with "(pip takes the older pair)", as pip's resolver does.
Deeper requirements are not checked.

Cells: the version installed from a wheel; "-" where the markers leave the requirement
out; "sdist X" where pip would build X from source; "none" where nothing installs. Exit code 1 if a base requirement lacks a wheel anywhere.

    python scripts/check_wheels.py            # both tables, Markdown
"""

from __future__ import annotations

import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import httpx
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = ("3.11", "3.12", "3.13")
INDEX = "https://pypi.org/simple/{}/"
GLIBC = 28  # manylinux_2_28 and older: Debian 10+, Ubuntu 20.04+, RHEL 8+


def _manylinux(arch: str) -> list[str]:
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    tags = []
    for minor in range(GLIBC, 4, -1):
        tags.append(f"manylinux_2_{minor}_{arch}")
        if minor in legacy:
            tags.append(f"{legacy[minor]}_{arch}")
    return tags


# name: (marker environment without the Python version, platform tags pip accepts there)
TARGETS: dict[str, tuple[dict[str, str], list[str]]] = {
    "macOS arm64": (
        {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64", "os_name": "posix"},
        list(mac_platforms((14, 0), "arm64")),
    ),
    "macOS x86_64": (
        {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "x86_64", "os_name": "posix"},
        list(mac_platforms((13, 0), "x86_64")),
    ),
    "Windows amd64": (
        {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64", "os_name": "nt"},
        ["win_amd64"],
    ),
    "Linux x86_64": (
        {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix"},
        _manylinux("x86_64"),
    ),
    "Linux aarch64": (
        {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64", "os_name": "posix"},
        _manylinux("aarch64"),
    ),
}


def environment(target: str, python: str, extra: str = "") -> dict[str, str]:
    """The marker environment of ``target`` running CPython ``python`` (packaging.markers' keys)."""
    return {
        **TARGETS[target][0],
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_version": "",
        "implementation_version": f"{python}.0",
        "extra": extra,
    }


@cache
def tags(target: str, python: str) -> frozenset[Tag]:
    version = tuple(int(part) for part in python.split("."))
    platforms = TARGETS[target][1]
    abi = f"cp{version[0]}{version[1]}"
    return frozenset(cpython_tags(version, [abi], platforms)) | frozenset(compatible_tags(version, abi, platforms))


@cache
def files(name: str) -> list[dict]:
    """The project's files on PyPI's simple index (PEP 691 JSON): filename, requires-python, yanked, url."""
    response = CLIENT.get(INDEX.format(canonicalize_name(name)), headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    response.raise_for_status()
    return response.json()["files"]


@cache
def latest_requires_dist(name: str) -> tuple[Requirement, ...]:
    """The requirements of the project's newest release (PyPI's JSON API)."""
    response = CLIENT.get(f"https://pypi.org/pypi/{canonicalize_name(name)}/json")
    response.raise_for_status()
    return tuple(Requirement(text) for text in response.json()["info"]["requires_dist"] or ())


@cache
def releases(name: str) -> tuple[tuple[Version, str, frozenset[Tag], str | None], ...]:
    """(version, "wheel" or "sdist", wheel tags, requires-python) of each usable file: final, not yanked."""
    found = []
    for entry in files(name):
        filename = entry["filename"]
        if entry.get("yanked"):
            continue
        try:
            if filename.endswith(".whl"):
                _, version, _, wheel_tags = parse_wheel_filename(filename)
                kind = "wheel"
            elif filename.endswith((".tar.gz", ".zip")):
                (_, version), wheel_tags, kind = parse_sdist_filename(filename), frozenset(), "sdist"
            else:
                continue
        except (InvalidVersion, ValueError):
            continue
        if not version.is_prerelease:
            found.append((version, kind, wheel_tags, entry.get("requires-python")))
    return tuple(found)


def candidates(requirement: Requirement, target: str, python: str) -> list[tuple[Version, str]]:
    """(version, "wheel" or "sdist") pip could take for this target, newest first; one entry per version."""
    target_tags = tags(target, python)
    found: dict[Version, str] = {}
    for version, kind, wheel_tags, requires_python in releases(requirement.name):
        if kind == "wheel" and wheel_tags.isdisjoint(target_tags):
            continue
        if not _python_ok(requires_python, f"{python}.0") or not requirement.specifier.contains(version):
            continue
        if found.get(version) != "wheel":
            found[version] = kind
    return sorted(found.items(), reverse=True)


@cache
def _python_ok(requires_python: str | None, full_python: str) -> bool:
    try:
        return not requires_python or SpecifierSet(requires_python).contains(full_python)
    except InvalidSpecifier:
        return True


def dependencies(requirement: Requirement, target: str, python: str) -> list[Requirement]:
    """The direct requirements of ``requirement`` with its extras on this target, as its newest release says."""
    found = []
    for dependency in latest_requires_dist(requirement.name):
        marker = dependency.marker
        if marker is None or any(marker.evaluate(environment(target, python, e)) for e in (*requirement.extras, "")):
            found.append(dependency)
    return found


def cell(requirement: Requirement, target: str, python: str, extra: str = "", depth: int = 1) -> tuple[str, bool]:
    """(text, installs from wheels) for one requirement on one target and Python, and its direct
    requirements when depth is 1 (named in the text only when they lack a wheel)."""
    if requirement.marker is not None and not requirement.marker.evaluate(environment(target, python, extra)):
        return "-", True
    choices = candidates(requirement, target, python)
    if not choices:
        return "none", False
    version, kind = choices[0]
    if kind != "wheel":
        return f"sdist {version}", False
    text, ok = str(version), True
    for dependency in dependencies(requirement, target, python) if depth else ():
        added_text, added_ok = cell(Requirement(f"{dependency.name}{dependency.specifier}"), target, python, depth=0)
        if not added_ok:  # the newest release's pin has no wheel here: pip falls back to an older pair
            added_text, added_ok = cell(Requirement(dependency.name), target, python, depth=0)
            if added_text != text:
                text += f" + {dependency.name} {added_text} (pip takes the older pair)"
        if not added_ok:
            text += f" + {dependency.name} **{added_text}**"
        ok &= added_ok
    return text, ok


def row(requirement: Requirement, extra: str) -> tuple[list[str], bool]:
    """One table row: for each target, the cells of the three Pythons (one when they agree)."""
    cells, all_ok = [], True
    for target in TARGETS:
        texts = []
        for python in PYTHONS:
            text, ok = cell(requirement, target, python, extra)
            texts.append(text if ok else f"**{text}**")
            all_ok &= ok
        cells.append(texts[0] if len(set(texts)) == 1 else " / ".join(texts))
    return cells, all_ok


def table(title: str, requirements: list[tuple[str, Requirement]]) -> tuple[str, bool]:
    with ThreadPoolExecutor(16) as pool:  # PyPI round trips, not CPU
        names = {r.name for _, r in requirements}
        list(pool.map(releases, names))
        list(pool.map(latest_requires_dist, names))
        list(pool.map(releases, {d.name for name in names for d in latest_requires_dist(name)}))
        rows = list(pool.map(lambda item: row(item[1], item[0]), requirements))
    lines = [
        f"{title} (cells: version from a wheel, for Python {', '.join(PYTHONS)} when they differ; - not installed there)",
        "",
        "| " + " | ".join(["requirement", *TARGETS]) + " |",
        "|" + "---|" * (len(TARGETS) + 1),
    ]
    for (extra, requirement), (cells, _) in zip(requirements, rows):
        name = f"`{requirement.name}{'[' + ','.join(sorted(requirement.extras)) + ']' if requirement.extras else ''}`"
        if requirement.marker is not None:
            name += " (marker)"
        lines.append("| " + " | ".join([f"{extra}: {name}" if extra else name, *cells]) + " |")
    return "\n".join(lines), all(ok for _, ok in rows)


def project_requirements() -> tuple[list[Requirement], dict[str, list[Requirement]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = {
        extra: [Requirement(text) for text in texts]
        for extra, texts in project.get("optional-dependencies", {}).items()
    }
    own = canonicalize_name(project["name"])
    # aliases such as all = ["keraslab[generate,server,notebooks]"] add nothing of their own
    extras = {extra: [r for r in reqs if canonicalize_name(r.name) != own] for extra, reqs in extras.items()}
    return [Requirement(text) for text in project["dependencies"]], {k: v for k, v in extras.items() if v}


CLIENT = httpx.Client(timeout=60, follow_redirects=True, headers={"User-Agent": "keraslab-check-wheels"})


def main() -> int:
    base, extras = project_requirements()
    base_table, base_ok = table("Base package (`pip install keraslab`)", [("", r) for r in base])
    extras_table, _ = table("Extras", [(extra, r) for extra, reqs in extras.items() for r in reqs])
    print(base_table, extras_table, sep="\n\n")
    print(
        f"\nmacOS 13+ (Intel) / 14+ (Apple silicon), glibc {GLIBC}+ Linux (manylinux_2_{GLIBC});"
        " **bold**: no wheel (pip would build from source or fail)."
    )
    if not base_ok:
        print("error: a base requirement has no wheel on some platform (bold above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
