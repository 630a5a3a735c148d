"""Adversarial training data made on the fly (papers/003, Bana et al. 2021, Sec. 4).

"Every step of the training, a batch of 96 images is split into 32 for each of the three attacking
models. These 32 images are divided into 16-16 for two attacks FGSM and R-FGSM, for each model.
Furthermore, every image in these 16 images is attacked with a different eps" -- eps "sampled
uniformly from integers in [1, E_max]" on the 0-255 scale.

:class:`OnlineAttackGAN` is a :class:`~keras_restore.training.gan.GANRestorer` whose data are
``(x_clean, labels)`` batches: ``train_step`` makes ``x_adv`` inside the step with the frozen
attacked models, then runs the parent's losses on ``(x_adv, (x_clean, labels))``.

Batch layout (:func:`batch_layout`), for ``M`` attacked models, ``A`` attacks and ``per_cell``
images per (model, attack) cell: image ``i`` of the batch belongs to cell ``c = (i // per_cell) %
(M * A)``, model ``c // A``, attack ``c % A``. With the paper's 3 x 2 x 16 = 96: images 0-15 are
FGSM on model 0, 16-31 R-FGSM on model 0, 32-47 FGSM on model 1, ... 80-95 R-FGSM on model 2. A
shorter last batch of an epoch fills the first cells.

Per-image eps: ``eps_i = k_i / 255``, ``k_i`` uniform on the integers ``1..E_max``
(``tf.random.stateless_uniform``, integer dtype), the images on [0, 1].

Attacks (single gradient step each, true labels, L-inf, clipped to [0, 1]):

* FGSM (Goodfellow et al. 2015, the paper's Eq. 1): ``x + eps * sign(grad_x CE(f(x), y))``;
* R-FGSM (Tramer et al. 2018, Eq. 2-3): ``x' = clip(x + alpha * sign(N(0, I)))``, then
  ``clip(x' + (eps - alpha) * sign(grad_x' CE(f(x'), y)))``, ``alpha = eps / 2`` (per image).

The package's attacks (:mod:`keras_restore.attacks.fgsm` / ``rfgsm``, CleverHans'
``fast_gradient_method``) take one scalar ``eps`` per call and validate it as a Python float, so
the per-image step is written here: one input gradient of the cross-entropy per attacked model on
its own images (``tf.dynamic_partition`` / ``dynamic_stitch``), every image one gradient, as
many gradients as the batch has images.

Seeds: training step ``t`` uses the stateless seed ``(seed, t)`` (``t`` = the generator optimizer's
iteration count, so a resumed run continues the same sequence); validation uses ``(seed + 1, h)``
with ``h`` a fixed function of the batch's labels and pixels, so the held-out set is attacked the
same way at every epoch (the same images get the same eps, attack and noise).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_restore.training.gan import GANRestorer

ATTACKS = ("fgsm", "rfgsm")


def check_e_max(e_max) -> int:
    if isinstance(e_max, bool) or not isinstance(e_max, int) or not 1 <= e_max <= 255:
        raise ValueError(f"`e_max` must be an integer in [1, 255] (eps on the 0-255 scale), got {e_max!r}.")
    return e_max


def check_attacks(attacks) -> tuple:
    attacks = tuple(attacks) if isinstance(attacks, (list, tuple)) else attacks
    if not isinstance(attacks, tuple) or not attacks or any(a not in ATTACKS for a in attacks) \
            or len(set(attacks)) != len(attacks):
        raise ValueError(f"`attacks` must be distinct names among {', '.join(ATTACKS)}, got {attacks!r}.")
    return attacks


def batch_layout(batch: int, n_models: int, n_attacks: int, per_cell: int):
    """``(model_index, attack_index)`` int32 tensors of length ``batch`` (module docstring)."""
    cell = (tf.range(batch) // per_cell) % (n_models * n_attacks)
    return cell // n_attacks, cell % n_attacks


def sample_eps(batch: int, e_max: int, seed):
    """Per-image eps on [0, 1]: integers uniform on ``1..e_max``, divided by 255."""
    k = tf.random.stateless_uniform([batch], seed, minval=1, maxval=e_max + 1, dtype=tf.int32)
    return tf.cast(k, tf.float32) / 255.0


def input_gradient_sign(model, x, labels):
    """``sign(grad_x CE(model(x), labels))`` (float32, logits model, inference mode)."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = tf.cast(model(x, training=False), tf.float32)
        loss = tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
    return tf.sign(tape.gradient(loss, x))


def online_adversarial(models, x, labels, *, e_max: int, attacks=ATTACKS, per_cell: int = 16, seed=(0, 0),
                       rfgsm_alpha: float = 0.5):
    """One batch of papers/003's training inputs: returns ``(x_adv, eps, model_index, attack_index)``.

    ``models``: the frozen attacked logits models; ``x``: clean images in [0, 1]; ``labels``: true
    labels; ``seed``: a stateless seed pair; ``rfgsm_alpha``: R-FGSM's alpha as a fraction of eps."""
    x = tf.convert_to_tensor(x, tf.float32)
    labels = tf.cast(tf.reshape(labels, [-1]), tf.int64)
    batch = tf.shape(x)[0]
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int32)
    model_ix, attack_ix = batch_layout(batch, len(models), len(attacks), per_cell)
    eps = sample_eps(batch, e_max, tf.stack([seed[0], seed[1]]))
    is_rfgsm = tf.zeros([batch], tf.bool)
    if "rfgsm" in attacks:
        is_rfgsm = tf.equal(attack_ix, attacks.index("rfgsm"))
    alpha = tf.where(is_rfgsm, rfgsm_alpha * eps, 0.0)
    noise = tf.random.stateless_normal(tf.shape(x), tf.stack([seed[0] + 7919, seed[1]]))
    bcast = lambda v: tf.reshape(v, [-1, 1, 1, 1])  # noqa: E731
    start = tf.clip_by_value(x + bcast(alpha) * tf.sign(noise), 0.0, 1.0)
    parts_x = tf.dynamic_partition(start, model_ix, len(models))
    parts_y = tf.dynamic_partition(labels, model_ix, len(models))
    parts_i = tf.dynamic_partition(tf.range(batch), model_ix, len(models))
    # A model may get no image (a short last batch): skip its gradient (BatchNorm refuses empty batches).
    grads = [tf.cond(tf.size(py) > 0, lambda m=m, px=px, py=py: input_gradient_sign(m, px, py),
                     lambda px=px: tf.zeros_like(px)) for m, px, py in zip(models, parts_x, parts_y)]
    grad = tf.dynamic_stitch(parts_i, grads)
    x_adv = tf.clip_by_value(start + bcast(eps - alpha) * grad, 0.0, 1.0)
    return tf.stop_gradient(x_adv), eps, model_ix, attack_ix


class OnlineAttackGAN(GANRestorer):
    """:class:`GANRestorer` trained on ``(x_clean, labels)``; ``x_adv`` made inside each step.

    Args (beside the parent's):
        attacked: the frozen attacked logits models (papers/003: Inception-v3, ResNet-18, VGG-13).
        e_max: largest eps on the 0-255 scale (eps per image uniform on the integers ``1..e_max``).
        attacks: ``("fgsm", "rfgsm")`` or a subset.
        per_cell: images per (model, attack) cell (16: batch 96 with 3 models x 2 attacks).
        rfgsm_alpha: R-FGSM's alpha / eps (0.5: Tramer et al.'s alpha = eps / 2).
        seed: the stateless seed of eps, layout noise and R-FGSM's random step.
    """

    def __init__(self, generator, discriminator=None, classifier=None, *, attacked=(), e_max: int = 16,
                 attacks=ATTACKS, per_cell: int = 16, rfgsm_alpha: float = 0.5, seed: int = 0, **kwargs):
        super().__init__(generator, discriminator, classifier, **kwargs)
        attacked = list(attacked)
        if not attacked:
            raise ValueError("`attacked` must hold at least one frozen attacked model.")
        self.e_max = check_e_max(e_max)
        self.attacks = check_attacks(attacks)
        if isinstance(per_cell, bool) or not isinstance(per_cell, int) or per_cell < 1:
            raise ValueError(f"`per_cell` must be an integer >= 1, got {per_cell!r}.")
        if not isinstance(rfgsm_alpha, (int, float)) or not 0 <= rfgsm_alpha <= 1:
            raise ValueError(f"`rfgsm_alpha` must be in [0, 1] (a fraction of eps), got {rfgsm_alpha!r}.")
        for m in attacked:
            m.trainable = False
        self.attacked, self.per_cell, self.rfgsm_alpha, self.seed = attacked, per_cell, float(rfgsm_alpha), int(seed)

    @property
    def paper_batch(self) -> int:
        """The paper's batch: models x attacks x per_cell (96)."""
        return len(self.attacked) * len(self.attacks) * self.per_cell

    def make_adversarial(self, x_clean, labels, seed):
        return online_adversarial(self.attacked, x_clean, labels, e_max=self.e_max, attacks=self.attacks,
                                  per_cell=self.per_cell, seed=seed, rfgsm_alpha=self.rfgsm_alpha)[0]

    def train_step(self, data):
        x_clean, labels = data
        step = tf.cast(self.g_optimizer.iterations, tf.int32)
        x_adv = self.make_adversarial(x_clean, labels, tf.stack([tf.constant(self.seed, tf.int32), step]))
        return super().train_step((x_adv, (x_clean, labels)))

    def test_step(self, data):
        x_clean, labels = data
        # A fixed function of the batch (validation is not shuffled): the same attack every epoch.
        h = tf.cast(tf.reduce_sum(tf.cast(labels, tf.int32) * (tf.range(tf.shape(labels)[0]) + 1)), tf.int32) \
            + tf.cast(tf.reduce_sum(x_clean) * 16.0, tf.int32)
        x_adv = self.make_adversarial(x_clean, labels, tf.stack([tf.constant(self.seed + 1, tf.int32), h]))
        return super().test_step((x_adv, (x_clean, labels)))
