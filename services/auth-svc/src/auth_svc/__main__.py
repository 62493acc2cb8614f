"""`python -m auth_svc` starts the HTTP server (same as `auth-svc serve`)."""

from auth_svc.cli import main

main(["serve"])
