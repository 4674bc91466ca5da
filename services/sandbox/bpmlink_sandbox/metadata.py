"""CSDL documents: OData 4 `$metadata` (§3.9 shape) and the OData 3 EDMX (§5)."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from .schema import NAMESPACE, Schema

V3_NAMESPACE = "Terrasoft.Configuration"
V3_TYPES = {"Edm.DateTimeOffset": "Edm.DateTime"}


def csdl4(schema: Schema) -> str:
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
           " <edmx:DataServices>",
           f'  <Schema Namespace="{NAMESPACE}" xmlns="http://docs.oasis-open.org/odata/ns/edm">']
    for ent in schema.entities.values():
        out.append(f'   <EntityType Name="{ent.name}">')
        out.append('    <Key><PropertyRef Name="Id"/></Key>')
        for col in ent.columns.values():
            nullable = ' Nullable="false"' if col.prop == "Id" else ""
            out.append(f'    <Property Name="{col.prop}" Type="{col.edm}"{nullable}/>')
        for col in ent.navs.values():
            out.append(f'    <NavigationProperty Name="{col.name}" Type="{NAMESPACE}.{col.target}">')
            out.append(f'     <ReferentialConstraint Property="{col.prop}" ReferencedProperty="Id"/>')
            out.append("    </NavigationProperty>")
        out.append("   </EntityType>")
    out.append('   <EntityContainer Name="Default">')
    for ent in schema.entities.values():
        out.append(f'    <EntitySet Name="{ent.name}" EntityType="{NAMESPACE}.{ent.name}">')
        for col in ent.navs.values():
            path, target = quoteattr(col.name), quoteattr(col.target or "")
            out.append(f"     <NavigationPropertyBinding Path={path} Target={target}/>")
        out.append("    </EntitySet>")
    out += ["   </EntityContainer>", "  </Schema>", " </edmx:DataServices>", "</edmx:Edmx>", ""]
    return "\n".join(out)


def csdl3(schema: Schema) -> str:
    """WCF Data Services v3 EDMX: `Terrasoft.Configuration` types, `<Entity>Collection` sets."""
    out = ['<?xml version="1.0" encoding="utf-8" standalone="yes"?>',
           '<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx">',
           ' <edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
           'm:DataServiceVersion="3.0" m:MaxDataServiceVersion="3.0">',
           f'  <Schema Namespace="{V3_NAMESPACE}" xmlns="http://schemas.microsoft.com/ado/2009/11/edm">']
    for ent in schema.entities.values():
        out.append(f'   <EntityType Name="{ent.name}">')
        out.append('    <Key><PropertyRef Name="Id"/></Key>')
        for col in ent.columns.values():
            if col.kind == "stream":
                continue  # binary columns are not exposed as OData 3 properties
            edm = V3_TYPES.get(col.edm, col.edm)
            nullable = ' Nullable="false"' if col.prop == "Id" else ""
            out.append(f'    <Property Name="{col.prop}" Type="{edm}"{nullable}/>')
        for col in ent.navs.values():
            out.append(f'    <NavigationProperty Name="{col.name}" Relationship="{V3_NAMESPACE}.{ent.name}_{col.name}" '
                       f'ToRole="{col.name}" FromRole="{ent.name}"/>')
        out.append("   </EntityType>")
    for ent in schema.entities.values():
        for col in ent.navs.values():
            out.append(f'   <Association Name="{ent.name}_{col.name}">')
            out.append(f'    <End Type="{V3_NAMESPACE}.{ent.name}" Role="{ent.name}" Multiplicity="*"/>')
            out.append(f'    <End Type="{V3_NAMESPACE}.{col.target}" Role="{col.name}" Multiplicity="0..1"/>')
            out.append("   </Association>")
    out.append('   <EntityContainer Name="BPMonline" m:IsDefaultEntityContainer="true">')
    for ent in schema.entities.values():
        out.append(f'    <EntitySet Name="{ent.name}Collection" EntityType="{V3_NAMESPACE}.{ent.name}"/>')
    for ent in schema.entities.values():
        for col in ent.navs.values():
            out.append(f'    <AssociationSet Name="{ent.name}_{col.name}" '
                       f'Association="{V3_NAMESPACE}.{ent.name}_{col.name}">'
                       f'<End Role="{ent.name}" EntitySet="{ent.name}Collection"/>'
                       f'<End Role="{col.name}" EntitySet="{col.target}Collection"/></AssociationSet>')
    out += ["   </EntityContainer>", "  </Schema>", " </edmx:DataServices>", "</edmx:Edmx>", ""]
    return "\n".join(out)
