"""Shared service machinery (no contracts here: those live in `contracts`)."""
