"""Package data read through importlib.resources: the bundled model (CC BY-NC-SA 4.0, see its folder) and the
demo audio (public domain / MIT, see demo/README.md). No code."""
