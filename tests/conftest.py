"""Test-suite settings shared by every module.

With pytest-xdist (``make test`` runs ``pytest -n auto --dist loadfile``: each module on one worker, in order), tests are spread
over worker processes one by one, and a module-scoped fixture is built once per worker that
runs tests of its module. The modules below share something expensive or exclusive (a
server and a browser, a validation run) and stay together on one worker.
"""

import pytest

TOGETHER = {
    "test_app_browser": "one `abm app` server and one Chromium profile for the whole module",
    "test_validation": "one `abm validate --quick` run shared by the module's tests",
    "test_classroom_browser": "one `abm classroom` server and a lesson played in order by a teacher and four teams",
    "test_classroom_play_browser": "one `abm app` server for the play-the-firm panel's tests",
}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        module = item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
        if module in TOGETHER:
            item.add_marker(pytest.mark.xdist_group(module))


@pytest.fixture(autouse=True)
def _app_permissions_stay_in_their_test():
    """``abm app`` run in-process (the fuzz and CLI tests) sets the app's permission variables
    (ABM_APP_*) in ``os.environ``; a later test's subprocess would inherit them and run under the
    app's limits. Each test gets the environment's ABM_APP_* back as it found them."""
    import os

    before = {k: v for k, v in os.environ.items() if k.startswith("ABM_APP_")}
    yield
    for key in [k for k in os.environ if k.startswith("ABM_APP_")]:
        if key not in before:
            del os.environ[key]
    os.environ.update(before)
