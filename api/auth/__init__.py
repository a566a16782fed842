"""auth: who may do what. Log-in, sessions and machine tokens, users and roles, single sign-on and client
certificates; the roles and permissions (`access`), the caller dependencies (`deps`) and the first
administrator (`bootstrap`)."""

__all__: list[str] = []
