"""Model builders and the model zoo (:mod:`keras_restore.models.registry`)."""

from keras_restore.models.classifiers import m1, m2
from keras_restore.models.crunet import crunet_cifar10, crunet_mnist
from keras_restore.models.crunet_targets import anet, bnet, model_a, model_b, model_c, model_d
from keras_restore.models.layers import Clip
from keras_restore.models.registry import (
    MODELS,
    ModelSpec,
    build,
    get_spec,
    load_keras_file,
    load_model,
    models_dir,
    read_manifest,
    record_loads,
    sha256,
    shipped,
    shipped_record,
)
from keras_restore.models.restorers import restorer_cifar10, restorer_mnist

__all__ = [
    "MODELS", "ModelSpec", "Clip", "build", "get_spec", "load_keras_file", "load_model",
    "models_dir", "read_manifest", "record_loads", "sha256", "shipped", "shipped_record", "m1", "m2", "restorer_mnist",
    "restorer_cifar10", "crunet_mnist", "crunet_cifar10", "anet", "bnet", "model_a",
    "model_b", "model_c", "model_d",
]
