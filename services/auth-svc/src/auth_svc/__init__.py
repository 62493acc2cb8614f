"""auth-svc: accounts, login, registration, EdDSA access tokens and the JWKS that verifies them."""
