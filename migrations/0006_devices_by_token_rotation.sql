-- The device registry is kept in memory and refreshed from here: what was registered or rotated since the last
-- refresh (token_rotated_at is set at registration too) is found without reading every device.
CREATE INDEX devices_by_token_rotation ON devices (token_rotated_at);
