-- Runs once, when the compose PostgreSQL volume is created: the demo sandbox keeps its
-- records in a database of its own (compose profile "demo"); unused otherwise.
CREATE DATABASE bpmlink_sandbox OWNER bpmlink;
