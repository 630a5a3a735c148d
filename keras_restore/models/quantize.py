"""Weight quantization for shipping: a model whose float32 ``.keras`` file is over the 30 MB limit of a shipped
file (``tests/models/test_registry.py``) can be shipped with its ``Dense`` kernels in int8, by Keras's own
quantization (``Layer.quantize``, per layer, as ``Model.quantize`` does it; no hand-written quantizer here).
Per layer rather than ``Model.quantize(mode, filters=...)``: ``filters`` is recent (keras-team/keras#21894, late
2025) and ``setup.cfg`` allows Keras 3.11; ``Layer.quantize`` works in all of them.

What ``quantize("int8")`` does to a ``Dense`` layer (Keras 3.15): the kernel is stored as int8 with one float32
scale per output unit (abs-max), and at call time the layer's input is quantized per row (abs-max, int8) and the
product rescaled; the bias and activation stay float32. Its gradient with respect to the input is defined
(Keras's ``custom_gradient``: the upstream gradient times the dequantized kernel), so adaptive attacks run through
a quantized model as through the float one. The file loads with plain ``keras.saving.load_model`` (the dtype
policy ``int8_from_float32`` is built in) and exports as a SavedModel.

Only ``Dense`` layers: Keras 3.15's ``quantize("int8")`` leaves convolutions in float32 (it warns and skips
them), so a model whose parameters are mostly convolutional (``vgg19_cifar10``) cannot be made smaller this way.
Papers/000's Table 2 restorer can: 16.8 M of its 19.7 M parameters are the 4096 x 4096 bottleneck ``Dense``,
and its file goes from 78.8 MB to 28.4 MB.

A quantized model computes other numbers than its float32 original, so the shipped file's record says so
(``ship_model`` writes ``quantized`` into its manifest entry: the mode, the layers, and the largest output
difference measured on the run's test images), and results made from the shipped file are results of the
quantized model."""

from __future__ import annotations

import keras

MODES = ("int8",)


def check_mode(mode, arg: str = "mode") -> str:
    if mode not in MODES:
        raise ValueError(f"`{arg}` must be one of {', '.join(MODES)} (a quantization mode), got {mode!r}.")
    return mode


def quantized_layers(model: keras.Model) -> dict:
    """``{layer name: quantization mode}`` for every quantized layer of ``model`` (empty for a float model)."""
    return {layer.name: layer.dtype_policy.quantization_mode for layer in model.layers
            if getattr(layer.dtype_policy, "quantization_mode", None)}


def quantize_layers(model: keras.Model, layers: dict) -> keras.Model:
    """Quantize, in place, the top-level layers of ``model`` named in ``layers`` (``{name: mode}``, as
    :func:`quantized_layers` gives); returns ``model``."""
    by_name = {layer.name: layer for layer in model.layers}
    unknown = sorted(set(layers) - set(by_name))
    if unknown:
        raise ValueError(f"`layers` names {unknown}, which {model.name!r} does not have.")
    for name, mode in layers.items():   # every mode checked before any layer changes
        check_mode(mode, f"layers[{name!r}]")
    for name, mode in layers.items():
        by_name[name].quantize(mode)
    if layers:   # what Model.quantize does after quantizing: its compiled functions are rebuilt on next use
        model.train_function = model.test_function = model.predict_function = None
    return model


def quantized_copy(model: keras.Model, mode: str = "int8") -> keras.Model:
    """A copy of ``model`` (same weights) with every ``Dense`` kernel quantized to ``mode``; ``model`` is not
    changed. A ValueError when ``model`` has no ``Dense`` layer to quantize."""
    check_mode(mode)
    dense = {layer.name: mode for layer in model.layers if isinstance(layer, keras.layers.Dense)}
    if not dense:
        raise ValueError(f"Model {model.name!r} has no Dense layer: quantize({mode!r}) would not make it smaller.")
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return quantize_layers(copy, dense)
