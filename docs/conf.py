"""Sphinx configuration for skvae's documentation.

Builds offline: no intersphinx (its inventories would be fetched from the
network), and the gallery runs the examples on bundled data.
"""

import warnings

import skvae

# The gallery's examples run under the test suite's rule: a RuntimeWarning (an
# overflow, a division by zero) is an error, and so fails the build.
warnings.filterwarnings("error", category=RuntimeWarning)

project = "skvae"
author = "the skvae developers"
copyright = "the skvae developers"
release = skvae.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax shipped with the built pages (sphinx-mathjax-offline copies it
    # into _static/), so the math renders without a network.
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "sg_execution_times.rst"]
default_role = "literal"

autosummary_generate = True
autodoc_default_options = {"members": True}
# numpydoc renders Parameters, Attributes, ...; the class template lists the
# methods, so numpydoc need not add its own member tables.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skvae",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skvae": None},
    "remove_config_comments": True,
    "show_memory": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"skvae {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": False,
}
html_static_path = []


def skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Leave out the ``set_{method}_request`` methods scikit-learn generates
    for every ``fit`` that takes ``sample_weight``: they are scikit-learn's,
    documented there, and their docstrings link into scikit-learn's own
    glossary and user guide, which an offline build cannot reach."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", skip_metadata_request_methods)
