"""numpydoc validation of every public class, method and function."""

import inspect

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

import skvae  # noqa: E402

# Checks we do not require: See Also and extended summaries on every method,
# an Examples section on each method (the classes and functions have one), and
# RT02, since we name return values as scikit-learn does ("Z : ndarray ...").
IGNORED = {"SA01", "ES01", "EX01", "GL08", "RT02"}


def public_objects():
    for name in skvae.__all__:
        obj = getattr(skvae, name)
        if inspect.isclass(obj):
            yield f"skvae.{name}"
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and callable(member):
                    yield f"skvae.{name}.{attr}"
        elif callable(obj):
            yield f"skvae.{name}"


@pytest.mark.parametrize("import_path", sorted(public_objects()))
def test_docstring(import_path):
    result = numpydoc_validate.validate(import_path)
    errors = [(code, msg) for code, msg in result["errors"] if code not in IGNORED]
    assert not errors, "\n".join(f"{code}: {msg}" for code, msg in errors)


def test_classes_have_examples():
    for name in skvae.__all__:
        obj = getattr(skvae, name)
        if inspect.isclass(obj):
            assert "Examples\n    --------" in obj.__doc__, name
