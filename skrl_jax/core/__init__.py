"""The ground floor: helpers every layer of the library imports, importing nothing of skrl_jax above them.

- ``spaces``: gymnasium spaces as skrl sees them (sizes, the flat layout, pure JAX sampling);
  ``skrl_jax.utils.spaces`` re-exports it under skrl's path;
- ``validation``: checks of cfg values and finite data, made before anything is traced;
- ``checkpoints``: pytrees written atomically in flax's msgpack format, checked when read;
- ``distributed``: multi-process runs (``jax.distributed``); ``skrl_jax.utils.distributed``
  re-exports it under skrl's path.

The layers above, bottom to top: ``config``, ``resources``, ``models``, ``memories``, ``envs``,
``agents``, ``trainers``, ``utils`` (skrl's public paths: runner, model instantiators, ...).
Each imports only from its own layer and the layers below it (``tests/test_layers.py``).
"""
