"""The report's files: what the page holds, the pictures' colours, and refusals."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from captum.attr import Saliency
from matplotlib import colormaps
from PIL import Image
from report_runs import CLASS_NAMES, N_EXAMPLES
from support import make_tiny_cnn

from captum_noisemask import FAST, LabelledImages, NoiseMaskAttribution
from captum_noisemask.cli import main
from captum_noisemask.dataset_runs.runner import attribute_dataset, load_results
from captum_noisemask.report import save_maps, write_report
from captum_noisemask.report._tiles import (
    MAX_TILE,
    colour_map,
    drawn_values,
    input_range,
    tiles_of,
)


def page_data(index_html: Path) -> dict:
    text = index_html.read_text()
    block = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', text, re.S
    )
    assert block is not None
    return json.loads(block.group(1))


def test_dataset_report_holds_every_map_and_its_numbers(finished_run: Path, tmp_path: Path):
    index_html = write_report(finished_run, tmp_path / "report")
    data = page_data(index_html)
    results = load_results(finished_run)
    items = data["items"]
    assert len(items["label"]) == N_EXAMPLES and data["classes"] == CLASS_NAMES
    np.testing.assert_array_equal(items["label"], results.labels)
    np.testing.assert_array_equal(items["predicted"], results.predicted)
    # Contributing area, computed independently: share of positions with 1 - w above 0.5.
    expected = (np.asarray(results.maps)[:, 0] > 0.5).mean(axis=(1, 2))
    np.testing.assert_allclose(items["area"], expected, atol=5e-5)
    np.testing.assert_allclose(items["masked"], results.within_lower_masked, atol=5e-5)
    assert all(0 <= b <= 1 for b in items["plain"])
    # 230 tiles: three sheets per kind, the last one 3 rows of 10 tiles of 8x8.
    tiles = sorted(p.name for p in (tmp_path / "report" / "tiles").iterdir())
    assert tiles == [f"{k}-{s:04d}.png" for k in ("input", "map", "overlay") for s in range(3)]
    with Image.open(tmp_path / "report" / "tiles" / "overlay-0002.png") as last:
        assert last.size == (80, 24)
    text = index_html.read_text()
    assert "tolerance 0.4 x each example&#x27;s mean output change under full noise" in text
    assert '<th scope="row">certificate draws per map</th><td>40</td>' in text
    assert data["tile"] == {
        "height": 8,
        "width": 8,
        "per_sheet": 100,
        "per_row": 10,
        "folder": "tiles",
    }


def test_page_needs_no_network(finished_run: Path, tmp_path: Path):
    text = write_report(finished_run, tmp_path).read_text()
    without_svg_namespace = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"https?://|//cdn|<link|@import|src=\"", without_svg_namespace)
    assert "<style>" in text and "<script>" in text
    # Every alt text a thumbnail gets is built in the script from the data.
    assert 'setAttribute("aria-label", describe(i))' in text


def test_sprites_draw_captums_colours(finished_run: Path, tmp_path: Path):
    write_report(finished_run, tmp_path)
    results = load_results(finished_run)
    with Image.open(tmp_path / "tiles" / "map-0000.png") as sheet:
        pixels = np.asarray(sheet.convert("RGB"), dtype=np.float64)
    greens = colormaps["Greens"]
    for i in (0, 7, 42):
        row, col = divmod(i, 10)
        tile = pixels[row * 8 : (row + 1) * 8, col * 8 : (col + 1) * 8]
        expected = greens(np.asarray(results.maps[i, 0]))[..., :3] * 255
        assert np.abs(tile - expected).max() <= 2.0


def test_colour_maps_are_captums():
    table, low, high = colour_map("all")
    np.testing.assert_allclose(table[0], [1, 0, 0], atol=1e-6)  # Captum's red-white-green
    np.testing.assert_allclose(table[-1], [0, 128 / 255, 0], atol=1e-2)
    assert (low, high) == (-1.0, 1.0)
    blues, low, high = colour_map("absolute_value")
    np.testing.assert_allclose(blues, colormaps["Blues"](np.linspace(0, 1, 256))[:, :3], atol=1e-6)
    assert (low, high) == (0.0, 1.0)


def test_drawn_values_and_tiles_of_other_layouts():
    maps = np.zeros((2, 3, 4, 4), dtype=np.float32)
    maps[:, :, 0, 0] = 0.8  # NoiseMask repeats one level over the channels
    np.testing.assert_allclose(drawn_values(maps, "positive", absolute_scale=True)[:, 0, 0], 0.8)
    scaled = drawn_values(maps * 3, "absolute_value", absolute_scale=False)
    assert scaled.max() == pytest.approx(1.0)  # Captum scales to the map's own maximum here
    strips = tiles_of(np.random.rand(2, 300), np.random.rand(2, 1, 300), "positive", (0.0, 1.0))
    assert strips["overlay"].shape == (2, 1, MAX_TILE, 3)
    big = np.random.rand(1, 3, 200, 100).astype(np.float32)
    pictures = tiles_of(big, np.random.rand(1, 200, 100), "positive", input_range(big))
    assert pictures["input"].shape == (1, 64, 32, 3) and pictures["input"].max() <= 1.0


def test_input_range_stretches_only_inputs_outside_the_unit_range():
    assert input_range(np.random.rand(5, 3)) == (0.0, 1.0)
    normalised = np.array([[-2.0, 0.5], [1.5, 3.0]])
    assert input_range(normalised) == (-2.0, 3.0)


def test_a_run_of_another_method_is_scaled_like_captum(tmp_path: Path):
    generator = torch.Generator().manual_seed(0)
    images = LabelledImages(torch.rand(12, 1, 8, 8, generator=generator), torch.arange(12) % 3)
    attribute_dataset(Saliency(make_tiny_cnn()), images, tmp_path / "run", batch_size=6)
    data = page_data(write_report(tmp_path / "run"))
    assert data["classes"] == ["0", "1", "2"]  # no names given: the labels
    assert all(b is None for b in data["items"]["masked"])  # no certificate
    assert "98th-percentile" in (tmp_path / "run" / "report" / "index.html").read_text()


def test_comparison_report_shows_every_method_and_the_tables(tmp_path: Path):
    images = torch.rand(3, 1, 8, 8)
    maps = {"NoiseMask": torch.rand(3, 1, 8, 8), "Saliency": torch.randn(3, 1, 8, 8)}
    save_maps(
        tmp_path / "maps.npz",
        images,
        ["1", "7", "3"],
        maps,
        {"NoiseMask": "positive", "Saliency": "absolute_value"},
    )
    (tmp_path / "results.json").write_text(
        json.dumps(
            {
                "machine": "test machine",
                "held_out_accuracy": 0.9,
                "config": {"preset": "fast"},
                "seconds": 12.0,
            }
        )
    )
    (tmp_path / "table_cost.csv").write_text("method,seconds / image\nNoiseMask,0.4\n")
    text = write_report(tmp_path).read_text()
    assert text.count('aria-label="NoiseMask map over input') == 3
    assert text.count('aria-label="Saliency map over input') == 3
    assert "<h3>Cost</h3>" in text and "<td>0.4</td>" in text and "test machine" in text
    assert sorted(p.name for p in (tmp_path / "report" / "tiles").iterdir()) == [
        "input-0000.png",
        "method0-0000.png",
        "method1-0000.png",
    ]


def test_a_directory_without_a_run_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="no finished run here"):
        write_report(tmp_path)


def test_cli_report(finished_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["report", str(finished_run), "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "index.html").exists()
    assert "needs no server" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        main(["report", str(tmp_path / "missing")])
    assert stop.value.code == 2
    assert "RUN_DIR" in capsys.readouterr().err
    assert main(["report", str(tmp_path)]) == 2  # a directory, but no run in it


def test_a_tabular_run_gets_strips(tmp_path: Path):
    generator = torch.Generator().manual_seed(0)
    rows = LabelledImages(torch.rand(7, 20, generator=generator), torch.arange(7) % 2)
    model = torch.nn.Sequential(torch.nn.Linear(20, 2)).eval()
    attribute_dataset(
        NoiseMaskAttribution(model),
        rows,
        tmp_path,
        batch_size=4,
        attribute_kwargs={"preset": FAST.replace(n_steps=40), "seed": 0},
    )
    data = page_data(write_report(tmp_path))
    assert data["tile"]["height"] == 1 and data["tile"]["width"] == 20
    assert len(data["items"]["area"]) == 7
