"""The leaderboard page in a real browser: a system Chromium (or Playwright's own), headless, driven by Playwright.

JavaScript is switched off in the browser: the page must work without it.
Without a Chromium the test skips, saying how to get one (``system_services``).
"""

from __future__ import annotations

import httpx
import system_services
from challenge_servers import add_teams, bearer, make_challenge, npy_bytes, tagger_scores, upload
from local_services import running_server
from playwright.sync_api import sync_playwright


def test_leaderboard_page_shows_the_ranking(tmp_path):
    chromium = system_services.chromium()  # first: skip before starting a server
    db = str(tmp_path / "challenge.db")
    labels = make_challenge(db)
    tokens = add_teams(db, "Weak", "Strong", "Middle", "Idle")
    with running_server(db) as server:
        for name, separation in (("Weak", 0.5), ("Strong", 3.0), ("Middle", 1.5), ("Strong", 0.2)):
            reply = httpx.post(
                server.url + "/api/submissions", headers=bearer(tokens[name]), files=upload(npy_bytes(tagger_scores(labels, separation)))
            )
            assert reply.status_code == 201
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True)
            try:
                page = browser.new_page(java_script_enabled=False, viewport={"width": 1280, "height": 720})
                page.goto(server.url + "/")
                assert page.title() == "Top-tagging challenge leaderboard"
                rows = page.locator("#leaderboard tbody tr")
                table = [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in rows.all()]
                refresh = page.locator('meta[http-equiv="refresh"]').get_attribute("content")
                heading_box = page.locator("h1").bounding_box()
                page.screenshot(path=tmp_path / "leaderboard.png")
            finally:
                browser.close()
    assert [row[:2] for row in table] == [["1", "Strong"], ["2", "Middle"], ["3", "Weak"], ["–", "Idle"]]
    assert [row[-2] for row in table] == ["2", "1", "1", "0"]  # submissions per team
    aucs = [float(row[2]) for row in table[:3]]
    assert aucs == sorted(aucs, reverse=True) and aucs[0] > 0.9
    assert int(refresh) > 0
    assert heading_box["height"] > 40  # large type, readable from the back of the room
    assert (tmp_path / "leaderboard.png").stat().st_size > 10_000
