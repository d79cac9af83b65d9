-- requires: timescaledb
-- Detections are a time series like the telemetry that raised them.
SELECT create_hypertable('fault_events', by_range('time', INTERVAL '30 days'), migrate_data => true);
