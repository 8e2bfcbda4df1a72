"""numpydoc validation of every public class, method and function.

Public objects are the names in ``__all__`` of skvae, skvae.plotting and
skvae.datasets; a class's methods include those it inherits from skvae's own
bases and mixins, and the ones behind ``available_if``.
"""

import inspect

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

import skvae  # noqa: E402
import skvae.datasets  # noqa: E402
import skvae.exceptions  # noqa: E402
import skvae.plotting  # noqa: E402

# Checks we do not require: See Also and extended summaries on every method,
# an Examples section on each method (the classes and functions have one), and
# RT02, since we name return values as scikit-learn does ("Z : ndarray ...").
IGNORED = {"SA01", "ES01", "EX01", "RT02"}
MODULES = [skvae, skvae.plotting, skvae.datasets, skvae.exceptions]


def _own_methods(cls):
    """Public methods defined by cls or by the skvae classes it inherits."""
    for klass in cls.__mro__:
        if not klass.__module__.startswith("skvae"):
            continue
        for attr, member in vars(klass).items():
            if attr.startswith("_"):
                continue
            if callable(member) or isinstance(member, (classmethod, staticmethod)) or \
                    type(member).__name__ == "_AvailableIfDescriptor":
                yield attr


def public_callables():
    """(module, name, object) of every public class and function."""
    for module in MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                yield module, name, obj


def public_objects():
    for module, name, obj in public_callables():
        path = f"{module.__name__}.{name}"
        yield path
        if inspect.isclass(obj):
            for attr in sorted(set(_own_methods(obj))):
                yield f"{path}.{attr}"


@pytest.mark.parametrize("import_path", sorted(set(public_objects())))
def test_docstring(import_path):
    result = numpydoc_validate.validate(import_path)
    errors = [(code, msg) for code, msg in result["errors"] if code not in IGNORED]
    assert not errors, "\n".join(f"{code}: {msg}" for code, msg in errors)


def test_public_classes_and_functions_have_examples():
    for module, name, obj in public_callables():
        assert "Examples\n    --------" in obj.__doc__, f"{module.__name__}.{name}"


def test_a_missing_parameter_description_fails_at_import():
    from skvae._estimator.docs import document_parameters

    class Undocumented:
        """Summary.

        Parameters
        ----------
        %(parameters)s
        """

        def __init__(self, not_a_documented_name=1):
            pass

    with pytest.raises(RuntimeError, match="not_a_documented_name"):
        document_parameters(Undocumented)

    class NoMarker:
        """Summary without the marker."""

    with pytest.raises(RuntimeError, match="needs one"):
        document_parameters(NoMarker)
