"""The standard CIFAR-10 classification recipe (issue 21): augmentation, SGD-Nesterov, label smoothing."""

import numpy as np
import pytest


def test_crop_flip_shifts_and_flips_each_image_on_its_own():
    from keras_restore.training.loop import augmentation

    aug = augmentation("crop_flip", (32, 32, 3), seed=0)
    x = np.random.default_rng(0).random((16, 32, 32, 3)).astype("float32")
    out = np.asarray(aug(x, training=True))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    changed = [not np.allclose(o, i) for o, i in zip(out, x)]
    assert sum(changed) >= 12            # almost every image shifted or flipped
    # each output is its input moved by whole pixels (nearest) and/or mirrored: its values come from it
    for o, i in zip(out[:4], x[:4]):
        nonzero = o[o > 0]
        assert np.isin(nonzero, i).mean() > 0.99
    # per image, not one transformation for the whole batch (keras.layers.RandomCrop's behaviour)
    same = np.asarray(aug(np.repeat(x[:1], 8, axis=0), training=True))
    assert len({same[k].tobytes() for k in range(8)}) > 2
    assert np.allclose(np.asarray(aug(x, training=False)), x)


def test_augmentation_and_recipe_arguments_are_checked():
    from keras_restore.training import Classification
    from keras_restore.training.loop import augmentation

    assert augmentation("none", (32, 32, 3)) is None
    with pytest.raises(ValueError, match="`augment` must be one of none, crop_flip, got 'mixup'"):
        augmentation("mixup", (32, 32, 3))
    with pytest.raises(ValueError, match="`optimizer` must be 'adam' or 'sgd_nesterov', got 'rmsprop'"):
        Classification(optimizer="rmsprop")
    with pytest.raises(ValueError, match=r"`label_smoothing` must be in \[0, 1\)"):
        Classification(label_smoothing=1.0)
    with pytest.raises(ValueError, match="`weight_decay` must be >= 0"):
        Classification(weight_decay=-1e-4)


def test_plain_recipe_keeps_its_fingerprint_and_cifar_recipe_differs():
    from keras_restore import io
    from keras_restore.training import get_recipe

    plain, cifar = get_recipe("classifier"), get_recipe("classifier_cifar")
    # The fingerprint every cached MNIST target was keyed by before the recipe had options.
    assert plain.fingerprint() == io.key("Classification", {}, ["adam", "tf.data"])
    assert cifar.fingerprint() != plain.fingerprint()
    assert "sgd_nesterov" in cifar.stages()[0] and "crop_flip" in cifar.stages()[0]


def test_cifar_recipe_trains_with_smoothing_and_records_it():
    import keras

    from keras_restore import training

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 256)
    x = np.clip(rng.normal(0.2 + 0.6 * y[:, None, None, None], 0.05, (256, 32, 32, 3)), 0, 1).astype("float32")
    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3))   # logistic regression on the mean brightness: no dead units to get stuck on
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(inputs)))
    cfg = training.TrainConfig(epochs=6, batch_size=32, learning_rate=0.5, lr_schedule="cosine", seed=0)
    record = training.get_recipe("classifier_cifar").train(model, training.TrainData(x_clean=x, labels=y), cfg,
                                                            verbose=0)
    assert record["augment"] == "crop_flip" and record["recipe"]["optimizer"] == "sgd_nesterov"
    hist = record["history"]
    # brightness separates the classes: a working loop learns them, a broken one stays near chance
    assert hist["accuracy"][-1] > 0.85 and hist["loss"][-1] < hist["loss"][0]
    assert isinstance(model.optimizer, keras.optimizers.SGD) and model.optimizer.nesterov


def test_cosine_warmup_schedule_rises_for_one_epoch_then_decays():
    from keras_restore.training import TrainConfig

    cfg = TrainConfig(epochs=4, batch_size=10, learning_rate=0.1, lr_schedule="cosine_warmup")
    schedule = cfg.learning_rate_for(100)   # 10 steps per epoch, 40 in all
    lrs = [float(schedule(step)) for step in (0, 5, 10, 25, 40)]
    assert lrs[0] == 0.0 and abs(lrs[1] - 0.05) < 1e-6 and abs(lrs[2] - 0.1) < 1e-6
    assert 0.0 < lrs[3] < 0.1 and lrs[4] < 1e-6
    with pytest.raises(ValueError, match="`lr_schedule` must be one of constant, cosine, cosine_warmup"):
        TrainConfig(lr_schedule="step")
