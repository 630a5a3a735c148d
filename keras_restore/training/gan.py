"""GAN training of a restorer: a ``keras.Model`` subclass overriding ``train_step`` (the keras-io
GAN / pix2pix pattern), so ``fit``, callbacks, ``BackupAndRestore`` and keep-best work unchanged.

One model covers the GAN restorers of the papers and baselines (weights in
:class:`keras_restore.training.recipes.GAN`):

* pixel loss (L1 or MSE) of ``G(x_adv)`` vs ``x_clean`` (pix2pix, APE-GAN, papers/003 L1,
  papers/004 "repair");
* adversarial loss from a discriminator ``D`` (LSGAN: MSE to 1/0, Mao et al. 2017, papers/003;
  or binary cross-entropy on logits, APE-GAN / papers/004);
* classification loss: cross-entropy of a frozen classifier on ``G(x_adv)`` (papers/003, 004);
* feature matching: MSE between the frozen classifier's penultimate features of ``G(x_adv)`` and
  ``x_clean`` (papers/003 post-training, "perceptual loss");
* recovery: pixel loss of ``G(x_clean)`` vs ``x_clean``; isomorphic: pixel loss of ``G(x_adv)`` vs
  ``G(x_clean)`` (papers/004).

``output="noise"``: the generator outputs the negative perturbation, added to its input and
clipped to [0, 1] (papers/003 "noise reconstruction"); ``"image"``: it outputs the image.
Validation ``loss`` (what keep-best monitors) is the MSE of the restored vs clean images, or with
``val_loss="feature"`` the feature-matching loss alone (a restorer guided by the classifier's features
only, Liao et al. 2018's HGD, whose pixel error is not what it minimises).
"""

from __future__ import annotations

import keras
import tensorflow as tf

OUTPUTS = ("image", "noise")
ADVERSARIAL_LOSSES = ("lsgan", "bce")
PIXEL_LOSSES = ("mse", "l1")
VAL_LOSSES = ("pixel", "feature")


def pixel_loss(kind: str, a, b):
    return tf.reduce_mean(tf.abs(a - b)) if kind == "l1" else tf.reduce_mean(tf.square(a - b))


class GANRestorer(keras.Model):
    """Generator (+ optional discriminator, + optional frozen classifier) trained together.

    Args:
        generator: image -> image (or -> negative noise with ``output="noise"``).
        discriminator: image -> real/fake scores (logits), or None (no adversarial loss).
        classifier: frozen logits classifier for the classification / feature-matching losses, or None.
        weights: dict with keys ``pixel``, ``adversarial``, ``classifier``, ``feature``, ``recovery``,
            ``isomorphic`` (missing keys are 0).
        pixel: ``"l1"`` or ``"mse"``; adversarial: ``"lsgan"`` or ``"bce"``; output: ``"image"`` or ``"noise"``.
        val_loss: the validation ``loss``: ``"pixel"`` (MSE of the restored vs clean images) or ``"feature"``
            (the feature-matching loss; needs ``classifier``).

    Data: ``(x_adv, x_clean)`` or ``(x_adv, (x_clean, labels))`` (labels needed by the classifier loss).
    """

    WEIGHTS = ("pixel", "adversarial", "classifier", "feature", "recovery", "isomorphic")

    def __init__(self, generator, discriminator=None, classifier=None, *, weights=None, pixel="l1",
                 adversarial="lsgan", output="image", val_loss="pixel", **kwargs):
        super().__init__(**kwargs)
        weights = dict(weights or {"pixel": 1.0})
        unknown = sorted(set(weights) - set(self.WEIGHTS))
        if unknown:
            raise ValueError(f"Unknown loss weight(s) {unknown}; expected some of: {', '.join(self.WEIGHTS)}.")
        for k, v in weights.items():
            if not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"Loss weight `{k}` must be a number >= 0, got {v!r}.")
        if pixel not in PIXEL_LOSSES:
            raise ValueError(f"`pixel` must be one of {', '.join(PIXEL_LOSSES)}, got {pixel!r}.")
        if adversarial not in ADVERSARIAL_LOSSES:
            raise ValueError(f"`adversarial` must be one of {', '.join(ADVERSARIAL_LOSSES)}, got {adversarial!r}.")
        if output not in OUTPUTS:
            raise ValueError(f"`output` must be one of {', '.join(OUTPUTS)}, got {output!r}.")
        if val_loss not in VAL_LOSSES:
            raise ValueError(f"`val_loss` must be one of {', '.join(VAL_LOSSES)}, got {val_loss!r}.")
        if val_loss == "feature" and classifier is None:
            raise ValueError("`val_loss='feature'` needs a frozen `classifier`.")
        if weights.get("adversarial", 0) > 0 and discriminator is None:
            raise ValueError("Loss weight `adversarial` > 0 needs a `discriminator`.")
        if (weights.get("classifier", 0) > 0 or weights.get("feature", 0) > 0) and classifier is None:
            raise ValueError("Loss weights `classifier`/`feature` > 0 need a frozen `classifier`.")
        self.generator, self.discriminator, self.classifier = generator, discriminator, classifier
        self.loss_weights_ = {k: float(weights.get(k, 0.0)) for k in self.WEIGHTS}
        self.pixel, self.adversarial, self.output_mode, self.val_loss = pixel, adversarial, output, val_loss
        if classifier is not None:
            classifier.trainable = False
            # The input of the last layer (the logits head), not ``layers[-2].output``: the same tensor for a
            # flat network, and the only one connected to ``classifier.inputs`` when the body is a nested
            # model (the keras.applications CIFAR-10 targets: normalize -> backbone -> logits).
            self.features = keras.Model(classifier.inputs, classifier.layers[-1].input, name="classifier_features")
        self.trackers = {k: keras.metrics.Mean(name=k) for k in ("g_loss", "d_loss", *self.WEIGHTS)}
        self.val_tracker = keras.metrics.Mean(name="loss")
        # The wrapper owns no weights of its own: built once its networks are (BackupAndRestore, which
        # resumes an interrupted fit -- the pipeline always gives a checkpoint dir -- refuses an unbuilt model).
        if generator.built and all(m is None or m.built for m in (discriminator, classifier)):
            self.built = True

    def compile(self, g_optimizer, d_optimizer=None, **kwargs):
        super().compile(**kwargs)
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        if self.discriminator is not None and d_optimizer is None:
            raise ValueError("`d_optimizer` is required when the model has a discriminator.")
        # Built now, so a resumed fit (BackupAndRestore) gets their moments back, not only the weights.
        g_optimizer.build(self.generator.trainable_variables)
        if self.discriminator is not None:
            d_optimizer.build(self.discriminator.trainable_variables)

    @property
    def metrics(self):
        return [*self.trackers.values(), self.val_tracker]

    def call(self, x, training=False):
        # float32 out of a mixed-precision generator (bfloat16 activations): the losses compare it with
        # float32 images and feed it to a float32 discriminator / classifier.
        out = tf.cast(self.generator(x, training=training), tf.float32)
        if self.output_mode == "noise":
            out = tf.clip_by_value(x + out, 0.0, 1.0)
        return out

    @staticmethod
    def _unpack(data):
        x_adv, target = data
        if isinstance(target, (tuple, list)):
            return x_adv, target[0], target[1]
        return x_adv, target, None

    def _adv_loss(self, scores, real: bool):
        scores = tf.cast(scores, tf.float32)
        target = tf.ones_like(scores) if real else tf.zeros_like(scores)
        if self.adversarial == "lsgan":
            return tf.reduce_mean(tf.square(scores - target))
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=scores))

    def train_step(self, data):
        x_adv, x_clean, labels = self._unpack(data)
        w = self.loss_weights_
        d_loss = tf.constant(0.0)
        if self.discriminator is not None and w["adversarial"] > 0:
            fake = self(x_adv, training=True)
            with tf.GradientTape() as tape:
                d_loss = 0.5 * (self._adv_loss(self.discriminator(x_clean, training=True), True)
                                + self._adv_loss(self.discriminator(fake, training=True), False))
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        with tf.GradientTape() as tape:
            fake = self(x_adv, training=True)
            parts = {k: tf.constant(0.0) for k in self.WEIGHTS}
            parts["pixel"] = pixel_loss(self.pixel, fake, x_clean)
            if w["adversarial"] > 0:
                parts["adversarial"] = self._adv_loss(self.discriminator(fake, training=False), True)
            if w["classifier"] > 0:
                if labels is None:
                    raise ValueError("The classifier loss needs labels: give (x_adv, (x_clean, labels)).")
                logits = self.classifier(fake, training=False)
                parts["classifier"] = tf.reduce_mean(
                    keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
            if w["feature"] > 0:
                parts["feature"] = self._feature_loss(fake, x_clean)
            if w["recovery"] > 0 or w["isomorphic"] > 0:
                dec = self(x_clean, training=True)
                parts["recovery"] = pixel_loss(self.pixel, dec, x_clean)
                parts["isomorphic"] = pixel_loss(self.pixel, fake, dec)
            g_loss = tf.add_n([w[k] * parts[k] for k in self.WEIGHTS])
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.trackers["g_loss"].update_state(g_loss)
        self.trackers["d_loss"].update_state(d_loss)
        for k in self.WEIGHTS:
            self.trackers[k].update_state(parts[k])
        return {k: t.result() for k, t in self.trackers.items()}

    def _feature_loss(self, restored, x_clean):
        """MSE between the frozen classifier's penultimate features of ``restored`` and of ``x_clean``."""
        return tf.reduce_mean(tf.square(self.features(restored, training=False) - self.features(x_clean, training=False)))

    def test_step(self, data):
        x_adv, x_clean, _ = self._unpack(data)
        restored = self(x_adv, training=False)
        loss = (self._feature_loss(restored, x_clean) if self.val_loss == "feature"
                else tf.reduce_mean(tf.square(restored - x_clean)))
        self.val_tracker.update_state(loss)
        return {"loss": self.val_tracker.result()}
