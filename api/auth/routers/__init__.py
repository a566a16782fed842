"""The HTTP surface of auth, one router per resource: login, users, tokens, sso, certauth."""

__all__: list[str] = []
