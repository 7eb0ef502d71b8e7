"""Demo-data toolkit shared by the relationship plugins (they all require ``party``).

Everything is drawn from ``context.random`` (seeded by ``xrm demo``), so the same seed gives the
same data. Dates are laid out around ``context.today`` when the context has one, else today's
date: a demo pipeline must have close dates ahead and agreements that expire next month.
Records are written through ``context.records`` (the record service), nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

FIRST_NAMES = (
    "Anna", "Ben", "Carla", "David", "Elena", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Klara",
    "Lukas", "Maria", "Noah", "Olivia", "Paul", "Quentin", "Rosa", "Simon", "Tina", "Ulrich",
    "Vera", "Walter", "Xenia", "Yusuf", "Zoe", "Amelie", "Bruno", "Chiara", "Dominik", "Emma",
    "Finn", "Hannah", "Ivan", "Julia", "Karim", "Laura", "Marco", "Nina", "Oskar", "Priya",
    "Rafael", "Sofia", "Tobias", "Lea", "Mehmet", "Sara", "Theo", "Aylin", "Jan",
)  # fmt: skip
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Braun", "Zimmermann",
    "Hartmann", "Krüger", "Lange", "Werner", "Lehmann", "Köhler", "Martin", "Dubois", "Rossi",
    "Bianchi", "García", "Fernández", "Novak", "Kowalski", "Jansen", "de Vries", "Nielsen",
    "Larsen", "O'Brien", "Murphy", "Smith", "Taylor", "Brown", "Wilson", "Silva", "Costa",
    "Yilmaz", "Kaya", "Nowak", "Horvat", "Petrov", "Andersen",
)  # fmt: skip
NAME_PARTS = (
    "Alpen", "Nord", "Süd", "Rhein", "Elb", "Isar", "Main", "Donau", "Blau", "Grün", "Silber",
    "Gold", "Stern", "Licht", "Berg", "Tal", "Fels", "Wald", "Hafen", "Brücken", "Atlas",
    "Orion", "Vega", "Nova", "Polar", "Delta", "Sigma", "Apex", "Vertex", "Helix", "Quantum",
    "Pioneer", "Summit", "Harbor", "Crest", "Cedar", "Maple", "Falcon", "Lynx", "Otter",
)  # fmt: skip
NAME_TRADES = (
    "Technik", "Systems", "Logistik", "Maschinenbau", "Consulting", "Digital", "Handel",
    "Energie", "Bau", "Pharma", "Foods", "Textil", "Software", "Metall", "Medien", "Solutions",
    "Analytics", "Robotics", "Labs", "Werke",
)  # fmt: skip
LEGAL_FORMS = ("GmbH", "AG", "GmbH & Co. KG", "SE", "Ltd", "S.A.", "B.V.", "KG", "Inc.")
CITIES = (
    ("Berlin", "DE", "10"), ("Hamburg", "DE", "20"), ("München", "DE", "80"),
    ("Köln", "DE", "50"), ("Frankfurt am Main", "DE", "60"), ("Stuttgart", "DE", "70"),
    ("Düsseldorf", "DE", "40"), ("Leipzig", "DE", "04"), ("Dresden", "DE", "01"),
    ("Hannover", "DE", "30"), ("Nürnberg", "DE", "90"), ("Bremen", "DE", "28"),
    ("Wien", "AT", "1"), ("Graz", "AT", "8"), ("Zürich", "CH", "80"), ("Basel", "CH", "40"),
    ("Amsterdam", "NL", "10"), ("Rotterdam", "NL", "30"), ("Paris", "FR", "75"),
    ("Lyon", "FR", "69"), ("Milano", "IT", "20"), ("Madrid", "ES", "28"),
    ("Kraków", "PL", "30"), ("Praha", "CZ", "11"), ("København", "DK", "12"),
    ("Stockholm", "SE", "11"), ("London", "GB", "EC"), ("Dublin", "IE", "D0"),
)  # fmt: skip
STREETS = (
    "Hauptstraße", "Bahnhofstraße", "Industriestraße", "Marktplatz", "Gartenweg", "Am Hafen",
    "Schillerstraße", "Lindenallee", "Ringstraße", "Parkstraße", "Kanalweg", "Mühlenweg",
)  # fmt: skip
JOB_TITLES = (
    "CEO", "CFO", "CTO", "Head of Purchasing", "Purchasing Manager", "IT Manager",
    "Sales Director", "Office Manager", "Project Manager", "Head of Operations",
    "Procurement Specialist", "Finance Manager", "Product Manager", "Plant Manager",
    "Marketing Lead", "Key Account Manager", "Quality Manager", "Legal Counsel",
)  # fmt: skip


def today(context: Any) -> dt.date:
    return getattr(context, "today", None) or dt.date.today()


def day(context: Any, offset_days: int) -> str:
    """ISO date ``offset_days`` from the demo's today."""
    return (today(context) + dt.timedelta(days=offset_days)).isoformat()


def moment(context: Any, offset_days: float) -> str:
    """ISO date-time ``offset_days`` from midnight UTC of the demo's today (whole minutes)."""
    base = dt.datetime.combine(today(context), dt.time(9, 0), tzinfo=dt.UTC)
    return (base + dt.timedelta(minutes=round(offset_days * 24 * 60))).isoformat()


def slug(text: str) -> str:
    out = []
    for ch in text.lower():
        ch = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "í": "i", "á": "a"}.get(ch, ch)
        if ch.isascii() and ch.isalnum():
            out.append(ch)
    return "".join(out) or "x"


def weighted(rng: Any, choices: Sequence[tuple[Any, float]]) -> Any:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights, k=1)[0]


def create(context: Any, entity: str, values: dict[str, Any]) -> dict[str, Any]:
    return context.records.create(context.conn, context.actor, entity, values)


def all_records(context: Any, entity: str, params: dict[str, str] | None = None) -> list[dict]:
    """Every record of ``entity`` matching ``params``, in id order (keyset pages of 1,000)."""
    out: list[dict] = []
    last = 0
    while True:
        page = context.records.query(
            context.conn,
            context.actor,
            entity,
            {**(params or {}), "id": f"gt.{last}", "order": "id", "limit": "1000"},
        )
        out.extend(page)
        if len(page) < 1000:
            return out
        last = page[-1]["id"]


def advance(
    context: Any, entity: str, record: dict[str, Any], steps: Iterable[tuple]
) -> dict[str, Any]:
    """Take ``record`` through workflow transitions ``(name, values[, comment])`` in order
    (``context.fire``). Returns the record as stored after the last step."""
    for name, values, *comment in steps:
        record = context.fire(
            entity, record["id"], name, comment=comment[0] if comment else None, values=values
        )
    return record


def demo_users(
    context: Any, people: Sequence[tuple[str, str, str, str]], team: str | None = None
) -> dict[str, int]:
    """User ids of the demo's colleagues ``(username, first name, last name, role)``, created
    when missing, so demo records have owners (sales reps, purchasers...) and the dashboards
    "per sales rep" show something. Made through the demo context
    (:meth:`xrm.core.plugins.DemoContext.ensure_user`), in the demo's transaction, with a
    random password nobody knows: an administrator sets one to log in as them. A role that does
    not exist (its plugin's roles were not installed) is left out. ``team`` puts them in one
    team: the platform's ``team`` record scope is a user's teams."""
    out = {
        username: context.ensure_user(username, first, last, roles=[role])
        for username, first, last, role in people
    }
    if team:
        context.ensure_team(team, out.values())
    return out
