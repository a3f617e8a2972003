"""The use cases: artworks, gallery, images, accounts, shares, jobs, data migration.

Services see the bindings only through their protocols and never import a backend,
the web framework or the CLI.
"""
