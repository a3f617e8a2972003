"""The HTTP API: the app factory, one router module per resource, errors, the fast lane."""
