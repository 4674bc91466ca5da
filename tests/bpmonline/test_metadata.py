import pytest

from bpmlink.bpmonline import ConfigurationError, NotFoundError, parse_metadata
from bpmlink.bpmonline.metadata import MetadataCache

CSDL4 = """<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
 <edmx:DataServices>
  <Schema Namespace="Terrasoft.Configuration.OData" xmlns="http://docs.oasis-open.org/odata/ns/edm">
   <EntityType Name="Contact">
    <Key><PropertyRef Name="Id"/></Key>
    <Property Name="Id" Type="Edm.Guid" Nullable="false"/>
    <Property Name="Name" Type="Edm.String" MaxLength="250"/>
    <Property Name="Email" Type="Edm.String"/>
    <Property Name="Age" Type="Edm.Int32"/>
    <Property Name="CreatedOn" Type="Edm.DateTimeOffset"/>
    <Property Name="AccountId" Type="Edm.Guid"/>
    <Property Name="TypeId" Type="Edm.Guid"/>
    <Property Name="ContactPhoto" Type="Edm.Stream"/>
    <NavigationProperty Name="Account" Type="Terrasoft.Configuration.OData.Account">
     <ReferentialConstraint Property="AccountId" ReferencedProperty="Id"/>
    </NavigationProperty>
    <NavigationProperty Name="Type" Type="Terrasoft.Configuration.OData.ContactType"/>
    <NavigationProperty Name="ContactCommunications"
       Type="Collection(Terrasoft.Configuration.OData.ContactCommunication)"/>
   </EntityType>
   <EntityType Name="Account">
    <Key><PropertyRef Name="Id"/></Key>
    <Property Name="Id" Type="Edm.Guid" Nullable="false"/>
    <Property Name="Name" Type="Edm.String"/>
   </EntityType>
   <EntityType Name="ContactType">
    <Key><PropertyRef Name="Id"/></Key>
    <Property Name="Id" Type="Edm.Guid" Nullable="false"/>
    <Property Name="Name" Type="Edm.String"/>
   </EntityType>
   <EntityContainer Name="Default">
    <EntitySet Name="Contact" EntityType="Terrasoft.Configuration.OData.Contact"/>
   </EntityContainer>
  </Schema>
 </edmx:DataServices>
</edmx:Edmx>"""

CSDL3 = """<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx">
 <edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
   m:DataServiceVersion="3.0">
  <Schema Namespace="Terrasoft.Configuration" xmlns="http://schemas.microsoft.com/ado/2009/11/edm">
   <EntityType Name="Contact">
    <Key><PropertyRef Name="Id"/></Key>
    <Property Name="Id" Type="Edm.Guid" Nullable="false"/>
    <Property Name="Name" Type="Edm.String"/>
    <Property Name="AccountId" Type="Edm.Guid"/>
    <NavigationProperty Name="Account" Relationship="Terrasoft.Configuration.Contact_Account"
       FromRole="Contact" ToRole="Account"/>
   </EntityType>
   <EntityType Name="Account">
    <Key><PropertyRef Name="Id"/></Key>
    <Property Name="Id" Type="Edm.Guid" Nullable="false"/>
    <Property Name="Name" Type="Edm.String"/>
   </EntityType>
   <Association Name="Contact_Account">
    <End Type="Terrasoft.Configuration.Contact" Role="Contact" Multiplicity="*"/>
    <End Type="Terrasoft.Configuration.Account" Role="Account" Multiplicity="0..1"/>
    <ReferentialConstraint>
     <Principal Role="Account"><PropertyRef Name="Id"/></Principal>
     <Dependent Role="Contact"><PropertyRef Name="AccountId"/></Dependent>
    </ReferentialConstraint>
   </Association>
   <EntityContainer Name="EntityDataService" m:IsDefaultEntityContainer="true">
    <EntitySet Name="ContactCollection" EntityType="Terrasoft.Configuration.Contact"/>
   </EntityContainer>
  </Schema>
 </edmx:DataServices>
</edmx:Edmx>"""


def test_csdl4_contact_fields_types_and_lookups():
    meta = parse_metadata(CSDL4)
    assert meta.version == 4
    assert meta.namespace == "Terrasoft.Configuration.OData"
    contact = meta.entity("Contact")
    assert contact.key == ("Id",)
    assert contact.fields["Id"].type == "Edm.Guid"
    assert contact.fields["Id"].nullable is False
    assert contact.fields["Id"].is_key
    assert contact.fields["Name"].max_length == 250
    assert contact.fields["Age"].type == "Edm.Int32"
    assert contact.lookups == {"AccountId": "Account", "TypeId": "ContactType"}
    assert contact.navigations["Account"] == ("Account", "AccountId")
    assert "ContactCommunications" not in contact.navigations  # a detail list, not a lookup


def test_stream_columns_are_flagged_and_not_selectable():
    contact = parse_metadata(CSDL4).entity("Contact")
    assert contact.fields["ContactPhoto"].is_stream
    assert "ContactPhoto" not in contact.selectable_fields()
    assert "Name" in contact.selectable_fields()


def test_csdl3_lookups_come_from_associations():
    meta = parse_metadata(CSDL3.encode())
    assert meta.version == 3
    assert meta.entity("Contact").lookups == {"AccountId": "Account"}


def test_unknown_entity_is_not_found():
    with pytest.raises(NotFoundError):
        parse_metadata(CSDL4).entity("Nope")


def test_html_answer_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="web page"):
        parse_metadata("<!DOCTYPE html><html><head><title>Login</title></head></html>")


def test_garbage_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="not valid XML"):
        parse_metadata(b"{\"value\": []}")


def test_entity_expansion_is_refused():
    bomb = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">&lol2;</edmx:Edmx>"""
    with pytest.raises(ConfigurationError) as info:
        parse_metadata(bomb)
    assert info.value.code == "metadata_unsafe"


def test_external_entity_is_refused():
    xxe = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">&e;</edmx:Edmx>"""
    with pytest.raises(ConfigurationError):
        parse_metadata(xxe)


async def test_cache_keeps_until_ttl_and_refreshes_on_demand():
    now = [0.0]
    cache = MetadataCache(ttl_seconds=10, clock=lambda: now[0])
    fetches = []

    async def fetch():
        fetches.append(1)
        return parse_metadata(CSDL4)

    await cache.get("k", fetch)
    await cache.get("k", fetch)
    assert len(fetches) == 1
    await cache.get("k", fetch, refresh=True)
    assert len(fetches) == 2
    now[0] = 11
    assert cache.peek("k") is None
    await cache.get("k", fetch)
    assert len(fetches) == 3
