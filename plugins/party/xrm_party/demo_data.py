"""Demo organisations and people: the directory the relationship plugins' demo data draws on.

400 organisations (companies, authorities, NGOs, communities, media, investors), two to three
people at each company, some private individuals (future shareholders), parent/subsidiary and
competitor relationships.
"""

from __future__ import annotations

from typing import Any

from .demo import (
    CITIES,
    FIRST_NAMES,
    JOB_TITLES,
    LAST_NAMES,
    LEGAL_FORMS,
    NAME_PARTS,
    NAME_TRADES,
    STREETS,
    create,
    day,
    slug,
    weighted,
)

COMPANIES = 340
INDUSTRIES = (
    ("manufacturing", 5), ("retail", 3), ("services", 3), ("technology", 4), ("finance", 2),
    ("healthcare", 2), ("energy", 1), ("logistics", 2), ("construction", 1), ("media", 1),
)  # fmt: skip
OTHER_ORGANISATIONS = (
    ("public_body", "public", ("Stadt {city}", "Landratsamt {city}", "Umweltamt {city}",
                               "Gewerbeaufsicht {city}", "Handelskammer {city}")),
    ("ngo", "nonprofit", ("Naturschutzbund {city}", "Verbraucherzentrale {city}",
                          "Clean Air Initiative {city}", "Fair Work e.V. {city}")),
    ("community", "nonprofit", ("Bürgerverein {city}", "Anwohnerinitiative {city}-Nord",
                                "Sportverein {city} 1898")),
    ("media", "media", ("{city}er Rundschau", "Radio {city}", "Wirtschaftsblatt {city}")),
    ("investor", "finance", ("{part} Capital Partners", "{part} Invest", "{part} Asset Management")),
)  # fmt: skip
OTHERS_PER_KIND = 12


def load(context: Any) -> None:
    rng = context.random
    combos = [(p, t) for p in NAME_PARTS for t in NAME_TRADES]
    rng.shuffle(combos)
    orgs: list[dict] = []
    for i in range(COMPANIES):
        part, trade = combos[i]
        city, country, zip_prefix = rng.choice(CITIES)
        name = f"{part} {trade}"
        domain = f"{slug(part + trade)}.example"
        parent = orgs[rng.randrange(len(orgs))]["id"] if orgs and rng.random() < 0.06 else None
        orgs.append(
            create(
                context,
                "party.organization",
                {
                    "name": name,
                    "legal_name": f"{name} {rng.choice(LEGAL_FORMS)}",
                    "kind": "company",
                    "vat_id": f"{country}{100000000 + i * 7919:09d}",
                    "industry": weighted(rng, INDUSTRIES),
                    "website": f"https://www.{domain}",
                    "email": f"info@{domain}",
                    "phone": f"+49 {rng.randint(30, 899)} {rng.randint(100000, 999999)}",
                    "street": f"{rng.choice(STREETS)} {rng.randint(1, 180)}",
                    "postal_code": f"{zip_prefix}{rng.randint(100, 999)}",
                    "city": city,
                    "country": country,
                    "employees": int(rng.lognormvariate(4.5, 1.4)) + 3,
                    "parent": parent,
                },
            )
        )
    for kind, industry, templates in OTHER_ORGANISATIONS:
        for j in range(OTHERS_PER_KIND):
            city, country, _ = CITIES[(j * 5 + len(kind)) % len(CITIES)]
            name = templates[j % len(templates)].format(city=city, part=NAME_PARTS[j * 3 % 40])
            orgs.append(
                create(
                    context,
                    "party.organization",
                    {"name": name, "kind": kind, "industry": industry, "city": city,
                     "country": country},
                )
            )  # fmt: skip
    people = 0
    for org in orgs:
        if org["kind"] == "company":
            count = rng.choice((1, 2, 2, 3))
        else:
            count = rng.choice((1, 2))
        domain = org["email"].split("@")[1] if org.get("email") else f"{slug(org['name'])}.example"
        for _ in range(count):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            people += 1
            create(
                context,
                "party.person",
                {
                    "salutation": rng.choice(("mr", "ms")),
                    "first_name": first,
                    "last_name": last,
                    "email": f"{slug(first)}.{slug(last)}.{people}@{domain}",
                    "phone": f"+49 {rng.randint(30, 899)} {rng.randint(100000, 999999)}",
                    "organization": org["id"],
                    "job_title": rng.choice(JOB_TITLES),
                    "city": org.get("city"),
                    "country": org.get("country"),
                },
            )
    for _ in range(40):  # private individuals: shareholders, residents, journalists
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        city, country, _ = rng.choice(CITIES)
        people += 1
        create(
            context,
            "party.person",
            {
                "first_name": first,
                "last_name": last,
                "email": f"{slug(first)}.{slug(last)}.{people}@mail.example",
                "city": city,
                "country": country,
                "birthday": day(context, -rng.randint(25 * 365, 75 * 365)),
            },
        )
    for org in orgs:
        if org.get("parent"):
            _relate(context, org["id"], "subsidiary_of", org["parent"])
    companies = [o for o in orgs if o["kind"] == "company"]
    for _ in range(30):
        a, b = rng.sample(companies, 2)
        if a["industry"] == b["industry"]:
            _relate(context, a["id"], "competitor_of", b["id"])


def _relate(context: Any, source: int, kind: str, target: int) -> None:
    create(
        context,
        "party.relationship",
        {
            "source": {"entity": "party.organization", "id": source},
            "relationship_type": kind,
            "target": {"entity": "party.organization", "id": target},
        },
    )
