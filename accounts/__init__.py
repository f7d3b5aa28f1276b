"""Accounts: the User model (email is the login), registration and JWT endpoints."""
