"""bpmlink_sandbox: a stand-in for a bpm'online/Creatio OData endpoint (tests and demo).

Shares no code with the product package. Modules:
settings (env), schema (declarative entity table), seed (demo data), store (PostgreSQL JSONB +
in-memory copy), writer (group commit), auth (forms login, CSRF, sessions, OAuth), filter_parser,
query ($select/$expand/$orderby/…), odata4, odata3, batch, writes, records (server-side defaults),
metadata (CSDL), faults (knobs, counters), admin (/_sandbox/*), app (ASGI routing).
"""
