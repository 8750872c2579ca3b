"""Regenerates the report screenshots in ``docs/_static/`` (README and the report page).

    python docs/report_screenshots.py                  # explains 120 MNIST digits first
    python docs/report_screenshots.py --run-dir audit  # an existing explain-dataset run

The run is ``captum-noisemask explain-dataset --images 120 --certify 200`` (the fast preset on
the paper's CNN, about 4 minutes on 2 cores); its report is opened in headless Chromium and
two screenshots are written: ``report_grid.png`` (the filters and the first maps) and
``report_detail.png`` (the detail view of the first wrong prediction).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "_static"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, help="an explain-dataset --out directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        run = args.run_dir or Path(scratch) / "audit"
        if args.run_dir is None:
            command = ["explain-dataset", "--images", "120", "--certify", "200", "--out", str(run)]
            subprocess.run([sys.executable, "-m", "captum_noisemask", *command], check=True)
        from captum_noisemask.report import write_report

        shoot(write_report(run, Path(scratch) / "report"))


def shoot(index_html: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--window-size=1200,900",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get(index_html.as_uri())
        driver.execute_script("document.getElementById('maps').scrollIntoView()")
        driver.save_screenshot(str(STATIC / "report_grid.png"))
        Select(driver.find_element(By.ID, "f-correct")).select_by_value("wrong")
        driver.find_elements(By.CSS_SELECTOR, "#grid .tile")[0].click()
        driver.save_screenshot(str(STATIC / "report_detail.png"))
    finally:
        driver.quit()
    print(f"wrote {STATIC / 'report_grid.png'} and {STATIC / 'report_detail.png'}")


if __name__ == "__main__":
    main()
