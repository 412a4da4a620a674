"""Render a mail from its Jinja2 templates: a subject, a plain-text part and an HTML part."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    UndefinedError,
    select_autoescape,
)

from domain.errors import InvalidArgument

TEMPLATE_DIR = Path(__file__).parent / "templates"
DEFAULT_LOCALE = "ru"
LOCALES = ("ru", "en")

SUBJECTS = {
    ("verification", "ru"): "Подтвердите адрес электронной почты — {{ site }}",
    ("verification", "en"): "Confirm your email address — {{ site }}",
    ("password_reset", "ru"): "Сброс пароля — {{ site }}",
    ("password_reset", "en"): "Reset your password — {{ site }}",
    ("session_reminder", "ru"): "Напоминание: занятие в {{ starts_at }}",
    ("session_reminder", "en"): "Reminder: your session at {{ starts_at }}",
    ("exam_reminder", "ru"): "До конца экзамена осталось {{ minutes_remaining }} мин.",
    ("exam_reminder", "en"): "{{ minutes_remaining }} minutes left in your exam",
    ("notification", "ru"): "{{ subject }}",
    ("notification", "en"): "{{ subject }}",
}


@dataclass(frozen=True)
class RenderedMail:
    """A mail's subject and bodies."""

    template: str
    subject: str
    text: str
    html: str


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render(template: str, locale: str | None, context: dict[str, Any]) -> RenderedMail:
    """Render `template` in `locale` (Russian unless the user chose English)."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    if (template, locale) not in SUBJECTS:
        known = sorted({name for name, _ in SUBJECTS})
        raise InvalidArgument(f"Unknown mail template {template!r}; templates: {', '.join(known)}.")
    env = environment()
    values = {"site": "BookReader", **context}
    try:
        subject = env.from_string(SUBJECTS[template, locale]).render(values)
        text = env.get_template(f"{template}.{locale}.txt").render(values)
        html = env.get_template(f"{template}.{locale}.html").render(values)
    except TemplateNotFound as error:
        raise InvalidArgument(f"Mail template file {error.name!r} is missing.") from None
    except UndefinedError as error:
        raise InvalidArgument(
            f"Mail template {template!r} needs a value the context does not give: {error}."
        ) from None
    return RenderedMail(template=template, subject=subject.strip(), text=text, html=html)
