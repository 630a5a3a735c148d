"""Defense-GAN (Samangouei, Kabkab & Chellappa, ICLR 2018): replace an input image ``x`` by the
closest image a generator trained on clean images can make, ``G(z*)``, then classify that.

**Projection** (:class:`DefenseGANProjection`), as in the authors' code (github.com/kabkabm/defensegan,
``models/gan.py`` ``reconstruct`` with ``experiments/cfgs/gans/mnist.yml``):

* ``R`` random starts per image (``REC_RR`` 10), ``z_0 ~ N(0, I / latent_dim)`` (their
  ``random_normal_initializer(stddev=sqrt(1 / latent_dim))``, not ``N(0, I)``);
* ``L`` steps (``REC_ITERS`` 200) of gradient descent with momentum 0.7 (their
  ``MomentumOptimizer(momentum=0.7)``: ``v <- 0.7 v + g``, ``z <- z - lr v``) on
  ``sum over images and starts of mean over pixels (G(z) - x)^2`` (their ``rec_loss``: each start
  follows the gradient of its own image's MSE), learning rate 10 (``REC_LR``). **Constant**
  learning rate: their code builds a decay (x 0.1 after 80% of the steps) on a step variable that
  nothing increments (the while loop counts with its own loop variable), so the decay never takes
  effect in what they ran; the schedule that ran is the one used here;
* per image, the start with the lowest MSE ``mean((G(z_L) - x)^2)`` is kept and ``G(z*)`` is the
  output (their code selects and returns with the reconstruction of the last loop iteration,
  i.e. before the last update; here after it, ``G(z_L)``);
* **vectorised**: the ``R`` starts of every image of a batch are one batch of ``B * R`` latent
  vectors, one generator call per step, inside one ``tf.while_loop`` (compiled once per input shape);
* **seeded starts** (``seed``, default 0): every image starts from the same ``R`` draws of
  ``tf.random.stateless_normal(seed)``, so the defense is a deterministic function of each image
  -- independent of the batch it comes in, the same in ``defense.model`` (attacks) and
  ``defense.restore`` -- and the registry marks it ``stochastic=False``. Each image still gets
  ``R`` independent starts; only the *joint* draws over images differ from Defense-GAN's fresh
  per-image draws, which does not change what the defense does to any one image. ``seed=None``:
  fresh draws at every call, and the :class:`Defense` is ``stochastic`` (attacks then use EOT);
* the generator is treated as a constant: its weights enter the loop through ``stop_gradient``
  (``stateless_call``), so no tape outside the loop records the ``L`` steps (memory), and the
  projection never changes the generator.

**Gradient for attacks: BPDA identity.** The projection's output depends on ``x`` only through an
``L``-step optimisation and an ``argmin``; its true gradient is useless (and unrolling ``L = 200``
generator passes is impractical). BPDA (Athalye, Carlini & Wagner, ICML 2018, Sec. 4.1) replaces
such a step by ``f(x) ~ x`` on the backward pass -- a projection onto the generator's range keeps
``G(z*)`` near ``x`` -- and Athalye et al. list Defense-GAN among the ICLR 2018 defenses they
circumvent (their exact Defense-GAN attack and numbers are not checked here: the paper is not in
``../shared/papers``). The layer declares ``gradient = "bpda"`` and computes
``stop_gradient(G(z*)) + (x - stop_gradient(x))`` (the package's straight-through form,
:mod:`keras_restore.defenses.preprocessing`): the forward pass is the projection exactly, the
gradient w.r.t. ``x`` is the classifier's gradient at ``G(z*)``.

**The defense** (:func:`defense_gan`): the projection as the one preprocessing step of a
:class:`DefenseGAN` (a :class:`~keras_restore.defenses.Defense` with no restorer: Defense-GAN's
trained network is a generator ``z -> image``, not an image-to-image restorer), in front of the
classifier. :meth:`DefenseGAN.restore` runs the projection on the images themselves (no padding to
a full batch: each padded image would cost ``L x R`` generator passes).

Cost: ``L x R`` generator passes (forward and backward) per image: 2,000 per MNIST image with the
paper's setting (Defense-GAN's known price), and as many again for every gradient an attack takes.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from keras_restore.defenses.base import Defense
from keras_restore.defenses.preprocessing import _straight_through
from keras_restore.validation import check_images, check_positive_int

# Their MNIST setting (mnist.yml / DefenseGANBase): REC_ITERS, REC_RR, REC_LR, MomentumOptimizer(0.7).
L_DEFAULT, R_DEFAULT, LR_DEFAULT, MOMENTUM_DEFAULT = 200, 10, 10.0, 0.7
# dataset -> builder defaults (the registry's DefenseSpec.options): the paper's MNIST setting for
# every dataset (Fashion-MNIST: the same config in their repo; CIFAR-10: ours, they report no
# CIFAR-10 projection). Tables pass smaller L and R where a CPU cannot afford them.
DEFAULTS = {ds: {"L": L_DEFAULT, "R": R_DEFAULT} for ds in ("mnist", "fashion_mnist", "cifar10")}


def _check_number(value, name: str, *, low: float, high: float | None = None, low_open=True, high_open=True):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number, got {value!r}.")
    ok = (value > low if low_open else value >= low) and (
        high is None or (value < high if high_open else value <= high))
    if not ok:
        lo = "(" if low_open else "["
        hi = "inf)" if high is None else (f"{high:g})" if high_open else f"{high:g}]")
        raise ValueError(f"`{name}` must be in {lo}{low:g}, {hi}, got {value!r}.")
    return float(value)


def _check_seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"`seed` must be an int >= 0 or None (fresh random starts at every call), got {seed!r}.")
    return None if seed is None else int(seed)


@keras.saving.register_keras_serializable(package="keras_restore")
class DefenseGANProjection(keras.layers.Layer):
    """Defense-GAN's projection ``x -> G(z*)`` (module docstring), gradient BPDA identity.

    Args:
        generator: ``(batch, latent_dim) -> images`` Keras model, images of the input's shape.
        L: gradient steps per start (200), an int >= 1.
        R: random starts per image (10), an int >= 1.
        learning_rate: step size (10), > 0.
        momentum: momentum of the steps (0.7), in [0, 1).
        seed: seed of the starts (an int >= 0; every image gets the same ``R`` draws), or None
            (fresh draws at every call: stochastic).
    """

    gradient = "bpda"

    def __init__(self, generator, L: int = L_DEFAULT, R: int = R_DEFAULT, learning_rate: float = LR_DEFAULT,
                 momentum: float = MOMENTUM_DEFAULT, seed: int | None = 0, **kwargs):
        kwargs.setdefault("dtype", "float32")   # the projection runs in float32 whatever the global policy
        super().__init__(**kwargs)
        if not isinstance(generator, keras.Model):
            raise ValueError(f"`generator` must be a keras.Model (z -> image), got {type(generator).__name__}.")
        if len(generator.input_shape) != 2 or len(generator.output_shape) != 4:
            raise ValueError(f"`generator` must map latent vectors (batch, latent_dim) to images (batch, height, "
                             f"width, channels); it maps {generator.input_shape} to {generator.output_shape}.")
        self.generator = generator
        self.latent_dim = int(generator.input_shape[-1])
        self.image_shape = tuple(int(d) for d in generator.output_shape[1:])
        self.L = check_positive_int(L, "L")
        self.R = check_positive_int(R, "R")
        self.learning_rate = _check_number(learning_rate, "learning_rate", low=0.0)
        self.momentum = _check_number(momentum, "momentum", low=0.0, high=1.0, low_open=False)
        self.seed = _check_seed(seed)
        self._run = tf.function(self._project, reduce_retracing=True)

    # ------------------------------------------------------------------ the projection
    def _starts(self, n):
        std = 1.0 / math.sqrt(self.latent_dim)      # their N(0, 1 / latent_dim)
        if self.seed is None:
            return tf.random.normal([n * self.R, self.latent_dim], stddev=std)
        z = tf.random.stateless_normal([1, self.R, self.latent_dim], seed=[self.seed, 0], stddev=std)
        return tf.reshape(tf.tile(z, [n, 1, 1]), [n * self.R, self.latent_dim])

    def _project(self, x, trainable, non_trainable):
        def G(z):
            out, _ = self.generator.stateless_call(trainable, non_trainable, z, training=False)
            return tf.cast(out, tf.float32)

        n = tf.shape(x)[0]
        axes = list(range(1, len(self.image_shape) + 1))
        target = tf.repeat(x, self.R, axis=0)       # image i -> rows i R .. i R + R - 1, as their tiling
        lr, momentum = tf.constant(self.learning_rate), tf.constant(self.momentum)

        def step(i, z, v):
            with tf.GradientTape() as tape:
                tape.watch(z)
                loss = tf.reduce_sum(tf.reduce_mean(tf.square(G(z) - target), axis=axes))
            v = momentum * v + tape.gradient(loss, z)
            return i + 1, z - lr * v, v

        z0 = self._starts(n)
        _, z, _ = tf.while_loop(lambda i, *_: i < self.L, step, (tf.constant(0), z0, tf.zeros_like(z0)),
                                parallel_iterations=1)
        images = G(z)
        errors = tf.reshape(tf.reduce_mean(tf.square(images - target), axis=axes), [n, self.R])
        best = tf.argmin(errors, axis=1, output_type=tf.int32)
        pick = lambda t: tf.gather(tf.reshape(t, [n, self.R, *t.shape[1:]]), best, axis=1, batch_dims=1)  # noqa: E731
        return pick(images), pick(z), tf.gather(errors, best, axis=1, batch_dims=1)

    def project(self, x):
        """``(G(z*), z*, mse)`` for the images ``x`` (a batch, tensor or array): the projected images,
        their latent vectors and per-image ``mean((G(z*) - x)^2)``."""
        x = tf.stop_gradient(tf.cast(tf.convert_to_tensor(x), tf.float32))
        if tuple(x.shape[1:]) != self.image_shape:
            raise ValueError(f"`x` must be images of shape {self.image_shape} (the generator's), got "
                             f"{tuple(x.shape[1:])}.")
        # Constants for the loop: no outer tape records the L steps through the generator's variables.
        trainable = [tf.stop_gradient(tf.convert_to_tensor(v)) for v in self.generator.trainable_variables]
        non_trainable = [tf.stop_gradient(tf.convert_to_tensor(v)) for v in self.generator.non_trainable_variables]
        return self._run(x, trainable, non_trainable)

    # ------------------------------------------------------------------ Keras layer
    def build(self, input_shape):
        if tuple(input_shape[1:]) != self.image_shape:
            raise ValueError(f"Layer {self.name!r} projects images of shape {self.image_shape} (its generator's), "
                             f"got input shape {tuple(input_shape[1:])}.")
        self.built = True

    def call(self, inputs):
        inputs = tf.cast(inputs, tf.float32)
        return _straight_through(inputs, self.project(inputs)[0])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "generator": keras.saving.serialize_keras_object(self.generator),
                "L": self.L, "R": self.R, "learning_rate": self.learning_rate, "momentum": self.momentum,
                "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        return cls(**config)


class DefenseGAN(Defense):
    """Defense-GAN: :class:`DefenseGANProjection` -> classifier (a :class:`Defense` with that one
    preprocessing step and no restorer). ``stochastic`` follows the projection's ``seed`` (None:
    stochastic). :meth:`restore` projects the images without padding the last batch."""

    def __init__(self, classifier: keras.Model, projection: DefenseGANProjection, *, batch_size: int = 128,
                 name: str = "defense_gan"):
        if not isinstance(projection, DefenseGANProjection):
            raise ValueError(f"`projection` must be a DefenseGANProjection, got {type(projection).__name__}.")
        super().__init__(classifier, None, [projection], name=name, stochastic=projection.seed is None,
                         batch_size=batch_size, fast=False)
        self.projection = projection
        self.generator = projection.generator

    def restore(self, x) -> np.ndarray:
        x = check_images(x, "x", shape=self.input_shape)
        return np.concatenate([self.projection.project(x[i:i + self.batch_size])[0].numpy()
                               for i in range(0, len(x), self.batch_size)])


def defense_gan(classifier: keras.Model, *, dataset: str, restorer=None, L: int | None = None, R: int | None = None,
                learning_rate: float = LR_DEFAULT, momentum: float = MOMENTUM_DEFAULT, seed: int | None = 0,
                fast=True, batch_size: int = 128, **options) -> DefenseGAN:
    """Defense-GAN (Samangouei et al. 2018) in front of ``classifier`` (module docstring).

    Args:
        classifier: the logits classifier.
        dataset: ``"mnist"``, ``"fashion_mnist"`` or ``"cifar10"`` (defaults of ``L``, ``R`` and the
            shipped generator).
        restorer: the trained generator ``z -> image`` (default: the model zoo's
            ``defense_gan_<dataset>``; "restorer" is the registry's common name of a defense's
            trained network).
        L, R: steps and random starts (default: the dataset's, :data:`DEFAULTS`, the paper's 200 and 10).
        learning_rate, momentum, seed: of the projection (:class:`DefenseGANProjection`).
        fast: accepted for the registry's common signature; unused (no restorer to clone).
        batch_size: images projected per call (``R`` times as many generator inputs).
    """
    from keras_restore.defenses.registry import DEFENSES

    if options:
        raise ValueError(f"Defense 'defense_gan' takes no options {', '.join(sorted(options))}; its options are "
                         f"L, R, learning_rate, momentum, seed, batch_size.")
    spec = DEFENSES["defense_gan"]
    defaults = spec.defaults(dataset)
    L = defaults["L"] if L is None else L
    R = defaults["R"] if R is None else R
    if restorer is None:
        from keras_restore import models

        restorer = models.load_model(spec.restorer_name(dataset))
    if not isinstance(restorer, keras.Model):
        raise ValueError(f"`restorer` must be the trained Defense-GAN generator (a keras.Model, z -> image), got "
                         f"{type(restorer).__name__}.")
    projection = DefenseGANProjection(restorer, L=L, R=R, learning_rate=learning_rate, momentum=momentum, seed=seed,
                                      name="defense_gan_projection")
    c_shape = tuple(classifier.input_shape[1:]) if isinstance(classifier, keras.Model) else None
    if c_shape is not None and projection.image_shape != c_shape:
        raise ValueError(f"`restorer` (the generator) makes images of shape {projection.image_shape} but "
                         f"`classifier` expects {c_shape}; they must match.")
    return DefenseGAN(classifier, projection, batch_size=batch_size)
