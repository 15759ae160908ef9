"""The `emotrace` command: the layer above core, training and gui (see pyproject's import-linter contracts)."""
