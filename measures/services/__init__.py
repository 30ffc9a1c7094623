"""Services of the measures app: they change state; selectors read."""
