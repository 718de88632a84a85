"""A real JupyterLab in headless Chromium: the context picker lists the contexts, and a deployment's live
status reaches `running` with a link, read from the DOM. Screenshots are saved as artifacts.

Needs Debian's `chromium` (/usr/bin/chromium) and the Python `playwright` package (no browser download);
CI installs both. Elsewhere the test is skipped unless BENTOCLOUD_JUPYTER_REQUIRE_BROWSER is set.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = Path(os.environ.get("BENTOCLOUD_JUPYTER_ARTIFACTS", Path(__file__).parent / "artifacts"))
CELLS = ["%load_ext bentocloud_jupyter", "%bentocloud sandbox --speed 2", "%bentocloud contexts",
         "%deploy summarizer:v3 -n browser-demo --scaling-min 1 --scaling-max 2 --env LOG_LEVEL=debug"]


def _needs(condition: bool, what: str) -> None:
    if not condition:
        if os.environ.get("BENTOCLOUD_JUPYTER_REQUIRE_BROWSER"):
            pytest.fail(f"browser test required but {what}")
        pytest.skip(what)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture()
def jupyterlab(tmp_path: Path) -> Iterator[tuple[str, str]]:
    _needs(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing")
    _needs(shutil.which("jupyter-lab", path=str(Path(sys.executable).parent)) is not None, "jupyterlab is missing")
    root = tmp_path / "notebooks"
    root.mkdir()
    book = nbformat.v4.new_notebook(metadata={"kernelspec": {"display_name": "Python 3 (ipykernel)",
                                                             "language": "python", "name": "python3"}})
    book.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nbformat.write(book, root / "demo.ipynb")
    shutil.copy(Path(__file__).parents[2] / "notebooks" / "quickstart.ipynb", root / "quickstart.ipynb")
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "jcfg"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "jrt"),
           "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter-lab"), "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "lab.log").open("w"))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/status", params={"token": token}, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail("JupyterLab did not start: " + (tmp_path / "lab.log").read_text()[-2000:])
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _playwright() -> object:
    if os.environ.get("BENTOCLOUD_JUPYTER_REQUIRE_BROWSER"):
        import playwright.sync_api as sync_api
        return sync_api
    return pytest.importorskip("playwright.sync_api")


def _open_and_run_all(page: object, base: str, token: str, notebook: str) -> None:
    page.goto(f"{base}/lab/tree/{notebook}?token={token}", timeout=60_000)  # type: ignore[attr-defined]
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)  # type: ignore[attr-defined]
    page.get_by_role("menuitem", name="Run", exact=True).click()  # type: ignore[attr-defined]
    page.get_by_text("Run All Cells", exact=True).click()  # type: ignore[attr-defined]


def _dismiss_news_toast(page: object) -> None:
    """JupyterLab asks whether to fetch news (nothing is fetched unless you agree); close it for clean pictures."""
    toast = page.locator(".Toastify__toast").filter(has_text="Jupyter news")  # type: ignore[attr-defined]
    if toast.count():
        toast.first.get_by_role("button", name="No", exact=True).click()
        toast.first.wait_for(state="detached", timeout=5_000)


@contextlib.contextmanager
def _browser_page(artifact: str) -> Iterator[Any]:
    """A page in headless Debian Chromium; a screenshot named ``<artifact>-failure.png`` if the test fails."""
    sync_api = _playwright()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:  # type: ignore[attr-defined]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        try:
            yield page
        except Exception:
            page.screenshot(path=str(ARTIFACTS / f"{artifact}-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def test_picker_and_live_status_in_jupyterlab(jupyterlab: tuple[str, str]) -> None:
    base, token = jupyterlab
    with _browser_page("jupyterlab") as page:
        _open_and_run_all(page, base, token, "demo.ipynb")
        outputs = page.locator(".jp-OutputArea-output")
        picker = outputs.locator(".jupyter-widgets").filter(has_text="sandbox").first
        picker.wait_for(timeout=60_000)
        link = outputs.locator("a[href*='/_svc/browser-demo']").first
        link.wait_for(timeout=90_000)
        status = outputs.locator(".jupyter-widgets").filter(has_text="browser-demo").last
        assert "running" in status.inner_text()
        assert "sandbox" in picker.inner_text()
        errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        assert errors.count() == 0, errors.first.inner_text()
        card = outputs.filter(has_text="browser-demo").last
        card.get_by_role("button", name="Build log").click()
        card.get_by_text("Successfully built").first.wait_for(timeout=10_000)
        card.locator("textarea").first.fill("The sandbox runs in the kernel. Nothing leaves this machine.")
        card.get_by_role("button", name="Send").click()
        card.get_by_text("The sandbox runs in the kernel.").last.wait_for(timeout=10_000)
        assert "summary" in card.inner_text()
        _dismiss_news_toast(page)
        card.screenshot(path=str(ARTIFACTS / "live-status.png"))
        page.screenshot(path=str(ARTIFACTS / "jupyterlab.png"), full_page=True)
        page_text = page.content()
        assert "sbx_" not in page_text  # the sandbox token is never rendered


def test_quickstart_runs_top_to_bottom_in_jupyterlab(jupyterlab: tuple[str, str]) -> None:
    """The README's first command ends in JupyterLab on the quickstart: every cell must run as a user runs it."""
    base, token = jupyterlab
    with _browser_page("quickstart") as page:
        _open_and_run_all(page, base, token, "quickstart.ipynb")
        outputs = page.locator(".jp-OutputArea-output")
        outputs.filter(has_text="Sandbox stopped").first.wait_for(timeout=150_000)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=30_000)
        errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        assert errors.count() == 0, errors.first.inner_text()
        assert outputs.locator("a[href*='/_svc/summarizer']").count() >= 1
        assert outputs.filter(has_text="image-build-failed").count() >= 1
        assert "sbx_" not in page.content()
        page.screenshot(path=str(ARTIFACTS / "quickstart.png"), full_page=True)
