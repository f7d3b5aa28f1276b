"""Forms that save through the API's serializers, so a page refuses exactly what the API
refuses, with the same message next to the same field: there is no second copy of any rule.

A page turns its posted fields into the API's JSON shape, hands them to the serializer and,
when it refuses them, shows its errors per field."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.db import models
from django.shortcuts import redirect, render
from rest_framework import exceptions, serializers


@dataclass
class FormField:
    """One input of a form page: what the template needs to draw it."""

    name: str
    label: str
    widget: str  # text, url, number, email, password, textarea, select, checkbox, checkboxes
    help: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    required: bool = False
    group: str = ""


def model_field(model: type[models.Model], name: str, widget: str, **overrides: Any) -> FormField:
    """A form field labelled and explained as the model field is (the admin shows the same words)."""
    column = model._meta.get_field(name)
    label = str(getattr(column, "verbose_name", name)).replace("_", " ")
    choices = [(str(value), str(text)) for value, text in getattr(column, "choices", None) or []]
    described: dict[str, Any] = {
        "label": label[:1].upper() + label[1:],
        "help": str(getattr(column, "help_text", "")),
        "choices": choices,
    }
    return FormField(name=name, widget=widget, **{**described, **overrides})


def error_messages(detail: Any) -> dict[str, list[str]]:
    """A serializer's errors as {field: [message, ...]}; errors of the whole form under
    "__all__". A list field's per-item errors are flattened into its own list."""

    def flatten(value: Any) -> list[str]:
        if isinstance(value, dict):
            return [message for item in value.values() for message in flatten(item)]
        if isinstance(value, list):
            return [message for item in value for message in flatten(item)]
        return [str(value)]

    if not isinstance(detail, dict):
        return {"__all__": flatten(detail)}
    return {
        ("__all__" if name in ("non_field_errors", "detail") else name): flatten(value)
        for name, value in detail.items()
    }


def save(serializer: serializers.Serializer) -> tuple[Any, dict[str, list[str]]]:
    """Validate and save; return (the saved object, {}) or (None, errors per field). A
    refusal raised while saving (a quota) is an error of the whole form."""
    if not serializer.is_valid():
        return None, error_messages(serializer.errors)
    try:
        return serializer.save(), {}
    except exceptions.APIException as exc:
        return None, error_messages(exc.detail)


def posted_values(post: Any, fields: list[FormField]) -> dict[str, Any]:
    """The posted form, each field as its input gives it: a checkbox as a bool, a set of
    checkboxes as the list of values ticked, anything else as the text sent."""
    values: dict[str, Any] = {}
    for form_field in fields:
        if form_field.widget == "checkbox":
            values[form_field.name] = form_field.name in post
        elif form_field.widget == "checkboxes":
            values[form_field.name] = post.getlist(form_field.name)
        else:
            values[form_field.name] = post.get(form_field.name, "")
    return values


def form_context(fields: list[FormField], values: dict, errors: dict[str, list[str]]) -> dict[str, Any]:
    """What web/_form.html draws: the fields by group, each with its value and errors, and
    the errors that belong to no field shown (the form's own) at the top."""
    groups: dict[str, list[dict]] = {}
    for form_field in fields:
        groups.setdefault(form_field.group, []).append(
            {"field": form_field, "value": values.get(form_field.name), "errors": errors.get(form_field.name, [])}
        )
    names = {form_field.name for form_field in fields}
    elsewhere = [
        message if name == "__all__" else f"{name}: {message}"
        for name, messages in errors.items()
        if name not in names
        for message in messages
    ]
    return {"groups": groups, "form_errors": elsewhere, "has_errors": bool(errors)}


def render_form(request, fields: list[FormField], values: dict, errors: dict[str, list[str]], **page: Any) -> Any:
    """web/form.html with the fields, their values and errors; `page` gives its title,
    submit, cancel_url and nav. A form sent back with errors answers 400."""
    context = {**form_context(fields, values, errors), **page}
    return render(request, "web/form.html", context, status=400 if errors else 200)


def confirm_delete(request, thing: Any, delete: Callable[[Any], Any], *, done: str, said: str, **page: Any) -> Any:
    """GET asks (web/confirm_delete.html; `page` gives kind, cancel_url and nav); POST calls
    `delete(thing)`, says `said` and goes to `done`."""
    if request.method == "POST":
        delete(thing)
        messages.success(request, said)
        return redirect(done)
    return render(request, "web/confirm_delete.html", {"object": thing, **page})
