"""The layout's rules, read from the source: who may import whom.

skvae's private packages are layers, bottom to top: ``_nn`` (network
mathematics), ``_parts``, ``_models``, ``_train``, ``_estimator``; the public
modules sit on top. A module imports skvae modules of its own layer or below,
and :mod:`skvae.exceptions` (which imports nothing of skvae); the four lowest
layers import no scikit-learn. Imports inside functions count too.
"""

import ast
from pathlib import Path

import skvae

PACKAGE = Path(skvae.__file__).parent
LAYERS = ("_nn", "_parts", "_models", "_train", "_estimator")
PUBLIC = len(LAYERS)  # the layer of every other module: the public API
WITHOUT_SKLEARN = ("_nn", "_parts", "_models", "_train")
ANYWHERE = {"skvae.exceptions"}


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module):
    """The layer index of a skvae module (PUBLIC for the public modules)."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return PUBLIC


def imported_modules(path):
    """(line, absolute module name) of every import in the file."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module
            else:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            if node.module is None:  # from . import module
                for alias in node.names:
                    yield node.lineno, f"{base}.{alias.name}"
            else:
                yield node.lineno, base


def sources():
    return sorted(PACKAGE.rglob("*.py"))


def where(path, line):
    return f"{path.relative_to(PACKAGE.parent)}:{line}"


def test_each_layer_imports_only_its_own_and_the_layers_below():
    violations = []
    for path in sources():
        own = layer(module_name(path))
        for line, target in imported_modules(path):
            if target.split(".")[0] != "skvae" or target in ANYWHERE:
                continue
            if layer(target) > own:
                violations.append(
                    f"{where(path, line)} imports {target}, a layer above "
                    f"{module_name(path)}")
    assert not violations, "\n".join(violations)


def test_the_lower_layers_import_no_scikit_learn():
    violations = []
    for path in sources():
        module = module_name(path)
        if layer(module) < PUBLIC and LAYERS[layer(module)] in WITHOUT_SKLEARN:
            violations.extend(
                f"{where(path, line)} imports {target}"
                for line, target in imported_modules(path)
                if target.split(".")[0] == "sklearn")
    assert not violations, "\n".join(violations)


def test_every_private_package_says_what_lives_there_and_what_it_may_import():
    undocumented = []
    for init in sorted(PACKAGE.rglob("__init__.py")):
        if init.parent == PACKAGE or init.parent.name == "plotting":
            continue
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        if "Imports:" not in doc:
            undocumented.append(str(init.relative_to(PACKAGE.parent)))
    assert not undocumented, undocumented
