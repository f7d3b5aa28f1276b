"""A status page's components: each one's name, state and row of days, as the list items
the page shows. Written here rather than in the template: a page has up to 100 of them, and
the template engine resolves each of an item's eighteen fields one lookup at a time."""

from html import escape

from django.utils.safestring import SafeString, mark_safe

from statuspages.public import ShownComponent, ShownSection

from .period_bars import day_strip
from .templatetags.web_tags import percent


def component_item(component: ShownComponent) -> SafeString:
    strip = day_strip(component.days)
    name, key = escape(component.name), component.id
    uptime = f"{percent(component.uptime_percent)} uptime" if component.checks else "no checks yet"
    # Every text from the owner or the figures is escaped (the standard library's escape, as
    # Django's does, without its wrapper for lazy text: 250 calls a page); the rest is ours.
    return mark_safe(  # noqa: S308
        f'<li class="component" id="component-{key}">\n'
        f'        <div class="component-head">\n'
        f'          <span class="component-name">{name}</span>\n'
        f'          <span class="state state-{component.state}"><span class="state-mark" aria-hidden="true"></span>'
        f"{escape(component.state_label)}</span>\n"
        f"        </div>\n"
        f'        <div class="day-bars" tabindex="0" role="slider" aria-label="{name}: uptime per day"'
        f' aria-describedby="days-{key}"\n'
        f'          aria-valuemin="0" aria-valuemax="{strip.last}" aria-valuenow="{strip.last}"'
        f' aria-valuetext="{escape(strip.last_text)}"\n'
        f'          data-first="{strip.first}" data-counts="{strip.counts}">{strip.bars}</div>\n'
        f'        <p class="visually-hidden" id="days-{key}">{escape(strip.summary)}</p>\n'
        f'        <p class="day-legend"><span>90 days ago</span><span class="day-focused" aria-hidden="true"></span>'
        f"<span>{escape(uptime)} · today</span></p>\n"
        f"      </li>"
    )


def component_items(section: ShownSection) -> SafeString:
    """A section's list items, laid out as a template loop over them would be."""
    if not section.components:
        return mark_safe("<li>No components yet.</li>\n    ")
    # Each item is safe (component_item escapes what it takes from the owner).
    return mark_safe("".join(f"\n      {component_item(component)}\n    " for component in section.components))  # noqa: S308
