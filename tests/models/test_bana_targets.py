"""papers/003 targets (models/bana_targets.py): shapes, parameter counts, widths, names, bad arguments."""

import keras
import numpy as np
import pytest

from keras_restore import models
from keras_restore.models import bana_targets as bt

# Keras count_params (BatchNorm moving statistics included) at the registered CPU widths and at 1.0.
COUNTS = {"vgg13_cifar10": (2359402, 9418954), "vgg11_cifar10": (2312938, 9233866),
          "resnet18_cifar10": (703866, 11183562), "inception_v3_cifar10": (1381954, 21840490)}
BUILDERS = {"vgg13_cifar10": bt.vgg13_cifar10, "vgg11_cifar10": bt.vgg11_cifar10,
            "resnet18_cifar10": bt.resnet18_cifar10, "inception_v3_cifar10": bt.inception_v3_cifar10}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_registered_cpu_width_logits_and_parameter_count(name):
    model = models.build(name)
    assert model.count_params() == COUNTS[name][0]
    assert model.count_params() * 4 < 30e6          # a shipped file stays under 30 MB
    out = model(np.random.default_rng(0).random((2, 32, 32, 3)).astype("float32"), training=False)
    assert tuple(out.shape) == (2, 10) and model.layers[-1].name == "logits"
    assert model.layers[-1].activation.__name__ == "linear"
    spec = models.get_spec(name)
    assert spec.dataset == "cifar10" and spec.paper == models.registry.BANA


def test_vgg19_bn_is_configuration_e_with_batchnorm():
    """papers/000 Table 7's VGG19 as trained here: 16 convolutions (2, 2, 4, 4, 4), each with BatchNorm, at
    half width; 5,018,730 parameters (a < 30 MB file); 20,046,026 at full width."""
    model = models.build("vgg19_bn_cifar10")
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [32] * 2 + [64] * 2 + [128] * 4 + [256] * 8
    assert all(model.get_layer(c.name.removesuffix("_conv") + "_bn") for c in convs)
    assert model.name == "vgg19_bn_cifar10" and model.count_params() == 5_018_730 and model.count_params() * 4 < 30e6
    assert bt.vgg19_bn_cifar10(width=1.0).count_params() == 20_046_026
    assert models.get_spec("vgg19_bn_cifar10").table.startswith("Table 7")


@pytest.mark.parametrize("name", ["vgg13_cifar10", "vgg11_cifar10", "resnet18_cifar10"])
def test_full_width_is_the_papers_network(name):
    assert BUILDERS[name](width=1.0).count_params() == COUNTS[name][1]


def test_inception_full_width_and_grids():
    model = bt.inception_v3_cifar10(width=1.0)
    assert model.count_params() == COUNTS["inception_v3_cifar10"][1]
    grids = {n: model.get_layer(f"{n}_concat").output.shape[1] for n in ("mixed2", "mixed3", "mixed7", "mixed10")}
    assert grids == {"mixed2": 16, "mixed3": 7, "mixed7": 7, "mixed10": 4}
    assert model.get_layer("mixed10_concat").output.shape[-1] == 2048   # Inception-v3's last width


def test_width_scales_filters_and_names_come_from_blocks():
    half = bt.vgg13_cifar10(width=0.5)
    assert half.get_layer("block1_conv1_conv").filters == 32 and half.get_layer("block5_conv2_conv").filters == 256
    assert bt.resnet18_cifar10(width=0.25).get_layer("stage4_block2_2_conv").filters == 128
    for model in (half, bt.resnet18_cifar10(), bt.inception_v3_cifar10()):
        names = [layer.name for layer in model.layers]
        assert len(names) == len(set(names))
    assert bt.scaled(64, 0.01) == bt.MIN_FILTERS


@pytest.mark.parametrize("kwargs, match", [
    ({"width": 0}, "`width` of vgg13_cifar10 must be a number in"),
    ({"width": True}, "`width`"),
    ({"width": 5.0}, r"\(0, 4\]"),
    ({"input_shape": (28, 28, 1)}, "`input_shape` of vgg13_cifar10 must be"),
    ({"classes": 1}, "`classes` must be an integer >= 2"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bt.vgg13_cifar10(**kwargs)


def test_bad_config_and_inception_width():
    with pytest.raises(ValueError, match="`config` must be one of vgg11, vgg13"):
        bt.vgg_cifar10("vgg16")
    with pytest.raises(ValueError, match="`width` of inception_v3_cifar10"):
        bt.inception_v3_cifar10(width=-1)


def test_generators_are_smaller_than_vgg13():
    gen = models.build("bana_image_e128_cifar10")
    assert gen.count_params() < models.build("vgg13_cifar10", width=1.0).count_params()
    assert models.get_spec("bana_noise_e16_cifar10").kwargs["mode"] == "noise"
    assert {models.get_spec(f"bana_{m}_cifar10").kind for m in ("noise_e16", "image_e16", "image2_e16")} == {"restorer"}
