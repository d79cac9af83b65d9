-- A detection is recorded (with its stream event) as soon as it is seen, and acted on (its ticket) in a
-- transaction of its own afterwards; `acted` says that second step is done, so each is acted on once, and one
-- recorded just before a crash is acted on after the restart. Those stored before this column were acted on.
ALTER TABLE fault_events ADD COLUMN acted boolean NOT NULL DEFAULT true;
CREATE INDEX fault_events_unacted ON fault_events (time) WHERE NOT acted;
