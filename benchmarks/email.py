"""Mails per second into a loopback SMTP server: bookjobs (2 workers, outbox on) beside plain smtplib.

    python -m benchmarks.email [--mails 1000]

Both sides open one SMTP connection per mail, as the mailer does; the ratio is what to read.
"""

from __future__ import annotations

import argparse
import smtplib
import time

from sqlalchemy import func, select

from actors import email as email_actors
from benchmarks import services
from broker import runtime
from broker.settings import Settings
from domain import db
from domain.mail.message import build_message
from domain.mail.templates import render
from domain.models.jobs import Job
from domain.models.mail import OutboxMail
from tests.support.smtp import SmtpServer

SENDER = "BookReader <noreply@bookreader.local>"


def plain_smtplib(server: SmtpServer, mails: int) -> float:
    """A loop of smtplib sends, rendering each mail like the mailer does."""
    start = time.perf_counter()
    for i in range(mails):
        mail = render("notification", "ru", {"subject": f"Письмо {i}", "body": "Текст письма."})
        message = build_message(sender=SENDER, recipient=f"r{i}@example.com", recipient_name="", mail=mail)
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as smtp:
            smtp.send_message(message)
    return mails / (time.perf_counter() - start)


def bookjobs_workers(server: SmtpServer, mails: int, processes: int) -> float:
    """send_email jobs drained by `processes` workers: mails from the first start to the last finish."""
    with services.vhost() as url, services.schema() as database_url:
        broker = runtime.configure(Settings(broker_url=url, database_url=database_url))
        runtime.rebind_actors(broker, [email_actors.send_email])
        for i in range(mails):
            email_actors.send_email.send(
                f"r{i}@example.com", f"Письмо {i}", "notification", {"body": "Текст."}
            )
        smtp = {"SMTP_URL": f"smtp://127.0.0.1:{server.port}?timeout=10"}
        with services.workers(url, database_url, processes=processes, modules=(), extra_env=smtp):
            services.wait_until(
                lambda: _sent() >= mails, timeout=600, interval=0.2, what=f"{mails} mails sent"
            )
        with db.session_scope() as session:
            first, last = session.execute(
                select(func.min(Job.started_at), func.max(Job.finished_at)).where(
                    Job.actor_name == "send_email"
                )
            ).one()
        broker.close()
    return mails / (last - first).total_seconds()


def _sent() -> int:
    with db.session_scope() as session:
        return session.scalar(select(func.count()).select_from(OutboxMail).where(OutboxMail.status == "sent"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mails", type=int, default=1000)
    options = parser.parse_args()
    server = SmtpServer()
    server.start()
    try:
        plain = plain_smtplib(server, options.mails)
        bookjobs = bookjobs_workers(server, options.mails, processes=2)
    finally:
        server.stop()
    print(f"\n{options.mails} mails into a loopback SMTP server (aiosmtpd)\n")
    print(f"  plain smtplib loop, 1 process              {plain:>8,.0f} mails/s")
    print(f"  bookjobs send_email, 2 workers, outbox on  {bookjobs:>8,.0f} mails/s")
    print(f"\n  bookjobs / plain smtplib = {bookjobs / plain:.2f}")


if __name__ == "__main__":
    main()
