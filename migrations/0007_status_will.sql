-- Whether a status report was the last will the broker published for a lost connection, or the device's own
-- word. A restart must tell them apart: a device that switched itself off is not watched until it next reports,
-- one whose connection was lost is (issue 9).
ALTER TABLE device_status ADD COLUMN will boolean NOT NULL DEFAULT false;
