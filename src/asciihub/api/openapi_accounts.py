"""The OpenAPI description of the account, token and share routes and the auth schemes."""

from __future__ import annotations

from typing import Any

from asciihub.api.openapi_parts import ERROR, STRING, errors, json_response, ref

SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token from POST /api/tokens (`ah_` + 43 characters); no CSRF check.",
    },
    "cookieAuth": {
        "type": "apiKey",
        "in": "cookie",
        "name": "asciihub_session",
        "description": (
            "The session cookie set by signup and login (`__Host-asciihub_session` under "
            "HTTPS). Unsafe requests must carry a same-site Origin header."
        ),
    },
    "shareToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Share-Token",
        "description": "A share link's token; also accepted as the `share` query parameter.",
    },
}
SECURITY: list[dict[str, list[str]]] = [{"cookieAuth": []}, {"bearerAuth": []}]


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(name)}}}


_ERRORS = errors(400, 401, 403, 404, 415, 429, 503)
_NO_CONTENT = {"description": "Done"}
_NULLABLE = {"type": ["string", "null"]}

SCHEMAS: dict[str, Any] = {
    "Credentials": {
        "type": "object",
        "additionalProperties": False,
        "required": ["handle", "password"],
        "properties": {
            "handle": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$"},
            "password": {"type": "string", "minLength": 1},
            "email": {"type": "string", "maxLength": 320},
        },
    },
    "User": {
        "type": "object",
        "required": ["user"],
        "properties": {
            "user": {
                "type": "object",
                "required": ["id", "handle"],
                "properties": {
                    "id": STRING,
                    "handle": STRING,
                    "email": _NULLABLE,
                    "created_at": {"type": "string", "format": "date-time"},
                    "avatar_url": _NULLABLE,
                },
            }
        },
    },
    "PasswordChange": {
        "type": "object",
        "additionalProperties": False,
        "required": ["current_password", "new_password"],
        "properties": {"current_password": STRING, "new_password": STRING},
    },
    "PasswordConfirm": {
        "type": "object",
        "additionalProperties": False,
        "required": ["password"],
        "properties": {"password": STRING},
    },
    "Preferences": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "style": _NULLABLE,
            "width": {"type": ["integer", "null"]},
            "color_mode": _NULLABLE,
            "theme": {"type": ["string", "null"], "enum": ["system", "light", "dark", None]},
        },
    },
    "TokenCreate": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "maxLength": 100},
            "scopes": {"type": "array", "items": {"enum": ["read", "write"]}, "minItems": 1},
        },
    },
    "Token": {
        "type": "object",
        "required": ["id", "name", "scopes", "created_at"],
        "properties": {
            "id": STRING,
            "name": STRING,
            "scopes": {"type": "array", "items": STRING},
            "created_at": {"type": "string", "format": "date-time"},
            "last_used_at": {"type": ["string", "null"], "format": "date-time"},
            "token": {"type": "string", "description": "Only in the answer to POST /api/tokens."},
        },
    },
    "ShareCreate": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "permission": {"type": "string", "enum": ["view", "edit"]},
            "expires_in": {"type": "integer", "minimum": 60},
            "email": {
                "type": "string",
                "description": "Send the link to this address (an 'artwork shared' e-mail).",
            },
        },
    },
    "Share": {
        "type": "object",
        "required": ["id", "permission", "expires_at"],
        "properties": {
            "id": STRING,
            "artwork_id": STRING,
            "permission": {"type": "string", "enum": ["view", "edit"]},
            "created_at": {"type": "string", "format": "date-time"},
            "expires_at": {"type": "string", "format": "date-time"},
            "token": {"type": "string", "description": "Only in the answer to POST."},
            "url": {"type": "string", "description": "Only in the answer to POST."},
            "emailed": {
                "type": "boolean",
                "description": "Only in the answer to POST: an e-mail with the link was queued.",
            },
        },
    },
}


def _items(name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": ref(name)}},
    }


def account_paths() -> dict[str, Any]:
    """The paths of the account, token and share routes."""
    user = json_response(ref("User"), "The logged-in user")
    artwork_id = {"name": "artwork_id", "in": "path", "required": True, "schema": STRING}
    secured = {"security": SECURITY}
    return {
        "/api/auth/signup": {
            "post": {
                "summary": "Create an account and log in (sets the session cookie)",
                "requestBody": _body("Credentials"),
                "responses": {"201": user, "409": ERROR, **_ERRORS},
            }
        },
        "/api/auth/login": {
            "post": {
                "summary": "Log in (sets a new session cookie)",
                "requestBody": _body("Credentials"),
                "responses": {"200": user, **_ERRORS},
            }
        },
        "/api/auth/logout": {
            "post": {
                "summary": "End this session",
                "responses": {"204": _NO_CONTENT, **_ERRORS},
            }
        },
        "/api/me": {
            "get": {
                "summary": "The logged-in user",
                **secured,
                "responses": {"200": user, **_ERRORS},
            },
            "delete": {
                "summary": "Delete the account and everything it owns (needs the password)",
                **secured,
                "requestBody": _body("PasswordConfirm"),
                "responses": {"204": _NO_CONTENT, **_ERRORS},
            },
        },
        "/api/me/password": {
            "post": {
                "summary": "Change the password; every session ends, this one is renewed",
                **secured,
                "requestBody": _body("PasswordChange"),
                "responses": {"204": _NO_CONTENT, **_ERRORS},
            }
        },
        "/api/me/preferences": {
            "get": {
                "summary": "Preferences",
                **secured,
                "responses": {"200": json_response(ref("Preferences"), "Preferences"), **_ERRORS},
            },
            "put": {
                "summary": "Replace preferences",
                **secured,
                "requestBody": _body("Preferences"),
                "responses": {"200": json_response(ref("Preferences"), "Preferences"), **_ERRORS},
            },
        },
        "/api/me/avatar": {
            "put": {
                "summary": "Upload an avatar (PNG, JPEG, GIF or WebP; stored as a PNG)",
                "description": "Needs a logged-in session; an API token gets 403 "
                "`session_required`.",
                **secured,
                "requestBody": {
                    "required": True,
                    "content": {
                        kind: {"schema": {"type": "string", "format": "binary"}}
                        for kind in ("image/png", "image/jpeg", "image/gif", "image/webp")
                    },
                },
                "responses": {"200": user, "413": ERROR, **_ERRORS},
            },
            "delete": {
                "summary": "Remove the avatar",
                "description": "Needs a logged-in session, not an API token.",
                **secured,
                "responses": {"204": _NO_CONTENT, **_ERRORS},
            },
        },
        "/api/users/{handle}/avatar.png": {
            "get": {
                "summary": "A user's avatar",
                "parameters": [
                    {"name": "handle", "in": "path", "required": True, "schema": STRING}
                ],
                "responses": {
                    "200": {"description": "PNG", "content": {"image/png": {}}},
                    **_ERRORS,
                },
            }
        },
        "/api/tokens": {
            "post": {
                "summary": "Create an API token (the secret is shown once)",
                **secured,
                "requestBody": _body("TokenCreate"),
                "description": "At most `max_tokens_per_user` live tokens; one more is 409 "
                "`too_many_tokens`.",
                "responses": {
                    "201": json_response(ref("Token"), "The new token"),
                    "409": ERROR,
                    **_ERRORS,
                },
            },
            "get": {
                "summary": "The live API tokens",
                **secured,
                "responses": {"200": json_response(_items("Token"), "Tokens"), **_ERRORS},
            },
        },
        "/api/tokens/{token_id}": {
            "delete": {
                "summary": "Revoke an API token",
                **secured,
                "parameters": [
                    {"name": "token_id", "in": "path", "required": True, "schema": STRING}
                ],
                "responses": {"204": _NO_CONTENT, **_ERRORS},
            }
        },
        "/api/artworks/{artwork_id}/shares": {
            "parameters": [artwork_id],
            "post": {
                "summary": "Create a share link (owner)",
                **secured,
                "requestBody": _body("ShareCreate"),
                "responses": {"201": json_response(ref("Share"), "The new link"), **_ERRORS},
            },
            "get": {
                "summary": "The artwork's live share links (owner)",
                **secured,
                "responses": {"200": json_response(_items("Share"), "Links"), **_ERRORS},
            },
        },
        "/api/artworks/{artwork_id}/shares/{share_id}": {
            "delete": {
                "summary": "Revoke a share link (owner)",
                **secured,
                "parameters": [
                    artwork_id,
                    {"name": "share_id", "in": "path", "required": True, "schema": STRING},
                ],
                "responses": {"204": _NO_CONTENT, **_ERRORS},
            }
        },
        "/api/shares/{token}": {
            "get": {
                "summary": "Open a share link: the artwork with its frames and permission",
                "parameters": [{"name": "token", "in": "path", "required": True, "schema": STRING}],
                "responses": {
                    "200": json_response({"type": "object"}, "The artwork plus permission"),
                    **_ERRORS,
                },
            }
        },
    }
