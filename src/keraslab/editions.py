"""Student and tutor editions, and slides, from the jupytext sources in ``labs/``.

``python -m keraslab.editions notebooks`` (``make notebooks``) writes, for every
``labs/NN_name.py``, ``notebooks/student/NN_name.ipynb`` (cells tagged ``solution``
removed) and ``notebooks/tutor/NN_name.ipynb`` (cells tagged ``exercise`` removed),
outputs empty. ``python -m keraslab.editions slides`` (``make slides``) writes
``slides/NN_name.html``: the student edition as one self-contained reveal.js slideshow,
with the slide breaks of the source (``slideshow`` cell metadata). It opens offline:
reveal.js comes from the sphinx-revealjs package and is written into the page, and
formulas are MathML, so no MathJax from a CDN.

Conventions of the sources: a code cell tagged ``exercise`` is the student's stub, the
cell tagged ``solution`` after it the tutor's answer, a cell tagged ``check`` calls
``keraslab.check`` (in both editions); a markdown cell with ``jupyter.source_hidden``
metadata is an answer in words, collapsed in both editions and shown on a click in the
slides; ``slideshow`` metadata (``slide``, ``subslide``, ``fragment``, ``skip``,
``notes``) sets the slide breaks, e.g. ``# %% [markdown] slideshow={"slide_type": "slide"}``.

A file that changed since this module wrote it (a student's work in a notebook) is
never replaced without ``--overwrite``.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.resources
import re
from pathlib import Path
from typing import Literal

import typer

from keraslab.errors import UserError, needs_extra

with needs_extra("notebooks", exit_now=__name__ == "__main__"):
    import jinja2
    import jupytext
    import nbformat
    from latex2mathml.converter import convert as latex_to_mathml
    from nbconvert.exporters import SlidesExporter
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
    from nbconvert.preprocessors import ClearOutputPreprocessor, TagRemovePreprocessor
    from nbformat import NotebookNode

from keraslab.run_folder import atomic_write_bytes, read_json, write_json

Edition = Literal["student", "tutor"]
REMOVED_TAG: dict[Edition, str] = {"student": "solution", "tutor": "exercise"}
WRITTEN = ".keraslab-written.json"  # what this module wrote in an output folder: {path: sha256}

REVEAL_THEME = "white"
SLIDES_TEMPLATE = "keraslab_slides.html.j2"
# nbconvert's reveal template loads reveal.js, RequireJS, jQuery, MathJax and mermaid from
# CDNs; this page carries its CSS and JavaScript inline and loads nothing.
SLIDES_TEMPLATE_SOURCE = """\
{%- extends 'reveal/base.html.j2' -%}
{%- block header -%}
<!DOCTYPE html>
<html lang="{{ resources.language_code }}">
<head>
<meta charset="utf-8">
<title>{{ nb.metadata.get('title', resources.metadata.name) | escape_html_keep_quotes }}</title>
<style>{{ resources.reveal.css }}</style>
{% for css in resources.inlining.css -%}<style>{{ css }}</style>{%- endfor %}
{{ resources.include_css("static/index.css") }}
{{ resources.include_css("static/theme-light.css") }}
<style>
a.anchor-link { display: none; }
.highlight { margin: 0.4em; }
.jp-Notebook { padding: 0; }
.reveal pre { white-space: pre-wrap; }  /* a long line wraps instead of running off the slide */
/* a slide taller than the page scrolls instead of being cut off */
.reveal .slides section:not(.stack) { max-height: {{ resources.reveal.height }}px; overflow-y: auto; }
:root {
  --jp-ui-font-size1: 20px;
  --jp-content-font-size1: 20px;
  --jp-code-font-size: 19px;
  --jp-cell-prompt-width: 110px;
}
</style>
{{ resources.include_css("static/custom_reveal.css") }}
<style>{{ resources.reveal.theme_css }}</style>
</head>
{%- endblock header -%}
{%- block body_header -%}
<body class="jp-Notebook" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
<main><div class="reveal"><div class="slides">
{%- endblock body_header -%}
{%- block body_footer -%}
</div></div></main>
<script>{{ resources.reveal.js }}</script>
<script>{{ resources.reveal.notes_js }}</script>
<script>
Reveal.initialize({controls: true, progress: true, history: true, transition: "{{ resources.reveal.transition }}",
                   width: {{ resources.reveal.width }}, height: {{ resources.reveal.height }}, plugins: [RevealNotes]});
</script>
</body>
</html>
{%- endblock body_footer -%}
"""
# A theme imports its web fonts from files beside it, which one HTML file cannot carry;
# without them it falls back to Helvetica/sans-serif.
RELATIVE_IMPORT = re.compile(r"@import url\(\./[^)]*\);")


def read_source(path: Path) -> NotebookNode:
    """The notebook of a jupytext percent script, with cell ids numbered in the source.

    jupytext invents random cell ids on every read; numbered ones make the editions
    reproducible and give a cell the same id in both.
    """
    notebook = jupytext.read(path, fmt="py:percent")
    for number, cell in enumerate(notebook.cells):
        cell.id = f"cell-{number}"
    notebook.metadata.pop("jupytext", None)  # an edition is a plain notebook, paired with no script
    return notebook


def edition(notebook: NotebookNode, name: Edition) -> NotebookNode:
    """A copy of ``notebook`` as the student (no solutions) or tutor (no stubs) sees it, outputs empty."""
    notebook = copy.deepcopy(notebook)
    resources: dict = {}
    notebook, resources = TagRemovePreprocessor(remove_cell_tags={REMOVED_TAG[name]}).preprocess(notebook, resources)
    notebook, resources = ClearOutputPreprocessor().preprocess(notebook, resources)
    return notebook


class _MathMLRenderer(IPythonRenderer):
    """Markdown to HTML with formulas as MathML, which browsers draw without MathJax."""

    def inline_math(self, body: str) -> str:
        return _mathml(body, "inline")

    def block_math(self, body: str) -> str:
        return _mathml(body, "block")

    def latex_environment(self, name: str, body: str) -> str:
        return _mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", "block")


def _mathml(latex: str, display: str) -> str:
    try:
        return latex_to_mathml(latex, display=display)
    except Exception as err:  # noqa: BLE001 - latex2mathml's errors share no base class
        raise UserError(f"the formula ${latex}$ is not LaTeX that MathML can show ({type(err).__name__})") from None


class OfflineSlidesExporter(SlidesExporter):
    """nbconvert's reveal.js slides, with reveal.js inline and MathML formulas: a page that loads nothing."""

    def __init__(self, **kwargs) -> None:
        super().__init__(
            extra_loaders=[jinja2.DictLoader({SLIDES_TEMPLATE: SLIDES_TEMPLATE_SOURCE})],
            template_file=SLIDES_TEMPLATE,
            embed_images=True,
            reveal_width="960",  # nbconvert's template defaults, which its traits leave empty
            reveal_height="700",
            **kwargs,
        )

    @jinja2.pass_context
    def markdown2html(self, context, source: str) -> str:
        """HTMLExporter.markdown2html with the MathML renderer."""
        cell = context.get("cell", {})
        renderer = _MathMLRenderer(
            escape=False,
            attachments=cell.get("attachments", {}),
            embed_images=self.embed_images,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
        return MarkdownWithMath(renderer=renderer).render(source)


def reveal_assets() -> dict[str, str]:
    """reveal.js's CSS, theme and scripts, as shipped by the sphinx-revealjs package."""
    reveal = importlib.resources.files("sphinx_revealjs") / "_static" / "revealjs"
    try:
        return {
            "css": (reveal / "dist" / "reveal.css").read_text(encoding="utf-8"),
            "theme_css": RELATIVE_IMPORT.sub("", (reveal / "dist" / "theme" / f"{REVEAL_THEME}.css").read_text(encoding="utf-8")),
            "js": (reveal / "dist" / "reveal.js").read_text(encoding="utf-8"),
            "notes_js": (reveal / "plugin" / "notes" / "notes.js").read_text(encoding="utf-8"),
        }
    except FileNotFoundError as err:
        raise UserError(f"reveal.js is not where sphinx-revealjs 3 keeps it ({err.filename}): pip install 'sphinx-revealjs>=3.2,<4'") from None


def _slide_type(cell: NotebookNode) -> str:
    return cell.metadata.get("slideshow", {}).get("slide_type", "-")


def slideshow(notebook: NotebookNode, title: str) -> str:
    """The HTML page of the student edition of ``notebook`` as reveal.js slides.

    A slide has nothing collapsed, so a hidden answer that the source gives no slide
    type of its own appears on a click (a fragment), after its question.
    """
    student = edition(notebook, "student")
    if all(_slide_type(cell) in {"skip", "notes"} for cell in student.cells):
        raise UserError(f"{title} has nothing to show: every cell is skipped or notes")
    for cell in student.cells:
        if cell.metadata.get("jupyter", {}).get("source_hidden") and "slideshow" not in cell.metadata:
            cell.metadata["slideshow"] = {"slide_type": "fragment"}
    try:
        html, _ = OfflineSlidesExporter().from_notebook_node(student, resources={"metadata": {"name": title}, "reveal": reveal_assets()})
    except UserError as err:
        raise UserError(f"{title}: {err}") from None
    return html


def _sources(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise UserError(f"no folder {folder} with the notebooks' jupytext sources (labs/*.py); pass --sources FOLDER")
    sources = sorted(folder.glob("*.py"))
    if not sources:
        raise UserError(f"{folder} holds no jupytext source (*.py)")
    return sources


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_files(out: Path, files: dict[str, bytes], overwrite: bool) -> list[Path]:
    """Write ``files`` (paths relative to ``out``), all or none of them.

    A file already there is replaced only if it is what this module wrote last time or
    what it writes now: anything else may be someone's work, kept unless ``overwrite``.
    """
    record = out / WRITTEN
    written = read_json(record) if record.is_file() else {}
    if not overwrite:
        for relative, data in files.items():
            target = out / relative
            if target.exists() and _sha256(target.read_bytes()) not in {written.get(relative), _sha256(data)}:
                raise UserError(f"{target} changed since it was written (your work?): move it away, or rerun with --overwrite")
    paths = []
    try:
        for relative, data in files.items():
            target = out / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, data)
            written[relative] = _sha256(data)
            paths.append(target)
        write_json(record, written)
    except OSError as err:
        raise UserError(f"cannot write in {out}: {err.strerror} ({err.filename})") from None
    return paths


def write_editions(sources: Path, out: Path, overwrite: bool = False) -> list[Path]:
    """Write ``out/student/NN_name.ipynb`` and ``out/tutor/NN_name.ipynb`` for every ``sources/NN_name.py``."""
    files = {}
    for source in _sources(Path(sources)):
        notebook = read_source(source)
        for name in REMOVED_TAG:
            files[f"{name}/{source.stem}.ipynb"] = nbformat.writes(edition(notebook, name)).encode() + b"\n"  # as nbformat.write
    return _write_files(Path(out), files, overwrite)


def write_slides(sources: Path, out: Path, overwrite: bool = False) -> list[Path]:
    """Write ``out/NN_name.html``, the student edition's slideshow, for every ``sources/NN_name.py``."""
    files = {f"{source.stem}.html": slideshow(read_source(source), source.stem).encode() for source in _sources(Path(sources))}
    return _write_files(Path(out), files, overwrite)


PROG = "python -m keraslab.editions"
app = typer.Typer(
    help="Student and tutor notebooks, and offline reveal.js slides, from the jupytext sources in labs/.",
    add_completion=False,
    pretty_exceptions_enable=False,
)
SOURCES = typer.Option(Path("labs"), "--sources", help="Folder of the jupytext percent scripts (NN_name.py).")
OVERWRITE = typer.Option(False, "--overwrite", help="Also replace files changed since they were written (a student's work).")


def _command(write, default_out: str, out_help: str, done: str):
    """A typer command that runs ``write(sources, out, overwrite)`` and prints ``done`` (formatted with
    the number of files written and ``out``)."""

    def command(
        sources: Path = SOURCES,
        out: Path = typer.Option(Path(default_out), "--out", help=out_help),
        overwrite: bool = OVERWRITE,
    ) -> None:
        print(done.format(count=len(write(sources, out, overwrite)), out=out))

    return command


app.command("notebooks", help="Write OUT/student/NN_name.ipynb (no solutions) and OUT/tutor/NN_name.ipynb "
                              "(no stubs), outputs empty.")(
    _command(write_editions, "notebooks", "Folder to write student/ and tutor/ into.",
             "wrote {count} notebooks (student and tutor); students: .venv/bin/jupyter lab {out}/student"))
app.command("slides", help="Write OUT/NN_name.html: each student edition as one reveal.js slideshow that opens offline.")(
    _command(write_slides, "slides", "Folder to write the slideshows into.",
             "wrote {count} slideshows in {out}/; open one in a browser (arrows: next, S: speaker notes)"))


def main(argv: list[str] | None = None) -> None:
    """Entry point: one-line errors with exit code 2, as in keraslab's own CLI."""
    from keraslab.cli import run_app

    run_app(app, argv, PROG)


if __name__ == "__main__":
    main()
