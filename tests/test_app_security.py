"""The app as a server on a classroom network: what a visitor can read and how much work one
visitor can start (issue 17).

In-process: the permission rules of ``abm.app.access`` and the budgets of ``abm.app.jobs``,
including one session's largest Compare while another session Steps. Over HTTP and in
Chromium: ``abm app --host 0.0.0.0 --results DIR`` offers no typed path, lists only the
results root's folders, serves no file by URL, and refuses an oversized upload.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from app_server import CHROMIUM, CHROMIUM_ARGS, running_app

from abm import limits
from abm.app import access, jobs
from abm.errors import InputError

ROOT = Path(__file__).resolve().parents[1]

SECRET = "token = 'abm-secret-7f3a'"

SWEEP = {
    "name": "tiny",
    "months": 6,
    "fixed": {"consumers": 200},
    "parameters": {"partner_commitment": [0.3, 0.8]},
}


@pytest.fixture
def app_env(monkeypatch):
    """Restore the app's permission variables after each test."""
    for var in (access.ENV_ROOT, access.ENV_ALLOW_PATHS, access.ENV_HOST):
        monkeypatch.delenv(var, raising=False)
    yield
    for var in (access.ENV_ROOT, access.ENV_ALLOW_PATHS, access.ENV_HOST):
        os.environ.pop(var, None)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A results root with one sweep, a sweep outside it, a secret file, a link out of the root."""
    import abm

    base = tmp_path_factory.mktemp("served")
    root = base / "results"
    root.mkdir()
    abm.sweep(SWEEP, workers=1, out=root / "inside", progress=False)
    abm.sweep({**SWEEP, "name": "outside"}, workers=1, out=base / "outside", progress=False)
    (base / "secret.toml").write_text(SECRET + "\n", encoding="utf-8")
    (root / "link").symlink_to(base / "outside")
    return base


# ---- what a visitor may read -----------------------------------------------------------------


def test_only_folders_under_the_results_root_are_listed_and_opened(tree, app_env):
    access.configure(tree / "results", host="0.0.0.0")
    assert access.result_folders() == ["inside"]  # not ../outside, not the link out of the root
    assert access.open_result("inside").summary.shape[0] == 2
    messages = set()
    for name in ["../outside", str(tree / "outside"), "link", "/etc", "inside/..", "", "nowhere"]:
        with pytest.raises(InputError) as exc:
            access.open_result(name)
        messages.add(str(exc.value).split(" is not allowed: ")[1])
    assert messages == {"one of the folders listed under the results root"}


def test_typed_paths_are_off_unless_loopback_and_asked_for(tree, app_env):
    access.configure(tree / "results", host="0.0.0.0")
    assert not access.typed_paths_allowed()
    with pytest.raises(InputError, match="typed paths are off"):
        access.read_typed_path(str(tree / "secret.toml"))
    with pytest.raises(InputError, match="--allow-paths"):
        access.configure(tree / "results", allow_paths=True, host="0.0.0.0")
    access.configure(tree / "results", host="127.0.0.1")
    assert not access.typed_paths_allowed()
    access.configure(tree / "results", allow_paths=True, host="127.0.0.1")
    assert access.typed_paths_allowed()


def test_a_typed_path_never_tells_missing_from_folder_from_device(tree, app_env):
    access.configure(tree / "results", allow_paths=True, host="127.0.0.1")
    fifo = tree / "pipe.toml"
    if not fifo.exists():
        os.mkfifo(fifo)
    texts = set()
    for path in [tree / "missing.toml", tree, "/dev/zero", fifo, "/root/.ssh/id_rsa", "~/.netrc"]:
        with pytest.raises(InputError) as exc:
            access.read_typed_path(str(path))
        texts.add(exc.value.allowed)
    assert len(texts) == 1
    data, name = access.read_typed_path(str(tree / "secret.toml"))
    assert name == "secret.toml" and data  # allowed here: the person at the keyboard asked for it


def test_abm_app_refuses_allow_paths_on_a_network_interface(capsys):
    from abm.cli import main

    assert main(["app", "--host", "0.0.0.0", "--allow-paths", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--allow-paths" in err


def test_an_upload_over_the_limit_is_refused_from_its_declared_size():
    import io

    class Never(io.BytesIO):
        def read(self, *args):
            raise AssertionError("an upload over the limit must not be read")

    with pytest.raises(InputError, match="at most 1,000,000 bytes"):
        access.read_upload({"name": "big.toml", "size": 5 * 10**9, "file_obj": Never()})
    data, name = access.read_upload({"name": "../../x.toml", "size": 3, "file_obj": io.BytesIO(b"a=1")})
    assert (data, name) == (b"a=1", "x.toml")
    with pytest.raises(InputError, match="at most 1,000,000 bytes"):  # a size that lies
        access.read_upload({"name": "x.toml", "size": 1, "file_obj": io.BytesIO(b"#" * 2_000_000)})


def test_an_upload_over_the_limit_is_refused_before_parsing():
    from abm.scenario import Scenario, ScenarioError

    with pytest.raises(ScenarioError, match="at most 1,000,000 bytes"):
        Scenario.from_toml("# " + "x" * (limits.APP_MAX_UPLOAD_BYTES + 10), "upload.toml")
    with pytest.raises(InputError, match="at most 1,000,000 bytes"):
        access.check_upload(b"x" * (limits.APP_MAX_UPLOAD_BYTES + 1), "upload.toml")


# ---- how much work a visitor may start ----------------------------------------------------------


def test_request_limits_and_the_queue():
    from abm.scenario import Scenario

    small = Scenario().with_overrides({"consumers": 200, "months": 6})
    with pytest.raises(InputError, match="at most 500"):
        jobs.check_request(small, limits.APP_MAX_REPLICATIONS + 1)
    with pytest.raises(InputError, match="consumers"):
        jobs.check_request(Scenario().with_overrides({"consumers": limits.APP_MAX_CONSUMERS + 1}), 10)
    with pytest.raises(InputError, match="months"):
        jobs.check_request(Scenario().with_overrides({"months": limits.APP_MAX_MONTHS + 1}), 10)
    q = jobs.JobQueue(slots=1)
    a = q.admit("session-a", 10)
    with pytest.raises(InputError, match="one comparison at a time"):
        q.admit("session-a", 10)
    others = [q.admit(f"s{i}", 1) for i in range(limits.APP_MAX_QUEUED_JOBS - 1)]
    with pytest.raises(InputError, match="queue"):
        q.admit("one-more", 1)
    assert q.position(a) == 1 and q.position(others[-1]) == limits.APP_MAX_QUEUED_JOBS


def test_jobs_wait_their_turn_and_a_closed_page_cancels_them():
    q = jobs.JobQueue(slots=1)
    release = threading.Event()
    order: list[str] = []
    first, second = q.admit("a", 1), q.admit("b", 1)

    def slow(cancelled):
        order.append("a-start")
        release.wait(5)
        order.append("a-end")

    t1 = threading.Thread(target=q.run, args=(first, slow))
    t1.start()
    time.sleep(0.2)
    outcome: list[str] = []

    def run_second():
        try:
            q.run(second, lambda cancelled: outcome.append("ran"))
        except jobs.Cancelled:
            outcome.append("cancelled")

    t2 = threading.Thread(target=run_second)
    t2.start()
    time.sleep(0.3)
    assert q.position(second) == 1 and outcome == []
    assert q.cancel_session("b") == 1  # the page of session b closed
    t2.join(5)
    assert outcome == ["cancelled"]
    release.set()
    t1.join(5)
    assert order == ["a-start", "a-end"] and q.queued() == 0


def test_one_sessions_largest_compare_leaves_another_sessions_step_under_500_ms():
    """Session A asks for the most the app allows (500 replications of each entry mode);
    session B Steps its live run meanwhile. Session A's job is then cancelled (its page
    closed) and must stop within seconds."""
    from abm import presets
    from abm.app.live import LiveRun
    from abm.scenario import ENTRY_MODES

    scenario = presets.load("alpha-beta")
    variants = {m: {"entry_mode": m} for m in ENTRY_MODES}
    progress: list[int] = []
    result: list[str] = []

    def session_a():
        try:
            jobs.run_compare(
                scenario,
                variants,
                replications=limits.APP_MAX_REPLICATIONS,
                master_seed=1,
                progress=lambda done, total: progress.append(done),
                session="A",
            )
            result.append("finished")
        except Exception as exc:
            result.append(type(exc).__name__)

    thread = threading.Thread(target=session_a)
    thread.start()
    deadline = time.monotonic() + 60
    while not progress and time.monotonic() < deadline:
        time.sleep(0.1)
    steps = []
    until = time.monotonic() + 5  # step for 5 s of the comparison, starting new runs as they end
    while time.monotonic() < until:
        run = LiveRun(scenario, seed=len(steps))
        while not run.done and time.monotonic() < until:
            t0 = time.perf_counter()
            run.step()
            steps.append(time.perf_counter() - t0)
        run.close()
    busy = bool(jobs.QUEUE.jobs_of("A"))
    t0 = time.perf_counter()
    jobs.QUEUE.cancel_session("A")
    thread.join(60)
    stop_s = time.perf_counter() - t0
    report = {
        "step_ms_median": round(statistics.median(steps) * 1000, 1),
        "step_ms_max": round(max(steps) * 1000, 1),
        "compare_runs_done_meanwhile": progress[-1] if progress else 0,
        "cancel_to_stop_s": round(stop_s, 2),
    }
    print(json.dumps(report))
    assert busy, "the comparison was still running while session B stepped"
    assert result == ["Cancelled"] and not thread.is_alive()
    assert statistics.median(steps) < 0.5, report
    assert stop_s < 30, report


# ---- over HTTP and in Chromium ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tree, tmp_path_factory):
    """``abm app --host 0.0.0.0 --results <root>`` in a subprocess, stopped by its PID."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    options = ["--host", "0.0.0.0", "--results", str(tree / "results")]
    with running_app(options, cwd=tree, log=log, env=env) as (base, _pid):
        yield base, tree
    assert "Traceback" not in log.read_text(errors="replace")


@pytest.mark.browser
def test_no_file_is_served_by_url(server):
    base, tree = server
    probes = [
        "/../secret.toml",
        "/%2e%2e/secret.toml",
        "/static/../../secret.toml",
        "/static/%2e%2e/%2e%2e/secret.toml",
        "/_solara/static/..%2f..%2fsecret.toml",
        "/solara/static/%2e%2e%2f%2e%2e%2fsecret.toml",
        "/static/public/../../../secret.toml",
        f"/{tree}/secret.toml",
        "/results/inside/manifest.json",
        "/etc/passwd",
        "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
    ]
    for path in probes:
        try:
            with urllib.request.urlopen(base + path, timeout=10) as r:
                body = r.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", errors="replace")
        assert "abm-secret" not in body and "root:x:0" not in body and '"fingerprint"' not in body, path


def _chromium(base: str):
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="abm-chromium-")
    p = sync_playwright().start()
    ctx = p.chromium.launch_persistent_context(
        profile,
        executable_path=CHROMIUM,
        headless=True,
        viewport={"width": 1440, "height": 1000},
        args=CHROMIUM_ARGS,
    )
    ctx.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith((base, base.replace("http", "ws"))) else route.abort()
        ),
    )
    return p, ctx


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Debian's Chromium at {CHROMIUM}")
def test_in_chromium_no_path_is_typed_and_only_the_results_root_is_listed(server):
    base, tree = server
    p, ctx = _chromium(base)
    try:
        page = ctx.new_page()
        page.goto(base + "/", wait_until="networkidle")
        page.wait_for_selector(".abm-month", timeout=60_000)
        assert page.locator(".abm-scenario-path").count() == 0  # no typed path on a network interface
        page.screenshot(path=str(ROOT / "results" / "screenshots" / "security-simulate.png"))

        page.goto(base + "/results", wait_until="networkidle")
        page.wait_for_selector(".abm-results", timeout=60_000)
        assert (
            page.locator(".abm-results-path").count() == 0
            and page.locator(".abm-results input[type=text]:not([readonly])").count() == 0
        )
        page.click(".abm-results .v-select__slot")
        options = page.locator(".menuable__content__active .v-list-item").all_inner_texts()
        assert [o.strip() for o in options] == ["inside"]
        page.locator(".menuable__content__active .v-list-item", has_text="inside").first.click()
        page.wait_for_selector(".abm-results-loaded", timeout=30_000)
        text = page.inner_text("body")
        assert str(tree) not in text and "abm-secret" not in text
        page.screenshot(path=str(ROOT / "results" / "screenshots" / "security-results.png"))
    finally:
        ctx.close()
        p.stop()


def _month(pg) -> int:
    return int(pg.inner_text(".abm-month").split(" ")[1])


def _steps(pg, n: int) -> list[float]:
    """Seconds from each of n clicks on Step until the month label changes."""
    out = []
    for _ in range(n):
        before = _month(pg)
        t0 = time.perf_counter()
        pg.click(".abm-step")
        pg.wait_for_function(f"document.querySelector('.abm-month').innerText.split(' ')[1] != '{before}'")
        out.append(time.perf_counter() - t0)
    return out


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Debian's Chromium at {CHROMIUM}")
def test_in_chromium_the_largest_compare_leaves_another_pages_step_fast_and_dies_with_its_page(server):
    """Page A asks for the most Compare allows (4 modes x 500 replications); page B Steps
    meanwhile, its median Step (click to new month on screen) under 500 ms. Closing page A
    cancels its job: page C's comparison then gets the pool within seconds instead of waiting
    the minutes A's 2,000 runs would take."""
    base, _ = server
    p, ctx = _chromium(base)
    try:
        a = ctx.new_page()
        a.goto(base + "/compare", wait_until="networkidle")
        a.wait_for_selector(".abm-compare-run", timeout=60_000)
        a.click("label:has-text('Acquisition')")
        a.locator("[role=slider]").first.focus()
        a.keyboard.press("End")
        a.wait_for_selector("text=Replications per variant: 500")
        b = ctx.new_page()
        b.goto(base + "/", wait_until="networkidle")
        b.wait_for_selector(".abm-month", timeout=60_000)
        idle = sorted(_steps(b, 8))
        a.click(".abm-compare-run")
        a.wait_for_selector("text=of 2000 runs done", timeout=60_000)
        steps = sorted(_steps(b, 12))
        assert "of 2000 runs done" in a.inner_text("body"), "page A's comparison ran all along"
        report = {
            "idle_step_ms_median": round(statistics.median(idle) * 1000),
            "step_ms_median": round(statistics.median(steps) * 1000),
            "step_ms_p90": round(steps[10] * 1000),
            "load_1min": os.getloadavg()[0],
        }
        print(json.dumps(report))
        # 500 ms; on a machine so loaded that an idle Step already takes a third of that (the
        # shared 2-core test machine), within 1.5x the idle Step instead
        limit = max(0.5, 1.5 * statistics.median(idle))
        assert statistics.median(steps) < limit, report

        a.close(run_before_unload=True)  # the tab closes: its job is cancelled
        c = ctx.new_page()
        c.goto(base + "/compare", wait_until="networkidle")
        c.wait_for_selector(".abm-compare-run", timeout=60_000)
        c.click(".abm-compare-run")
        c.wait_for_function(
            "(() => { const t = document.querySelector('.abm-progress-text');"
            " return t && parseInt(t.innerText) > 0; })()",
            timeout=60_000,
        )
        c.click(".abm-compare-cancel")
    finally:
        ctx.close()
        p.stop()


def test_a_dropped_session_ends_within_the_stated_limit_not_solaras_day():
    import solara.util
    from solara.server import settings

    from abm import limits
    from abm.app import server

    before = settings.kernel.cull_timeout
    try:
        server.configure_solara()
        assert solara.util.parse_timedelta(settings.kernel.cull_timeout) == 60 * limits.APP_ORPHAN_MINUTES
        assert solara.util.parse_timedelta("24h") > limits.APP_ORPHAN_MINUTES * 60
    finally:
        settings.kernel.cull_timeout = before
