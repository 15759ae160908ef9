"""Errors whose message is written for the user: the CLI prints them as one line and the GUI shows them."""


class UserFacingError(RuntimeError):
    pass


class StoreError(RuntimeError):
    """A store that cannot be opened or migrated, or a record it refuses; the message says why in the user's terms.

    Raised by the store and its repositories alike, so it lives below them (core.store re-exports it)."""


class IrreversibleMigration(UserFacingError):
    """A downgrade that would have to drop human annotations; refused by design (labels and traces are never lost)."""


class ModelNotAvailable(UserFacingError):
    """A named model that is neither a local folder, nor cached, nor shipped by an installed package."""
