"""reveal.js slides from the student edition (keraslab.editions, make slides), opened offline in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright
from small_lab import ANSWER, NOTES, SLIDES, TITLE, write_small_lab
from system_services import chromium

from keraslab.editions import write_slides
from keraslab.errors import UserError


@pytest.fixture(scope="module")
def slideshow(tmp_path_factory):
    """The small lab's slideshow, written by write_slides."""
    folder = tmp_path_factory.mktemp("slides")
    write_small_lab(folder / "labs")
    [path] = write_slides(folder / "labs", folder / "slides")
    assert path == folder / "slides" / "00_small.html"
    return path


def test_slides_hold_no_solution_and_formulas_as_mathml(slideshow):
    html = slideshow.read_text()
    assert "secret_solution_network" not in html
    assert "<math" in html and "\\sum_k" not in html  # MathML, no TeX waiting for MathJax
    assert "cdn" not in html.lower() and "unpkg" not in html


def test_a_formula_mathml_cannot_show_names_its_notebook(tmp_path):
    source = write_small_lab(tmp_path / "labs")
    source.write_text(source.read_text().replace("x_k^2", "x_k^"))
    with pytest.raises(UserError, match=r"^00_small: the formula .*x_k\^"):
        write_slides(tmp_path / "labs", tmp_path / "slides")
    assert not (tmp_path / "slides").exists()


def test_slideshow_opens_offline_in_chromium(slideshow, tmp_path):
    requests: list[str] = []
    errors: list[str] = []  # script errors and requests that failed (a missing file)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("request", lambda request: requests.append(request.url))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("requestfailed", lambda request: errors.append(f"{request.url}: {request.failure}"))
            page.goto(slideshow.as_uri())
            page.wait_for_function("window.Reveal !== undefined && Reveal.isReady()", timeout=20_000)
            total = page.evaluate("Reveal.getTotalSlides()")
            first_heading = page.locator(".reveal .slides section.present h1").inner_text()
            answer_is_fragment = page.locator(".fragment", has_text=ANSWER.removeprefix("**Answer:** ")).count()
            notes = page.locator("aside.notes", has_text=NOTES)
            notes_hidden = notes.count() == 1 and not notes.is_visible()
            page.screenshot(path=tmp_path / "first_slide.png")
            page.evaluate("Reveal.slide(Reveal.getHorizontalSlides().length - 1)")
            last = page.evaluate("[Reveal.getCurrentSlide().scrollHeight, Reveal.getCurrentSlide().clientHeight, Reveal.getConfig().height]")
        finally:
            browser.close()
    assert requests and all(url.startswith(("file://", "data:")) for url in requests), requests
    assert not errors, errors
    assert total == SLIDES
    assert first_heading.lower().startswith(TITLE.lower())
    assert answer_is_fragment == 1, "a hidden answer appears on a click"
    assert notes_hidden, "speaker notes are in the page, not on the slide"
    assert (tmp_path / "first_slide.png").stat().st_size > 10_000
    scroll_height, height, slide_height = last
    assert scroll_height > height == slide_height, "a slide taller than the page scrolls, cut to the page's height"
