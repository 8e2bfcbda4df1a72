"""What a fitted estimator saves: its parameters, arrays and plain Python values.

Pickle, joblib and skops all save an estimator through ``__getstate__``.
The objects skvae trains with (the network and its parts, the training
:class:`~skvae._train.solvers.History`, Adam and NumPy's random Generator) are
replaced there by plain data, and rebuilt by ``__setstate__``:

- the network by the arguments that built it, its flat parameter buffer, and
  the few numbers it learned from the data besides its parameters (the data
  scaler's shift and scale, the Gaussian head's variance floor);
- the History by its lists and numbers;
- Adam by its step count, its two moment estimates, the average of its
  iterates and its last iterate (kept only for
  ``solver="adam"``, where :meth:`partial_fit` continues them; dropped by
  :meth:`PersistenceMixin.discard_optimizer_state`);
- the Generator by its bit generator's state, a dict of ints.

So a saved estimator holds nothing but skvae's public estimator class,
NumPy arrays and builtins: :func:`skops.io.load` asks to trust nothing else,
and no private class of skvae is part of the saved format. Loading resolves
the names a file holds (the bit generator, the parts of the network) only
in fixed tables, never by ``getattr`` on a module: a name outside them is
refused with a ValueError before anything is built or called. The gradient
buffer and Adam's scratch array are not saved (they are rebuilt empty): a
model saved after L-BFGS takes about the size of its weights.
"""

import numpy as np

from .._models.vae import build_network
from .._models.vq import VQNetwork
from .._nn.activations import ACTIVATIONS
from .._parts.decoders import DECODERS
from .._parts.heads import HEADS
from .._parts.heads.scaling import DataScaler
from .._parts.priors import PRIORS
from .._train.solvers import Adam, History
from .fitted import with_fitted_settings
from .tables import load_table, table_state

HISTORY_FIELDS = ("loss_curve", "validation_scores", "best_loss",
                  "best_validation_score", "no_improvement_count", "n_iter",
                  "changing_until")
ADAM_SETTINGS = ("learning_rate_init", "beta_1", "beta_2", "epsilon", "average_decay")


def history_state(history):
    """A History as a dict of lists and Python numbers."""
    state = {name: getattr(history, name) for name in HISTORY_FIELDS}
    state["loss_curve"] = [float(v) for v in state["loss_curve"]]
    state["validation_scores"] = [float(v) for v in state["validation_scores"]]
    for name in ("best_loss", "best_validation_score"):
        state[name] = float(state[name])
    for name in ("no_improvement_count", "n_iter", "changing_until"):
        state[name] = int(state[name])
    return state


def load_history(state):
    history = History()
    history.__dict__.update(state)
    history.loss_curve = list(state["loss_curve"])
    history.validation_scores = list(state["validation_scores"])
    return history


def optimizer_state(adam):
    """Adam as its settings, step count, moments, average and last iterate
    (None stays None)."""
    if adam is None:
        return None
    state = {name: float(getattr(adam, name)) for name in ADAM_SETTINGS}
    state.update(t=int(adam.t), m=adam.m, v=adam.v, average=adam.average,
                 iterate=adam.iterate)
    return state


def load_optimizer(state):
    if state is None:
        return None
    adam = Adam(state["m"].size, state["m"].dtype,
                **{name: state[name] for name in ADAM_SETTINGS})
    adam.t, adam.m, adam.v = state["t"], state["m"], state["v"]
    adam.average, adam.iterate = state["average"], state["iterate"]
    return adam


# The bit generators a saved Generator may name: NumPy's own.
BIT_GENERATORS = {cls.__name__: cls for cls in (
    np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox,
    np.random.SFC64)}
# The names a saved network's spec may hold, by key, and what they name.
SPEC_NAMES = {"activation": ACTIVATIONS, "likelihood": HEADS, "prior": PRIORS,
              "decoder": DECODERS, "dtype": ("float32", "float64")}


def refuse(what, name, allowed):
    raise ValueError(
        f"The saved model names {what} {name!r}, which skvae does not save: "
        f"it loads only {sorted(allowed)}. The file was not written by skvae "
        "or was altered; nothing in it was called."
    )


def rng_state(rng):
    """A NumPy Generator as its bit generator's state (a dict of ints)."""
    return rng.bit_generator.state


def load_rng(state):
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if not isinstance(name, str) or name not in BIT_GENERATORS:
        refuse("the bit generator", name, BIT_GENERATORS)
    bit_generator = BIT_GENERATORS[name]()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def check_spec_names(spec):
    """Refuse a network spec whose part names are not in the parts' tables."""
    for key, allowed in SPEC_NAMES.items():
        name = spec.get(key)
        if isinstance(name, str) and name not in allowed:
            refuse(f"the {key}", name, allowed)


# Attribute -> (to plain data, back), for the attributes every trained
# estimator holds.
CONVERTERS = {
    "_history": (history_state, load_history),
    "_table": (table_state, load_table),
    "_member_table": (table_state, load_table),
    "_optimizer": (optimizer_state, load_optimizer),
    "_rng": (rng_state, load_rng),
}


class PersistenceMixin:
    """Save the estimator as plain data; rebuild the network on load.

    An estimator using it defines ``_network_state(network)`` (plain data
    from the fitted network) and ``_load_network(state)`` (the network back).
    """

    def __getstate__(self):
        # A copy: object.__getstate__ returns the instance's own __dict__.
        state = dict(super().__getstate__())
        if "_network" in state:
            state["_network"] = self._network_state(state["_network"])
        for name, (to_plain, _) in CONVERTERS.items():
            if name in state:
                state[name] = to_plain(state[name])
        return state

    def __setstate__(self, state):
        state = with_fitted_settings(dict(state), self._frozen_in(state))
        if "_network" in state:
            state["_network"] = self._load_network(state["_network"])
        for name, (_, from_plain) in CONVERTERS.items():
            if name in state:
                state[name] = from_plain(state[name])
        super().__setstate__(state)

    def _frozen_in(self, state):
        """The settings a fit of the saved ``state``'s kind freezes."""
        return self._fitted_settings

    def discard_optimizer_state(self):
        """Forget Adam's moment estimates, to save a smaller model.

        With ``solver="adam"``, a fitted estimator keeps Adam's two moment
        estimates, the average of its iterates and, unless training ended on
        early stopping's best epoch, its last iterate (three or four arrays
        the size of the weights) so that :meth:`partial_fit` continues
        training where it stopped; they make a saved model four to five times
        larger. After this call a later
        :meth:`partial_fit` starts Adam afresh, as a ``warm_start`` fit
        does. Nothing else changes: transforms and scores are the same.

        Returns
        -------
        self : object
            The estimator, without its optimizer state.

        Examples
        --------
        >>> import pickle
        >>> import numpy as np
        >>> from skvae import VAETransformer
        >>> X = np.random.default_rng(0).normal(size=(100, 4))
        >>> vae = VAETransformer(solver="adam", max_iter=5, random_state=0).fit(X)
        >>> size = len(pickle.dumps(vae))
        >>> len(pickle.dumps(vae.discard_optimizer_state())) < size
        True
        """
        if hasattr(self, "_optimizer"):
            self._optimizer = None
        return self


def vae_network_state(network, spec):
    """Plain data that rebuilds a VAENetwork: see :func:`load_vae_network`."""
    head = network.decoder.head
    return {
        "spec": spec,
        "params": network.params,
        "scaler_shift": network.scaler.shift,
        "scaler_scale": plain_scale(network.scaler.scale),
        "var_floor": float(getattr(head, "var_floor", 0.0)),
        "fill": network.fill,
    }


def plain_scale(scale):
    """One scale as a float, a table's per-column scales as an array."""
    return scale if isinstance(scale, np.ndarray) else float(scale)


def load_vae_network(state, build=None):
    """Build the network from its spec (with ``build``, by default
    :func:`~skvae._models.vae.build_network`), then put back what fit learned."""
    check_spec_names(state["spec"])
    network = (build or (lambda spec: build_network(**spec)))(state["spec"])
    network.params[...] = state["params"]
    network.scaler = DataScaler(state["scaler_shift"], state["scaler_scale"])
    if hasattr(network.decoder.head, "var_floor"):
        network.decoder.head.var_floor = state["var_floor"]
    if "fill" in state:  # saved before missing values: the network's zeros
        network.fill = state["fill"]
    return network


def vq_network_state(network, spec):
    """Plain data that rebuilds a VQNetwork: see :func:`load_vq_network`."""
    return {"spec": spec, "params": network.params,
            "scaler_shift": network.scaler.shift,
            "scaler_scale": float(network.scaler.scale),
            "var_floor": float(getattr(network.head, "var_floor", 0.0))}


def load_vq_network(state):
    """The VQNetwork of ``state``; one saved before the VQ-VAE scaled its data
    (no ``scaler_shift``) worked on the data as they are: the identity."""
    check_spec_names(state["spec"])
    network = VQNetwork(**state["spec"])
    network.params[...] = state["params"]
    if "scaler_shift" in state:
        network.scaler = DataScaler(state["scaler_shift"], state["scaler_scale"])
    if hasattr(network.head, "var_floor"):
        network.head.var_floor = state["var_floor"]
    return network
