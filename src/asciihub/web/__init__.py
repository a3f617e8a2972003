"""Web pages: Jinja2 templates and one stylesheet, no build step."""
