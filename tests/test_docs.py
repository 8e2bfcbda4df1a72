"""The API reference lists every public name, so none goes undocumented."""

import re
from pathlib import Path

import pytest

import skvae

API = (Path(__file__).parents[1] / "docs" / "api.rst").read_text()
SUBMODULES = ("datasets", "plotting")


def public_names():
    names = [n for n in skvae.__all__ if n not in (*SUBMODULES, "__version__")]
    for submodule in SUBMODULES:
        names += getattr(skvae, submodule).__all__
    return names


@pytest.mark.parametrize("name", public_names())
def test_public_name_is_in_the_api_reference(name):
    assert re.search(rf"^\s+{name}$|\.{name}\b", API, flags=re.MULTILINE), (
        f"{name} is public but missing from docs/api.rst: add it to the "
        "autosummary list of its section."
    )
