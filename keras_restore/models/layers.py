"""Custom layers, registered so ``.keras`` files load with plain ``keras.saving.load_model``
(``safe_mode`` left on: no Lambda layers anywhere in this package)."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="keras_restore")
class Clip(keras.layers.Layer):
    """Element-wise ``clip(x, min_value, max_value)``: keeps restored images in the valid range.

    Used as the last layer of the ``stable`` restorer variant and of CRU-Net (its Eq. 11). The
    gradient is the straight-through gradient of ``keras.ops.clip`` (zero outside the range).
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if not min_value < max_value:
            raise ValueError(
                f"`min_value` must be < `max_value`, got {min_value} and {max_value}."
            )
        self.min_value = float(min_value)
        self.max_value = float(max_value)

    def call(self, inputs):
        return keras.ops.clip(inputs, self.min_value, self.max_value)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "min_value": self.min_value, "max_value": self.max_value}
