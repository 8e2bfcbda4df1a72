"""The API reference lists every public name, and the docs' code examples run."""

import doctest
import re
from pathlib import Path

import pytest

import skvae

DOCS = Path(__file__).parents[1] / "docs"
API = (DOCS / "api.rst").read_text()
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


# Pages whose ">>>" examples are doctests; code shown without prompts (such
# as the dask-ml example, whose packages skvae does not require) is not run.
DOCTEST_PAGES = ["out_of_core.rst", "scaling_out.rst"]
# Pages whose examples need an extra, by the module that tells it is there.
NEEDS = {"scaling_out.rst": "distributed"}


@pytest.mark.parametrize("page", DOCTEST_PAGES)
def test_page_examples_run(page):
    if page in NEEDS:
        pytest.importorskip(NEEDS[page], reason=f"docs/{page} needs the dask extra")
    result = doctest.testfile(
        str(DOCS / page), module_relative=False, report=True,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
    )
    assert result.attempted > 0, f"docs/{page} has no examples to run"
    assert result.failed == 0, f"{result.failed} examples of docs/{page} failed"
