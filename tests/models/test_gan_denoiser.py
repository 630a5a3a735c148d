"""papers/004's GAN denoiser: generator and discriminator structure, parameter counts, output range,
plain-Keras loading, registry entries and bad arguments."""

import keras
import numpy as np
import pytest

from keras_restore import models
from keras_restore.models.discriminators import build_discriminator, discriminator_builders
from keras_restore.models.gan_denoiser import gan_denoiser_discriminator, gan_denoiser_generator
from keras_restore.models.registry import GAN_DENOISER


def test_generator_counts_and_structure():
    g = gan_denoiser_generator()
    # enc1 conv 640 + bn 256, enc2 conv 73,856 + bn 512, dec1 deconv 73,792 + bn 256, out deconv 577
    assert g.count_params() == 640 + 256 + 73_856 + 512 + 73_792 + 256 + 577 == 149_889
    rgb = gan_denoiser_generator((32, 32, 3))
    assert rgb.count_params() == 1_792 + 256 + 73_856 + 512 + 73_792 + 256 + 1_731 == 152_195
    names = [layer.name for layer in g.layers]
    assert names == ["image", "enc1_conv", "enc1_bn", "enc1_relu", "enc2_conv", "enc2_bn", "enc2_relu",
                     "dec1_deconv", "dec1_bn", "dec1_relu", "out_deconv", "out_tanh", "out_unit", "out_clip"]
    assert g.get_layer("enc2_relu").output.shape[1:] == (7, 7, 128)
    assert all(type(layer).__module__.startswith("keras.") for layer in g.layers)   # built-in layers only


def test_discriminator_counts_and_logit():
    d = gan_denoiser_discriminator()
    # d1 640, d2 73,856 + bn 512, d3 295,168 + bn 1,024, Dense(4*4*256 -> 1) 4,097
    assert d.count_params() == 640 + 73_856 + 512 + 295_168 + 1_024 + 4_097 == 375_297
    assert gan_denoiser_discriminator((32, 32, 3)).count_params() == 376_449
    assert d.output_shape == (None, 1) and "d1_bn" not in [layer.name for layer in d.layers]
    assert d.get_layer("logit").activation is keras.activations.linear   # logits: BCE on logits


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_output_in_unit_range(shape):
    g = gan_denoiser_generator(shape)
    x = np.random.default_rng(0).random((4, *shape)).astype("float32")
    y = g.predict(x, verbose=0)
    assert y.shape == x.shape and y.min() >= 0.0 and y.max() <= 1.0
    # before the clip the range is already (0, 1): 0.5 * tanh + 0.5
    pre = keras.Model(g.input, g.get_layer("out_unit").output).predict(x, verbose=0)
    assert pre.min() > 0.0 and pre.max() < 1.0


def test_loads_with_plain_keras(tmp_path):
    g = gan_denoiser_generator()
    path = tmp_path / "g.keras"
    g.save(path)
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    x = np.random.default_rng(1).random((2, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), g.predict(x, verbose=0), atol=1e-6)


def test_registry_entries():
    for ds, shape in (("mnist", (28, 28, 1)), ("fashion_mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))):
        spec = models.get_spec(f"gan_denoiser_{ds}")
        assert (spec.kind, spec.dataset, spec.paper) == ("restorer", ds, GAN_DENOISER)
        m = models.build(f"gan_denoiser_{ds}")
        assert m.input_shape == (None, *shape) and m.name == f"gan_denoiser_{ds}"
    assert "papers/004" in GAN_DENOISER
    assert set(discriminator_builders()) == {"patch", "gan_denoiser"}
    assert build_discriminator("gan_denoiser", (28, 28, 1)).count_params() == 375_297


def test_fashion_mnist_targets_and_ablation_generators():
    # papers/004 names no classifier: its Fashion-MNIST targets are the MNIST table's CNNs, renamed
    import re

    for arch in ("m1", "lenet5", "anet"):
        name = f"{arch}_fashion_mnist"
        spec = models.get_spec(name)
        assert (spec.kind, spec.dataset, spec.paper) == ("classifier", "fashion_mnist", GAN_DENOISER)
        assert not spec.not_shipped   # < 1 MB: --ship may ship it
        assert spec.builder is models.get_spec(arch).builder and "names none" in spec.table
        m, ref = models.build(name), models.build(arch)
        assert m.name == name and m.input_shape == (None, 28, 28, 1) and m.output_shape == (None, 10)
        assert m.count_params() == ref.count_params() and m.count_params() * 4 < 1e6   # < 1 MB of float32 weights
        assert all(re.fullmatch(r"[A-Za-z0-9_]+", layer.name) for layer in m.layers)
    for ds, shape in (("mnist", (28, 28, 1)), ("fashion_mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))):
        for part in ("no_isomorphic", "no_recovery"):
            m = models.build(f"gan_denoiser_{ds}_{part}")
            assert m.input_shape == (None, *shape) and models.get_spec(f"gan_denoiser_{ds}_{part}").dataset == ds


@pytest.mark.parametrize("builder,kwargs,match", [
    (gan_denoiser_generator, {"input_shape": (28, 28)},
     r"^`input_shape` must be \(height, width, channels\) of positive integers, got \(28, 28\)\.$"),
    (gan_denoiser_generator, {"input_shape": 28}, r"^`input_shape` must be \(height, width, channels\), got 28\.$"),
    (gan_denoiser_generator, {"input_shape": (30, 30, 1)},
     r"^`input_shape` height and width must be divisible by 4 \(two stride-2 steps\), got \(30, 30, 1\)\.$"),
    (gan_denoiser_generator, {"filters": (64,)}, r"^`filters` must give 2 block width\(s\), got \(64,\)\.$"),
    (gan_denoiser_generator, {"filters": (64, 0)}, r"^`filters` must be an integer >= 1, got 0\.$"),
    (gan_denoiser_generator, {"filters": 64}, r"^`filters` must be a sequence of positive ints, got 64\.$"),
    (gan_denoiser_generator, {"kernel": 2.5}, r"^`kernel` must be an integer >= 1, got 2\.5\.$"),
    (gan_denoiser_discriminator, {"filters": ()}, r"^`filters` must give at least one block width\(s\), got \(\)\.$"),
    (gan_denoiser_discriminator, {"input_shape": (28, 28, True)}, r"^`input_shape` must be"),
])
def test_bad_arguments(builder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        builder(**kwargs)


def test_unknown_discriminator():
    with pytest.raises(ValueError, match=r"^Unknown discriminator 'wgan'; expected one of: patch, gan_denoiser\.$"):
        build_discriminator("wgan", (28, 28, 1))
