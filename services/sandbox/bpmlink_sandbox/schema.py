"""Entity definitions: one declarative table, parsed into `Entity`/`Column` objects.

Spec syntax per entity: comma-separated `Name kind`, where kind is text, int, decimal, bool,
datetime, date, guid, stream, or `>Target` for a lookup (exposed as `NameId` + navigation `Name`).
Column names are the exact OData property names of the reference (§4), quirks included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NAMESPACE = "Terrasoft.Configuration.OData"
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
MIN_DATE = "0001-01-01T00:00:00Z"

EDM = {
    "guid": "Edm.Guid",
    "lookup": "Edm.Guid",
    "text": "Edm.String",
    "int": "Edm.Int32",
    "decimal": "Edm.Decimal",
    "bool": "Edm.Boolean",
    "datetime": "Edm.DateTimeOffset",
    "date": "Edm.DateTimeOffset",
    "stream": "Edm.Stream",
}
KINDS = frozenset(EDM) - {"lookup"}

_LOOKUP = "Name text, Description text"

# The schema. Lookup tables need only a name; bigger entities list their columns.
ENTITY_SPECS: dict[str, str] = {
    "Contact": (
        "Name text, Owner >Contact, Dear text, SalutationType >ContactSalutationType, Gender >Gender, "
        "Account >Account, DecisionRole >ContactDecisionRole, Type >ContactType, Job >Job, JobTitle text, "
        "Department >Department, BirthDate date, Phone text, MobilePhone text, HomePhone text, Skype text, "
        "Email text, AddressType >AddressType, Address text, City >City, Region >Region, Zip text, "
        "Country >Country, DoNotUseEmail bool, DoNotUseCall bool, DoNotUseFax bool, DoNotUseSms bool, "
        "DoNotUseMail bool, Notes text, Facebook text, LinkedIn text, Twitter text, FacebookId text, "
        "LinkedInId text, TwitterId text, Photo >SysImage, GPSN text, GPSE text, Surname text, "
        "GivenName text, MiddleName text, Confirmed bool, IsNonActualEmail bool, Completeness int, "
        "Language >SysLanguage, Age int, IsEmailConfirmed bool, AdCampaign >Campaign, "
        "CustomerNeed >CustomerNeed, Channel >Channel, Source >ContactSource, "
        "RegisterMethod >LeadRegisterMethod, LeadConversionScore int, ContactPhoto stream"
    ),
    "Account": (
        "Name text, Owner >Contact, Ownership >AccountOwnership, PrimaryContact >Contact, Parent >Account, "
        "Industry >AccountIndustry, Code text, Type >AccountType, Phone text, AdditionalPhone text, Fax text, "
        "Web text, AddressType >AddressType, Address text, City >City, Region >Region, Zip text, "
        "Country >Country, AccountCategory >AccountCategory, EmployeesNumber >AccountEmployeesNumber, "
        "AnnualRevenue >AccountAnnualRevenue, Notes text, AlternativeName text, GPSN text, GPSE text, "
        "Completeness int, AccountLogo >SysImage, AUM decimal, LeadConversionScore int, "
        "PriceList >Pricelist, Logo stream"
    ),
    "Lead": (
        "LeadName text, Owner >Contact, Contact text, Account text, Status >LeadStatus, "
        "QualifyStatus >QualifyStatus, LeadType >LeadType, LeadSource >LeadSource, LeadMedium >LeadMedium, "
        "Budget decimal, Score int, PredictiveScore int, FullJobTitle text, Dear text, Email text, "
        "BusinesPhone text, MobilePhone text, Website text, Address text, Zip text, Notes text, "
        "Commentary text, QualifiedContact >Contact, QualifiedAccount >Account, "
        "DecisionRole >ContactDecisionRole, Industry >AccountIndustry, MeetingDate datetime, "
        "DecisionDate date, Country >Country, Region >Region, City >City, RegisterMethod >LeadRegisterMethod"
    ),
    "Activity": (
        "Title text, Owner >Contact, Type >ActivityType, ActivityCategory >ActivityCategory, "
        "StartDate datetime, DueDate datetime, Status >ActivityStatus, Author >Contact, "
        "Priority >ActivityPriority, ShowInScheduler bool, Contact >Contact, Account >Account, "
        "Result >ActivityResult, DetailedResult text, Notes text, Lead >Lead, Opportunity >Opportunity, "
        "Case >Case, RemindToOwner bool, RemindToOwnerDate datetime"
    ),
    "Case": (
        "Number text, Owner >Contact, Subject text, Symptoms text, RegisteredOn datetime, "
        "Status >CaseStatus, Priority >CasePriority, Origin >CaseOrigin, Category >CaseCategory, "
        "Contact >Contact, Account >Account, ResponseDate datetime, SolutionDate datetime, Solution text"
    ),
    "Opportunity": (
        "Title text, Owner >Contact, Account >Account, Contact >Contact, Type >OpportunityType, "
        "Stage >OpportunityStage, Category >OpportunityCategory, Source >OpportunitySource, "
        "ResponsibleDepartment >Department, LeadType >LeadType, CloseReason >OpportunityCloseReason, "
        "Budget decimal, Amount decimal, Probability int, DueDate date, IsPrimary bool, "
        "Description text, Notes text"
    ),
    "Employee": (
        "Name text, Owner >Contact, Contact >Contact, OrgStructureUnit >OrgStructureUnit, Notes text, "
        "Job >Job, FullJobTitle text, CareerStartDate date, CareerDueDate date, ProbationDueDate date, "
        "ReasonForDismissal >ReasonForDismissal, Account >Account, Manager >Employee"
    ),
    # Communication records (a contact's phones and e-mails); SearchNumber: Number's digits reversed.
    "ContactCommunication": (
        "Contact >Contact, CommunicationType >CommunicationType, Number text, SearchNumber text, Primary bool"
    ),
    "AccountCommunication": (
        "Account >Account, CommunicationType >CommunicationType, Number text, SearchNumber text, Primary bool"
    ),
    "Country": "Name text, Description text, Code text",
    "Region": "Name text, Description text, Country >Country",
    "City": "Name text, Description text, Country >Country, Region >Region, TimeZone >TimeZone",
    "SysImage": "Name text, MimeType text, Data stream",
    "SysLanguage": "Name text, Code text",
    # --- Products, orders, participants: what the bundle steps write besides files. Column names as
    # a real instance's generated models show them; the opportunity's product detail is
    # OpportunityProductInterest (Creatio has no OpportunityProduct entity).
    "Product": (
        "Name text, Owner >Contact, Code text, Description text, Notes text, Price decimal, "
        "Currency >Currency, Unit >Unit, Type >ProductType, Category >ProductCategory, "
        "TradeMark >TradeMark, Tax >Tax, IsArchive bool, URL text, Picture >SysImage"
    ),
    "OpportunityProductInterest": (
        "Opportunity >Opportunity, Product >Product, Quantity decimal, Price decimal, Amount decimal, "
        "Comment text, OfferDate date, OfferResult >PropositionResult"
    ),
    "Order": (
        "Number text, Owner >Contact, Account >Account, Contact >Contact, Opportunity >Opportunity, "
        "Status >OrderStatus, Date datetime, DueDate datetime, ActualDate datetime, Amount decimal, "
        "PaymentAmount decimal, PrimaryAmount decimal, Currency >Currency, CurrencyRate decimal, "
        "PaymentStatus >OrderPaymentStatus, DeliveryStatus >OrderDeliveryStatus, DeliveryType >DeliveryType, "
        "PaymentType >PaymentType, DeliveryAddress text, ReceiverName text, ContactNumber text, "
        "Comment text, Notes text"
    ),
    "OrderProduct": (
        "Order >Order, Product >Product, Name text, Quantity decimal, BaseQuantity decimal, Unit >Unit, "
        "Price decimal, Amount decimal, DiscountPercent decimal, DiscountAmount decimal, Tax >Tax, "
        "TaxAmount decimal, TotalAmount decimal, Currency >Currency, PrimaryPrice decimal, "
        "PrimaryAmount decimal, PriceList >Pricelist, DeliveryDate datetime, Notes text"
    ),
    "ActivityParticipant": (
        "Activity >Activity, Participant >Contact, Role >ActivityParticipantRole, InviteParticipant bool, "
        "InviteResponse >ParticipantResponse, ReadMark bool"
    ),
    "Currency": "Name text, Description text, Code text, ShortName text, Symbol text, Division int",
    "Tax": "Name text, Description text, Percent decimal",
    # --- end of products, orders, participants
}
# Attachments (§3.10): one `<Parent>File` object per parent, as in Creatio's base packages.
# `Type` is File or Link (FileType); the body is the `Data` stream, written by FileApiService/UploadFile.
FILE_PARENTS = ("Contact", "Account", "Activity", "Lead", "Opportunity", "Case")
for _parent in FILE_PARENTS:
    ENTITY_SPECS[f"{_parent}File"] = (
        f"Name text, Notes text, {_parent} >{_parent}, Type >FileType, Version int, Size int, TotalSize int, "
        "Data stream"
    )
ENTITY_SPECS["FileType"] = _LOOKUP

LOOKUP_TABLES = (
    "ContactType AccountType LeadType LeadSource LeadMedium LeadStatus QualifyStatus LeadRegisterMethod "
    "ActivityCategory ActivityStatus ActivityPriority ActivityType ActivityResult ContactSalutationType "
    "Gender ContactDecisionRole Job Department AddressType Campaign CustomerNeed Channel ContactSource "
    "AccountOwnership AccountIndustry AccountCategory AccountEmployeesNumber AccountAnnualRevenue "
    "Pricelist CaseStatus CasePriority CaseOrigin CaseCategory OpportunityType OpportunityStage "
    "OpportunityCategory OpportunitySource OpportunityCloseReason OrgStructureUnit ReasonForDismissal "
    "TimeZone CommunicationType "
    # products, orders, participants
    "Unit ProductType ProductCategory TradeMark PropositionResult OrderStatus OrderPaymentStatus "
    "OrderDeliveryStatus DeliveryType PaymentType ActivityParticipantRole ParticipantResponse"
).split()
for _name in LOOKUP_TABLES:
    ENTITY_SPECS.setdefault(_name, _LOOKUP)

SYSTEM_COLUMNS = (
    "CreatedOn datetime, CreatedBy >Contact, ModifiedOn datetime, ModifiedBy >Contact, ProcessListeners int"
)


@dataclass(frozen=True)
class Column:
    """One schema column; `prop` is its OData property name (`AccountId` for lookup `Account`)."""

    name: str
    kind: str
    target: str | None = None
    system: bool = False

    @property
    def prop(self) -> str:
        return self.name + "Id" if self.kind == "lookup" else self.name

    @property
    def edm(self) -> str:
        return EDM[self.kind]

    def empty(self) -> Any:
        """The value Creatio returns for an unset column (§3.4: never null)."""
        return EMPTY_VALUES[self.kind]


EMPTY_VALUES: dict[str, Any] = {
    "guid": EMPTY_GUID, "lookup": EMPTY_GUID, "text": "", "int": 0, "decimal": 0, "bool": False,
    "datetime": MIN_DATE, "date": MIN_DATE, "stream": None,
}


@dataclass
class Entity:
    name: str
    columns: dict[str, Column]  # by property name, in output order (Id first)
    navs: dict[str, Column] = field(default_factory=dict)  # lookup columns by navigation name
    custom: bool = False
    # Derived per-entity data (render plan, empty row, …), keyed by name; entries carry the column
    # count they were built for, since custom columns can be added at run time.
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def qualified(self) -> str:
        return f"{NAMESPACE}.{self.name}"

    def has_owner(self) -> bool:
        return "OwnerId" in self.columns

    def add(self, col: Column) -> None:
        self.columns[col.prop] = col
        if col.kind == "lookup":
            self.navs[col.name] = col


def parse_spec(spec: str) -> list[Column]:
    """`"Name text, Account >Account"` → columns."""
    cols = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        name, kind = part.split()
        if kind.startswith(">"):
            cols.append(Column(name, "lookup", kind[1:]))
        else:
            if kind not in KINDS:
                raise ValueError(f"unknown column kind {kind!r} for {name}")
            cols.append(Column(name, kind))
    return cols


def parse_kind(name: str, kind: str) -> Column:
    """Custom-column syntax: `text`, `int`, … or `lookup:Target` (also `>Target`)."""
    if kind.startswith("lookup:"):
        return Column(name, "lookup", kind.split(":", 1)[1])
    if kind.startswith(">"):
        return Column(name, "lookup", kind[1:])
    if kind not in KINDS:
        raise ValueError(f"unknown column kind {kind!r} for {name}")
    return Column(name, kind)


def build_entity(name: str, cols: list[Column], custom: bool = False) -> Entity:
    """Id first, then the leading columns up to Owner, then the system columns (as in real echoes)."""
    ent = Entity(name, {}, custom=custom)
    ent.add(Column("Id", "guid", system=True))
    system = [Column(c.name, c.kind, c.target, system=True) for c in parse_spec(SYSTEM_COLUMNS)]
    split = 1
    for i, c in enumerate(cols[:3]):
        if c.name == "Owner":
            split = i + 1
    for c in cols[:split]:
        ent.add(c)
    for c in system:
        ent.add(c)
    for c in cols[split:]:
        ent.add(c)
    return ent


class SchemaError(ValueError):
    pass


class Schema:
    """All entities, the base ones plus custom Usr* additions."""

    def __init__(self, extensions: list[dict[str, Any]] | None = None) -> None:
        self.entities: dict[str, Entity] = {}
        for name, spec in ENTITY_SPECS.items():
            self.entities[name] = build_entity(name, parse_spec(spec))
        self.extensions: list[dict[str, Any]] = []
        # Captions given to custom schemas and columns: (entity, column or "") → {culture: caption}
        self.captions: dict[tuple[str, str], dict[str, str]] = {}
        self.version = 0  # bumped by every extension, so cached $metadata is rebuilt
        for ext in extensions or []:
            self.extend(ext)

    def get(self, name: str) -> Entity | None:
        return self.entities.get(name)

    def extend(self, ext: dict[str, Any]) -> None:
        """Apply `{"entities": {"UsrX": {"UsrName": "text"}}, "columns": {"Contact": {"UsrY": "int"}}}`."""
        new_entities: dict[str, Entity] = {}
        captions: dict[tuple[str, str], dict[str, str]] = {}
        for ename, cols in (ext.get("entities") or {}).items():
            _check_usr(ename)
            if ename in self.entities:
                raise SchemaError(f"entity {ename} already exists")
            cols = cols or {}
            if "caption" in cols:
                captions[(ename, "")] = _caption(cols.get("caption"))
            if "columns" in cols and isinstance(cols["columns"], dict):
                cols = cols["columns"]
            parsed = [parse_kind(c, _kind(captions, ename, c, k)) for c, k in cols.items()]
            for c in parsed:
                _check_usr(c.name)
            if not any(c.name in ("Name", "UsrName") for c in parsed):
                parsed.insert(0, Column("Name", "text"))
            new_entities[ename] = build_entity(ename, parsed, custom=True)
        new_cols: list[tuple[str, Column]] = []
        for ename, cols in (ext.get("columns") or {}).items():
            if ename not in self.entities and ename not in new_entities:
                raise SchemaError(f"unknown entity {ename}")
            for cname, kind in cols.items():
                _check_usr(cname)
                new_cols.append((ename, parse_kind(cname, _kind(captions, ename, cname, kind))))
        known = set(self.entities) | set(new_entities)
        for ent in new_entities.values():
            for c in ent.columns.values():
                if c.kind == "lookup" and c.target not in known:
                    raise SchemaError(f"lookup target {c.target} of {ent.name}.{c.name} does not exist")
        for ename, c in new_cols:
            if c.kind == "lookup" and c.target not in known:
                raise SchemaError(f"lookup target {c.target} of {ename}.{c.name} does not exist")
            target = new_entities.get(ename) or self.entities[ename]
            if c.prop in target.columns or c.name in target.navs:
                raise SchemaError(f"column {ename}.{c.name} already exists")
        self.entities.update(new_entities)
        for ename, c in new_cols:
            self.entities[ename].add(Column(c.name, c.kind, c.target))
        # {"captions": {"Contact": {"": …, "MobilePhone": …}}}: an administrator's own captions
        for ename, cols in (ext.get("captions") or {}).items():
            owner = self.entities.get(ename)
            for cname, cap in (cols or {}).items():
                if owner is None or (cname and cname not in owner.navs and cname not in owner.columns):
                    raise SchemaError(f"no column {ename}.{cname} to caption")
                captions[(ename, cname)] = _caption(cap)
        self.captions.update(captions)
        self.extensions.append(ext)
        self.version += 1

    def referencing(self, target: str) -> list[tuple[Entity, Column]]:
        """Lookup columns (not system ones) pointing at `target`: what a DELETE must check."""
        out = []
        for ent in self.entities.values():
            for col in ent.navs.values():
                if col.target == target and not col.system:
                    out.append((ent, col))
        return out


def _check_usr(name: str) -> None:
    # Creatio's SchemaNamePrefix: custom schemas and columns must carry it.
    if not name.startswith("Usr") or not name.isidentifier():
        raise SchemaError(f"custom name {name!r} must be an identifier starting with 'Usr'")


def _kind(captions: dict[tuple[str, str], dict[str, str]], entity: str, column: str, spec: Any) -> str:
    """A column spec is its kind (`"text"`) or `{"kind": "text", "caption": …}`; keep the caption."""
    if isinstance(spec, dict):
        if "caption" in spec:
            captions[(entity, column)] = _caption(spec["caption"])
        spec = spec.get("kind")
    if not isinstance(spec, str):
        raise SchemaError(f"column {entity}.{column} needs a kind")
    return spec


def _caption(value: Any) -> dict[str, str]:
    """`"Caption"` (every culture) or `{"ru-RU": "…", "en-US": "…"}`."""
    if isinstance(value, str):
        return {"": value}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    raise SchemaError("a caption is a string or an object of culture → string")
