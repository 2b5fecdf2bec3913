"""Operating the bot: readiness, Prometheus metrics, their HTTP endpoint, and backups.

- :mod:`bot.ops.health` — :class:`~bot.ops.health.Health`, what ``/healthz`` reports;
- :mod:`bot.ops.metrics` — :class:`~bot.ops.metrics.Metrics`, the counters a door feeds;
- :mod:`bot.ops.server` — :func:`~bot.ops.server.serve_ops`, both over HTTP on
  ``SECUREBASE_OPS_PORT``; :mod:`bot.ops.probe` asks it, for a container health check;
- :mod:`bot.ops.backup` — ``python -m bot backup`` and ``restore``.

Import from the modules: the command line loads only what a command needs.
"""
