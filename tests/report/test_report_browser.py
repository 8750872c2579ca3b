"""The report in a real browser: headless Chromium (Debian) driven by Selenium.

Skipped, with the packages to install named, where Chromium, its driver or
Selenium is missing; ``.ci/run`` installs them and sets
``CAPTUM_NOISEMASK_REQUIRE_BROWSER=1`` so that CI fails instead of skipping.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from report_runs import N_EXAMPLES

from captum_noisemask.dataset_runs.runner import load_results
from captum_noisemask.report import write_report

MISSING = (
    "the browser tests need Debian's chromium and chromium-driver "
    "(apt-get install chromium chromium-driver) and Selenium (pip install selenium)"
)


def _executables() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None or importlib.util.find_spec("selenium") is None:
        return None
    return browser, driver


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    found = _executables()
    if found is None:
        if os.environ.get("CAPTUM_NOISEMASK_REQUIRE_BROWSER"):
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(found[1]), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.fixture(scope="module")
def report(finished_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(finished_run, tmp_path_factory.mktemp("report"))


@pytest.fixture
def page(driver: Any, report: Path) -> Any:
    driver.get(report.as_uri())
    driver.get_log("browser")  # start each test with an empty console
    return driver


def by_id(driver: Any, name: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, name)


def tiles(driver: Any) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "#grid .tile")


def choose(driver: Any, select_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(by_id(driver, select_id)).select_by_value(value)


def type_number(driver: Any, input_id: str, value: str) -> None:
    field = by_id(driver, input_id)
    field.clear()
    field.send_keys(value)


def matching(driver: Any) -> int:
    text = by_id(driver, "count").text
    return 0 if text.startswith("No map") else int(text.split(" of ")[0])


def errors(driver: Any) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_page_loads_without_errors_and_pages(driver: Any, report: Path):
    driver.get(report.as_uri())
    assert errors(driver) == []
    assert by_id(driver, "count").text == f"{N_EXAMPLES} of {N_EXAMPLES} maps match; showing 1–200."
    assert len(tiles(driver)) == 200
    by_id(driver, "next").click()
    assert len(tiles(driver)) == N_EXAMPLES - 200 and by_id(driver, "next").get_attribute(
        "disabled"
    )
    # The second page's thumbnails come from the third sprite sheet, which the browser loads.
    loaded = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const thumb = document.querySelector('#grid .tile [role=img]');"
        "const url = getComputedStyle(thumb).backgroundImage.slice(5, -2);"
        "const picture = new Image();"
        "picture.onload = () => done([url, picture.naturalWidth]);"
        "picture.onerror = () => done([url, 0]);"
        "picture.src = url;"
    )
    assert loaded[0].endswith("/tiles/overlay-0002.png") and loaded[1] == 80
    assert errors(driver) == []


def test_filters_show_what_they_say(page: Any, finished_run: Path):
    results = load_results(finished_run)
    labels, predicted = np.asarray(results.labels), np.asarray(results.predicted)
    area = (np.asarray(results.maps)[:, 0] > 0.5).mean(axis=(1, 2))
    choose(page, "f-class", "1")
    assert matching(page) == int((labels == 1).sum())
    choose(page, "f-correct", "wrong")
    assert matching(page) == int(((labels == 1) & (labels != predicted)).sum())
    choose(page, "f-class", "")
    assert matching(page) == int((labels != predicted).sum())
    choose(page, "f-correct", "")
    type_number(page, "f-area-min", "30")
    assert matching(page) == int((np.round(area, 4) >= 0.30).sum())
    type_number(page, "f-area-min", "0")
    type_number(page, "f-bound", "0.5")
    assert matching(page) == int((np.asarray(results.within_lower_masked) < 0.5).sum())
    type_number(page, "f-area-min", "101")
    assert by_id(page, "count").text.startswith("No map matches") and tiles(page) == []
    assert errors(page) == []


def test_sorting_puts_the_largest_area_first(page: Any, finished_run: Path):
    results = load_results(finished_run)
    area = np.round((np.asarray(results.maps)[:, 0] > 0.5).mean(axis=(1, 2)), 4)
    choose(page, "sort", "area-down")
    first = tiles(page)[0].text.split()[0]
    assert first == f"#{int(np.argmax(area))}"


def test_keyboard_moves_and_the_detail_view(page: Any):
    from selenium.webdriver.common.keys import Keys

    grid = tiles(page)
    grid[0].send_keys(Keys.ARROW_RIGHT)
    assert page.switch_to.active_element.get_attribute("data-position") == "1"
    page.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    columns = page.execute_script(
        "const t = [...document.querySelectorAll('#grid .tile')];"
        "return t.filter(e => e.getBoundingClientRect().top === t[0].getBoundingClientRect().top)"
        ".length;"
    )
    assert columns > 1
    assert page.switch_to.active_element.get_attribute("data-position") == str(1 + columns)
    page.switch_to.active_element.send_keys(Keys.ENTER)
    dialog = by_id(page, "detail")
    assert dialog.get_attribute("open") is not None
    assert by_id(page, "detail-title").text == f"Example {1 + columns}"
    assert "true class" in by_id(page, "detail-numbers").text
    page.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    assert by_id(page, "detail-title").text == f"Example {2 + columns}"
    page.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert dialog.get_attribute("open") is None
    assert page.switch_to.active_element.get_attribute("data-position") == str(2 + columns)
    assert errors(page) == []


def test_thumbnails_have_alt_text(page: Any):
    label = tiles(page)[0].find_element("css selector", "[role=img]").get_attribute("aria-label")
    assert label.startswith("Example 0, true class ") and "contributing area" in label


def test_screenshot_shows_the_maps(page: Any, tmp_path: Path):
    path = tmp_path / "report.png"
    page.execute_script("document.getElementById('maps').scrollIntoView()")
    page.save_screenshot(str(path))
    with Image.open(path) as shot:
        pixels = np.asarray(shot.convert("RGB"), dtype=np.int64)
    assert pixels.std() > 20  # not a blank page
    green = (pixels[..., 1] > pixels[..., 0] + 20) & (pixels[..., 1] > pixels[..., 2] + 20)
    assert green.mean() > 0.01  # the maps' greens are on screen


def test_comparison_page_loads_every_picture(driver: Any, tmp_path: Path):
    import json

    import torch

    from captum_noisemask.report import save_maps

    save_maps(
        tmp_path / "maps.npz",
        torch.rand(4, 1, 8, 8),
        ["a", "b", "c", "d"],
        {"NoiseMask": torch.rand(4, 1, 8, 8), "Saliency": torch.randn(4, 1, 8, 8)},
        {"NoiseMask": "positive", "Saliency": "absolute_value"},
    )
    (tmp_path / "summary.json").write_text(json.dumps({"held_out_accuracy": 0.5}))
    driver.get(write_report(tmp_path).as_uri())
    assert errors(driver) == []
    sizes = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const urls = [...new Set([...document.querySelectorAll('.side-by-side [role=img]')]"
        ".map(e => getComputedStyle(e).backgroundImage.slice(5, -2)))];"
        "Promise.all(urls.map(u => new Promise(ok => { const i = new Image();"
        "i.onload = () => ok(i.naturalWidth); i.onerror = () => ok(0); i.src = u; })))"
        ".then(done);"
    )
    assert sizes == [80, 80, 80]  # the input sheet and one per method, all loaded
    cells = driver.find_elements("css selector", ".side-by-side tbody [role=img]")
    assert len(cells) == 4 * 3
