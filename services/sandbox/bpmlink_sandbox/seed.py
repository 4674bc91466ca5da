"""Deterministic demo data: the reference's well-known ids plus a few hundred RU/EN records."""

from __future__ import annotations

import functools
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from .communications import TWINS, search_number
from .communications import TYPES as COMMUNICATION_TYPES
from .records import (
    ENGLISH,
    FILE_TYPE,
    LINK_TYPE,
    MEDIUM_PRIORITY,
    NOT_STARTED,
    OUR_COMPANY,
    SUPERVISOR_CONTACT,
    TASK_TYPE,
    TODO_CATEGORY,
    new_row,
)
from .schema import Schema
from .values import fmt_dt

_NS = uuid.UUID("5a1db0c5-0000-4000-8000-000000000000")
TODAY = datetime(2026, 1, 1, tzinfo=UTC)

# Ids documented in the reference (§3.4); everything else gets a stable uuid5.
KNOWN_IDS = {
    ("ActivityType", "Task"): TASK_TYPE,
    ("ActivityCategory", "To do"): TODO_CATEGORY,
    ("ActivityStatus", "Not started"): NOT_STARTED,
    ("ActivityPriority", "Medium"): MEDIUM_PRIORITY,
    ("SysLanguage", "English (United States)"): ENGLISH,
    ("FileType", "File"): FILE_TYPE,
    ("FileType", "Link"): LINK_TYPE,
    **{("CommunicationType", name): key for key, name in COMMUNICATION_TYPES.items()},
}

LOOKUPS: dict[str, list[str]] = {
    "CommunicationType": list(COMMUNICATION_TYPES.values()),
    "FileType": ["File", "Link"],
    "ActivityType": ["Task", "Email", "Call", "Visit"],
    "ActivityCategory": ["To do", "Meeting", "Call", "Email", "Paperwork"],
    "ActivityStatus": ["Not started", "In progress", "Completed", "Canceled"],
    "ActivityPriority": ["Low", "Medium", "High"],
    "ActivityResult": ["Completed", "Canceled", "Postponed"],
    "ContactType": ["Customer", "Employee", "Contact person", "Supplier", "Partner"],
    "AccountType": ["Customer", "Partner", "Supplier", "Our company", "Contractor", "Competitor"],
    "LeadType": ["Product", "Consulting", "Services"],
    "LeadSource": ["Website", "Referral", "Exhibition", "Advertisement", "Cold call"],
    "LeadMedium": ["Organic search", "Email", "Social network", "Landing page"],
    "LeadStatus": ["New", "In progress", "Converted", "Disqualified"],
    "QualifyStatus": ["Qualification", "Distribution", "Handoff to sales", "Awaiting sale", "Nurturing"],
    "LeadRegisterMethod": ["Manually", "Web form", "Imported", "API"],
    "ContactSalutationType": ["Mr.", "Ms.", "Mrs.", "Dr."],
    "Gender": ["Male", "Female"],
    "ContactDecisionRole": ["Decision maker", "Influencer", "Employee"],
    "Job": ["Manager", "Director", "Developer", "Accountant", "Sales representative", "CEO"],
    "Department": ["Sales", "Marketing", "Development", "Finance", "Support"],
    "AddressType": ["Actual", "Legal", "Delivery", "Home"],
    "Campaign": ["Spring newsletter 2025"],
    "CustomerNeed": ["Product demo", "Price quote"],
    "Channel": ["Website", "Phone", "Email"],
    "ContactSource": ["Website", "Event", "Referral"],
    "AccountOwnership": ["LLC", "JSC", "Sole proprietor"],
    "AccountIndustry": ["IT", "Retail", "Manufacturing", "Finance", "Healthcare", "Logistics"],
    "AccountCategory": ["A", "B", "C"],
    "AccountEmployeesNumber": ["1-10", "11-50", "51-200", "201-1000", "1000+"],
    "AccountAnnualRevenue": ["< 1M", "1M-10M", "10M-100M", "> 100M"],
    "Pricelist": ["Base price list"],
    "CaseStatus": ["New", "In progress", "Resolved", "Closed", "Reopened"],
    "CasePriority": ["Low", "Medium", "High", "Critical"],
    "CaseOrigin": ["Email", "Call", "Portal", "Chat"],
    "CaseCategory": ["Incident", "Service request"],
    "OpportunityType": ["New business", "Upsell"],
    "OpportunityStage": ["Qualification", "Presentation", "Proposal", "Negotiation", "Closed won", "Closed lost"],
    "OpportunityCategory": ["Sales", "Partnership"],
    "OpportunitySource": ["Website", "Referral", "Lead"],
    "OpportunityCloseReason": ["Price", "Competitor", "Timing"],
    "OrgStructureUnit": ["Head office", "Sales department", "Support team"],
    "ReasonForDismissal": ["Own will"],
    "TimeZone": ["Moscow (UTC+03:00)", "London (UTC+00:00)", "New York (UTC-05:00)", "Berlin (UTC+01:00)"],
}
# Products, orders, participants (seeded after everything else).
ORDER_LOOKUPS: dict[str, list[str]] = {
    "Unit": ["Piece", "Hour", "Month", "Kilogram", "License"],
    "ProductType": ["Goods", "Services", "Software"],
    "ProductCategory": ["Hardware", "Software", "Consulting"],
    "TradeMark": ["Acme", "Вектор"],
    "PropositionResult": ["Accepted", "Declined"],
    "OrderStatus": ["1. Draft", "2. Confirmation", "3. In progress", "4. Completed", "5. Canceled"],
    "OrderPaymentStatus": ["Planned", "Partially paid", "Paid"],
    "OrderDeliveryStatus": ["Planned", "Shipped", "Delivered"],
    "DeliveryType": ["Courier", "Pickup", "Post"],
    "PaymentType": ["Bank transfer", "Cash", "Card"],
    "ActivityParticipantRole": ["Responsible", "Participant", "Organizer"],
    "ParticipantResponse": ["Accepted", "Tentative", "Declined"],
}
CURRENCIES = [("Ruble", "RUB", "₽"), ("US dollar", "USD", "$"), ("Euro", "EUR", "€")]
TAXES = [("VAT 20%", 20), ("VAT 10%", 10), ("No VAT", 0)]
PRODUCTS = [("CRM license", "CRM-LIC", 1200, "License", "Software"), ("Implementation hour", "IMPL-H", 45, "Hour",
            "Services"), ("Support, month", "SUP-M", 300, "Month", "Services"), ("Сервер Т-100", "SRV-100", 2500,
            "Piece", "Goods"), ("Обучение пользователей", "TRAIN", 800, "Hour", "Services"),
            ("Barcode scanner", "SCAN-2", 150, "Piece", "Goods")]

COUNTRIES = [("Russian Federation", "RU"), ("United States", "US"), ("United Kingdom", "GB"),
             ("Germany", "DE"), ("Kazakhstan", "KZ")]
REGIONS = [("Moscow region", "Russian Federation"), ("Leningrad region", "Russian Federation"),
           ("Republic of Tatarstan", "Russian Federation"), ("California", "United States"),
           ("New York", "United States"), ("England", "United Kingdom"), ("Berlin", "Germany")]
CITIES = [("Москва", "Moscow region", "Moscow (UTC+03:00)"),
          ("Санкт-Петербург", "Leningrad region", "Moscow (UTC+03:00)"),
          ("Казань", "Republic of Tatarstan", "Moscow (UTC+03:00)"),
          ("New York", "New York", "New York (UTC-05:00)"),
          ("San Francisco", "California", "New York (UTC-05:00)"),
          ("London", "England", "London (UTC+00:00)"), ("Berlin", "Berlin", "Berlin (UTC+01:00)")]

RU_MALE = ["Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Иван", "Михаил", "Никита", "Егор"]
RU_FEMALE = ["Анна", "Мария", "Елена", "Ольга", "Наталья", "Екатерина", "Татьяна", "Юлия", "Ирина", "Светлана"]
RU_SURNAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
               "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов"]
EN_MALE = ["James", "John", "Robert", "Michael", "William", "David", "Richard", "Thomas", "Daniel", "Mark"]
EN_FEMALE = ["Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Susan", "Jessica", "Sarah", "Karen", "Emma"]
EN_SURNAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
               "Taylor", "Moore", "Clark", "O'Brien", "Walker", "Hall"]
RU_COMPANIES = ["Ромашка", "Вектор", "СеверТрейд", "Альфа-Строй", "ТехноСфера", "Гранит", "Меридиан",
                "Восток-Логистик", "Прогресс", "Лидер", "Стройинвест", "Инфосистемы", "Агрохолдинг Заря"]
EN_COMPANIES = ["Acme Corp", "Northwind Traders", "Blue River Logistics", "Contoso Ltd", "Globex",
                "Initech", "Umbrella Retail", "Stark Components", "Wayne Finance", "Hooli Cloud",
                "Vandelay Imports", "Pied Piper", "Soylent Foods"]
JOB_TITLES = ["Sales manager", "CTO", "Marketing manager", "Accountant", "CEO", "Developer",
              "Руководитель отдела продаж", "Главный бухгалтер", "Менеджер по закупкам", "Директор"]
TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
                     "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya"],
                    strict=True))


def stable_id(entity: str, name: str) -> str:
    return KNOWN_IDS.get((entity, name)) or str(uuid.uuid5(_NS, f"{entity}:{name}"))


def translit(text: str) -> str:
    return "".join(TRANSLIT.get(ch, ch) for ch in text.lower() if ch.isalnum() or ch in TRANSLIT)


@functools.lru_cache(maxsize=4)
def build_seed(scale: int = 1) -> dict[str, list[dict[str, Any]]]:
    """Every record of a fresh sandbox, keyed by entity; identical on every call."""
    schema = Schema()
    rng = random.Random(20260101)
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in schema.entities}
    clock = [datetime(2025, 1, 10, 9, 0, tzinfo=UTC)]

    def stamp() -> str:
        clock[0] += timedelta(minutes=rng.randint(5, 600), microseconds=rng.choice([0, 683000, 139505, 250000]))
        return fmt_dt(clock[0])

    def add(entity: str, values: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        values = dict(values)
        values["Id"] = key or str(uuid.UUID(int=rng.getrandbits(128), version=4))
        row = new_row(schema.entities[entity], values, stamp=stamp(), caller=SUPERVISOR_CONTACT, today=TODAY)
        out[entity].append(row)
        return row

    def ids(entity: str) -> list[str]:
        return [r["Id"] for r in out[entity]]

    add("SysLanguage", {"Name": "English (United States)", "Code": "en-US"}, ENGLISH)
    add("SysLanguage", {"Name": "Русский", "Code": "ru-RU"}, stable_id("SysLanguage", "Русский"))
    for entity, names in LOOKUPS.items():
        for name in names:
            add(entity, {"Name": name}, stable_id(entity, name))
    for name, code in COUNTRIES:
        add("Country", {"Name": name, "Code": code}, stable_id("Country", name))
    for name, country in REGIONS:
        add("Region", {"Name": name, "CountryId": stable_id("Country", country)}, stable_id("Region", name))
    region_country = dict(REGIONS)
    for name, region, tz in CITIES:
        add("City", {"Name": name, "RegionId": stable_id("Region", region),
                     "CountryId": stable_id("Country", region_country[region]),
                     "TimeZoneId": stable_id("TimeZone", tz)}, stable_id("City", name))

    def place() -> dict[str, Any]:
        name, region, _ = rng.choice(CITIES)
        return {"CityId": stable_id("City", name), "RegionId": stable_id("Region", region),
                "CountryId": stable_id("Country", region_country[region])}

    # The Supervisor and "Our company" come first, with their documented ids.
    add("Account", {"Name": "Our company", "TypeId": stable_id("AccountType", "Our company"),
                    "PrimaryContactId": SUPERVISOR_CONTACT}, OUR_COMPANY)
    add("Contact", {"Name": "Supervisor", "AccountId": OUR_COMPANY, "Email": "supervisor@example.com",
                    "TypeId": stable_id("ContactType", "Employee"), "JobTitle": "Administrator"},
        SUPERVISOR_CONTACT)

    n_accounts, n_contacts = 40 * scale, 180 * scale
    for i in range(n_accounts):
        if i % 2:
            name = f"ООО «{RU_COMPANIES[i // 2 % len(RU_COMPANIES)]}»" + (f" {i // 26 + 1}" if i >= 26 else "")
            web = f"{translit(RU_COMPANIES[i // 2 % len(RU_COMPANIES)])}{i}.ru"
            phone = f"+7 495 {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
        else:
            name = EN_COMPANIES[i // 2 % len(EN_COMPANIES)] + (f" {i // 26 + 1}" if i >= 26 else "")
            web = name.lower().replace(" ", "") + ".com"
            phone = f"+1 212 555 {rng.randint(1000, 9999)}"
        add("Account", {"Name": name, "Web": web, "Phone": phone,
                        "TypeId": stable_id("AccountType", rng.choice(LOOKUPS["AccountType"][:3])),
                        "IndustryId": stable_id("AccountIndustry", rng.choice(LOOKUPS["AccountIndustry"])),
                        "Code": f"ACC-{i + 1:05d}", "Address": f"{rng.randint(1, 200)} Main st.", **place()})
    accounts = ids("Account")

    for i in range(n_contacts):
        russian = i % 2 == 0
        female = rng.random() < 0.5
        if russian:
            given = rng.choice(RU_FEMALE if female else RU_MALE)
            surname = rng.choice(RU_SURNAMES) + ("а" if female else "")
            email = f"{translit(given)}.{translit(surname)}{i}@example.ru"
            phone = f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
        else:
            given = rng.choice(EN_FEMALE if female else EN_MALE)
            surname = rng.choice(EN_SURNAMES)
            email = f"{given.lower()}.{surname.lower().replace(chr(39), '')}{i}@example.com"
            phone = f"+1 415 555 {rng.randint(1000, 9999)}"
        birth = datetime(1960 + rng.randint(0, 40), rng.randint(1, 12), rng.randint(1, 28), tzinfo=UTC)
        add("Contact", {"Name": f"{given} {surname}", "Email": email, "MobilePhone": phone,
                        "AccountId": rng.choice(accounts[1:]), "JobTitle": rng.choice(JOB_TITLES),
                        "BirthDate": fmt_dt(birth), "GenderId": stable_id("Gender", "Female" if female else "Male"),
                        "TypeId": stable_id("ContactType", rng.choice(["Customer", "Contact person", "Partner"])),
                        "LanguageId": ENGLISH if not russian else stable_id("SysLanguage", "Русский"),
                        **place()})
    for contact in out["Contact"]:  # each phone and e-mail column has its communication row
        for column, type_id in TWINS["Contact"].items():
            if contact.get(column):
                number = contact[column]
                add("ContactCommunication", {"ContactId": contact["Id"], "CommunicationTypeId": type_id,
                                             "Number": number, "SearchNumber": search_number(number),
                                             "Primary": True})
    contacts = ids("Contact")

    for i in range(8 * scale):
        contact = out["Contact"][1 + i]
        add("Employee", {"Name": contact["Name"], "ContactId": contact["Id"], "AccountId": OUR_COMPANY,
                         "JobId": stable_id("Job", rng.choice(LOOKUPS["Job"])), "FullJobTitle": contact["JobTitle"],
                         "CareerStartDate": fmt_dt(datetime(2015 + i % 9, 1 + i % 12, 1, tzinfo=UTC)),
                         "OrgStructureUnitId": stable_id("OrgStructureUnit", "Head office")})

    for i in range(60 * scale):
        russian = i % 2 == 1
        person = (f"{rng.choice(RU_MALE)} {rng.choice(RU_SURNAMES)}" if russian
                  else f"{rng.choice(EN_FEMALE + EN_MALE)} {rng.choice(EN_SURNAMES)}")
        company = rng.choice(RU_COMPANIES if russian else EN_COMPANIES)
        add("Lead", {"Contact": person, "Account": company,
                     "Email": f"lead{i}@{translit(company) if russian else company.lower().replace(' ', '')}.example",
                     "BusinesPhone": f"+7 812 {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
                     if russian else f"+44 20 7946 {rng.randint(1000, 9999)}",
                     "LeadTypeId": stable_id("LeadType", rng.choice(LOOKUPS["LeadType"])),
                     "LeadSourceId": stable_id("LeadSource", rng.choice(LOOKUPS["LeadSource"])),
                     "QualifyStatusId": stable_id("QualifyStatus", rng.choice(LOOKUPS["QualifyStatus"])),
                     "Budget": rng.choice([0, 5000, 12500.5, 100000]), "Commentary": rng.choice(
                         ["Заявка с сайта", "Позвонить после 15:00", "Interested in a demo", ""]), **place()})

    for i in range(30 * scale):
        add("Opportunity", {"Title": f"Deal #{i + 1}: {rng.choice(['CRM rollout', 'Внедрение CRM', 'Support'])}",
                            "AccountId": rng.choice(accounts[1:]), "ContactId": rng.choice(contacts[1:]),
                            "StageId": stable_id("OpportunityStage", rng.choice(LOOKUPS["OpportunityStage"])),
                            "Amount": rng.randint(1, 200) * 1000, "Probability": rng.choice([10, 30, 50, 80]),
                            "DueDate": fmt_dt(datetime(2026, 1 + i % 12, 15, tzinfo=UTC))})

    for i in range(30 * scale):
        add("Case", {"Number": f"SR{i + 1:08d}",
                     "Subject": rng.choice(["Не приходят письма", "Cannot log in", "Ошибка в отчёте",
                                            "Invoice is wrong", "Запрос на доработку"]),
                     "ContactId": rng.choice(contacts[1:]), "AccountId": rng.choice(accounts[1:]),
                     "StatusId": stable_id("CaseStatus", rng.choice(LOOKUPS["CaseStatus"])),
                     "PriorityId": stable_id("CasePriority", rng.choice(LOOKUPS["CasePriority"])),
                     "OriginId": stable_id("CaseOrigin", rng.choice(LOOKUPS["CaseOrigin"])),
                     "RegisteredOn": fmt_dt(datetime(2025, 6, 1, tzinfo=UTC) + timedelta(hours=7 * i))})

    for i in range(80 * scale):
        start = datetime(2025, 9, 1, 9, tzinfo=UTC) + timedelta(hours=5 * i)
        add("Activity", {"Title": rng.choice(["Call the client", "Позвонить клиенту", "Send proposal",
                                              "Встреча в офисе", "Prepare contract"]),
                         "StartDate": fmt_dt(start), "DueDate": fmt_dt(start + timedelta(minutes=30)),
                         "ContactId": rng.choice(contacts[1:]), "AccountId": rng.choice(accounts[1:]),
                         "StatusId": stable_id("ActivityStatus", rng.choice(LOOKUPS["ActivityStatus"])),
                         "PriorityId": stable_id("ActivityPriority", rng.choice(LOOKUPS["ActivityPriority"])),
                         "TypeId": stable_id("ActivityType", rng.choice(LOOKUPS["ActivityType"]))})
    # Added last, so the random ids and stamps of everything above stay as they were.
    for entity, names in ORDER_LOOKUPS.items():
        for name in names:
            add(entity, {"Name": name}, stable_id(entity, name))
    for name, code, symbol in CURRENCIES:
        add("Currency", {"Name": name, "Code": code, "ShortName": code, "Symbol": symbol, "Division": 100},
            stable_id("Currency", name))
    for name, percent in TAXES:
        add("Tax", {"Name": name, "Percent": percent}, stable_id("Tax", name))
    for name, code, price, unit, kind in PRODUCTS:
        add("Product", {"Name": name, "Code": code, "Price": price, "CurrencyId": stable_id("Currency", "US dollar"),
                        "UnitId": stable_id("Unit", unit), "TypeId": stable_id("ProductType", kind),
                        "TaxId": stable_id("Tax", "VAT 20%")}, stable_id("Product", code))
    return out
