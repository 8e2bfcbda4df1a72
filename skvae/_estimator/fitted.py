"""Settings take effect at fit: what a fit freezes, and what inference reads.

The rule, for every estimator (scikit-learn's; the user guide's "Settings
take effect at fit" says it to users): a fit reads the parameters, inference
reads the fitted model. Inference (``transform``, ``inverse_transform``,
``score_samples``, ``predict``, ``decision_function``, ``sample``, the
plotting Displays, ...) never reads a parameter: what it needs besides the
fitted network, the fit that builds the model freezes into fitted attributes
named after the parameters with a trailing underscore. So ``set_params``
after a fit changes nothing that inference returns until the next fit.

Each estimator class names the parameters its fit freezes in
``_fitted_settings``; :func:`freeze_settings` stores them when a fit builds
a new model. A continued fit (``warm_start``, ``partial_fit``) keeps the
model and refuses a change of its architecture, which holds these settings
(``_check_same_architecture``); one that is no part of it (the detector's
``log_likelihood_samples``) every fit freezes anew. The settings a fit
resolves from ``"auto"`` (``solver_``, ``hidden_layer_sizes_``, the
detector's ``score_type_``) are stored by the fit that resolves them, by
the same rule.

A few parameters only set the network's starting point (``variance_floor``,
the floor of the Gaussian variance as a fraction of the data's): a
continued fit cannot apply a new value, so it refuses one
(:func:`check_start`) rather than ignore it.

Imports: nothing of skvae.
"""

# Parameters that only the fit building a network reads, beside its
# architecture.
START_SETTINGS = ("variance_floor",)


def freeze_settings(estimator, names=None):
    """Store the parameters ``names`` (default: the estimator's
    ``_fitted_settings``) as the fitted attributes ``name_``."""
    for name in estimator._fitted_settings if names is None else names:
        setattr(estimator, f"{name}_", getattr(estimator, name))


def fitted_settings(estimator):
    """The frozen settings of a fitted estimator, by parameter name."""
    return {name: getattr(estimator, f"{name}_")
            for name in estimator._fitted_settings
            if hasattr(estimator, f"{name}_")}


def copy_fitted_settings(source, target):
    """Give ``target`` (e.g. an unfitted clone checking data for ``source``)
    the frozen settings of ``source``."""
    for name, value in fitted_settings(source).items():
        setattr(target, f"{name}_", value)


def freeze_start(estimator):
    """Keep the START_SETTINGS the new network started from."""
    estimator._fitted_start = {name: getattr(estimator, name)
                               for name in START_SETTINGS}


def check_start(estimator, remedy):
    """Refuse a continued fit whose START_SETTINGS changed since the network
    was built (a model saved before they were kept is not checked)."""
    then = getattr(estimator, "_fitted_start", {})
    changed = {name: value for name, value in then.items()
               if getattr(estimator, name) != value}
    if changed:
        listed = ", ".join(f"{name}={value!r} (now {getattr(estimator, name)!r})"
                           for name, value in changed.items())
        raise ValueError(
            "warm_start and partial_fit continue the fitted network, which "
            f"started from {listed}; a continued fit cannot change that. {remedy}"
        )


def with_fitted_settings(state, names):
    """A saved state, with the settings ``names`` frozen if it is fitted.

    A model saved before its fit froze a setting has the parameter's value
    at saving time instead: the value its inference read then.
    """
    if "n_features_in_" not in state:
        return state
    missing = {f"{name}_": state[name] for name in names
               if f"{name}_" not in state and name in state}
    return {**state, **missing}
