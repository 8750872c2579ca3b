"""How the HTML report scales: 10,000 maps written, opened and filtered in headless Chromium.

    noisemask-lab bench-report-scale            # 10,000 Fashion-MNIST test images
    noisemask-lab bench-report-scale --n 2000   # fewer

The run is a real ``attribute_dataset`` run of Captum's Saliency on the paper's CNN layout with
random weights over the Fashion-MNIST test set (Debian's ``dataset-fashion-mnist``; random
images when it is absent): the report's cost depends on the number and size of the maps, not
on how they were made, and Saliency makes 10,000 maps in seconds where NoiseMask takes an hour
on 2 cores. Noisy gradient maps also compress worse than NoiseMask's smooth ones, so the sizes
are an upper bound for 28x28 maps. Measures the report's write time and size, the time to
open it (navigation to the first page of thumbnails drawn), to apply a class filter, to sort by
contributing area and to show the next page, and writes ``scale.json`` to
``benchmarks/results/report`` (``--out``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch
from captum.attr import Saliency

from captum_noisemask._utils.machine import machine_description
from captum_noisemask.cli.command import Command
from captum_noisemask.labelled import LabelledImages

from ..tasks.classifiers import build_classifier
from ..tasks.idx import IDXError, find_fashion_mnist, load_idx_dir
from ..tasks.mnist import FASHION_MNIST_CLASSES

__all__ = ["COMMAND", "browser_timings", "images"]

#: JavaScript: change a control, let the page redraw synchronously, return the milliseconds.
_TIMED_CHANGE = """
const control = document.getElementById(arguments[0]);
const start = performance.now();
control.value = arguments[1];
control.dispatchEvent(new Event("change", {bubbles: true}));
return [performance.now() - start, document.getElementById("count").textContent];
"""


def images(n: int) -> tuple[LabelledImages, str]:
    """The first ``n`` Fashion-MNIST test images (random ones without the package), and which."""
    try:
        test = load_idx_dir(find_fashion_mnist(), "test")
        source = "Fashion-MNIST test set"
    except IDXError:
        generator = torch.Generator().manual_seed(0)
        test = LabelledImages(torch.rand(n, 1, 28, 28, generator=generator), torch.arange(n) % 10)
        source = "random images (dataset-fashion-mnist not installed)"
    if len(test) < n:
        raise ValueError(f"--n {n}: only {len(test)} images available")
    return test.subset(slice(0, n)), source


def browser_timings(index_html: Path) -> dict[str, object]:
    """Opens the page in headless Chromium and times loading, paging, sorting and filtering."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for argument in ("--headless=new", "--no-sandbox", "--window-size=1280,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        started = time.perf_counter()
        driver.get(index_html.as_uri())  # returns after the load event; the grid is drawn
        open_seconds = time.perf_counter() - started
        drawn = driver.execute_script("return document.querySelectorAll('#grid .tile').length")
        navigation = driver.execute_script(
            "const e = performance.getEntriesByType('navigation')[0];"
            "return [e.domContentLoadedEventEnd, e.loadEventEnd];"
        )
        paging = driver.execute_script(
            "const start = performance.now(); document.getElementById('next').click();"
            "return performance.now() - start;"
        )
        sorted_ = driver.execute_script(_TIMED_CHANGE, "sort", "area-down")
        filtered = driver.execute_script(_TIMED_CHANGE, "f-class", "3")
    finally:
        driver.quit()
    return {
        "open_seconds_selenium": round(open_seconds, 3),
        "dom_content_loaded_ms": round(navigation[0], 1),
        "load_event_end_ms": round(navigation[1], 1),
        "thumbnails_drawn": drawn,
        "class_filter_ms": round(filtered[0], 1),
        "class_filter_count": filtered[1],
        "sort_by_area_ms": round(sorted_[0], 1),
        "next_page_ms": round(paging, 1),
    }


def _options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--n", type=int, default=10_000, help="maps in the run")
    command.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/report"), help="output directory"
    )


def _run(args: argparse.Namespace) -> None:
    # The dataset runner and the report load only now, so parsing the CLI stays light.
    from captum_noisemask.dataset_runs.runner import attribute_dataset
    from captum_noisemask.report import write_report

    dataset, source = images(args.n)
    torch.manual_seed(0)
    model = build_classifier("paper-cnn", (28, 28)).eval()
    with tempfile.TemporaryDirectory() as scratch:
        run = Path(scratch) / "run"
        started = time.perf_counter()
        attribute_dataset(
            Saliency(model), dataset, run, batch_size=500, class_names=FASHION_MNIST_CLASSES
        )
        run_seconds = time.perf_counter() - started
        started = time.perf_counter()
        index_html = write_report(run)
        write_seconds = time.perf_counter() - started
        folder = index_html.parent
        tiles = list((folder / "tiles").iterdir())
        result = {
            "machine": machine_description(),
            "maps": args.n,
            "images": source,
            "run_seconds": round(run_seconds, 1),
            "report_write_seconds": round(write_seconds, 1),
            "index_html_bytes": index_html.stat().st_size,
            "tile_files": len(tiles),
            "tile_bytes": sum(p.stat().st_size for p in tiles),
            **browser_timings(index_html),
        }
    result["report_bytes"] = result["index_html_bytes"] + result["tile_bytes"]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


COMMAND = Command(
    "bench-report-scale",
    "write, open and filter the HTML report of 10,000 maps in headless Chromium",
    _options,
    _run,
)
