from django.apps import AppConfig


class ConfigFileConfig(AppConfig):
    name = "configfile"
    verbose_name = "Config file"
