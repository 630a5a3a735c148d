"""Defense-GAN's generator and critic (models/defense_gan.py): shapes, the parameter counts its
docstring states, every layer named, the zoo entries, bad arguments."""

import keras
import numpy as np
import pytest

from keras_restore import models
from keras_restore.models.defense_gan import defense_gan_critic, defense_gan_generator
from keras_restore.models.registry import DEFENSE_GAN


@pytest.mark.parametrize("shape,g_params,c_params", [((28, 28, 1), 1_554_177, 1_030_145),
                                                     ((32, 32, 3), 1_557_379, 1_033_345)])
def test_shapes_and_stated_parameter_counts(shape, g_params, c_params):
    g, c = defense_gan_generator(image_shape=shape), defense_gan_critic(shape)
    assert g.input_shape == (None, 128) and g.output_shape == (None, *shape)
    assert c.input_shape == (None, *shape) and c.output_shape == (None, 1)
    assert (g.count_params(), c.count_params()) == (g_params, c_params)   # the module docstring's numbers
    z = np.random.default_rng(0).standard_normal((3, 128)).astype("float32")
    out = g.predict(z, verbose=0)
    assert out.shape == (3, *shape) and out.min() >= 0.0 and out.max() <= 1.0   # sigmoid: [0, 1]
    assert np.isfinite(c.predict(out, verbose=0)).all()


def test_their_layout_and_names():
    g = defense_gan_generator()
    assert [layer.name for layer in g.layers] == ["z", "fc", "fc_relu", "fc_reshape", "deconv1", "deconv1_relu",
                                                  "crop7", "deconv2", "deconv2_relu", "deconv3", "out_sigmoid"]
    assert g.get_layer("fc").units == 4 * 4 * 4 * 64 and g.get_layer("crop7").output.shape[1:] == (7, 7, 128)
    assert all(g.get_layer(n).kernel_size == (5, 5) and g.get_layer(n).strides == (2, 2)
               for n in ("deconv1", "deconv2", "deconv3"))
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in g.layers)   # USE_BN: False
    # 32x32: no crop, 4 -> 8 -> 16 -> 32
    assert "crop7" not in [layer.name for layer in defense_gan_generator(image_shape=(32, 32, 3)).layers]
    c = defense_gan_critic()
    assert [layer.name for layer in c.layers] == ["image", "conv1", "conv1_lrelu", "conv2", "conv2_lrelu", "conv3",
                                                  "conv3_lrelu", "flatten", "critic_score"]
    assert [c.get_layer(f"conv{i}").filters for i in (1, 2, 3)] == [64, 128, 256]
    assert c.get_layer("flatten").output.shape[1:] == (4 * 4 * 256,)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in c.layers)   # WGAN-GP


def test_batch_norm_and_width_options():
    g = defense_gan_generator(batch_norm=True, width=8, latent_dim=16, name="g")
    assert [layer.name for layer in g.layers if isinstance(layer, keras.layers.BatchNormalization)] == [
        "fc_bn", "deconv1_bn", "deconv2_bn"]
    assert g.name == "g" and g.input_shape == (None, 16) and g.get_layer("deconv2").filters == 8
    assert defense_gan_critic(width=8).get_layer("conv3").filters == 32


def test_zoo_entries():
    for ds, shape in (("mnist", (28, 28, 1)), ("fashion_mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))):
        spec = models.get_spec(f"defense_gan_{ds}")
        assert (spec.kind, spec.dataset, spec.paper, spec.builder) == ("restorer", ds, DEFENSE_GAN,
                                                                      defense_gan_generator)
        assert spec.paper.startswith("Samangouei, Kabkab & Chellappa 2018")
        m = spec.build()
        assert m.name == f"defense_gan_{ds}" and m.output_shape == (None, *shape)
        assert "keras_restore" not in str(m.get_config())   # built-in layers only: ships as plain Keras


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"^`image_shape` must be square with side 28 \(MNIST, Fashion-MNIST\) or 32 "
                                         r"\(CIFAR-10\), got \(64, 64, 3\)\.$"):
        defense_gan_generator(image_shape=(64, 64, 3))
    with pytest.raises(ValueError, match=r"^`image_shape` must be square"):
        defense_gan_critic((28, 32, 1))
    with pytest.raises(ValueError, match=r"^`image_shape` must be \(height, width, channels\) of positive integers, "
                                         r"got \(28, 28\)\.$"):
        defense_gan_generator(image_shape=(28, 28))
    with pytest.raises(ValueError, match=r"^`image_shape` must be \(height, width, channels\), got 28\.$"):
        defense_gan_critic(28)
    with pytest.raises(ValueError, match=r"^`latent_dim` must be an integer >= 1, got 0\.$"):
        defense_gan_generator(latent_dim=0)
    with pytest.raises(ValueError, match=r"^`width` must be an integer >= 1, got -1\.$"):
        defense_gan_critic(width=-1)
    with pytest.raises(ValueError, match=r"^`batch_norm` must be True or False, got 'yes'\.$"):
        defense_gan_generator(batch_norm="yes")
