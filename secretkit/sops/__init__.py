"""A pure-Python sops engine (file format: :mod:`secretkit.sops.document`)."""

# The engines a run can use (``--engine``, ``SECRETKIT_ENGINE``); built by
# :func:`secretkit.sops.engine.engine_for`.
ENGINE_NAMES = ("python", "sops")
