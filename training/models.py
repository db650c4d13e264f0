"""The CNNs we train: the original demo's (``seed``) and the one the game ships (``default``).

Both read (28, 28, 1) float32 in [0, 1] (ink = 1). ``seed`` outputs 10 softmax
probabilities, as the demo did; ``default`` outputs 11: the digits 0-9 and, in column
``inference.contract.NOT_DIGIT_CLASS``, "not a digit". Its last Dense layer gives logits
and a separate Softmax layer the probabilities, so :func:`with_temperature` can
calibrate it.
"""

from __future__ import annotations

import keras
from keras import layers

from inference.contract import DIGITS, FIELD_PX, OUTPUT_WIDTHS

INPUT_SHAPE = (FIELD_PX, FIELD_PX, 1)
N_OUTPUTS = OUTPUT_WIDTHS[-1]
"""The ``default`` model's outputs: the digits, then "not a digit" (inference.contract)."""
LOGITS_LAYER = "logits"


def build_seed() -> keras.Model:
    """Exactly the demo's CNN: 34,826 parameters, Adam, batch 128, 15 epochs."""
    model = keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(DIGITS, activation="softmax"),
        ],
        name="seed",
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def _conv_bn(x, filters: int):
    x = layers.Conv2D(filters, 3, padding="valid", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build_default(
    learning_rate: keras.optimizers.schedules.LearningRateSchedule | float = 1e-3,
    *,
    n_outputs: int = N_OUTPUTS,
):
    """A small, BatchNorm'd CNN that is quick on a CPU.

    Two blocks of two 3x3 convolutions (32 then 64 filters, valid padding, BatchNorm,
    ReLU) each followed by 2x2 max pooling and dropout, then Dense(128)-BN-Dropout and the
    softmax over the digits and "not a digit". About 0.2M parameters and 10M
    multiply-adds per drawing.
    """
    inputs = keras.Input(shape=INPUT_SHAPE)
    x = _conv_bn(inputs, 32)  # 26x26
    x = _conv_bn(x, 32)  # 24x24
    x = layers.MaxPooling2D(2)(x)  # 12x12
    x = layers.Dropout(0.25)(x)
    x = _conv_bn(x, 64)  # 10x10
    x = _conv_bn(x, 64)  # 8x8
    x = layers.MaxPooling2D(2)(x)  # 4x4
    x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(0.4)(x)
    logits = layers.Dense(n_outputs, name=LOGITS_LAYER)(x)
    outputs = layers.Softmax(name="probabilities")(logits)
    model = keras.Model(inputs, outputs, name="default")
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        metrics=["accuracy"],
    )
    return model


def with_temperature(
    model: keras.Model, temperature: float, *, class_offsets: list[float] | None = None
) -> keras.Model:
    """The same network with its logits divided by ``temperature`` (then shifted by
    ``class_offsets``, one per output) before the softmax.

    Temperature scaling (Guo et al. 2017) keeps every guess (the argmax) and makes the
    probabilities honest: a temperature above 1 softens an overconfident model. The
    offsets correct the class priors (Saerens et al. 2002) from the training mix to the
    game's, where far fewer drawings are non-digits. The serving model is this one, so
    the worker needs no extra step.
    """
    offsets = 0.0 if class_offsets is None else [float(v) for v in class_offsets]
    logits = model.get_layer(LOGITS_LAYER).output
    scaled = layers.Rescaling(1.0 / float(temperature), offset=offsets, name="calibration")(logits)
    probabilities = layers.Softmax(name="calibrated_probabilities")(scaled)
    return keras.Model(model.inputs, probabilities, name=f"{model.name}_calibrated")


def logits_of(model: keras.Model) -> keras.Model:
    """The network up to its logits (for fitting the temperature)."""
    return keras.Model(model.inputs, model.get_layer(LOGITS_LAYER).output)
