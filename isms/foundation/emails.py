"""One helper builds every email from three templates: <name>_subject.txt, <name>.txt and <name>.html."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context
from django.template.loader import get_template, render_to_string


def _render_plain(name: str, context: dict) -> str:
    # Plain text is not HTML: no escaping, or "next year's" arrives as "next year&#x27;s".
    return get_template(name).template.render(Context(context, autoescape=False))


def build_email(template: str, to: list[str], context: dict) -> EmailMultiAlternatives:
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(_render_plain(f"{template}_subject.txt", context).split())
    text = _render_plain(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=to)
    message.attach_alternative(html, "text/html")
    return message
