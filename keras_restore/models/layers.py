"""The restorers' output clip to [0, 1], as a built-in Keras layer, and its training-time gradient.

Shipped ``.keras`` files hold built-in layers only, so they load with plain
``keras.saving.load_model`` (safe mode) in a process that never imported this package (TF
Serving pipelines, other tools). The clip is ``keras.layers.ReLU(max_value=1.0)``: exactly
``clip(x, 0, 1)`` (``tests/models/test_layers.py``).

:func:`straight_through_clips` gives those layers the straight-through gradient (Bengio et al.
2013) while a restorer trains: same forward pass, identity gradient. With the clip's zero gradient
outside [0, 1] a restorer whose pre-clip output drifts below 0 everywhere receives no gradient at
all and stays a constant black image (measured on CRU-Net MNIST: validation MSE 0.017 after epoch
1, 0.11 = the MSE of an all-zero output from epoch 2 on). The straight-through gradient is a
training-time matter: never saved, gone when the block ends.

:class:`Clip` is the registered layer the package used before (files of older caches hold it):
still loadable; :func:`builtin_clips` converts such a model to the built-in layer.
"""

from __future__ import annotations

import contextlib

import keras


def output_clip(x, name: str = "out_clip"):
    """``clip(x, 0, 1)`` as the built-in ``ReLU(max_value=1.0)`` layer named ``name``."""
    return keras.layers.ReLU(max_value=1.0, name=name)(x)


@keras.saving.register_keras_serializable(package="keras_restore")
class Clip(keras.layers.Layer):
    """Element-wise ``clip(x, min_value, max_value)`` (legacy; see the module docstring)."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.straight_through = False
        if not min_value < max_value:
            raise ValueError(
                f"`min_value` must be < `max_value`, got {min_value} and {max_value}."
            )
        self.min_value = float(min_value)
        self.max_value = float(max_value)

    def call(self, inputs):
        clipped = keras.ops.clip(inputs, self.min_value, self.max_value)
        if self.straight_through:
            return inputs + keras.ops.stop_gradient(clipped - inputs)
        return clipped

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "min_value": self.min_value, "max_value": self.max_value}


def is_unit_clip(layer) -> bool:
    """True for a layer that computes exactly ``clip(x, 0, 1)``: ``ReLU(max_value=1)`` (threshold 0,
    no negative slope) or the legacy :class:`Clip(0, 1) <Clip>`."""
    if isinstance(layer, Clip):
        return layer.min_value == 0.0 and layer.max_value == 1.0
    if type(layer) is keras.layers.ReLU or isinstance(layer, _StraightThroughReLU):
        return (layer.max_value is not None and float(layer.max_value) == 1.0
                and float(layer.negative_slope) == 0.0 and float(layer.threshold) == 0.0)
    return False


class _StraightThroughReLU(keras.layers.ReLU):
    """Training-time stand-in: the forward pass of the ReLU clip, the identity gradient."""

    def call(self, inputs):
        clipped = super().call(inputs)
        return inputs + keras.ops.stop_gradient(clipped - inputs)


def _unit_clips(layer) -> list:
    found = [layer] if is_unit_clip(layer) else []
    for sub in getattr(layer, "layers", []):
        found += _unit_clips(sub)
    return found


@contextlib.contextmanager
def straight_through_clips(model: keras.Model):
    """Within the block, every [0, 1] clip of ``model`` passes gradients straight through (forward
    pass unchanged); yields the names of those layers. Afterwards the plain clip is back and the
    compiled train/test/predict functions (traced with it set) are dropped."""
    clips = _unit_clips(model)
    for layer in clips:
        if isinstance(layer, Clip):
            layer.straight_through = True
        else:
            layer.__class__ = _StraightThroughReLU
    try:
        yield [layer.name for layer in clips]
    finally:
        for layer in clips:
            if isinstance(layer, Clip):
                layer.straight_through = False
            else:
                layer.__class__ = keras.layers.ReLU
        if clips:
            model.train_function = model.test_function = model.predict_function = None


def builtin_clips(model: keras.Model) -> keras.Model:
    """A copy of functional ``model`` with every legacy :class:`Clip(0, 1) <Clip>` replaced by the
    built-in ``ReLU(max_value=1.0)`` of the same name: same weights, same outputs. Other ``Clip``
    ranges raise a ValueError (no built-in layer computes them exactly)."""
    config = model.get_config()

    def convert(layers_config):
        for entry in layers_config:
            if entry.get("class_name") == "Clip" or entry.get("registered_name") == "keras_restore>Clip":
                cfg = entry["config"]
                if (cfg.get("min_value"), cfg.get("max_value")) != (0.0, 1.0):
                    raise ValueError(f"Layer {cfg.get('name')!r} clips to [{cfg.get('min_value')}, "
                                     f"{cfg.get('max_value')}]; only [0, 1] has a built-in equivalent.")
                entry.update(module="keras.layers", class_name="ReLU", registered_name=None)
                entry["config"] = {"name": cfg["name"], "trainable": cfg.get("trainable", True),
                                   "dtype": cfg.get("dtype"), "max_value": 1.0, "negative_slope": 0.0,
                                   "threshold": 0.0}
            elif "layers" in entry.get("config", {}):
                convert(entry["config"]["layers"])

    convert(config["layers"])
    fresh = model.__class__.from_config(config)
    fresh.set_weights(model.get_weights())
    return fresh
