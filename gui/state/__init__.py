"""The app's Qt-free view state: what the user looks at and what each view draws (imports no Qt)."""
