"""Messages from Jinja2 templates: per event, channel and locale, sandboxed, overridable by the owner.

A message for an event, a channel and a locale comes from the first of ``<locale>/<event>.<channel>.j2``,
``<locale>/<event>.j2``, ``<locale>/_default.j2`` (then the same in English) found in the owner's
``data_dir/templates`` and then in the package's ``templates/``. A template defines blocks: ``subject`` and ``text``
(e-mail), ``sms`` (the SMS text; ``text`` when absent) and optionally ``html``; without one, the e-mail's HTML
part is ``<locale>/_layout.html.j2`` around the text's paragraphs (with the unsubscribe link).

The sandbox keeps an owner's template from reaching Python's internals. Each block is rendered on its own,
``html`` with autoescaping and the others without (a plain-text part must not show ``&amp;``), from two
environments over the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, PackageLoader, TemplateNotFound, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from bridge import texts
from bridge.notifications import locale as fmt
from bridge.notifications.settings import LOCALES


@dataclass(frozen=True)
class Rendered:
    channel: str
    locale: str
    template: str
    subject: str
    text: str
    html: str


class TemplateMissing(LookupError):
    """No template (not even the default one) for this channel."""


class Templates:
    def __init__(self, data_dir: Path | None, zone: ZoneInfo) -> None:
        loaders: list[BaseLoader] = []
        if data_dir is not None:
            loaders.append(FileSystemLoader(str(Path(data_dir) / "templates")))
        loaders.append(PackageLoader("bridge.notifications", "templates"))
        loader = ChoiceLoader(loaders)
        self.zone = zone
        self._html = SandboxedEnvironment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True)
        self._plain = SandboxedEnvironment(loader=loader, autoescape=False, trim_blocks=True, lstrip_blocks=True)
        for env in (self._html, self._plain):
            env.filters.update(_filters(zone))

    def name_for(self, event_type: str, channel: str, locale: str) -> str:
        for loc in dict.fromkeys((locale, "en")):
            for name in (f"{loc}/{event_type}.{channel}.j2", f"{loc}/{event_type}.j2", f"{loc}/_default.j2"):
                try:
                    self._plain.get_template(name)
                except TemplateNotFound:
                    continue
                return name
        raise TemplateMissing(f"no template for {event_type} on {channel}")

    def render(self, event_type: str, channel: str, locale: str, context: dict[str, Any]) -> Rendered:
        locale = locale if locale in LOCALES else "en"
        name = self.name_for(event_type, channel, locale)
        values = {**context, "locale": locale, "event_type": event_type}
        subject = " ".join(self._block(self._plain, name, "subject", values).split())
        if channel == "sms":
            text = self._block(self._plain, name, "sms", values) or self._block(self._plain, name, "text", values)
            return Rendered(channel, locale, name, "", text.strip(), "")
        text = self._block(self._plain, name, "text", values).strip()
        html = self._block(self._html, name, "html", values)
        if not html:
            paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
            layout = self._html.get_template(self._layout(locale))
            html = layout.render({**values, "subject": subject, "paragraphs": paragraphs})
        return Rendered(channel, locale, name, subject, text, html)

    def _layout(self, locale: str) -> str:
        for name in (f"{locale}/_layout.html.j2", "en/_layout.html.j2"):
            try:
                self._html.get_template(name)
            except TemplateNotFound:
                continue
            return name
        raise TemplateMissing("no e-mail layout")

    def _block(self, env: SandboxedEnvironment, name: str, block: str, values: dict[str, Any]) -> str:
        template = env.get_template(name)
        render = template.blocks.get(block)
        if render is None:
            return ""
        return "".join(render(template.new_context(values)))


def _filters(zone: ZoneInfo) -> dict[str, Any]:
    """``number``, ``money``, ``day``, ``digits`` and ``text``, in the locale of the message being rendered."""

    @pass_context
    def number(ctx: Context, value: object) -> str:
        return fmt.number(value, ctx.get("locale", "en"))

    @pass_context
    def money(ctx: Context, value: object, currency: str = "") -> str:
        return fmt.money(value, currency, ctx.get("locale", "en"))

    @pass_context
    def day(ctx: Context, value: object) -> str:
        return fmt.day(value, ctx.get("locale", "en"), zone)

    @pass_context
    def digits(ctx: Context, value: object) -> str:
        return fmt.digits(str(value), ctx.get("locale", "en"))

    @pass_context
    def text(ctx: Context, value: object) -> str:
        """An owner's text in the message's locale: a string, or one per locale (a campaign's subject)."""
        return texts.pick(value, str(ctx.get("locale", "en")))

    return {"number": number, "money": money, "day": day, "digits": digits, "text": text}
