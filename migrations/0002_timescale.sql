-- requires: timescaledb
-- Hypertables, compression and rollups (real-time: recent raw rows are folded in at query time). Skipped (and said so at start) on a server without the extension.
-- The retention policy's length is configuration (FAULTLINE_RETENTION_DAYS), so it is set at start, not here.

SELECT create_hypertable('telemetry', by_range('time', INTERVAL '1 day'), migrate_data => true);
SELECT create_hypertable('device_events', by_range('time', INTERVAL '7 days'), migrate_data => true);
SELECT create_hypertable('device_status', by_range('time', INTERVAL '7 days'), migrate_data => true);

ALTER TABLE telemetry SET (
  timescaledb.compress,
  timescaledb.compress_segmentby = 'device_id, metric',
  timescaledb.compress_orderby = 'time DESC'
);
SELECT add_compression_policy('telemetry', INTERVAL '7 days');

CREATE MATERIALIZED VIEW telemetry_1m WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
  SELECT time_bucket(INTERVAL '1 minute', time) AS bucket, device_id, metric,
         avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS count
  FROM telemetry GROUP BY 1, 2, 3
  WITH NO DATA;
SELECT add_continuous_aggregate_policy('telemetry_1m',
  start_offset => INTERVAL '2 hours', end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute');

CREATE MATERIALIZED VIEW telemetry_1h WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
  SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, device_id, metric,
         avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS count
  FROM telemetry GROUP BY 1, 2, 3
  WITH NO DATA;
SELECT add_continuous_aggregate_policy('telemetry_1h',
  start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour');
