"""Storage bindings: object store (R2 role), KV (KV role) and metadata (D1 role)."""
