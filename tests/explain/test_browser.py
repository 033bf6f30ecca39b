"""The SVG and the HTML report opened in headless Chromium: the screenshot must show the placement grid, with as
many rank-colored cells, at the size and place the report says. Skips when Chromium is not installed (CI installs
the Debian package)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from lora_lint.explain.render.common import UNTARGETED_COLOR, WEB_COLORS
from lora_lint.explain.render.svg import CELL, PITCH

PIL = pytest.importorskip("PIL.Image", reason="Pillow decodes the screenshot (pip install -e '.[dev]')")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")

# Qwen2.5-0.5B (24 layers): q_proj and v_proj in layers 8..19, everything else untouched.
CONFIG = """\
base_model_name_or_path: Qwen/Qwen2.5-0.5B
r: 16
lora_alpha: 32
target_modules: [q_proj, v_proj]
layers_to_transform: [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
"""
LAYERS, KINDS, TARGETED_LAYERS = 24, 7, 12


def screenshot(page, tmp_path):
    png = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--force-device-scale-factor=1", "--hide-scrollbars", "--window-size=1200,1600",
         f"--screenshot={png}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    return PIL.open(png).convert("RGB")


def pixels_of(image, hex_color: str) -> list[tuple[int, int]]:
    """Pixels of exactly this color, without the legend's swatch (the lowest band of the picture)."""
    target = bytes(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    data, width = image.tobytes(), image.width
    found = [((i // 3) % width, (i // 3) // width) for i in range(0, len(data), 3) if data[i:i + 3] == target]
    legend_top = max(y for _, y in found) - CELL
    return [(x, y) for x, y in found if y < legend_top]


@pytest.mark.parametrize("fmt", ["svg", "html"])
def test_grid_renders_in_chromium(fmt, lint, write, tmp_path):
    page = tmp_path / f"report.{fmt}"
    assert lint("explain", write("qwen.yaml", CONFIG), "--format", fmt, "--output", page).code == 0
    image = screenshot(page, tmp_path)

    targeted = pixels_of(image, WEB_COLORS[0])
    cells = 2 * TARGETED_LAYERS  # q_proj and v_proj in 12 layers
    # Each cell is CELL×CELL with rounded corners (rx=2): a few antialiased corner pixels are not the exact color.
    assert 0.9 * cells * CELL * CELL <= len(targeted) <= cells * CELL * CELL, len(targeted)
    xs, ys = [x for x, _ in targeted], [y for _, y in targeted]
    # 12 adjacent layers across, and two rows (q_proj, v_proj) with k_proj between them.
    assert max(xs) - min(xs) + 1 == TARGETED_LAYERS * PITCH - (PITCH - CELL)
    assert max(ys) - min(ys) + 1 == 3 * PITCH - (PITCH - CELL)

    untargeted = pixels_of(image, UNTARGETED_COLOR)
    # The rest of the grid (24 layers × 7 kinds) and the two modules outside the layers (embedding, head).
    grid_rest = LAYERS * KINDS - cells + 2
    assert 0.9 * grid_rest * CELL * CELL <= len(untargeted) <= grid_rest * CELL * CELL, len(untargeted)
    ux = [x for x, _ in untargeted]
    assert max(ux) - min(ux) + 1 >= LAYERS * PITCH - (PITCH - CELL)  # the grid spans every layer
