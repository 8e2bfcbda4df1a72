"""Run every gallery script headless, so that none of them can go stale.

``make test`` builds the documentation first, and sphinx-gallery runs every
example there (an error fails the build); it then sets ``SKVAE_GALLERY`` to the
gallery's folder, and each example is checked against the gallery's record of
its run instead of being run a second time. Without it, pytest runs them.
"""

import ast
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))


def test_the_gallery_is_found():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_is_a_gallery_script(path):
    source = path.read_text()
    title = ast.get_docstring(ast.parse(source)).splitlines()
    # sphinx-gallery needs a title (underlined with "=") and text cells.
    assert title[0].startswith("=") and set(title[2]) == {"="}
    assert "\n# %%\n" in source


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(path, tmp_path):
    gallery = os.environ.get("SKVAE_GALLERY")
    if gallery:
        # The gallery ran this very source (its checksum) to the end.
        ran = Path(gallery) / f"{path.name}.md5"
        assert ran.is_file(), f"the gallery did not run {path.name}"
        assert ran.read_text().strip() == hashlib.md5(path.read_bytes()).hexdigest()
        page = (Path(gallery) / f"{path.stem}.rst").read_text()
        assert "Total running time of the script" in page
        return
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", str(path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
