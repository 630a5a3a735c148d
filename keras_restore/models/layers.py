"""Custom layers, registered so ``.keras`` files load with plain ``keras.saving.load_model``
(``safe_mode`` left on: no Lambda layers anywhere in this package)."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="keras_restore")
class Clip(keras.layers.Layer):
    """Element-wise ``clip(x, min_value, max_value)``: keeps restored images in the valid range.

    Used as the last layer of the ``stable`` restorer variant and of CRU-Net (its Eq. 11). The
    gradient is that of ``keras.ops.clip`` (zero outside the range), except while
    ``straight_through`` is set: then the forward pass is the same clip, but the gradient passes
    through unchanged (the straight-through estimator, Bengio et al. 2013).
    :func:`keras_restore.training.train_restorer` sets it for the duration of training only: with
    the zero gradient, a restorer whose pre-clip output drifts below 0 everywhere receives no
    gradient at all and stays a constant black image (measured on CRU-Net MNIST: validation MSE
    0.017 after epoch 1, 0.11 = the MSE of an all-zero output from epoch 2 on). The attribute is
    not part of the config: a saved or loaded model always has the plain clip.
    """

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
