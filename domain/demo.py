"""Demo data for `bookjobs up --demo`: a Russian EPUB, a reader, and reading sessions left open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.books import epub_writer
from domain.books.epub_writer import BookText, ChapterText
from domain.models.accounts import User
from domain.models.base import utcnow
from domain.models.books import Book
from domain.models.reading import ReadingSession

CHAPTERS = {
    "Глава 1. Дом у реки": [
        "Старый дом стоял на высоком холме над тёмной рекой.",
        "Он сказал, что приедет к вечеру.",
        "В густом тумане звенел далёкий колокол, и на широкой площади шумел пёстрый рынок.",
        "Золотой свет заката лежал на пустой дороге.",
        "Потом они долго спорили о деньгах.",
    ],
    "Глава 2. Гости": [
        "Седой старик в чёрном плаще сидел у окна.",
        "Высокая женщина в сером платье стояла у камина.",
        "Она согласилась и ничего не ответила.",
        "В просторной гостиной висел портрет седого графа.",
        "На старом столе горела тусклая свеча.",
    ],
    "Глава 3. Ночь": [
        "Холодный ветер гнал по небу низкие тучи.",
        "Над тихим озером висела бледная луна.",
        "Никто не знал, откуда взялись эти слухи.",
        "В маленькой кухне пахло душистым чаем.",
        "Вдалеке глухо гремел гром.",
    ],
}


@dataclass(frozen=True)
class DemoData:
    book_id: int
    user_id: int
    open_sessions: int


def write_epub(path: Path) -> Path:
    """A three-chapter Russian EPUB 3 with a navigation document."""
    chapters = [
        ChapterText(title, sentences, heading_id=f"h{n}")
        for n, (title, sentences) in enumerate(CHAPTERS.items(), start=1)
    ]
    return epub_writer.write_epub(path, BookText("bookjobs-demo", "Дом у реки", "Демо Автор", chapters))


def load(session: Session, *, media_root: Path) -> DemoData:
    """The demo reader, book and three reading sessions started three hours ago (idempotent: a
    second run reuses the reader and the book, and opens sessions only if none is open)."""
    user = session.scalars(select(User).where(User.username == "demo")).one_or_none()
    if user is None:
        user = User(email="reader@bookreader.local", username="demo", full_name="Анна Демо")
        session.add(user)
        session.flush()
    path = str(write_epub(media_root / "demo" / "dom-u-reki.epub").resolve())
    book = session.scalars(select(Book).where(Book.file_path == path)).first()
    if book is None:
        book = Book(title="Дом у реки", author="Демо Автор", file_path=path, file_format="epub")
        session.add(book)
        session.flush()
    open_sessions = select(ReadingSession.id).where(
        ReadingSession.book_id == book.id, ReadingSession.is_active.is_(True)
    )
    if session.scalars(open_sessions).first() is None:
        started = utcnow() - timedelta(hours=3)
        session.add_all(
            ReadingSession(user_id=user.id, book_id=book.id, started_at=started, start_position=10 * n)
            for n in range(3)
        )
    return DemoData(book_id=book.id, user_id=user.id, open_sessions=3)
