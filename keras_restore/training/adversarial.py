"""Adversarial training of a classifier: examples made inside ``train_step`` on the current weights.

* FGSM adversarial training, Goodfellow et al. (2015) Eq. 5 (papers/000 Eq. 5): the mixed
  objective ``alpha J(x, y) + (1 - alpha) J(x + eps sign(grad J), y)``, alpha = 0.5;
* PGD adversarial training, Madry et al. (2018): ``J(x_adv, y)`` only (``clean_weight=0``), PGD
  with a random start;
* BIM adversarial training (papers/002 Table 4): BIM examples, mixed objective.

The examples come from the package's attack graphs (:mod:`keras_restore.attacks`: CleverHans'
FGM/PGD iteration), traced into the training step; the classifier is called with
``training=False`` while attacking (BatchNorm statistics are not updated by the attack).
"""

from __future__ import annotations

import keras
import tensorflow as tf

ATTACKS = ("fgsm", "pgd", "bim")


class AdversarialTrainer(keras.Model):
    """Wraps ``classifier``; ``fit`` trains it on ``clean_weight`` x clean + (1 - clean_weight) x
    adversarial cross-entropy. ``params``: the attack's parameters (eps, eps_iter, nb_iter, norm, ...)."""

    def __init__(self, classifier, attack: str, params: dict, *, clean_weight: float = 0.5, seed: int = 0,
                 **kwargs):
        super().__init__(**kwargs)
        from keras_restore.attacks import _MODULES

        if attack not in ATTACKS:
            raise ValueError(f"`attack` must be one of {', '.join(ATTACKS)}, got {attack!r}.")
        if not isinstance(clean_weight, (int, float)) or not 0.0 <= clean_weight <= 1.0:
            raise ValueError(f"`clean_weight` must be in [0, 1], got {clean_weight!r}.")
        module = _MODULES[attack]
        self.params = module._validate(dict(params))
        self.classifier, self.attack_name, self.clean_weight = classifier, attack, float(clean_weight)
        # its own tf.function: Keras traces train_step without AutoGraph, the attack loops need it
        self._attack = tf.function(module._graph(lambda t: self.classifier(t, training=False), self.params))
        self._seed = int(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.clean_acc = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self.adv_acc = keras.metrics.SparseCategoricalAccuracy(name="adversarial_accuracy")
        # The wrapper owns no weights of its own: built once the classifier is (BackupAndRestore, which
        # resumes an interrupted fit, refuses an unbuilt model).
        if classifier.built:
            self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker, self.clean_acc, self.adv_acc]

    def call(self, x, training=False):
        return self.classifier(x, training=training)

    def train_step(self, data):
        x, y = data
        y = tf.cast(y, tf.int64)
        seed = tf.stack([tf.constant(self._seed, tf.int64), tf.cast(self.optimizer.iterations, tf.int64)])
        x_adv = tf.stop_gradient(self._attack(x, y, tf.fill(tf.shape(y), tf.constant(-1, tf.int64)), seed))
        ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        with tf.GradientTape() as tape:
            adv_logits = self.classifier(x_adv, training=True)
            loss = (1.0 - self.clean_weight) * ce(y, adv_logits)
            if self.clean_weight > 0:
                clean_logits = self.classifier(x, training=True)
                loss += self.clean_weight * ce(y, clean_logits)
        grads = tape.gradient(loss, self.classifier.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.classifier.trainable_weights))
        self.loss_tracker.update_state(loss)
        self.adv_acc.update_state(y, adv_logits)
        logs = {"loss": self.loss_tracker.result(), "adversarial_accuracy": self.adv_acc.result()}
        if self.clean_weight > 0:   # the adversarial-only objective makes no clean pass to report
            self.clean_acc.update_state(y, clean_logits)
            logs["accuracy"] = self.clean_acc.result()
        return logs

    def test_step(self, data):
        x, y = data
        logits = self.classifier(x, training=False)
        self.loss_tracker.update_state(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))
        self.clean_acc.update_state(y, logits)
        return {"loss": self.loss_tracker.result(), "accuracy": self.clean_acc.result()}
