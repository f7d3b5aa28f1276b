"""Config as code: the declarative file (plan, apply, export); run by the web process and manage.py."""
