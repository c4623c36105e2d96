# ruff: noqa: F401, F811
# (the fixtures browser_context, page and server come from test_app_browser by import)
"""Issue 13's "done when", walked through in Chromium: an analyst describes a German firm
entering Vietnam with two candidate partners in the editor, saves the case as TOML, loads the
file again (Browse...) and gets the identical run, compares the two partners, and copies a
link that reproduces the state in a fresh browser; a teacher at 1280x800 in presentation
mode sees the key charts without scrolling and exports a chart as PNG and SVG.
Screenshots of the editor go to results/app-screenshots/ (look at them).
"""

from __future__ import annotations

import time
from pathlib import Path

from test_app_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    _month,
    _open,
    _step_until,
    _wait_chart,
    browser_context,
    page,
    pytestmark,
    server,
)
from test_app_views import SCREENS, _bottom, _download, _screens, _scroll_height

from abm.scenario import Scenario


def _tab(pg, label: str, key: str) -> None:
    """Open a section's tab and wait for its form (the server draws it)."""
    pg.click(f".abm-editor-sections button:has-text('{label}')")
    pg.wait_for_selector(f".abm-editor-form-{key}.abm-editor-index-0", timeout=30_000)


def _set(pg, field: str, value: str, path: str) -> None:
    """Type a value into a field and wait until the editor took it (its status names it)."""
    box = pg.locator(f".abm-field-{field} input")
    box.click()
    box.fill(value)
    box.press("Enter")
    pg.wait_for_selector(f".abm-editor-status:has-text('{path} = ')", timeout=30_000)
    pg.wait_for_function(
        "([p, v]) => document.querySelector('.abm-editor-status').innerText.includes(p + ' = ' + v)",
        arg=[path, repr(value) if not _is_number(value) else value],
        timeout=30_000,
    )


def _shows(pg, field: str, value: str) -> None:
    pg.wait_for_function(
        "([f, v]) => { const e = document.querySelector('.abm-field-' + f + ' input'); return e && e.value === v; }",
        arg=[field, value],
        timeout=30_000,
    )


FRESH = """
import json, sys, tempfile
from playwright.sync_api import sync_playwright
link, month, chromium, args = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
base = link.split("/?")[0]
outside, problems = [], []
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=chromium, args=args)
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith((base, base.replace("http", "ws")))
                  else (outside.append(r.request.url), r.abort()))
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(link, wait_until="networkidle")
    page.wait_for_function(
        "(m) => document.querySelector('.abm-month') && "
        "document.querySelector('.abm-month').innerText.startsWith('Month ' + m + ' ')",
        arg=month, timeout=120_000,
    )
    page.wait_for_selector(".abm-play:has-text('Play')")
    page.wait_for_timeout(300)
    print(json.dumps({"kpis": page.inner_text(".abm-kpi-block"), "title": page.inner_text(".abm-title"),
                      "outside": outside, "problems": problems}))
    browser.close()
"""
"""Opens a link in a browser of its own (another process: Playwright's sync API runs one per
process) and reports what the page shows at the month the link names."""


def _in_a_fresh_browser(link: str, month: int) -> dict:
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", FRESH, link, str(month), CHROMIUM, json.dumps(CHROMIUM_ARGS)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _describe_the_vietnam_case(pg) -> None:
    _open(pg, "/editor")
    pg.wait_for_selector(".abm-editor-grid", timeout=60_000)
    _tab(pg, "Case", "case")
    _set(pg, "title", "Müller Technik enters Vietnam", "title")
    _set(pg, "months", "60", "months")
    _tab(pg, "Market", "market")
    _set(pg, "host_country", "VIE", "market.host_country")
    _tab(pg, "Entrants", "entrants")
    _set(pg, "name", "Müller Technik", "entrants[0].name")
    _set(pg, "home_country", "GER", "entrants[0].home_country")
    _tab(pg, "Partners", "partners")
    _shows(pg, "name", "Beta Tech")
    _set(pg, "name", "Saigon Distribution", "partners[0].name")
    pg.click(".abm-add-partner")
    pg.wait_for_selector(".abm-editor-form-partners.abm-editor-index-1", timeout=30_000)
    _shows(pg, "name", "Partner 2")
    _set(pg, "name", "Hanoi Trading", "partners[1].name")
    _set(pg, "regulatory_ties", "0.9", "partners[1].regulatory_ties")
    _set(pg, "commitment", "0.6", "partners[1].commitment")


def _fewest_replications(pg) -> None:
    """Move the replications slider to its left end (10 per variant): Home on its thumb."""
    ten = r"/variant: 10\b/.test(document.querySelector('.abm-replications').innerText)"
    for _ in range(5):
        pg.locator(".abm-replications .v-slider__thumb-container").focus()
        pg.keyboard.press("Home")
        try:
            pg.wait_for_function(ten, timeout=5_000)
            return
        except Exception:  # the slider was drawn again under the key: once more
            continue
    raise AssertionError("the replications slider did not move to 10")


def _kpis_at(pg, month: int) -> str:
    pg.click(".abm-tab-simulate")
    pg.wait_for_selector(".abm-month", timeout=60_000)
    _wait_chart(pg, "share")
    _step_until(pg, month)
    time.sleep(0.3)
    return pg.inner_text(".abm-kpi-block")


def test_an_analyst_describes_saves_reloads_compares_and_shares_the_vietnam_case(page, server, tmp_path):
    _describe_the_vietnam_case(page)
    # an impossible value: the loader's message beside the field, the case stays as it was
    box = page.locator(".abm-field-commitment input")
    box.click()
    box.fill("1.7")
    box.press("Enter")
    page.wait_for_selector(".abm-field-commitment .abm-field-error")
    assert "partners[1].commitment = 1.7 is not allowed: a number in [0, 1]" in page.inner_text(".abm-field-commitment")
    _screens(page, "editor-partners")
    saved = _download(page, ".abm-save-toml button, .abm-save-toml a").decode("utf-8")
    case = Scenario.from_toml(saved)
    assert [p.name for p in case.partners] == ["Saigon Distribution", "Hanoi Trading"]
    assert case.partners[1].commitment == 0.6 and case.partners[1].regulatory_ties == 0.9  # not 1.7
    assert case.market.host_country == "VIE" and case.entrants[0].home_country == "GER" and case.months == 60
    sent = _kpis_at(page, 18)
    assert "Müller Technik" in sent
    assert "Müller Technik" in page.inner_text(".abm-title")
    # the saved file, loaded again with Browse... in a fresh browser: the identical run
    file = tmp_path / "vietnam.toml"
    file.write_text(saved, encoding="utf-8")
    page.context.clear_cookies()
    again = page.context.new_page()
    again.base = page.base
    try:
        _open(again, "/editor")
        again.wait_for_selector(".abm-editor-grid", timeout=60_000)
        again.set_input_files(".abm-editor .abm-browse-input", str(file))
        again.wait_for_selector(".abm-notice:has-text('Loaded vietnam.toml')", timeout=30_000)
        assert _kpis_at(again, 18) == sent
    finally:
        again.close()
    # compare the two partners (the Compare view runs each as the entrant's choice, same seeds)
    page.click(".abm-tab-compare")
    page.wait_for_selector(".abm-compare-run", timeout=60_000)
    page.click(".abm-compare-kind button:has-text('Candidate partners')")
    page.wait_for_selector(".abm-partners-note:has-text('Saigon Distribution')", timeout=30_000)
    _fewest_replications(page)
    page.click(".abm-compare-run")
    page.wait_for_selector(".abm-compare-done", timeout=300_000)
    table = page.inner_text(".abm-kpi-table")
    assert "Saigon Distribution" in table and "Hanoi Trading" in table
    assert "Saigon Distribution" in page.inner_text(".abm-verdict") or "Hanoi Trading" in page.inner_text(
        ".abm-verdict"
    )
    _screens(page, "editor-compare-partners")
    # the link carries the edited case whole; a fresh browser (no profile, no cookie) shows the same
    page.click(".abm-tab-simulate")
    page.wait_for_selector(".abm-month", timeout=60_000)
    page.click(".abm-copy-link")
    page.wait_for_selector(".abm-share-link")
    link = page.input_value(".abm-share-link")
    assert "scenario=" in link and "month=18" in link, link
    shown = _in_a_fresh_browser(link, 18)
    assert shown["kpis"] == sent
    assert "Müller Technik enters Vietnam" in shown["title"]
    assert shown["outside"] == [] and shown["problems"] == []
    assert page.problems == []


def test_a_teacher_on_a_projector_sees_the_key_charts_and_exports_one(page):
    page.set_viewport_size({"width": 1280, "height": 800})
    _open(page, "/?preset=unequal-commitment&present=1")
    page.wait_for_selector(".abm-present-toggle:has-text('Leave presentation')", timeout=60_000)
    for name in ("share", "trust"):
        _wait_chart(page, name)
    _step_until(page, 24)
    time.sleep(0.8)
    for css in (".abm-month", ".abm-play", ".abm-step", ".abm-kpi-share", ".abm-chart-share", ".abm-chart-trust"):
        assert _bottom(page, css) <= 800, f"{css} ends below the fold at 1280x800"
    assert _scroll_height(page) == 0
    png = _download(page, ".abm-box-trust .abm-export-png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000
    svg = _download(page, ".abm-box-trust .abm-export-svg").decode("utf-8")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>") and "Beta Tech" in svg
    import xml.dom.minidom

    xml.dom.minidom.parseString(svg)  # well-formed
    assert page.problems == []


def test_results_and_editor_views_at_projector_and_monitor_size(page):
    from test_app_browser import RESULTS_ROOT, _select

    import abm

    data = {
        "name": "screens",
        "months": 12,
        "design": {"kind": "morris", "samples": 4},
        "master_seed": 5,
        "fixed": {"consumers": 300},
        "parameters": {"entrants.price": {"min": 18.0, "max": 40.0}, "partner_commitment": {"min": 0.2, "max": 1.0}},
        "analysis": {"outcomes": ["npv", "share_y1"]},
    }
    abm.analyze(abm.sweep(data, workers=1, out=RESULTS_ROOT[0] / "screens", progress=False))
    _open(page, "/results")
    page.wait_for_selector(".abm-results .v-select__slot", timeout=60_000)
    _select(page, ".abm-results", "screens")
    page.wait_for_selector(".abm-results-loaded", timeout=30_000)
    _wait_chart(page, "outcome")
    _screens(page, "results")
    _open(page, "/editor")
    page.wait_for_selector(".abm-editor-grid", timeout=60_000)
    _tab(page, "Market", "market")
    _screens(page, "editor")
    assert page.problems == []
