"""Re-export shipped ``.keras`` files with built-in Keras layers only (no retraining).

Older restorers ended in the package's registered ``Clip(0, 1)`` layer, so loading them needed
``import keras_restore`` first ("Functional could not be deserialized properly" otherwise). This
replaces every ``Clip(0, 1)`` by the built-in ``ReLU(max_value=1.0)`` (exactly the same function),
keeps the weights, checks that the outputs are identical on real test images, writes the file
atomically and updates its ``saved_models/manifest.json`` entry (sha256, bytes, a note, and the earlier
file's sha256 under ``equivalent_sha256``: results made with it are not stale). Files
without a ``Clip`` are left untouched. Idempotent.

Run: ``python reproduce/reexport_builtin_layers.py --data-dir ../shared/data``
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def _has_clip(path) -> bool:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return '"Clip"' in z.read("config.json").decode()


def main(argv=None):
    from keras_restore import data, io, models
    from keras_restore.models.layers import builtin_clips

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)
    directory = models.models_dir()
    manifest = models.read_manifest(directory)
    changed = []
    for name in sorted(manifest):
        path = directory / f"{name}.keras"
        if not path.exists() or not _has_clip(path):
            continue
        old = models.load_model(name)
        new = builtin_clips(old)
        x, _ = data.load_arrays(models.get_spec(name).dataset, "test", args.data_dir)
        x = x[:256]
        a, b = old.predict(x, verbose=0), new.predict(x, verbose=0)
        if not np.array_equal(a, b):
            raise SystemExit(f"{name}: outputs differ after the conversion (max {np.abs(a - b).max()}); not written")
        before = manifest[name].get("sha256")
        io.save_model_atomic(new, path)
        # the earlier file's sha256 stays known as the same model (results made with it are not stale)
        equivalent = [*manifest[name].get("equivalent_sha256", []), *([before] if before else [])]
        manifest[name].update(sha256=models.sha256(path), bytes=path.stat().st_size, equivalent_sha256=equivalent,
                              layers_note="re-exported with built-in layers only (Clip(0, 1) -> ReLU(max_value=1.0)), "
                                          "same weights, identical outputs; loads with plain keras.saving.load_model")
        changed.append(name)
        print(f"{name}: re-exported ({path.stat().st_size / 1e6:.1f} MB), outputs identical on 256 test images")
    if changed:
        io.write_json(directory / "manifest.json", manifest)
    print(json.dumps({"re-exported": changed}))


if __name__ == "__main__":
    main()
