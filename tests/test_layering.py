"""Layers import only downward (docs/architecture.md): every ``keras_restore`` import of every
module, at module level or inside a function, goes to the module's own layer or one below."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "keras_restore"

# Bottom (0) to top; a module's layer is that of its longest matching prefix.
LAYERS = {
    "keras_restore": 0, "keras_restore.io": 0, "keras_restore.validation": 0, "keras_restore.runtime": 0,
    "keras_restore.data": 1, "keras_restore.models": 1, "keras_restore.attacks": 1, "keras_restore.metrics": 1,
    "keras_restore.fast": 1, "keras_restore.export": 1, "keras_restore.profiling": 1,
    "keras_restore.defenses": 2, "keras_restore.defense": 2,
    "keras_restore.training": 3, "keras_restore.evaluation": 3,
    "keras_restore.pipeline": 4, "keras_restore.site": 4, "keras_restore.report": 4,
    "keras_restore.cli": 5,
}


def layer_of(module: str) -> int:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LAYERS:
            return LAYERS[".".join(parts[:n])]
    raise KeyError(module)


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        yield name, path


def imports(path: Path, name: str):
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod == "keras_restore":   # `from keras_restore import data, models`: each name is a module
                for alias in node.names:
                    yield f"keras_restore.{alias.name}", node.lineno
            else:
                yield mod, node.lineno


@pytest.mark.parametrize("name,path", list(modules()), ids=[n for n, _ in modules()])
def test_imports_go_only_downward(name, path):
    own = layer_of(name)
    bad = []
    for mod, line in imports(path, name):
        if not mod.startswith("keras_restore"):
            continue
        target = "keras_restore" if mod == "keras_restore" else mod
        if target == "keras_restore.__version__":
            continue
        if layer_of(target) > own:
            bad.append(f"{path.name}:{line} imports {mod} (layer {layer_of(target)} > {own})")
    assert not bad, "\n".join(bad)


def test_every_module_has_a_layer():
    for name, _ in modules():
        layer_of(name)
