"""WGAN-GP training (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", Algorithm 1) of
a generator ``z -> image``, as a ``keras.Model`` subclass overriding ``train_step`` (the pattern of
:class:`keras_restore.training.gan.GANRestorer`), so ``fit``, ``BackupAndRestore`` and the
package's one loop (:func:`keras_restore.training.loop.fit`) work unchanged.

Defense-GAN (Samangouei et al. 2018) trains its generator this way; the settings are theirs
(github.com/kabkabm/defensegan, ``models/gan.py`` mode ``wgan-gp`` and ``experiments/cfgs/gans``),
which are WGAN-GP's own:

* critic loss ``mean D(G(z)) - mean D(x) + gp_weight * mean((||grad_x^ D(x^)||_2 - 1)^2)``, ``x^`` a
  uniform random interpolate between each real image and a generated one, ``gp_weight`` 10;
  the norm is taken over all pixels of an image, as in Gulrajani et al.'s code (its images are
  flattened, so their ``reduction_indices=[1]`` is all pixels; Defense-GAN's code keeps that
  ``[1]`` on 4-D images, a norm per image column, which is not followed here);
* generator loss ``-mean D(G(z))``, ``z ~ N(0, I)`` of ``latent_dim`` (128);
* Adam(1e-4, beta_1 0.5, beta_2 0.9) for both networks;
* ``n_critic`` (5) critic updates per generator update. **Scheme** (the simplest that keeps one
  batch per ``train_step``): every ``train_step`` updates the critic once on its batch of real
  images; when that makes the critic's update count a multiple of ``n_critic`` the same step
  then updates the generator once (with a fresh ``z`` of the batch's size). So the critic sees
  a fresh batch for each of its ``n_critic`` updates (Algorithm 1), an epoch is one pass of the
  critic over the data, and the generator makes ``steps // n_critic`` updates per epoch. The count
  is the critic optimizer's ``iterations`` (saved with it, so a resumed run keeps the rhythm).
  Their loop (generator step first, skipped at iteration 0, then 5 critic steps) differs only in
  which of the two comes first.

Metrics: ``d_loss`` (the critic loss above, with the penalty), ``gp`` (the penalty, unweighted),
``g_loss`` (``-mean D(G(z))`` on every step; the generator is *updated* only on every
``n_critic``-th), ``w_distance`` (``mean D(x) - mean D(G(z))``, the critic's estimate of the
Wasserstein distance); validation: ``w_distance`` on held-out real images.

Mixed precision: a generator built under ``mixed_bfloat16`` outputs bfloat16; its output is cast
to float32 (:meth:`WGANGP.call`) before it meets the float32 images and critic. Build the critic in
float32: the gradient penalty differentiates it twice.
"""

from __future__ import annotations

import keras
import tensorflow as tf

# WGAN-GP's (and Defense-GAN's) optimizer for both networks.
ADAM = {"learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.9}


def wgan_adam(learning_rate: float = ADAM["learning_rate"]) -> keras.optimizers.Adam:
    """Adam(learning_rate, beta_1 0.5, beta_2 0.9), WGAN-GP's optimizer."""
    return keras.optimizers.Adam(learning_rate, beta_1=ADAM["beta_1"], beta_2=ADAM["beta_2"])


class WGANGP(keras.Model):
    """Generator + critic trained with WGAN-GP (scheme and settings in the module docstring).

    Args:
        generator: ``(batch, latent_dim) -> images`` Keras model (e.g.
            :func:`keras_restore.models.defense_gan.defense_gan_generator`).
        critic: ``images -> (batch, 1)`` scores, no sigmoid, no BatchNorm.
        latent_dim: size of ``z``; the generator's input size by default (must match it).
        gp_weight: weight of the gradient penalty (lambda, 10), a number >= 0.
        n_critic: critic updates per generator update (5), an int >= 1.
        seed: seed of the ``z`` and interpolation draws (a ``keras.random.SeedGenerator``, saved with
            the model's state, so a resumed run continues the same stream).

    Data: batches of real images ``x`` or ``(x, anything)`` (the second item is ignored).
    """

    METRICS = ("d_loss", "g_loss", "gp", "w_distance")

    def __init__(self, generator, critic, latent_dim: int | None = None, *, gp_weight: float = 10.0,
                 n_critic: int = 5, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        for what, m in (("generator", generator), ("critic", critic)):
            if not isinstance(m, keras.Model):
                raise ValueError(f"`{what}` must be a keras.Model, got {type(m).__name__}.")
        if len(generator.input_shape) != 2:
            raise ValueError(f"`generator` must take latent vectors of shape (batch, latent_dim), got input shape "
                             f"{generator.input_shape}.")
        g_latent = int(generator.input_shape[-1])
        if latent_dim is None:
            latent_dim = g_latent
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"`latent_dim` must be a positive int, got {latent_dim!r}.")
        if latent_dim != g_latent:
            raise ValueError(f"`latent_dim` is {latent_dim} but the generator takes z of size {g_latent}.")
        if tuple(generator.output_shape[1:]) != tuple(critic.input_shape[1:]):
            raise ValueError(f"`generator` makes images of shape {tuple(generator.output_shape[1:])} but `critic` "
                             f"takes {tuple(critic.input_shape[1:])}; they must match.")
        if tuple(critic.output_shape[1:]) != (1,):
            raise ValueError(f"`critic` must output one score per image, shape (batch, 1), got {critic.output_shape}.")
        if isinstance(gp_weight, bool) or not isinstance(gp_weight, (int, float)) or gp_weight < 0:
            raise ValueError(f"`gp_weight` must be a number >= 0, got {gp_weight!r}.")
        if isinstance(n_critic, bool) or not isinstance(n_critic, int) or n_critic < 1:
            raise ValueError(f"`n_critic` must be an int >= 1, got {n_critic!r}.")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"`seed` must be an int >= 0, got {seed!r}.")
        self.generator, self.critic = generator, critic
        self.latent_dim, self.gp_weight, self.n_critic = latent_dim, float(gp_weight), n_critic
        self.seed_generator = keras.random.SeedGenerator(seed, name="wgan_seed")
        self.trackers = {k: keras.metrics.Mean(name=k) for k in self.METRICS}
        # Its own name: Keras reads epoch logs back from the metrics by name, and two metrics named
        # "w_distance" would report the (reset) validation one as the training value.
        self.val_tracker = keras.metrics.Mean(name="held_out_w_distance")
        # The wrapper owns no weights of its own: built once its networks are (BackupAndRestore refuses
        # an unbuilt model; the pipeline always gives a checkpoint dir).
        if generator.built and critic.built:
            self.built = True

    def compile(self, g_optimizer=None, d_optimizer=None, **kwargs):
        """Both optimizers default to :func:`wgan_adam` (Adam 1e-4, 0.5, 0.9)."""
        g_optimizer = g_optimizer if g_optimizer is not None else wgan_adam()
        d_optimizer = d_optimizer if d_optimizer is not None else wgan_adam()
        if g_optimizer is d_optimizer:
            raise ValueError("`g_optimizer` and `d_optimizer` must be two optimizers (each keeps its own moments).")
        # Keras' own `optimizer` is the critic's (its `iterations` = train steps), not a default RMSprop
        # that nothing uses and that a resumed run would warn about (built at load time, unbuilt when saved).
        super().compile(optimizer=d_optimizer, **kwargs)
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        # Built now, so a resumed fit (BackupAndRestore) gets their moments (and the critic's update
        # count) back, not only the weights.
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.critic.trainable_variables)

    @property
    def metrics(self):
        return [*self.trackers.values(), self.val_tracker]

    def call(self, z, training=False):
        """``G(z)`` in float32 (a mixed-precision generator's bfloat16 output is cast)."""
        return tf.cast(self.generator(z, training=training), tf.float32)

    def _z(self, n):
        return keras.random.normal((n, self.latent_dim), seed=self.seed_generator)

    def _score(self, x, training):
        return tf.cast(self.critic(x, training=training), tf.float32)

    @staticmethod
    def _real(data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        return tf.cast(x, tf.float32)

    def _generator_step(self, n):
        with tf.GradientTape() as tape:
            g_loss = -tf.reduce_mean(self._score(self(self._z(n), training=True), training=False))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        return g_loss

    def train_step(self, data):
        real = self._real(data)
        n = tf.shape(real)[0]
        fake = self(self._z(n), training=True)
        alpha = keras.random.uniform((n, 1, 1, 1), seed=self.seed_generator)
        between = real + alpha * (fake - real)
        with tf.GradientTape() as tape:
            d_real = tf.reduce_mean(self._score(real, training=True))
            d_fake = tf.reduce_mean(self._score(fake, training=True))
            with tf.GradientTape() as inner:
                inner.watch(between)
                d_between = tf.reduce_sum(self._score(between, training=True))
            slopes = tf.sqrt(tf.reduce_sum(tf.square(inner.gradient(d_between, between)), axis=[1, 2, 3]) + 1e-12)
            gp = tf.reduce_mean(tf.square(slopes - 1.0))
            d_loss = d_fake - d_real + self.gp_weight * gp
        grads = tape.gradient(d_loss, self.critic.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.critic.trainable_weights))
        g_loss = tf.cond(
            tf.equal(self.d_optimizer.iterations % self.n_critic, 0),
            lambda: self._generator_step(n),
            lambda: -tf.reduce_mean(self._score(self(self._z(n), training=False), training=False)))
        for k, v in (("d_loss", d_loss), ("g_loss", g_loss), ("gp", gp), ("w_distance", d_real - d_fake)):
            self.trackers[k].update_state(v)
        return {k: t.result() for k, t in self.trackers.items()}

    def test_step(self, data):
        real = self._real(data)
        fake = self(self._z(tf.shape(real)[0]), training=False)
        self.val_tracker.update_state(tf.reduce_mean(self._score(real, training=False))
                                      - tf.reduce_mean(self._score(fake, training=False)))
        return {"w_distance": self.val_tracker.result()}
