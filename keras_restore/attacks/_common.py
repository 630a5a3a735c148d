"""Shared machinery of the attack engine: logits extraction, argument checks, graph cache, batching.

Every attack module provides

* ``_validate(params) -> dict``: checks and normalises its parameters (JSON-friendly values);
* ``_graph(model_fn, params) -> fn(x, y, t, seed)``: the attack as TensorFlow ops, where ``x`` is a
  fixed-size batch, ``y`` the int64 labels (``-1``: use the model's prediction), ``t`` int64 target
  classes (``-1``: none / random), ``seed`` an int64 pair for stateless random ops.

:func:`execute` validates the arrays, compiles ``_graph`` once per model x attack x parameters x batch
shape into a ``tf.function`` with a fixed input signature (cached; :func:`reset_compiled` drops the
cache), pads the last batch to the fixed size so one traced graph serves all batches, and returns
float32 images clipped to ``[clip_min, clip_max]``.
"""

from __future__ import annotations

import math
import weakref

import numpy as np

from keras_restore.validation import check_images, check_labels

NORMS = {"inf": np.inf, "2": 2, "1": 1}

# model (weakly referenced) -> {cache key -> tf.function}
_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
# model -> logits callable (softmax detection is done once per model and `logits` flag)
_LOGITS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def reset_compiled() -> None:
    """Drop every cached attack graph and logits wrapper.

    Cached graphs read the model's variables at run time, so weight updates need no reset; but a
    cached graph keeps its model alive, so call this to free models that are no longer used.
    """
    _CACHE.clear()
    _LOGITS.clear()


# --------------------------------------------------------------------------------------------
# Logits extraction
# --------------------------------------------------------------------------------------------
def _is_softmax_fn(fn) -> bool:
    import keras

    if fn is None:
        return False
    if fn is keras.activations.softmax:
        return True
    return getattr(fn, "__name__", None) == "softmax"


def _pre_softmax(model):
    """Return a callable computing ``model``'s pre-softmax logits, or ``None`` when the model's
    last layer applies no softmax. Handles a final ``Softmax`` layer, ``Activation("softmax")``,
    ``Dense(..., activation="softmax")`` and a nested model whose own last layer is one of these."""
    import keras

    layers = getattr(model, "layers", None)
    if not layers:
        return None
    last = layers[-1]

    def upto(layer):
        # the sub-model from the model's inputs to ``layer``'s input
        return keras.Model(model.inputs, layer.input)

    if isinstance(last, keras.layers.Softmax) or (
        isinstance(last, keras.layers.Activation) and _is_softmax_fn(last.activation)
    ):
        pre = upto(last)
        return lambda x: pre(x, training=False)
    if isinstance(last, keras.layers.Dense) and _is_softmax_fn(last.activation):
        pre = upto(last)

        def dense_logits(x):
            h = pre(x, training=False)
            z = keras.ops.matmul(keras.ops.cast(h, last.kernel.dtype), last.kernel)
            if last.use_bias:
                z = z + last.bias
            return z

        return dense_logits
    if isinstance(last, keras.Model):
        inner = _pre_softmax(last)
        if inner is None:
            return None
        pre = upto(last)
        return lambda x: inner(pre(x, training=False))
    return None


def logits_fn(model, logits=None):
    """A callable ``x -> logits`` for ``model``.

    ``logits=None``: detect a final softmax (see :func:`_pre_softmax`) and attack the pre-softmax
    logits; any other callable is taken to return logits (the CleverHans convention).
    ``logits=True``: the model returns logits, use it as is. ``logits=False``: the model returns
    probabilities; use the detected pre-softmax logits, or ``log(p)`` when the softmax cannot be
    located (``softmax(log p) == p``, so the attacks see the same decision function).
    """
    import keras
    import tensorflow as tf

    if logits is not None and not isinstance(logits, bool):
        raise ValueError(f"`logits` must be True, False or None, got {logits!r}.")
    if not callable(model):
        raise ValueError(f"`model` must be a Keras model or a callable returning logits, got {model!r}.")
    key = ("logits", logits)
    try:
        cached = _LOGITS.get(model)
    except TypeError:
        cached = None
    if cached is not None and key in cached:
        return cached[key]

    is_keras = isinstance(model, keras.Model)
    base = (lambda x: model(x, training=False)) if is_keras else model
    fn = base
    if logits is not True:
        pre = _pre_softmax(model) if is_keras else None
        if pre is not None:
            fn = pre
        elif logits is False:
            fn = lambda x: tf.math.log(tf.maximum(tf.cast(base(x), tf.float32), 1e-30))  # noqa: E731

    def as_float(x, _fn=fn):
        return tf.cast(_fn(x), tf.float32)

    try:
        _LOGITS.setdefault(model, {})[key] = as_float
    except TypeError:
        pass
    return as_float


# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------
def check_norm(norm, allowed=("inf", "2")):
    """Normalise ``norm`` (``np.inf``/``"inf"``/``2``/``"2"``/``1``) to ``"inf"``, ``"2"`` or ``"1"``."""
    if isinstance(norm, str):
        s = norm.strip().lower()
        s = {"linf": "inf", "l_inf": "inf", "np.inf": "inf", "l2": "2", "l1": "1"}.get(s, s)
    elif isinstance(norm, (int, float, np.integer, np.floating)) and not isinstance(norm, bool):
        s = "inf" if math.isinf(norm) and norm > 0 else (str(int(norm)) if float(norm).is_integer() else repr(norm))
    else:
        s = repr(norm)
    if s not in allowed:
        raise ValueError(f"`norm` must be one of {', '.join(allowed)} (np.inf for L-inf), got {norm!r}.")
    return s


def norm_value(s: str):
    return NORMS[s]


def check_float(value, name, *, minimum=None, maximum=None, strict_min=False):
    if isinstance(value, bool):
        raise ValueError(f"`{name}` must be a number, got {value!r}.")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a number, got {value!r}.") from None
    if not math.isfinite(v):
        raise ValueError(f"`{name}` must be finite, got {value!r}.")
    if minimum is not None and (v < minimum or (strict_min and v == minimum)):
        op = ">" if strict_min else ">="
        raise ValueError(f"`{name}` must be {op} {minimum:g}, got {value!r}.")
    if maximum is not None and v > maximum:
        raise ValueError(f"`{name}` must be <= {maximum:g}, got {value!r}.")
    return v


def check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be True or False, got {value!r}.")
    return bool(value)


def check_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}.")
    if value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value}.")
    return int(value)


def check_clip(params):
    lo = check_float(params.get("clip_min", 0.0), "clip_min")
    hi = check_float(params.get("clip_max", 1.0), "clip_max")
    if not lo < hi:
        raise ValueError(f"`clip_min` must be < `clip_max`, got {lo:g} and {hi:g}.")
    return lo, hi


def check_eps_iter(eps, eps_iter):
    if eps_iter > eps:
        raise ValueError(f"`eps_iter` ({eps_iter:g}) must be <= `eps` ({eps:g}).")


def validate_iterative(params: dict, allowed, attack: str) -> dict:
    """Checks shared by the iterative L-p attacks (BIM, PGD, MIM): ``eps``, ``eps_iter``,
    ``nb_iter``, ``norm``, clip range, ``targeted``; returns the normalised common parameters."""
    reject_unknown(params, allowed, attack)
    lo, hi = check_clip(params)
    eps = check_float(params["eps"], "eps", minimum=0.0)
    eps_iter = check_float(params["eps_iter"], "eps_iter", minimum=0.0)
    check_eps_iter(eps, eps_iter)
    return {
        "eps": eps,
        "eps_iter": eps_iter,
        "nb_iter": check_int(params["nb_iter"], "nb_iter"),
        "norm": check_norm(params.get("norm", "inf")),
        "clip_min": lo,
        "clip_max": hi,
        "targeted": check_bool(params.get("targeted", False), "targeted"),
    }


def reject_unknown(params: dict, allowed, attack: str):
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(
            f"Unknown parameter(s) {', '.join(map(repr, unknown))} for attack {attack!r}; "
            f"valid ones: {', '.join(sorted(allowed))}."
        )


# --------------------------------------------------------------------------------------------
# Graph helpers (used inside tf.functions)
# --------------------------------------------------------------------------------------------
def resolve_labels(model_fn, x, y):
    """``y`` where given (>= 0), else the model's prediction on ``x`` (avoids label leaking)."""
    import tensorflow as tf

    pred = tf.argmax(model_fn(x), axis=1, output_type=tf.int64)
    return tf.where(y >= 0, y, pred)


def seed_pair(seed, k):
    """A distinct stateless seed for sub-stream ``k`` of one batch's seed pair."""
    import tensorflow as tf

    return tf.stack([seed[0], seed[1] * 7919 + k])


def random_lp(shape, norm, radius, seed):
    """Uniform sample from the L-inf ball, or uniform in the L2 ball (stateless, seeded)."""
    import tensorflow as tf

    if norm == "inf":
        return tf.random.stateless_uniform(shape, seed, -radius, radius)
    flat = tf.reshape(tf.random.stateless_normal(shape, seed_pair(seed, 1)), [shape[0], -1])
    dim = tf.cast(tf.shape(flat)[1], tf.float32)
    direction = flat / tf.maximum(tf.norm(flat, axis=1, keepdims=True), 1e-12)
    w = tf.random.stateless_uniform([shape[0], 1], seed_pair(seed, 2)) ** (1.0 / dim)
    return tf.reshape(radius * w * direction, shape)


def margins(logits, y):
    """True-class logit minus the best other logit, per row."""
    import tensorflow as tf

    n = tf.shape(logits)[1]
    onehot = tf.one_hot(y, n, dtype=logits.dtype)
    real = tf.reduce_sum(onehot * logits, axis=1)
    other = tf.reduce_max(logits - 1e9 * onehot, axis=1)
    return real - other


# --------------------------------------------------------------------------------------------
# Execution
# --------------------------------------------------------------------------------------------
def _input_shape(model):
    """The model's (h, w, c) input shape when it is a Keras model with a known 4-D input."""
    try:
        shape = tuple(model.inputs[0].shape)
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    return shape[1:] if len(shape) == 4 else None


def _num_classes(model, model_fn, x_one):
    """Classes of ``model``: its declared output width when it is a single-output Keras model,
    else one eager call on ``x_one``. (On a CIFAR-10 MobileNet that eager call cost FGSM ~40% of
    its time on 200 images: generate() paid it on every call.)"""
    import keras

    if isinstance(model, keras.Model):
        shape = getattr(model, "output_shape", None)
        if isinstance(shape, tuple) and shape and isinstance(shape[-1], int):
            return int(shape[-1])
    return int(np.asarray(model_fn(x_one)).shape[-1])


def _compiled(model, logits, name, graph_builder, params, batch_shape):
    import tensorflow as tf

    key = (name, tuple(sorted((k, repr(v)) for k, v in params.items())), tuple(batch_shape), logits)
    try:
        per_model = _CACHE.setdefault(model, {})
    except TypeError:  # not weak-referenceable: compile without caching
        per_model = {}
    fn = per_model.get(key)
    if fn is None:
        model_fn = logits_fn(model, logits)
        body = graph_builder(model_fn, params)
        b = batch_shape[0]
        fn = tf.function(
            body,
            input_signature=[
                tf.TensorSpec(batch_shape, tf.float32),
                tf.TensorSpec([b], tf.int64),
                tf.TensorSpec([b], tf.int64),
                tf.TensorSpec([2], tf.int64),
            ],
            reduce_retracing=False,
        )
        per_model[key] = fn
    return fn


def _dataset_to_arrays(ds):
    xs, ys = [], []
    for item in ds:
        if not isinstance(item, (tuple, list)) or len(item) < 2:
            raise ValueError("`x` as a tf.data.Dataset must yield (image, label) batches.")
        xs.append(np.asarray(item[0]))
        ys.append(np.asarray(item[1]))
    if not xs:
        raise ValueError("`x` is an empty dataset (0 batches); at least one image is needed.")
    return np.concatenate(xs), np.concatenate(ys)


def execute(
    name,
    graph_builder,
    params,
    model,
    x,
    y=None,
    t=None,
    *,
    seed=None,
    batch_size=None,
    max_batch=None,
    progress=False,
    logits=None,
    require_y=False,
):
    """Run an attack over ``x`` in fixed-size batches; see the module docstring."""
    import tensorflow as tf

    clip_min, clip_max = float(params["clip_min"]), float(params["clip_max"])
    as_tensor = isinstance(x, tf.Tensor)
    if isinstance(x, tf.data.Dataset):
        if y is not None:
            raise ValueError("`y` must be None when `x` is a tf.data.Dataset of (image, label) batches.")
        x, y = _dataset_to_arrays(x)
    if not callable(model):
        raise ValueError(f"`model` must be a Keras model or a callable returning logits, got {model!r}.")
    x = check_images(x, "x", shape=_input_shape(model), clip_min=clip_min, clip_max=clip_max)
    n = x.shape[0]
    model_fn = logits_fn(model, logits)
    num_classes = _num_classes(model, model_fn, tf.constant(x[:1]))
    if y is None:
        if require_y:
            raise ValueError(f"`y` (the target classes) is required when targeted=True ({name}).")
        y = np.full(n, -1, np.int64)
    else:
        y = check_labels(y.numpy() if hasattr(y, "numpy") else y, n, num_classes, "y")
    if t is None:
        t = np.full(n, -1, np.int64)
    else:
        t = check_labels(t.numpy() if hasattr(t, "numpy") else t, n, num_classes, "y_target")
        if np.any((y >= 0) & (t == y)):
            raise ValueError("`y_target` must differ from the true label `y` for every image.")
    if batch_size is None:
        batch_size = n
    bs = min(check_int(batch_size, "batch_size"), n)
    if max_batch is not None:
        bs = min(bs, max_batch)
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
    seed = check_int(seed, "seed", minimum=0)

    fn = _compiled(model, logits, name, graph_builder, params, (bs,) + x.shape[1:])
    out = np.empty_like(x)
    starts = range(0, n, bs)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=f"attack {name}", unit="batch", total=math.ceil(n / bs))
    for i, s in enumerate(starts):
        e = min(s + bs, n)
        xb, yb, tb = x[s:e], y[s:e], t[s:e]
        if e - s < bs:  # pad by repeating the last image (keeps per-image attacks well defined)
            pad = bs - (e - s)
            xb = np.concatenate([xb, np.repeat(xb[-1:], pad, axis=0)])
            yb = np.concatenate([yb, np.repeat(yb[-1:], pad)])
            tb = np.concatenate([tb, np.repeat(tb[-1:], pad)])
        adv = fn(
            tf.constant(xb), tf.constant(yb), tf.constant(tb), tf.constant([seed, i], tf.int64)
        )
        out[s:e] = adv.numpy()[: e - s]
    np.clip(out, clip_min, clip_max, out=out)
    return tf.constant(out) if as_tensor else out
